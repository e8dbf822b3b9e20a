"""What becomes of each row of an imported address list: rejected, a duplicate of a party we know, or a new
suspect.

Pure: the service layer looks up, for a chunk of rows, the parties those rows may duplicate and the suppressed
contacts in a few set-based queries, and this module decides row by row. A row duplicates a party when they
share a dedupe key (normalised name and postal code, plus phone number or e-mail address).
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from crm_campaigns.domain import normalise
from crm_campaigns.domain.address_list import AddressRow, RejectedRow

ACCEPTED, DUPLICATE, REJECTED = "accepted", "duplicate", "rejected"
OUTCOMES = (ACCEPTED, DUPLICATE, REJECTED)
SUPPRESSED = "suppressed"
REASON_MAX, FIELD_MAX = 500, 120

# Which of several matching parties a row is reported against: a known party that can join the campaign first,
# then one that cannot, then parties only earlier rows created. Ties go to the lower party id or row number.
REPLICA, REPLICA_NOT_ADDED, EARLIER_ROW = 0, 1, 2


@dataclass(frozen=True)
class RowKeys:
    name_key: str
    postal_key: str
    phone_key: str | None
    email_key: str | None

    @property
    def dedupe_keys(self) -> list[str]:
        if not self.name_key or not self.postal_key:
            return []
        return [f"{self.name_key}|{self.postal_key}|{c}" for c in (self.phone_key, self.email_key) if c]


def row_keys(row: AddressRow) -> RowKeys:
    return RowKeys(normalise.name_key(row.display_name), normalise.postal_key(row.postal_code),
                   normalise.phone_key(row.phone, normalise.calling_code_for(row.country)),
                   normalise.email_key(row.email))


@dataclass(frozen=True)
class KnownParty:
    """A party rows may duplicate: one in the replica, or one an earlier row created or matched."""
    party_id: str
    keys: RowKeys
    described: str                  # "an existing party", "row 12 of this file"
    rank: tuple
    not_added: str | None = None    # why the party does not join the campaign


@dataclass(frozen=True)
class RowOutcome:
    row_number: int
    outcome: str
    reason: str | None = None
    field: str | None = None
    party_id: str | None = None
    not_added: str | None = None    # why the party duplicated does not join the campaign
    keys: RowKeys | None = None
    suspect: dict | None = None     # the suspect_imported data of an accepted row

    @property
    def joins_campaign(self) -> bool:
        return self.party_id is not None and self.not_added is None

    def as_row(self, import_id: str) -> dict:
        keys = self.keys or RowKeys("", "", None, None)
        return {"import_id": import_id, "row_number": self.row_number, "outcome": self.outcome,
                "reason": _cut(self.reason, REASON_MAX), "field": _cut(self.field, FIELD_MAX),
                "party_id": self.party_id, "joins_campaign": self.joins_campaign,
                "name_key": keys.name_key or None, "postal_key": keys.postal_key or None,
                "phone_key": keys.phone_key, "email_key": keys.email_key, "suspect": self.suspect}


@dataclass
class ChunkContext:
    """What the rows of one chunk are judged against."""
    campaign_id: str
    import_id: str
    known: Iterable[KnownParty] = ()
    suppressed_phones: set[str] = field(default_factory=set)
    suppressed_emails: set[str] = field(default_factory=set)
    lines_of_business: frozenset[str] | None = None     # None: every line
    keys: dict[int, RowKeys] = field(default_factory=dict)  # row_keys by row number, when already computed
    new_party_id: Callable[[], str] = lambda: str(uuid.uuid4())
    defined_lines: frozenset[str] | None = None  # the lines customers defined; None: not checked


def classify(rows: list[AddressRow | RejectedRow], context: ChunkContext) -> list[RowOutcome]:
    """One outcome per row, in order; a row also duplicates an earlier row of the same chunk."""
    index = _KeyIndex(context.known)
    outcomes = []
    for row in rows:
        outcome = _judge(row, context, index)
        if outcome.party_id is not None:
            index.add(KnownParty(outcome.party_id, outcome.keys, f"row {row.row_number} of this file",
                                 (EARLIER_ROW, row.row_number), outcome.not_added))
        outcomes.append(outcome)
    return outcomes


def _judge(row: AddressRow | RejectedRow, context: ChunkContext, index: _KeyIndex) -> RowOutcome:
    if isinstance(row, RejectedRow):
        return RowOutcome(row.row_number, REJECTED, row.reason, row.field)
    if context.lines_of_business is not None and row.line_of_business not in context.lines_of_business:
        return RowOutcome(row.row_number, REJECTED, f"line of business '{row.line_of_business}' is not one of yours",
                          "line_of_business")
    if context.defined_lines is not None and row.line_of_business not in context.defined_lines:
        return RowOutcome(row.row_number, REJECTED, f"line of business '{row.line_of_business}' is not defined "
                          "in the customers service", "line_of_business")
    keys = context.keys.get(row.row_number) or row_keys(row)
    if keys.phone_key is not None and keys.phone_key in context.suppressed_phones:
        return RowOutcome(row.row_number, REJECTED, SUPPRESSED, "phone")
    if keys.email_key is not None and keys.email_key in context.suppressed_emails:
        return RowOutcome(row.row_number, REJECTED, SUPPRESSED, "email")
    match = index.best(keys.dedupe_keys)
    if match is not None:
        return _duplicate(row.row_number, keys, match)
    party_id = context.new_party_id()
    return RowOutcome(row.row_number, ACCEPTED, party_id=party_id, keys=keys,
                      suspect=suspect_data(row, party_id, context.campaign_id, context.import_id))


def _duplicate(row_number: int, keys: RowKeys, match: KnownParty) -> RowOutcome:
    reason = f"matches {match.described}"
    if match.not_added is not None:
        reason += f", which was not added to the campaign: {match.not_added}"
    return RowOutcome(row_number, DUPLICATE, reason, party_id=match.party_id, not_added=match.not_added, keys=keys)


class _KeyIndex:
    def __init__(self, parties: Iterable[KnownParty]):
        self._by_key: dict[str, KnownParty] = {}
        for party in parties:
            self.add(party)

    def add(self, party: KnownParty) -> None:
        for key in party.keys.dedupe_keys:
            current = self._by_key.get(key)
            if current is None or party.rank < current.rank:
                self._by_key[key] = party

    def best(self, keys: list[str]) -> KnownParty | None:
        found = [self._by_key[k] for k in keys if k in self._by_key]
        return min(found, key=lambda p: p.rank) if found else None


def suspect_data(row: AddressRow, party_id: str, campaign_id: str, import_id: str) -> dict:
    """The data of `crm.campaigns.suspect_imported.v1` (docs/events/README.md): a company carries no person names
    and a person no company name, or customers would refuse the event."""
    company = row.kind == "company"
    return {
        "party_id": party_id, "kind": row.kind,
        "company_name": row.company_name if company else None,
        "first_name": None if company else row.first_name, "last_name": None if company else row.last_name,
        "line_of_business": row.line_of_business,
        "address": {"street": row.street, "postal_code": row.postal_code, "city": row.city, "country": row.country},
        "phone": row.phone, "email": row.email,
        "attributes": {name: _json_value(value) for name, value in row.attributes.items()},
        "campaign_id": campaign_id, "import_id": import_id, "row_number": row.row_number,
    }


def _json_value(value):
    return value.isoformat() if isinstance(value, date) else value


def _cut(text: str | None, limit: int) -> str | None:
    return text if text is None or len(text) <= limit else text[:limit - 3] + "..."
