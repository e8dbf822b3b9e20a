"""The unit of work: one transaction holding the repositories' changes and the events they caused."""
from __future__ import annotations

from crm_shared.outbox import write_events
from crm_shared.uow import SqlAlchemyUnitOfWork
from sqlalchemy import Table
from sqlalchemy.orm import Session

from crm_customers.adapters import repository


class CustomersUnitOfWork(SqlAlchemyUnitOfWork):
    def _start(self) -> None:
        self.parties = repository.SqlPartyRepository(self.session)
        self.links = repository.SqlContactLinkRepository(self.session)
        self.attributes = repository.SqlAttributeDefinitionRepository(self.session)
        self.lines_of_business = repository.SqlLineOfBusinessRepository(self.session)


class ConsumerUnitOfWork(CustomersUnitOfWork):
    """The same interface inside the event consumer's transaction. `commit` flushes and writes the events to
    the outbox; the consumer commits them together with its inbox record, or rolls all of it back. So this
    unit of work never commits, rolls back or closes the session it was given."""

    def __init__(self, session: Session, outbox: Table, service: str):
        super().__init__(lambda: session, outbox, service)

    def __exit__(self, *exc):
        self._pending = []

    def commit(self) -> None:
        self.session.flush()
        write_events(self.session.connection(), self.outbox, self.service, self._pending)
        self._pending = []

    def rollback(self) -> None:
        self._pending = []
