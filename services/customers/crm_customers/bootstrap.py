"""The one place adapters are wired together: engine, unit of work, app, relay, migrations."""
from __future__ import annotations

from sqlalchemy.orm import sessionmaker

from crm_shared.config import Settings
from crm_shared.db import make_engine
from crm_shared.migrations import upgrade
from crm_shared.runtime import ServiceRuntime

from crm_customers.adapters.orm import messaging
from crm_customers.entrypoints import api, consumer
from crm_customers.service_layer.unit_of_work import CustomersUnitOfWork

SERVICE = "customers"


def build_runtime(settings: Settings | None = None) -> ServiceRuntime:
    settings = settings or Settings.from_env(SERVICE)
    engine = make_engine(settings.database_url)
    # Handlers return the aggregate after commit; it must stay readable without a session.
    sessions = sessionmaker(bind=engine, expire_on_commit=False)

    def uow_factory() -> CustomersUnitOfWork:
        return CustomersUnitOfWork(sessions, messaging.outbox, settings.service)

    runtime = ServiceRuntime(
        settings=settings, engine=engine, messaging=messaging,
        migrate=lambda: upgrade("crm_customers", settings.database_url),
        create_app=lambda: api.create_app(settings, engine, messaging, uow_factory),
    )
    runtime.build_consumer = lambda: consumer.build_consumer(runtime)
    return runtime
