"""The standard wiring of a service runtime, so each service's bootstrap only names what is its own."""
from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Flask

from crm_shared.config import Settings
from crm_shared.consumer import EventConsumer
from crm_shared.db import make_engine
from crm_shared.health import broker_check, database_check
from crm_shared.messaging_tables import MessagingTables
from crm_shared.migrations import upgrade
from crm_shared.runtime import ServiceRuntime
from crm_shared.web.app import create_service_app


def standard_runtime(settings: Settings, package: str, *, title: str, messaging: MessagingTables,
                     blueprints: Callable[[], Iterable] = tuple,
                     build_consumer: Callable[[ServiceRuntime], EventConsumer | None] | None = None,
                     extensions: Callable[[ServiceRuntime], dict] | None = None,
                     configure_app: Callable[[Flask], None] | None = None) -> ServiceRuntime:
    """Engine, migrations (`<package>:migrations`), app factory with database and broker readiness checks,
    the idempotency table the `@idempotent` decorator needs, and `configure_app` for what is the
    service's own (its error handlers, say). Callables receive the finished runtime."""
    engine = make_engine(settings.database_url, pre_ping=settings.db_pool_pre_ping,
                         pool_recycle=settings.db_pool_recycle)

    def create_app():
        app = create_service_app(
            settings, title=title, blueprints=blueprints(),
            readiness_checks={"database": database_check(engine), "broker": broker_check(settings.amqp_url)},
            extensions={"engine": engine, "idempotency": messaging.idempotency, "runtime": runtime,
                        **(extensions(runtime) if extensions else {})},
        )
        if configure_app is not None:
            configure_app(app)
        return app

    runtime = ServiceRuntime(
        settings=settings, engine=engine, messaging=messaging,
        migrate=lambda: upgrade(package, settings.database_url), create_app=create_app,
    )
    if build_consumer is not None:
        runtime.build_consumer = lambda: build_consumer(runtime)
    return runtime
