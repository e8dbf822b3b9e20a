"""Revenue attributed to campaigns: recorded by hand (API) or from other services' order and deal events.

Events (contract defined here; their producers do not publish them yet): `crm.service-desk.order_placed.v1`
and `crm.customers.opportunity_won.v1`. With a `campaign_id` the revenue goes to that campaign if the party
takes part in it; without one, to the campaign the party most recently finished `succeeded` in, within
ATTRIBUTION_WINDOW_DAYS before the order. Anything else is ignored (and logged). Each order or deal is
counted once, whichever way it arrives."""
from __future__ import annotations

import logging
import uuid
from datetime import datetime

from crm_shared.auth import Principal
from crm_shared.events import CloudEvent
from sqlalchemy.orm import Session

from crm_campaigns.domain.attribution import (RevenueClaim, claim_from_deal, claim_from_order, refusal,
                                              window_start)
from crm_campaigns.domain.errors import Conflict, InvalidInput
from crm_campaigns.service_layer.budget import check_stage
from crm_campaigns.service_layer.campaigns import now, visible_campaign
from crm_campaigns.service_layer.unit_of_work import ConsumerUnitOfWork

log = logging.getLogger(__name__)


def record_revenue(uow, actor: Principal, campaign_id: str, body: dict) -> dict:
    """Credits an order or won deal of a participant to the campaign; 422 when the campaign did not cause it,
    409 when the order or deal is already credited."""
    with uow:
        campaign = visible_campaign(uow, actor, campaign_id)
        claim = RevenueClaim(body["kind"], body["reference"], body["party_id"], body["amount"], campaign.currency,
                             body["occurred_on"], campaign_id)
        participation = uow.participations.get(campaign_id, claim.party_id)
        refused = _refusal(uow, claim, participation)
        if refused is not None:
            raise InvalidInput(refused.reason, refused.field)
        check_stage(uow, campaign_id, body.get("stage_key"))
        row = _attribution(claim, participation, body.get("stage_key") or participation.stage_key, "api")
        if not uow.budget.add_revenue(row):
            raise Conflict(f"{claim.kind} {claim.reference} is already attributed to a campaign", "reference")
        uow.commit()
    return row


def list_revenue(uow, actor: Principal, campaign_id: str, limit: int, after) -> list[dict]:
    with uow:
        visible_campaign(uow, actor, campaign_id)
        return uow.budget.revenue_page(campaign_id, limit=limit, after=after)


def attribute(uow, claim: RevenueClaim, window_days: int) -> str | None:
    """The attribution id, or None when no campaign measurably caused the revenue or it is already counted."""
    participation = _participation_for(uow, claim, window_days)
    if participation is None:
        return None
    campaign = uow.campaigns.get(participation.campaign_id)
    if campaign.currency != claim.currency:
        log.warning("%s %s in %s not attributed to campaign %s, which counts in %s", claim.kind, claim.reference,
                    claim.currency, campaign.campaign_id, campaign.currency)
        return None
    refused = _refusal(uow, claim, participation)
    if refused is not None:
        log.info("%s %s not attributed to campaign %s: %s", claim.kind, claim.reference, campaign.campaign_id,
                 refused.reason)
        return None
    row = _attribution(claim, participation, participation.stage_key, "event")
    return row["attribution_id"] if uow.budget.add_revenue(row) else None


def order_placed(session: Session, event: CloudEvent, *, window_days: int) -> None:
    """`window_days`: the ATTRIBUTION_WINDOW_DAYS setting (the consumer binds it, service_layer/handlers.py)."""
    attribute(ConsumerUnitOfWork(session), claim_from_order(event.data), window_days)


def opportunity_won(session: Session, event: CloudEvent, *, window_days: int) -> None:
    attribute(ConsumerUnitOfWork(session), claim_from_deal(event.data), window_days)


def _participation_for(uow, claim: RevenueClaim, window_days: int):
    if claim.amount <= 0:
        log.info("%s %s has no positive amount; nothing to attribute", claim.kind, claim.reference)
        return None
    if claim.campaign_id is not None:
        found = uow.participations.get(claim.campaign_id, claim.party_id)
        if found is None:
            log.info("%s %s names campaign %s, in which party %s does not take part; ignored", claim.kind,
                     claim.reference, claim.campaign_id, claim.party_id)
        return found
    found = uow.budget.latest_success(claim.party_id, window_start(claim.occurred_on, window_days),
                                      claim.occurred_on)
    if found is None:
        log.info("%s %s: party %s succeeded in no campaign in the %d days before; ignored", claim.kind,
                 claim.reference, claim.party_id, window_days)
    return found


def _refusal(uow, claim: RevenueClaim, participation):
    entered_on = uow.budget.entered_on(participation.participation_id) if participation is not None else None
    return refusal(claim.kind, claim.occurred_on, participation is not None, entered_on)


def _attribution(claim: RevenueClaim, participation, stage_key: str | None, source: str) -> dict:
    recorded_at: datetime = now()
    return {"attribution_id": str(uuid.uuid4()), "campaign_id": participation.campaign_id,
            "party_id": claim.party_id, "stage_key": stage_key, "kind": claim.kind, "reference": claim.reference,
            "amount": claim.amount, "occurred_on": claim.occurred_on, "source": source, "recorded_at": recorded_at}
