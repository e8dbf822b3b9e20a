"""Reading and writing the replica with set-based statements, so a batch of events is one transaction."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict

from sqlalchemy import and_, case, or_, select
from sqlalchemy.orm import Session

from crm_shared.db import dialect_insert

from crm_calls.adapters.orm import contact_link_replica, customer_replica
from crm_calls.domain.model import ContactLink, CustomerReplica


class CustomerReplicaRepository:
    def __init__(self, session: Session):
        self.session = session
        self.dialect = session.get_bind().dialect.name

    # -- writes (consumer) --------------------------------------------------------------------------
    def upsert_if_newer(self, replica: CustomerReplica) -> None:
        """Insert the row, or overwrite it only when the stored version is older (late or repeated events lose).
        `customer_since` stays while the party stays an active customer, and starts again when it becomes one."""
        table = customer_replica
        statement = dialect_insert(table, self.dialect).values(**asdict(replica))
        changed = {c.name: statement.excluded[c.name] for c in table.columns if c.name != "party_id"}
        still_customer = and_(table.c.lifecycle_state == "customer", table.c.deactivated.is_(False),
                              table.c.customer_since.is_not(None), statement.excluded.customer_since.is_not(None))
        changed["customer_since"] = case((still_customer, table.c.customer_since),
                                         else_=statement.excluded.customer_since)
        self.session.execute(statement.on_conflict_do_update(
            index_elements=[table.c.party_id], set_=changed, where=table.c.version < statement.excluded.version))

    def add_link(self, link: ContactLink) -> None:
        """A link seen before (even one already unlinked, when events came out of order) is left as it is."""
        statement = dialect_insert(contact_link_replica, self.dialect).values(**asdict(link), unlinked=False)
        self.session.execute(statement.on_conflict_do_nothing(index_elements=[contact_link_replica.c.link_id]))

    def mark_unlinked(self, link: ContactLink) -> None:
        """Keeps a tombstone, so a link event arriving after its unlink cannot bring the link back."""
        table = contact_link_replica
        statement = dialect_insert(table, self.dialect).values(**asdict(link), unlinked=True)
        self.session.execute(statement.on_conflict_do_update(
            index_elements=[table.c.link_id], set_={"unlinked": True, "updated_at": statement.excluded.updated_at}))

    # -- reads (API) --------------------------------------------------------------------------------
    def get(self, party_id: str):
        return self.session.execute(select(customer_replica).where(customer_replica.c.party_id == party_id)).first()

    def list(self, *, limit: int, after: tuple[str, str] | None = None, lifecycle_state: str | None = None,
             lines_of_business: Iterable[str] | None = None, include_deactivated: bool = False) -> list:
        """Ordered by (display_name, party_id); `lines_of_business=None` means all lines."""
        table = customer_replica
        query = select(table).order_by(table.c.display_name, table.c.party_id).limit(limit)
        if after is not None:
            name, party_id = after
            query = query.where(or_(table.c.display_name > name,
                                    and_(table.c.display_name == name, table.c.party_id > party_id)))
        if lifecycle_state is not None:
            query = query.where(table.c.lifecycle_state == lifecycle_state)
        if lines_of_business is not None:
            query = query.where(table.c.line_of_business.in_(list(lines_of_business)))
        if not include_deactivated:
            query = query.where(table.c.deactivated.is_(False))
        return list(self.session.execute(query))

    def links_of(self, party_id: str) -> list:
        table = contact_link_replica
        query = select(table).where(or_(table.c.person_id == party_id, table.c.company_id == party_id),
                                    table.c.unlinked.is_(False)).order_by(table.c.link_id)
        return list(self.session.execute(query))
