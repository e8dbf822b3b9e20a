"""HTTP API of a campaign's budget: cost items (planned and actual) and the revenue attributed to it."""
from __future__ import annotations

from datetime import date

from crm_shared.web import (PageQuerySchema, current_principal, decode_cursor, idempotent, page_of, path_uuid,
                            require_role)
from crm_shared.web.pagination import day, text
from crm_shared.web.preconditions import ETAG, IfMatchSchema, if_match_version
from flask.views import MethodView
from flask_smorest import Blueprint

from crm_campaigns.entrypoints import budget_schemas as s
from crm_campaigns.entrypoints.campaigns_api import EDITORS, uow, version_etag
from crm_campaigns.service_layer import budget, revenue

budget_blp = Blueprint("budget", __name__, description="Campaign budget: cost items and attributed revenue")


@budget_blp.route("/campaigns/<uuid_str:campaign_id>/cost-items")
class CostItems(MethodView):
    @budget_blp.response(200, s.CostItemListSchema)
    def get(self, campaign_id: str):
        """The campaign's cost items, by name."""
        return {"items": budget.list_cost_items(uow(), current_principal(), path_uuid(campaign_id, "campaign_id"))}

    @idempotent
    @require_role(*EDITORS)
    @budget_blp.arguments(s.CostItemCreateSchema)
    @budget_blp.response(201, s.CostItemSchema, headers=ETAG)
    def post(self, body, campaign_id: str):
        """Adds a cost item, optionally to one stage (422 for a stage the campaign does not have)."""
        item = budget.add_cost_item(uow(), current_principal(), path_uuid(campaign_id, "campaign_id"), body)
        return item, 201, version_etag(item)


@budget_blp.route("/campaigns/<uuid_str:campaign_id>/cost-items/<uuid_str:cost_item_id>")
class CostItem(MethodView):
    @require_role(*EDITORS)
    @budget_blp.arguments(s.CostItemPatchSchema)
    @budget_blp.arguments(IfMatchSchema, location="headers")
    @budget_blp.response(200, s.CostItemSchema, headers=ETAG)
    @budget_blp.alt_response(412, description="If-Match names another version than the stored one")
    def patch(self, body, headers, campaign_id: str, cost_item_id: str):
        """Changes a cost item (412 when `If-Match` is not the stored version; 409 for the deprecated body
        `version`). A completed or cancelled campaign takes only `actual_amount`: invoices arrive late."""
        version = body.pop("version")
        item = budget.update_cost_item(uow(), current_principal(), path_uuid(campaign_id, "campaign_id"),
                                       path_uuid(cost_item_id, "cost_item_id"), body, version,
                                       if_match=if_match_version(headers))
        return item, 200, version_etag(item)

    @require_role(*EDITORS)
    @budget_blp.arguments(s.VersionQuerySchema, location="query")
    @budget_blp.arguments(IfMatchSchema, location="headers")
    @budget_blp.response(204)
    @budget_blp.alt_response(412, description="If-Match names another version than the stored one")
    def delete(self, args, headers, campaign_id: str, cost_item_id: str):
        """Removes a cost item of a draft or active campaign (`If-Match` 412, the deprecated `?version=` 409)."""
        budget.delete_cost_item(uow(), current_principal(), path_uuid(campaign_id, "campaign_id"),
                                path_uuid(cost_item_id, "cost_item_id"), args["version"],
                                if_match=if_match_version(headers))


@budget_blp.route("/campaigns/<uuid_str:campaign_id>/revenue")
class Revenue(MethodView):
    @budget_blp.arguments(PageQuerySchema, location="query")
    @budget_blp.response(200, s.RevenuePageSchema)
    def get(self, args, campaign_id: str):
        """Orders and won deals attributed to the campaign, by date (keyset pagination)."""
        rows = revenue.list_revenue(uow(), current_principal(), path_uuid(campaign_id, "campaign_id"),
                                    args["limit"] + 1, _revenue_after(args["cursor"]))
        return page_of(rows, args["limit"], lambda r: [r["occurred_on"].isoformat(), r["attribution_id"]])

    @idempotent
    @require_role(*EDITORS)
    @budget_blp.arguments(s.RevenueCreateSchema)
    @budget_blp.response(201, s.RevenueSchema)
    def post(self, body, campaign_id: str):
        """Credits an order or won deal of a participant to the campaign. Only revenue the campaign measurably
        caused counts: 422 when the party is not a participant or the order is from before it entered; 409 when
        the same order or deal is already credited."""
        return revenue.record_revenue(uow(), current_principal(), path_uuid(campaign_id, "campaign_id"),
                                      {**body, "party_id": str(body["party_id"])})


def _revenue_after(cursor: str | None) -> tuple[date, str] | None:
    after = decode_cursor(cursor, (day, text))
    return tuple(after) if after else None
