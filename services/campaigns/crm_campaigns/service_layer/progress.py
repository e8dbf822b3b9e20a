"""Moving participants through a campaign's stages, in bulk: entering the first stage, reacting to conditions
(call outcomes, mailing reactions, manual decisions, time-outs), finishing, and chaining into follow-ups.

Every move writes the participation's new position, a history row and a `participant_moved` event; entering a
telephone stage asks the calls service for a campaign call, and leaving one before its outcome withdraws it."""
from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from crm_shared.events import CloudEvent, new_event

from crm_campaigns.domain import events
from crm_campaigns.domain.participants import Move, Position, chain_key, decide
from crm_campaigns.domain.stages import StageGraph

CALL_CONDITION = "call_outcome"


@dataclass(frozen=True)
class ConditionMet:
    """A condition for one participation, named by its id or by the call request of its current stage."""
    kind: str
    value: str | None
    cause: str
    participation_id: str | None = None
    request_id: str | None = None


@dataclass
class Progress:
    """What one bulk operation did, for the caller's answer and for tests."""
    moved: Counter = field(default_factory=Counter)
    ignored: int = 0
    changes: list[dict] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)
    published: list[CloudEvent] = field(default_factory=list)
    chained: list[tuple[str, Position]] = field(default_factory=list)

    def flush(self, uow) -> None:
        uow.participations.write_positions(self.changes)
        uow.participations.add_history(self.history)
        uow.publish(*self.published)
        self.changes, self.history, self.published = [], [], []


def add_participants(uow, campaign, party_ids: list[str], source: str, now: datetime) -> list[str]:
    """Adds the parties not yet in the campaign: selected while it is a draft, in the first stage once active."""
    rows = [{"participation_id": str(uuid.uuid4()), "campaign_id": campaign.campaign_id, "party_id": party_id,
             "status": "selected", "stage_key": None, "failure_code": None, "source": source, "request_id": None,
             "timeout_at": None, "added_at": now, "stage_entered_at": None, "finished_at": None, "note": None}
            for party_id in dict.fromkeys(party_ids)]
    inserted = uow.participations.insert_new(rows) if rows else []
    if campaign.status == "active" and inserted:
        graph = uow.campaigns.graph(campaign.campaign_id)
        positions = [Position(r["participation_id"], r["campaign_id"], r["party_id"], None, "selected")
                     for r in inserted]
        progress = Progress()
        start(progress, graph, positions, now, f"added ({source})")
        progress.flush(uow)
    return [r["participation_id"] for r in inserted]


def start(progress: Progress, graph: StageGraph, positions: list[Position], now: datetime, cause: str) -> None:
    for position in positions:
        _enter(progress, graph, position, graph.entry.key, now, cause)


def apply_conditions(uow, conditions: list[ConditionMet], now: datetime) -> Progress:
    """Applies each condition to its participation's current stage; conditions for participations that are
    unknown, finished, in a campaign that is not active, or whose stage has no rule for them are ignored."""
    positions = _positions_for(uow, conditions)
    campaigns = {c: uow.campaigns.get(c) for c in {p.campaign_id for p in positions.values()}}
    active = {cid for cid, row in campaigns.items() if row is not None and row.status == "active"}
    graphs = uow.campaigns.graphs(active) if active else {}
    chains = uow.campaigns.chain_map(active) if active else {}
    progress = Progress()
    for condition in conditions:
        position = positions.get(condition.participation_id or condition.request_id)
        move = None
        if position is not None and position.campaign_id in active:
            if condition.kind != CALL_CONDITION or position.request_id == condition.request_id \
                    or condition.request_id is None:
                move = decide(graphs[position.campaign_id], position, condition.kind, condition.value,
                              condition.cause)
        if move is None:
            progress.ignored += 1
            continue
        moved = _apply(progress, graphs[position.campaign_id], move, now, withdraw=condition.kind != CALL_CONDITION)
        positions[condition.participation_id or condition.request_id] = moved
        _queue_chain(progress, chains, move)
    progress.flush(uow)
    _enter_chained(uow, progress, now)
    return progress


def close_open(uow, campaign_id: str, cause: str, now: datetime) -> int:
    """Ends every open participation of a campaign being completed or cancelled (status `excluded`)."""
    progress = Progress()
    positions = uow.participations.open_positions(campaign_id)
    for position in positions:
        _finish(progress, position, "excluded", None, cause, now, withdraw=True)
    progress.flush(uow)
    return len(positions)


def exclude(uow, position: Position, cause: str, now: datetime) -> None:
    progress = Progress()
    _finish(progress, position, "excluded", None, cause, now, withdraw=True)
    progress.flush(uow)


def _positions_for(uow, conditions: list[ConditionMet]) -> dict[str, Position]:
    by_id = [c.participation_id for c in conditions if c.participation_id]
    by_request = [c.request_id for c in conditions if not c.participation_id and c.request_id]
    found = {p.participation_id: p for p in uow.participations.positions(by_id)} if by_id else {}
    if by_request:
        found.update({p.request_id: p for p in uow.participations.positions_by_request(by_request)})
    return found


def _apply(progress: Progress, graph: StageGraph, move: Move, now: datetime, *, withdraw: bool) -> Position:
    if move.finished:
        return _finish(progress, move.position, move.result, move.failure_code, move.cause, now, withdraw=withdraw,
                       condition=move.condition)
    if withdraw:
        _withdraw(progress, move.position)
    return _enter(progress, graph, move.position, move.to_stage, now, move.cause, condition=move.condition)


def _enter(progress: Progress, graph: StageGraph, position: Position, stage_key: str, now: datetime,
           cause: str, condition: tuple[str, str | None] | None = None) -> Position:
    stage = graph.stage(stage_key)
    request_id = f"{position.participation_id}:{stage_key}" if stage.action == "call" else None
    timeout_at = now + timedelta(days=stage.timeout_days) if stage.timeout_days is not None else None
    progress.changes.append({"participation_id": position.participation_id, "status": "active",
                             "stage_key": stage_key, "request_id": request_id, "failure_code": None,
                             "timeout_at": timeout_at, "stage_entered_at": now, "finished_at": None})
    progress.history.append(_history(position, stage_key, None, None, cause, now, condition))
    progress.published.append(_moved(position, stage_key, None, None, cause, now))
    if request_id is not None:
        progress.published.append(new_event(events.CAMPAIGN_CALL_REQUESTED, events.SOURCE, position.party_id, {
            "request_id": request_id, "party_id": position.party_id, "campaign_id": position.campaign_id,
            "window_start": now.date().isoformat(),
            "window_end": (now.date() + timedelta(days=stage.call_window_days)).isoformat(),
            "priority": stage.call_priority, "script_id": stage.script_id}))
    progress.moved[f"entered:{stage_key}"] += 1
    return Position(position.participation_id, position.campaign_id, position.party_id, stage_key, "active",
                    request_id)


def _finish(progress: Progress, position: Position, result: str, failure_code: str | None, cause: str,
            now: datetime, *, withdraw: bool, condition: tuple[str, str | None] | None = None) -> Position:
    if withdraw:
        _withdraw(progress, position)
    progress.changes.append({"participation_id": position.participation_id, "status": result,
                             "stage_key": position.stage_key, "request_id": None, "failure_code": failure_code,
                             "timeout_at": None, "stage_entered_at": None, "finished_at": now})
    if position.stage_key is not None:
        progress.history.append(_history(position, position.stage_key, result, failure_code, cause, now, condition))
    progress.published.append(_moved(position, None, result, failure_code, cause, now))
    progress.moved[result if failure_code is None else f"{result}:{failure_code}"] += 1
    return Position(position.participation_id, position.campaign_id, position.party_id, position.stage_key, result)


def _withdraw(progress: Progress, position: Position) -> None:
    if position.request_id:
        progress.published.append(new_event(events.CAMPAIGN_CALL_WITHDRAWN, events.SOURCE, position.party_id,
                                            {"request_id": position.request_id}))


def _queue_chain(progress: Progress, chains: dict, move: Move) -> None:
    if not move.finished:
        return
    for trigger in chain_key(move.result, move.failure_code):
        target = chains.get((move.position.campaign_id, trigger))
        if target:
            progress.chained.append((target, move.position))
            return


def _enter_chained(uow, progress: Progress, now: datetime) -> None:
    by_target: dict[str, list[str]] = {}
    for target, position in progress.chained:
        by_target.setdefault(target, []).append(position.party_id)
    for target, party_ids in by_target.items():
        campaign = uow.campaigns.get(target)
        if campaign is not None and campaign.status in ("draft", "active"):
            add_participants(uow, campaign, party_ids, "chain", now)


def _history(position: Position, stage_key: str, result: str | None, failure_code: str | None, cause: str,
             now: datetime, condition: tuple[str, str | None] | None) -> dict:
    kind, value = condition or (None, None)
    return {"participation_id": position.participation_id, "campaign_id": position.campaign_id,
            "stage_key": stage_key, "result": result, "failure_code": failure_code, "cause": cause[:200],
            "condition_kind": kind, "condition_value": value, "at": now}


def _moved(position: Position, to_stage: str | None, result: str | None, failure_code: str | None, cause: str,
           now: datetime) -> CloudEvent:
    return new_event(events.PARTICIPANT_MOVED, events.SOURCE, position.participation_id, {
        "participation_id": position.participation_id, "campaign_id": position.campaign_id,
        "party_id": position.party_id, "from_stage": position.stage_key, "to_stage": to_stage, "result": result,
        "failure_code": failure_code, "cause": cause, "at": now.isoformat()})


def exclude_party(uow, party_id: str, cause: str, now: datetime) -> int:
    """Ends the party's open participations in every campaign (deactivation, objection to contact)."""
    progress = Progress()
    positions = uow.participations.open_positions_of_party(party_id)
    for position in positions:
        _finish(progress, position, "excluded", None, cause, now, withdraw=True)
    progress.flush(uow)
    return len(positions)
