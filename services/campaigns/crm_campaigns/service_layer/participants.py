"""Manual work on participants: add parties by hand, take them out, decide for them, and the time-outs."""
from __future__ import annotations

from datetime import datetime

from crm_shared.auth import Principal

from crm_campaigns.domain.errors import Conflict, InvalidInput, NotFound
from crm_campaigns.domain.participants import Position
from crm_campaigns.service_layer import progress
from crm_campaigns.service_layer.campaigns import now, visible_campaign

MAX_MANUAL = 1000
TIMEOUT_BATCH = 2000


def add_manually(uow, actor: Principal, campaign_id: str, party_ids: list[str]) -> dict:
    with uow:
        campaign = visible_campaign(uow, actor, campaign_id, lock=True)
        if campaign.status not in ("draft", "active"):
            raise Conflict(f"a {campaign.status} campaign takes no participants")
        known = uow.replica.many(party_ids)
        unknown = [p for p in party_ids if p not in known]
        if unknown:
            raise InvalidInput(f"unknown parties: {', '.join(unknown[:10])}", "party_ids")
        invisible = [p for p, row in known.items() if not actor.may_access(row.line_of_business)]
        if invisible:
            raise InvalidInput(f"parties outside your lines of business: {', '.join(invisible[:10])}", "party_ids")
        added = progress.add_participants(uow, campaign, party_ids, "manual", now())
        uow.commit()
    return {"added": len(added), "already_in": len(set(party_ids)) - len(added)}


def exclude(uow, actor: Principal, campaign_id: str, party_id: str, reason: str) -> None:
    with uow:
        visible_campaign(uow, actor, campaign_id)
        position = _open_position(uow, campaign_id, party_id)
        progress.exclude(uow, position, f"excluded by {actor.subject}: {reason}"[:200], now())
        uow.commit()


def decide(uow, actor: Principal, campaign_id: str, party_id: str, decision: str) -> progress.Progress:
    """A manual decision is a condition like any other: the stage's `manual` rules say where it leads."""
    with uow:
        campaign = visible_campaign(uow, actor, campaign_id)
        if campaign.status != "active":
            raise Conflict(f"decisions are taken in active campaigns; this one is {campaign.status}")
        position = _open_position(uow, campaign_id, party_id)
        condition = progress.ConditionMet("manual", decision, f"decided by {actor.subject}: {decision}"[:200],
                                          participation_id=position.participation_id)
        done = progress.apply_conditions(uow, [condition], now())
        if done.ignored:
            raise InvalidInput(f"stage {position.stage_key!r} has no rule for the decision {decision!r}", "decision")
        uow.commit()
    return done


def expire_timeouts(uow_factory, at: datetime | None = None) -> int:
    """Applies the `timeout` condition to participants whose stage time ran out, a batch per transaction."""
    at, total = at or now(), 0
    while True:
        with uow_factory() as uow:
            due = uow.participations.due_timeouts(at, TIMEOUT_BATCH)
            if not due:
                return total
            conditions = [progress.ConditionMet("timeout", None, "stage timed out", participation_id=pid)
                          for pid in due]
            done = progress.apply_conditions(uow, conditions, at)
            uow.commit()
        total += len(due) - done.ignored
        if done.ignored == len(due):  # nothing could move (no active campaign): do not spin on the same rows
            return total


def _open_position(uow, campaign_id: str, party_id: str) -> Position:
    row = uow.participations.get(campaign_id, party_id)
    if row is None:
        raise NotFound(f"party {party_id} is not in the campaign")
    if row.status not in ("selected", "active"):
        raise Conflict(f"the participation is already {row.status}")
    return Position(row.participation_id, row.campaign_id, row.party_id, row.stage_key, row.status, row.request_id)
