"""Readiness checks for a service's own database and the broker."""
from __future__ import annotations

import kombu
from sqlalchemy import text
from sqlalchemy.engine import Engine

from crm_shared.broker import is_amqp


def database_check(engine: Engine):
    def check():
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    return check


def broker_check(url: str):
    def check():
        if not is_amqp(url):
            return
        with kombu.Connection(url, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
    return check
