"""campaigns' `crm.campaigns.suspect_imported.v1` (docs/events/README.md) read into a command.

Who the party is (id, kind, names, line of business) must be right, or the event is malformed and raises, so
the consumer retries and then parks it. A contact detail the API would refuse (a phone number that is not
one, say) is dropped with a warning: the party still exists under the id campaigns already uses.
"""
from __future__ import annotations

import logging

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load

from crm_customers.domain.commands import RegisterImportedSuspect
from crm_customers.domain.model import Names, PartyKind
from crm_customers.entrypoints.schemas import LINE_CODE, AddressSchema, EmailSchema, Name, PhoneSchema, Text

SUSPECT_IMPORTED = "crm.campaigns.suspect_imported.v1"
ADDRESS_FIELDS = ("street", "postal_code", "city", "country")
log = logging.getLogger(__name__)


class MalformedSuspect(ValueError):
    """The event breaks its contract; retrying will not help, parking shows it to a person."""


class SuspectImportedSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # consumers ignore fields they do not know (additive changes keep the version)

    party_id = fields.UUID(required=True)
    kind = fields.Enum(PartyKind, by_value=True, required=True)
    company_name = Name(allow_none=True, load_default=None)
    first_name = Name(allow_none=True, load_default=None)
    last_name = Name(allow_none=True, load_default=None)
    line_of_business = Text(required=True, validate=LINE_CODE)
    address = fields.Dict(allow_none=True, load_default=None)
    phone = fields.Raw(allow_none=True, load_default=None)
    email = fields.Raw(allow_none=True, load_default=None)
    attributes = fields.Dict(keys=Text(), allow_none=True, load_default=dict)
    campaign_id = fields.Raw(load_default=None)
    import_id = fields.Raw(load_default=None)
    row_number = fields.Raw(load_default=None)

    @pre_load
    def blank_names_are_absent(self, data, **_):
        """An empty cell of the list arrives as "" or null; both mean the row has no such name."""
        if not isinstance(data, dict):
            return data
        names = ("company_name", "first_name", "last_name")
        return {**data, **{n: None for n in names if isinstance(data.get(n), str) and not data[n].strip()}}


def suspect_from_event(data: object) -> RegisterImportedSuspect:
    try:
        row = SuspectImportedSchema().load(data)
    except ValidationError as exc:
        raise MalformedSuspect(f"malformed {SUSPECT_IMPORTED}: {exc.messages}") from exc
    origin = f"campaign {row['campaign_id']}, import {row['import_id']}, row {row['row_number']}"
    details = _DetailReader(str(row["party_id"]), origin)
    address, phone, email = row["address"], row["phone"], row["email"]
    return RegisterImportedSuspect(
        party_id=row["party_id"], kind=row["kind"],
        names=Names(company_name=row["company_name"], first_name=row["first_name"], last_name=row["last_name"]),
        line_of_business=row["line_of_business"],
        addresses=details.read("address", AddressSchema(), address and {f: address.get(f) for f in ADDRESS_FIELDS}),
        phones=details.read("phone", PhoneSchema(), phone and {"number": phone}),
        emails=details.read("email", EmailSchema(), email and {"address": email}),
        attributes=row["attributes"] or {}, origin=origin,
    )


class _DetailReader:
    def __init__(self, party_id: str, origin: str):
        self.party_id, self.origin = party_id, origin

    def read(self, name: str, schema: Schema, given: dict | None) -> list:
        """The detail as a one-item list; an empty list when the row has none (null, "" or {}) or when the API
        would refuse it (that is logged)."""
        if not given:
            return []
        try:
            return [schema.load(given)]
        except ValidationError as exc:
            log.warning("imported suspect %s (%s): %s dropped: %s", self.party_id, self.origin, name, exc.messages)
            return []
