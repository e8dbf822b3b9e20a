"""The one place the calls service's adapters are wired."""
from __future__ import annotations

from crm_shared.config import Settings
from crm_shared.runtime import ServiceRuntime
from crm_shared.wiring import standard_runtime
from sqlalchemy.orm import sessionmaker

from crm_calls.adapters.orm import messaging
from crm_calls.service_layer.clock import SYSTEM_CLOCK, Clock
from crm_calls.service_layer.unit_of_work import CallsUnitOfWork

SERVICE = "calls"


def settings_from_env(**overrides) -> Settings:
    """The service's settings, read from the environment here and nowhere else; `overrides` win."""
    return Settings.from_env(SERVICE, **overrides)


def build_runtime(settings: Settings | None = None, clock: Clock = SYSTEM_CLOCK) -> ServiceRuntime:
    """`clock`: what the service takes for now (the system clock; a simulated one in tests)."""
    from crm_calls.entrypoints import api
    from crm_calls.entrypoints.consumer import build_consumer
    from crm_calls.entrypoints.problems import register_problem_handlers

    settings = settings or settings_from_env()

    def extensions(runtime: ServiceRuntime) -> dict:
        sessions = sessionmaker(runtime.engine, expire_on_commit=False)
        return {"uow": lambda: CallsUnitOfWork(sessions, messaging.outbox, SERVICE, clock), "clock": clock}

    return standard_runtime(settings, "crm_calls", title="CRM calls", messaging=messaging,
                            blueprints=api.blueprints, build_consumer=lambda rt: build_consumer(rt, clock=clock),
                            extensions=extensions,
                            configure_app=register_problem_handlers)
