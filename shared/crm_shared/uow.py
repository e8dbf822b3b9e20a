"""The SQLAlchemy unit of work base: state changes and their events commit together (outbox)."""
from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.orm import Session, sessionmaker

from crm_shared.events import CloudEvent
from crm_shared.outbox import write_events


class SqlAlchemyUnitOfWork:
    """Subclass it and build repositories on `self.session` in `_start`."""

    def __init__(self, session_factory: sessionmaker, outbox: Table, service: str):
        self.session_factory = session_factory
        self.outbox = outbox
        self.service = service
        self.session: Session | None = None
        self._pending: list[CloudEvent] = []

    def __enter__(self):
        self.session = self.session_factory()
        self._pending = []
        self._start()
        return self

    def __exit__(self, *exc):
        self.rollback()
        self.session.close()

    def _start(self) -> None:
        """Create repositories here."""

    def publish(self, *events: CloudEvent) -> None:
        self._pending.extend(events)

    def commit(self) -> None:
        self.session.flush()
        write_events(self.session.connection(), self.outbox, self.service, self._pending)
        self.session.commit()
        self._pending = []

    def rollback(self) -> None:
        self._pending = []
        self.session.rollback()
