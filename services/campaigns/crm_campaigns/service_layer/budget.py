"""Cost items of a campaign: what it is planned to cost and what it did cost, per item and optionally per stage.
A completed or cancelled campaign still takes actual amounts, since invoices arrive after the end."""
from __future__ import annotations

import uuid

from crm_shared.auth import Principal

from crm_campaigns.domain.errors import Conflict, InvalidInput, NotFound, check_version
from crm_campaigns.service_layer.campaigns import visible_campaign

FINISHED = ("completed", "cancelled")
LATE_CHANGES = {"actual_amount"}
MAX_COST_ITEMS = 500


def list_cost_items(uow, actor: Principal, campaign_id: str) -> list[dict]:
    with uow:
        visible_campaign(uow, actor, campaign_id)
        return [row._asdict() for row in uow.budget.cost_items(campaign_id)]


def add_cost_item(uow, actor: Principal, campaign_id: str, values: dict) -> dict:
    with uow:
        campaign = visible_campaign(uow, actor, campaign_id, lock=True)
        if campaign.status in FINISHED:
            raise Conflict(f"a {campaign.status} campaign takes no new cost items; record late invoices as actual "
                           "amounts of its existing items")
        check_stage(uow, campaign_id, values.get("stage_key"))
        if uow.budget.count_cost_items(campaign_id) >= MAX_COST_ITEMS:
            raise InvalidInput(f"a campaign has at most {MAX_COST_ITEMS} cost items")
        row = {"cost_item_id": str(uuid.uuid4()), "campaign_id": campaign_id, "stage_key": None,
               "actual_amount": None, **values, "version": 1}
        uow.budget.add_cost_item(row)
        uow.commit()
    return row


def update_cost_item(uow, actor: Principal, campaign_id: str, cost_item_id: str, changes: dict,
                     expected_version: int | None, if_match: int | None = None) -> dict:
    with uow:
        campaign = visible_campaign(uow, actor, campaign_id)
        item = _item(uow, campaign_id, cost_item_id, expected_version, if_match)
        if campaign.status in FINISHED and set(changes) - LATE_CHANGES:
            fields = ", ".join(sorted(set(changes) - LATE_CHANGES))
            raise Conflict(f"a {campaign.status} campaign only takes actual amounts; it cannot change: {fields}")
        if "stage_key" in changes:
            check_stage(uow, campaign_id, changes["stage_key"])
        if any(changes[name] != getattr(item, name) for name in changes):
            uow.budget.update_cost_item(cost_item_id, {**changes, "version": item.version + 1})
            uow.commit()
        return uow.budget.cost_item(campaign_id, cost_item_id)._asdict()


def delete_cost_item(uow, actor: Principal, campaign_id: str, cost_item_id: str, expected_version: int | None,
                     if_match: int | None = None):
    with uow:
        campaign = visible_campaign(uow, actor, campaign_id)
        _item(uow, campaign_id, cost_item_id, expected_version, if_match)
        if campaign.status in FINISHED:
            raise Conflict(f"the cost items of a {campaign.status} campaign are kept")
        uow.budget.delete_cost_item(cost_item_id)
        uow.commit()


def check_stage(uow, campaign_id: str, stage_key: str | None) -> None:
    if stage_key is None:
        return
    graph = uow.campaigns.graph(campaign_id)
    if graph is None or stage_key not in graph.keys():
        raise InvalidInput(f"the campaign has no stage {stage_key!r}", "stage_key")


def _item(uow, campaign_id: str, cost_item_id: str, expected_version: int | None, if_match: int | None):
    item = uow.budget.cost_item(campaign_id, cost_item_id, lock=True)
    if item is None:
        raise NotFound(f"the campaign has no cost item {cost_item_id}")
    check_version("cost item", item.version, if_match, expected_version)
    return item
