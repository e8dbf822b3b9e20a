"""HTTP API of target selection by criteria, the suppression list and the party replica it reads."""
from __future__ import annotations

from datetime import UTC, datetime

from crm_shared.web import current_principal, decode_cursor, idempotent, page_of, path_uuid, require_role
from crm_shared.web.pagination import text
from flask.views import MethodView
from flask_smorest import Blueprint

from crm_campaigns.entrypoints import selection_schemas as s
from crm_campaigns.entrypoints.campaigns_api import EDITORS, cursor_after, uow
from crm_campaigns.service_layer import selection, suppressions

selection_blueprint = Blueprint("selection", __name__,
                                description="Target selection by criteria, the suppression list, the party replica")


@selection_blueprint.route("/campaigns/<uuid_str:campaign_id>/selections")
class Selections(MethodView):
    @idempotent
    @require_role(*EDITORS)
    @selection_blueprint.arguments(s.SelectionSchema)
    @selection_blueprint.response(200, s.SelectionResultSchema)
    def post(self, body, campaign_id: str):
        """Adds every party matching the criteria (all must hold) that is not yet in the campaign and not
        suppressed; with `dry_run` only counts. matched = added + already_in + suppressed."""
        campaign_id = path_uuid(campaign_id, "campaign_id")
        criteria = selection.parse_criteria(body["criteria"])
        if body["dry_run"]:
            counts = selection.preview_selection(uow(), current_principal(), campaign_id, criteria)
        else:
            counts = selection.select_targets(uow(), current_principal(), campaign_id, criteria, _now())
        return {**counts, "dry_run": body["dry_run"]}


@selection_blueprint.route("/suppressions")
class SuppressionList(MethodView):
    @selection_blueprint.arguments(s.SuppressionQuerySchema, location="query")
    @selection_blueprint.response(200, s.SuppressionPageSchema)
    def get(self, args):
        """The suppression list, newest first (keyset pagination)."""
        after = _suppression_cursor(args["cursor"])
        rows = suppressions.suppression_page(uow(), current_principal(), limit=args["limit"] + 1, after=after,
                                             party_id=_text(args["party_id"]), email=args["email"],
                                             campaign_id=_text(args["campaign_id"]))
        return page_of(rows, args["limit"], lambda r: [r["created_at"].isoformat(), r["suppression_id"]])

    @idempotent
    @require_role(*EDITORS)
    @selection_blueprint.arguments(s.SuppressionCreateSchema)
    @selection_blueprint.response(201, s.SuppressionSchema)
    def post(self, body):
        """Suppresses a party, e-mail address or phone number, in every campaign or one, on every channel or
        one; on every channel the party's open participations end (status `excluded`)."""
        values = {**body, "party_id": _text(body["party_id"]), "campaign_id": _text(body["campaign_id"])}
        return suppressions.add_suppression(uow(), current_principal(), values, _now())


@selection_blueprint.route("/suppressions/<uuid_str:suppression_id>")
class SuppressionItem(MethodView):
    @require_role(*EDITORS)
    @selection_blueprint.response(204)
    def delete(self, suppression_id: str):
        """Lifts a suppression for later selections; ended participations stay ended."""
        suppressions.delete_suppression(uow(), current_principal(), path_uuid(suppression_id, "suppression_id"))


@selection_blueprint.route("/parties")
class Parties(MethodView):
    @selection_blueprint.arguments(s.PartyQuerySchema, location="query")
    @selection_blueprint.response(200, s.PartyPageSchema)
    def get(self, args):
        """The parties campaigns knows (its replica of the customers' data) in your lines of business, filtered
        like a selection; deactivated parties are left out."""
        after = cursor_after(args.pop("cursor"), 1)
        limit = args.pop("limit")
        rows = selection.party_page(uow(), current_principal(), args, limit=limit + 1,
                                    after=after[0] if after else None)
        return page_of(rows, limit, lambda p: [p["party_id"]])


def _suppression_cursor(cursor: str | None) -> tuple[str, str] | None:
    after = decode_cursor(cursor, (_timestamp_text, text))
    return tuple(after) if after else None


def _timestamp_text(value) -> str:
    """The creation time as the cursor holds it (ISO 8601 text), checked to be one."""
    datetime.fromisoformat(text(value))
    return value


def _text(value) -> str | None:
    return str(value) if value is not None else None


def _now() -> datetime:
    return datetime.now(UTC)
