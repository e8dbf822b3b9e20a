"""The unit of work: one transaction holding the repositories' changes and the events they caused."""
from __future__ import annotations

from crm_shared.uow import SqlAlchemyUnitOfWork

from crm_customers.adapters import repository


class CustomersUnitOfWork(SqlAlchemyUnitOfWork):
    def _start(self) -> None:
        self.parties = repository.SqlPartyRepository(self.session)
        self.links = repository.SqlContactLinkRepository(self.session)
        self.attributes = repository.SqlAttributeDefinitionRepository(self.session)
        self.lines_of_business = repository.SqlLineOfBusinessRepository(self.session)
