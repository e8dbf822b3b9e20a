"""In-memory repositories and unit of work for service-layer tests (no database)."""
from __future__ import annotations

import copy

from crm_shared.auth import Principal

from crm_customers.domain.errors import DuplicateKey


def principal(*lines: str, roles: tuple[str, ...] = ("sales",), subject: str = "tester") -> Principal:
    return Principal(subject=subject, roles=frozenset(roles), lines_of_business=frozenset(lines or ("retail",)))


ADMIN = principal("*", roles=("admin",), subject="admin")


class FakePartyRepository:
    def __init__(self):
        self.rows = {}
        self.counter = 0

    def add(self, party):
        if party.customer_number and self.customer_number_exists(party.customer_number):
            raise DuplicateKey("customer number is taken", "customer_number")
        self.rows[party.id] = self._stored(party)

    def get(self, party_id, lock=False):
        party = self.rows.get(party_id)
        return copy.deepcopy(party) if party else None

    def save(self, party):
        self.rows[party.id] = self._stored(party)

    def customer_number_exists(self, number):
        return any(p.customer_number == number for p in self.rows.values())

    def next_customer_number(self):
        self.counter += 1
        return f"{self.counter:08d}"

    def search(self, criteria):
        return [p for p in self.rows.values()
                if criteria.lines_allowed is None or p.line_of_business in criteria.lines_allowed]

    @staticmethod
    def _stored(party):
        stored = copy.deepcopy(party)
        stored.events = []
        return stored


class FakeContactLinkRepository:
    def __init__(self):
        self.rows = {}

    def add(self, link):
        self.rows[link.id] = link

    def get(self, link_id):
        return self.rows.get(link_id)

    def exists(self, person_id, company_id, role):
        return any((lk.person_id, lk.company_id, lk.role) == (person_id, company_id, role) for lk in self.rows.values())

    def delete(self, link):
        del self.rows[link.id]

    def of_party(self, party_id):
        return [lk for lk in self.rows.values() if party_id in (lk.person_id, lk.company_id)]


class FakeAttributeDefinitionRepository:
    def __init__(self, *definitions):
        self.rows = {d.name: d for d in definitions}

    def all(self):
        return dict(self.rows)

    def add(self, definition):
        self.rows[definition.name] = definition


class FakeLineOfBusinessRepository:
    def __init__(self, *codes):
        self.rows = {code: code.title() for code in codes}

    def exists(self, code):
        return code in self.rows

    def add(self, code, label):
        self.rows[code] = label

    def all(self):
        return [{"code": c, "label": label} for c, label in sorted(self.rows.items())]


class FakeUnitOfWork:
    """Commits by moving pending events to `published`; a rollback drops them (like the outbox transaction)."""

    def __init__(self, attributes=(), lines=("retail", "wholesale", "services")):
        self.parties = FakePartyRepository()
        self.links = FakeContactLinkRepository()
        self.attributes = FakeAttributeDefinitionRepository(*attributes)
        self.lines_of_business = FakeLineOfBusinessRepository(*lines)
        self.pending, self.published, self.commits = [], [], 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.rollback()

    def publish(self, *events):
        self.pending.extend(events)

    def commit(self):
        self.published.extend(self.pending)
        self.pending = []
        self.commits += 1

    def rollback(self):
        self.pending = []

    def types(self):
        return [e.type for e in self.published]
