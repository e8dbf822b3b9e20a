"""The Flask app: shared plumbing plus this service's blueprints; every view gets its unit of work from here."""
from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy.engine import Engine

from crm_shared.config import Settings
from crm_shared.health import broker_check, database_check
from crm_shared.messaging_tables import MessagingTables
from crm_shared.web import create_service_app

from crm_customers.entrypoints import catalog_api, contacts_api, parties_api
from crm_customers.entrypoints.problems import register_problem_handlers


def create_app(settings: Settings, engine: Engine, messaging: MessagingTables, uow_factory: Callable) -> Flask:
    app = create_service_app(
        settings, title="CRM customers",
        blueprints=[parties_api.blp, contacts_api.blp, catalog_api.blp],
        readiness_checks={"database": database_check(engine), "broker": broker_check(settings.amqp_url)},
        extensions={"engine": engine, "idempotency": messaging.idempotency, "uow_factory": uow_factory},
    )
    register_problem_handlers(app)
    return app

