"""The replica of the customers' parties that target selection and duplicate detection read, the attribute
definitions that column mappings are checked against, and the lines of business campaigns, templates and
imports name."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from crm_shared.db import dialect_insert
from sqlalchemy import select, text, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from crm_campaigns.adapters import orm

R = orm.party_replica.c
CHUNK = 2000


class ReplicaRepository:
    def __init__(self, session: Session):
        self.session = session

    def upsert_if_newer(self, row: dict) -> None:
        """A late, older snapshot never overwrites a newer one; the contact date is the replica's own."""
        statement = dialect_insert(orm.party_replica, self.session.bind.dialect.name).values(**row)
        changed = {k: statement.excluded[k] for k in row if k != "party_id"}
        self.session.execute(statement.on_conflict_do_update(
            index_elements=["party_id"], set_=changed, where=R.version < statement.excluded.version))

    def get(self, party_id: str) -> Row | None:
        return self.session.execute(select(orm.party_replica).where(R.party_id == party_id)).first()

    def many(self, party_ids: Iterable[str]) -> dict[str, Row]:
        ids, found = sorted(set(party_ids)), {}
        for start in range(0, len(ids), CHUNK):
            rows = self.session.execute(select(orm.party_replica).where(R.party_id.in_(ids[start:start + CHUNK])))
            found.update({r.party_id: r for r in rows})
        return found

    def record_contacts(self, contacts: dict[str, date]) -> None:
        """Keeps each party's latest contact day (for the `last contact` criterion)."""
        if not contacts:
            return
        if self.session.bind.dialect.name == "postgresql":
            ids = sorted(contacts)
            self.session.execute(text(
                "UPDATE party_replica AS p SET last_contact_on = v.day "
                "FROM unnest(CAST(:ids AS text[]), CAST(:days AS date[])) AS v(party_id, day) "
                "WHERE p.party_id = v.party_id AND (p.last_contact_on IS NULL OR p.last_contact_on < v.day)"),
                {"ids": ids, "days": [contacts[i] for i in ids]})
            return
        for party_id, day in sorted(contacts.items()):
            self.session.execute(update(orm.party_replica).where(
                R.party_id == party_id, (R.last_contact_on.is_(None)) | (R.last_contact_on < day))
                .values(last_contact_on=day))

    def attribute_types(self) -> dict[str, Row]:
        return {r.name: r for r in self.session.execute(select(orm.attribute_definitions))}

    def define_line(self, code: str, label: str) -> None:
        statement = dialect_insert(orm.lines_of_business, self.session.bind.dialect.name).values(code=code,
                                                                                                  label=label)
        self.session.execute(statement.on_conflict_do_update(index_elements=["code"], set_={"label": label}))

    def line_codes(self) -> frozenset[str]:
        return frozenset(self.session.execute(select(orm.lines_of_business.c.code)).scalars())

    def line_exists(self, code: str) -> bool:
        table = orm.lines_of_business
        return self.session.execute(select(table.c.code).where(table.c.code == code)).first() is not None

    def define_attribute(self, name: str, type_: str, choices: list) -> None:
        statement = dialect_insert(orm.attribute_definitions, self.session.bind.dialect.name).values(
            name=name, type=type_, choices=choices)
        self.session.execute(statement.on_conflict_do_update(index_elements=["name"],
                                                             set_={"type": type_, "choices": choices}))
