"""The one place adapters are wired together: engine, unit of work, app, relay, event consumer, migrations."""
from __future__ import annotations

from sqlalchemy.orm import sessionmaker

from crm_shared.config import Settings
from crm_shared.runtime import ServiceRuntime
from crm_shared.wiring import standard_runtime

from crm_customers.adapters.orm import messaging
from crm_customers.entrypoints import api, consumer
from crm_customers.entrypoints.problems import register_problem_handlers
from crm_customers.service_layer.unit_of_work import CustomersUnitOfWork

SERVICE = "customers"


def settings_from_env(**overrides) -> Settings:
    """The service's settings, read from the environment here and nowhere else; `overrides` win."""
    return Settings.from_env(SERVICE, **overrides)


def build_runtime(settings: Settings | None = None) -> ServiceRuntime:
    settings = settings or settings_from_env()

    def extensions(runtime: ServiceRuntime) -> dict:
        # Handlers return the aggregate after commit; it must stay readable without a session.
        sessions = sessionmaker(bind=runtime.engine, expire_on_commit=False)
        return {"uow_factory": lambda: CustomersUnitOfWork(sessions, messaging.outbox, settings.service)}

    return standard_runtime(settings, "crm_customers", title="CRM customers", messaging=messaging,
                            blueprints=api.blueprints, build_consumer=consumer.build_consumer,
                            extensions=extensions, configure_app=register_problem_handlers)
