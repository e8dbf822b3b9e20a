"""What a service exposes to the process runners (gunicorn, relay, consumer, embedded mode)."""
from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Callable

from flask import Flask
from sqlalchemy.engine import Engine

from crm_shared.broker import Publisher
from crm_shared.config import Settings
from crm_shared.consumer import EventConsumer
from crm_shared.messaging_tables import MessagingTables
from crm_shared.outbox import OutboxRelay


@dataclass
class ServiceRuntime:
    settings: Settings
    engine: Engine
    messaging: MessagingTables
    migrate: Callable[[], None]
    create_app: Callable[[], Flask]
    build_consumer: Callable[[], EventConsumer | None] = field(default=lambda: None)

    def build_relay(self) -> OutboxRelay:
        return OutboxRelay(self.engine, self.messaging.outbox, Publisher(self.settings.amqp_url),
                           self.settings.service)
