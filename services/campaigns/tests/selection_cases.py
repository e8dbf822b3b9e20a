"""A small replica population and selection criteria with the parties each must select, shared by the
PostgreSQL and the SQLite tests of target selection."""
from __future__ import annotations

from datetime import date

from campaigns_fixtures import add_parties
from sqlalchemy import select

from crm_campaigns.adapters import orm
from crm_campaigns.adapters.replica_repository import ReplicaRepository

DEFINITIONS = [("employees", "number", []), ("founded", "date", []), ("vip", "boolean", []),
               ("size", "choice", ["small", "medium", "large"]), ("source", "text", [])]


def address(postal_code: str) -> dict:
    return {"street": "Main St 1", "postal_code": postal_code, "city": "Town", "country": "DE"}


# a, b and e carry attributes; d is like a but inactive; e's values do not fit their definitions (stale data)
PARTIES = {
    "a": {"lifecycle_state": "customer", "kind": "company", "primary_address": address("10115"),
          "attributes": {"segment": "gold", "employees": 120, "founded": "1999-05-01", "vip": True, "size": "large",
                         "source": "fair"}},
    "b": {"lifecycle_state": "prospect", "kind": "person", "first_name": "Bea", "last_name": "Berg",
          "primary_address": address("20095"),
          "attributes": {"segment": "silver", "employees": 8, "founded": "2015-01-01", "vip": False,
                         "size": "small", "source": "web"}},
    "c": {"lifecycle_state": "suspect", "kind": "company", "line_of_business": "wholesale",
          "primary_address": address("80331"), "attributes": {}},
    "d": {"lifecycle_state": "inactive", "kind": "company", "primary_address": address("10117"),
          "attributes": {"segment": "gold", "employees": 500, "founded": "1990-01-01", "vip": True,
                         "size": "large", "source": "fair"}},
    "e": {"lifecycle_state": "suspect", "kind": "person", "last_name": "Eder", "primary_address": address("A-1010"),
          "attributes": {"employees": "many", "founded": "2020-02-30", "vip": "yes", "size": 3}},
}
CONTACTS = {"a": date(2024, 3, 1), "b": date(2023, 1, 1)}


def attribute(name: str, op: str, value=None) -> dict:
    return {"attributes": [{"name": name, "op": op, **({} if value is None else {"value": value})}]}


CASES = [
    ({"lifecycle_states": ["customer"]}, "a"),
    ({"lifecycle_states": ["prospect", "suspect"]}, "bce"),
    ({"kinds": ["person"]}, "be"),
    ({"lines_of_business": ["wholesale"]}, "c"),
    ({"segments": ["gold", "silver"]}, "ab"),
    ({"postal_ranges": [["10000", "19999"]]}, "a"),
    ({"postal_ranges": [["10000", "10999"], ["80000", "80999"]]}, "ac"),
    ({"postal_ranges": [["20 000", "20-999"]]}, "b"),
    ({"postal_ranges": [["a1000", "A 1999"]]}, "e"),
    (attribute("employees", "gt", 100), "a"),
    (attribute("employees", "lte", 8), "b"),
    (attribute("employees", "in", [8, 120]), "ab"),
    (attribute("employees", "ne", 8), "a"),
    (attribute("employees", "gte", 7.5), "ab"),
    (attribute("founded", "lt", "2000-01-01"), "a"),
    (attribute("founded", "gte", "2015-01-01"), "b"),
    (attribute("founded", "eq", "2015-01-01"), "b"),
    (attribute("vip", "eq", True), "a"),
    (attribute("vip", "ne", True), "b"),
    (attribute("size", "eq", "small"), "b"),
    (attribute("size", "in", ["small", "large"]), "ab"),
    (attribute("size", "ne", "small"), "a"),
    (attribute("source", "eq", "fair"), "a"),
    (attribute("source", "gt", "g"), "b"),
    (attribute("source", "lte", "fair"), "a"),
    (attribute("employees", "exists"), "abe"),
    (attribute("employees", "not_exists"), "c"),
    ({"last_contact_before": "2024-01-01"}, "bce"),
    ({"last_contact_after": "2023-06-01"}, "a"),
    ({"never_contacted": True}, "ce"),
    ({"never_contacted": False}, "ab"),
    ({"last_contact_before": "2024-01-01", "never_contacted": False}, "b"),
    ({"lifecycle_states": ["customer", "prospect"], "postal_ranges": [["10000", "29999"]],
      **attribute("employees", "gte", 10)}, "a"),
    ({"kinds": ["person"], "lines_of_business": ["retail"], "last_contact_before": "2024-01-01",
      "segments": ["silver"]}, "b"),
]


def populate(engine, uows) -> dict[str, str]:
    """Writes the parties, their contact days and the attribute definitions; returns name -> party id."""
    ids = {name: add_parties(engine, 1, **overrides)[0] for name, overrides in PARTIES.items()}
    with uows() as uow:
        for name, type_, choices in DEFINITIONS:
            uow.replica.define_attribute(name, type_, choices)
        ReplicaRepository(uow.session).record_contacts({ids[n]: day for n, day in CONTACTS.items()})
        uow.commit()
    return ids


def participants(engine, campaign_id: str) -> dict[str, tuple]:
    p = orm.participations.c
    with engine.connect() as conn:
        rows = conn.execute(select(p.party_id, p.status, p.stage_key, p.source, p.request_id)
                            .where(p.campaign_id == campaign_id))
        return {r.party_id: (r.status, r.stage_key, r.source, r.request_id) for r in rows}


def names_of(ids: dict[str, str], party_ids) -> str:
    by_id = {v: k for k, v in ids.items()}
    return "".join(sorted(by_id[p] for p in party_ids))
