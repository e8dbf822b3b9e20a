"""Repositories: the domain model in and out of the tables, and nothing else."""
from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import UTC

from sqlalchemy import delete, exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_customers.adapters import orm
from crm_customers.adapters.party_search import search_statement
from crm_customers.domain.attributes import AttributeDefinition, AttributeType
from crm_customers.domain.errors import DuplicateKey
from crm_customers.domain.lifecycle import LifecycleState
from crm_customers.domain.model import Address, ContactLink, Email, Names, Party, PartyKind, Phone
from crm_customers.domain.search import PartySearch
from crm_customers.service_layer.errors import VersionMismatch

P = orm.parties


class SqlPartyRepository:
    def __init__(self, session: Session):
        self.session = session
        self._loaded_versions: dict[uuid.UUID, int] = {}

    def add(self, party: Party) -> None:
        with _duplicates_as("customer number is taken", "customer_number"):
            self.session.execute(insert(P).values(id=party.id, **_row(party)))

    def get(self, party_id: uuid.UUID, *, lock: bool = False) -> Party | None:
        """`lock`: `SELECT ... FOR UPDATE`, so a concurrent writer of the party waits until this transaction ends
        (PostgreSQL; SQLite has no row locks and serialises writers itself)."""
        query = select(P).where(P.c.id == party_id)
        row = self.session.execute(query.with_for_update() if lock else query).first()
        if row is None:
            return None
        self._loaded_versions[row.id] = row.version
        return _party(row)

    def save(self, party: Party) -> None:
        """Optimistic: the row is written only if nobody changed it since `get` read it (after a locked `get`
        nobody can have; without the lock, e.g. on SQLite, a concurrent change raises VersionMismatch)."""
        loaded = self._loaded_versions[party.id]
        with _duplicates_as("customer number is taken", "customer_number"):
            result = self.session.execute(
                update(P).where(P.c.id == party.id, P.c.version == loaded).values(**_row(party)))
        if result.rowcount != 1:
            raise VersionMismatch("the party was changed concurrently; read it again")
        self._loaded_versions[party.id] = party.version

    def search(self, criteria: PartySearch) -> list[Party]:
        dialect = self.session.get_bind().dialect.name
        return [_party(row) for row in self.session.execute(search_statement(criteria, dialect))]

    def customer_number_exists(self, number: str) -> bool:
        return self.session.execute(select(exists().where(P.c.customer_number == number))).scalar()

    def next_customer_number(self) -> str:
        """Numbers are never reused; ones a legacy import already took are skipped."""
        while True:
            number = f"{self._next_counter_value():08d}"
            if not self.customer_number_exists(number):
                return number

    def _next_counter_value(self) -> int:
        if self.session.get_bind().dialect.name == "postgresql":
            return self.session.execute(orm.customer_number_seq.next_value()).scalar_one()
        counter = orm.customer_number_counter
        return self.session.execute(
            update(counter).where(counter.c.id == 1).values(value=counter.c.value + 1).returning(counter.c.value)
        ).scalar_one()


class SqlContactLinkRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, link: ContactLink) -> None:
        with _duplicates_as("this person is already linked to this company in this role", "role"):
            self.session.execute(insert(orm.contact_links).values(**asdict(link)))

    def get(self, link_id: uuid.UUID) -> ContactLink | None:
        row = self.session.execute(select(orm.contact_links).where(orm.contact_links.c.id == link_id)).first()
        return None if row is None else _link(row)

    def exists(self, person_id: uuid.UUID, company_id: uuid.UUID, role: str) -> bool:
        c = orm.contact_links.c
        return self.session.execute(select(exists().where(
            c.person_id == person_id, c.company_id == company_id, c.role == role))).scalar()

    def delete(self, link: ContactLink) -> None:
        self.session.execute(delete(orm.contact_links).where(orm.contact_links.c.id == link.id))

    def of_party(self, party_id: uuid.UUID) -> list[ContactLink]:
        c = orm.contact_links.c
        rows = self.session.execute(select(orm.contact_links).where(
            (c.person_id == party_id) | (c.company_id == party_id)).order_by(c.created_at, c.id))
        return [_link(row) for row in rows]


class SqlAttributeDefinitionRepository:
    def __init__(self, session: Session):
        self.session = session

    def all(self) -> dict[str, AttributeDefinition]:
        rows = self.session.execute(select(orm.attribute_definitions).order_by(orm.attribute_definitions.c.name))
        return {r.name: AttributeDefinition(r.name, AttributeType(r.type), tuple(r.choices)) for r in rows}

    def add(self, definition: AttributeDefinition) -> None:
        with _duplicates_as(f"attribute {definition.name!r} is already defined", "name"):
            self.session.execute(insert(orm.attribute_definitions).values(
                name=definition.name, type=definition.type.value, choices=list(definition.choices)))


class SqlLineOfBusinessRepository:
    def __init__(self, session: Session):
        self.session = session

    def exists(self, code: str) -> bool:
        table = orm.lines_of_business
        return self.session.execute(select(exists().where(table.c.code == code))).scalar()

    def add(self, code: str, label: str) -> None:
        with _duplicates_as(f"line of business {code!r} exists", "code"):
            self.session.execute(insert(orm.lines_of_business).values(code=code, label=label))

    def all(self) -> list[dict]:
        table = orm.lines_of_business
        return [dict(code=r.code, label=r.label)
                for r in self.session.execute(select(table.c.code, table.c.label).order_by(table.c.code))]


class _duplicates_as:
    """A unique constraint tripped by a concurrent writer reads to the client like the check that lost the race."""

    def __init__(self, message: str, field: str):
        self.message, self.field = message, field

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, _tb):
        if exc_type is not None and issubclass(exc_type, IntegrityError):
            raise DuplicateKey(self.message, self.field) from exc
        return False


def _row(party: Party) -> dict:
    primary = party.primary_address
    return dict(
        kind=party.kind.value, company_name=party.names.company_name, first_name=party.names.first_name,
        last_name=party.names.last_name, display_name=party.display_name, name_key=party.name_key,
        lifecycle_state=party.lifecycle_state.value, customer_number=party.customer_number,
        line_of_business=party.line_of_business, primary_postal_code=primary.postal_code if primary else None,
        addresses=[asdict(a) for a in party.addresses], phones=[asdict(p) for p in party.phones],
        emails=[asdict(e) for e in party.emails], attributes=party.attributes, version=party.version,
        created_at=party.created_at, updated_at=party.updated_at,
    )


def _party(row) -> Party:
    return Party(
        id=row.id, kind=PartyKind(row.kind),
        names=Names(company_name=row.company_name, first_name=row.first_name, last_name=row.last_name),
        line_of_business=row.line_of_business, lifecycle_state=LifecycleState(row.lifecycle_state),
        customer_number=row.customer_number, addresses=[Address(**a) for a in row.addresses],
        phones=[Phone(**p) for p in row.phones], emails=[Email(**e) for e in row.emails],
        attributes=dict(row.attributes), version=row.version,
        created_at=_aware(row.created_at), updated_at=_aware(row.updated_at),
    )


def _link(row) -> ContactLink:
    return ContactLink(id=row.id, person_id=row.person_id, company_id=row.company_id, role=row.role,
                       position=row.position, created_at=_aware(row.created_at))


def _aware(value):
    """SQLite hands timestamps back without a zone; they were written in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
