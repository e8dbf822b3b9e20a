"""Use cases of figures and evaluation: read them, compare campaigns, publish `campaign_evaluated` on request
and daily (every active campaign, and those that finished since the previous run)."""
from __future__ import annotations

from datetime import datetime, timedelta

from crm_shared.auth import Principal

from crm_campaigns.domain.errors import InvalidInput
from crm_campaigns.service_layer.campaigns import now, visible_campaign
from crm_campaigns.service_layer.evaluation_events import (evaluate, evaluated_event, evaluation_body, figures,
                                                           publish_evaluation)

MIN_COMPARED, MAX_COMPARED = 2, 20
# The daily run looks back a little more than a day, so a late or slow run leaves no gap; a campaign evaluated
# twice only replaces the figures reporting already had.
LOOKBACK = timedelta(hours=26)


def campaign_figures(uow, actor: Principal, campaign_id: str) -> dict:
    with uow:
        return figures(uow, visible_campaign(uow, actor, campaign_id))


def campaign_evaluation(uow, actor: Principal, campaign_id: str) -> dict:
    with uow:
        campaign = visible_campaign(uow, actor, campaign_id)
        return evaluation_body(campaign, evaluate(uow, campaign))


def compare(uow, actor: Principal, campaign_ids: list[str]) -> list[dict]:
    """The evaluations side by side, in the order asked for."""
    if len(set(campaign_ids)) != len(campaign_ids):
        raise InvalidInput("each campaign may be named once", "campaign_id")
    if not MIN_COMPARED <= len(campaign_ids) <= MAX_COMPARED:
        raise InvalidInput(f"compare {MIN_COMPARED} to {MAX_COMPARED} campaigns", "campaign_id")
    with uow:
        campaigns = [visible_campaign(uow, actor, campaign_id) for campaign_id in campaign_ids]
        return [evaluation_body(c, evaluate(uow, c)) for c in campaigns]


def publish_on_request(uow, actor: Principal, campaign_id: str) -> dict:
    at = now()
    with uow:
        campaign = visible_campaign(uow, actor, campaign_id)
        evaluation = evaluate(uow, campaign)
        uow.publish(evaluated_event(campaign, evaluation, at))
        uow.commit()
    return {**evaluation_body(campaign, evaluation), "evaluated_at": at}


def publish_due_evaluations(uow_factory, at: datetime | None = None) -> int:
    """One transaction per campaign, so one campaign's failure does not hold back the others' evaluations."""
    at = at or now()
    with uow_factory() as uow:
        due = uow.figures.campaigns_to_evaluate(at - LOOKBACK)
    for campaign_id in due:
        with uow_factory() as uow:
            publish_evaluation(uow, campaign_id, at)
            uow.commit()
    return len(due)
