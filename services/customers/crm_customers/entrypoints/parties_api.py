"""/parties: register, search, read, change, lifecycle and deactivation.

A party in a line of business the caller's token does not grant answers 404, exactly like a missing one, so
that ids cannot be probed; creating in such a line answers 403 because the caller named the line themselves.
"""
from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from crm_shared.web import ProblemError, current_principal, decode_cursor, idempotent, page_of

from crm_customers.domain import commands
from crm_customers.domain.lifecycle import LifecycleState
from crm_customers.domain.model import Names, Party, PartyKind
from crm_customers.domain.search import PartySearch
from crm_customers.entrypoints import schemas
from crm_customers.entrypoints.dependencies import new_uow
from crm_customers.service_layer import handlers, queries

blp = Blueprint("parties", __name__, url_prefix="/parties", description="Companies and persons")
NAME_FIELDS = ("company_name", "first_name", "last_name")


@blp.route("")
class Parties(MethodView):
    @blp.arguments(schemas.PartyQuerySchema, location="query")
    @blp.response(200, schemas.PartyPageSchema)
    def get(self, query):
        """Search parties (keyset pagination, no total count)."""
        sort, descending = query["sort"].lstrip("-"), query["sort"].startswith("-")
        criteria = PartySearch(
            limit=query["limit"], sort=sort, descending=descending, after=_after(query["cursor"], sort),
            name_prefix=query.get("name"), lifecycle_state=query.get("lifecycle_state"), kind=query.get("kind"),
            line_of_business=query.get("line_of_business"), postal_code_from=query.get("postal_code_from"),
            postal_code_to=query.get("postal_code_to"),
        )
        found = queries.search_parties(criteria, _attribute_filters(query), current_principal(), new_uow())
        return page_of(found, query["limit"], key=lambda party: [sort, _sort_value(party, sort), str(party.id)])

    @idempotent
    @blp.arguments(schemas.PartyCreateSchema)
    @blp.response(201, schemas.PartySchema)
    def post(self, body):
        """Register a company or a person."""
        party = handlers.register_party(commands.RegisterParty(
            actor=current_principal(), kind=PartyKind(body["kind"]),
            names=Names(**{f: body.get(f) for f in NAME_FIELDS}), line_of_business=body["line_of_business"],
            lifecycle_state=LifecycleState(body["lifecycle_state"]), customer_number=body.get("customer_number"),
            addresses=_addresses(body), phones=body.get("phones", []), emails=body.get("emails", []),
            attributes=body.get("attributes", {}),
        ), new_uow())
        return party, 201, _headers(party, location=True)


@blp.route("/<uuid:party_id>")
class PartyResource(MethodView):
    @blp.response(200, schemas.PartySchema)
    def get(self, party_id):
        """Read a party; the ETag is its version."""
        party = handlers.get_party(party_id, current_principal(), new_uow())
        return party, 200, _headers(party)

    @blp.arguments(schemas.PartyPatchSchema)
    @blp.arguments(schemas.IfMatchSchema, location="headers")
    @blp.response(200, schemas.PartySchema)
    def patch(self, body, headers, party_id):
        """Change a party; send `If-Match: "<version>"` to be refused (412) if someone changed it meanwhile."""
        party = handlers.update_party(commands.UpdateParty(
            actor=current_principal(), party_id=party_id, expected_version=_version(headers["if_match"]),
            names={f: body[f] for f in NAME_FIELDS if f in body}, line_of_business=body.get("line_of_business"),
            addresses=body.get("addresses"), phones=body.get("phones"), emails=body.get("emails"),
            attributes=body.get("attributes"),
        ), new_uow())
        return party, 200, _headers(party)


@blp.route("/<uuid:party_id>/lifecycle", methods=["POST"])
@blp.arguments(schemas.LifecycleChangeSchema)
@blp.response(200, schemas.PartySchema)
def change_lifecycle(body, party_id):
    """Move a party along suspect -> prospect -> customer, or deactivate/reactivate it (illegal moves: 409)."""
    party = handlers.change_lifecycle(commands.ChangeLifecycle(
        actor=current_principal(), party_id=party_id, state=LifecycleState(body["state"])), new_uow())
    return party, 200, _headers(party)


@blp.route("/<uuid:party_id>/deactivate", methods=["POST"])
@blp.response(200, schemas.PartySchema)
def deactivate(party_id):
    """Deactivate a party; its customer number is kept for a later reactivation."""
    party = handlers.deactivate_party(commands.DeactivateParty(actor=current_principal(), party_id=party_id),
                                      new_uow())
    return party, 200, _headers(party)


def _headers(party: Party, location: bool = False) -> dict:
    headers = {"ETag": f'"{party.version}"'}
    if location:
        headers["Location"] = url_for("parties.PartyResource", party_id=party.id)
    return headers


def _addresses(body: dict) -> list:
    primary = body.get("primary_address")
    return [replace(primary, primary=True)] if primary else body.get("addresses", [])


def _version(if_match: str | None) -> int | None:
    return None if if_match is None else int(if_match.removeprefix("W/").strip('"'))


def _attribute_filters(query: dict) -> list[tuple[str, str, str]]:
    found = []
    for op, key in (("eq", "attribute"), ("min", "attribute_min"), ("max", "attribute_max")):
        found += [(op, *text.split(":", 1)) for text in query.get(key, [])]
    return found


def _sort_value(party: Party, sort: str):
    if sort == "name":
        return party.name_key
    return party.created_at.isoformat() if sort == "created_at" else party.customer_number


def _after(cursor: str | None, sort: str):
    values = decode_cursor(cursor, 3)
    if values is None:
        return None
    try:
        if values[0] != sort or not isinstance(values[1], str):
            raise ValueError("cursor of another sort order")
        value = datetime.fromisoformat(values[1]) if sort == "created_at" else values[1]
        return value, uuid.UUID(values[2])
    except (ValueError, TypeError, AttributeError) as exc:
        raise ProblemError(400, "Bad Request", "The cursor is not one this endpoint issued.",
                           [{"location": "query", "field": "cursor", "message": "invalid cursor"}]) from exc
