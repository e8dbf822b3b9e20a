"""The one place the campaigns service's adapters are wired."""
from __future__ import annotations

from crm_shared.config import Settings
from crm_shared.runtime import ServiceRuntime
from crm_shared.wiring import standard_runtime
from sqlalchemy.orm import sessionmaker

from crm_campaigns.adapters.orm import messaging
from crm_campaigns.config import CampaignsSettings
from crm_campaigns.service_layer.unit_of_work import SERVICE, CampaignsUnitOfWork


def uow_factory(engine):
    sessions = sessionmaker(engine, expire_on_commit=False)
    return lambda: CampaignsUnitOfWork(sessions, messaging.outbox, SERVICE)


def settings_from_env(**overrides) -> CampaignsSettings:
    """The service's settings, read from the environment here and nowhere else; `overrides` win."""
    return CampaignsSettings.from_env(SERVICE, **overrides)


def build_runtime(settings: Settings | None = None) -> ServiceRuntime:
    """`settings`: the service's settings (`settings_from_env()` when None). Plain shared `Settings` get the
    campaigns' own settings from the environment, read now."""
    from crm_campaigns.entrypoints import api
    from crm_campaigns.entrypoints.consumer import build_consumer
    from crm_campaigns.entrypoints.problems import register_problem_handlers

    settings = settings_from_env() if settings is None else CampaignsSettings.extending(settings)
    return standard_runtime(settings, "crm_campaigns", title="CRM campaigns", messaging=messaging,
                            blueprints=api.blueprints, build_consumer=build_consumer,
                            extensions=lambda runtime: {"uow": uow_factory(runtime.engine)},
                            configure_app=register_problem_handlers)
