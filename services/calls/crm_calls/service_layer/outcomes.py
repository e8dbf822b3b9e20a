"""Recording what happened on a call, and proposing (or scheduling) the next step."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from crm_shared.auth import Principal

from crm_calls.adapters.execution_repository import ExecutionRepository
from crm_calls.domain import events
from crm_calls.domain.calls import Call, Outcome
from crm_calls.domain.errors import Forbidden, InvalidInput, NotFound
from crm_calls.domain.policy import DayWindow
from crm_calls.domain.scheduling import gap_blocker
from crm_calls.domain.scripts import validate_answers
from crm_calls.service_layer.calls import CONTACT_MEMORY_DAYS
from crm_calls.service_layer.cycles import is_cycle_customer, plan_cycle
from crm_calls.service_layer.planner import Planner, call_data, commit_planner, party_key
from crm_calls.service_layer.transactions import retried

FOLLOW_UP_WINDOW_DAYS = 7
WORKDAY_START = time(8, 0)


@dataclass(frozen=True)
class RecordOutcome:
    call_id: str
    outcome: Outcome
    actor: Principal


@retried
def record_outcome(uow, cmd: RecordOutcome) -> tuple[Call, dict[str, Any]]:
    with uow:
        call = _visible_call(uow, cmd.call_id, cmd.actor)
        party = uow.planning.lock_parties([call.party_id]).get(call.party_id)
        call = uow.planning.get_call(cmd.call_id, lock=True)
        _require_may_record(uow, call, cmd.actor)
        call.require_open()
        script_version = _check_against_catalogues(uow, call, cmd.outcome)
        today = cmd.outcome.recorded_at.date()
        calls = uow.planning.contacts_of([call.party_id], today - timedelta(days=CONTACT_MEMORY_DAYS))
        planner = Planner.for_parties(uow.planning, [party] if party else [], calls, now=cmd.outcome.recorded_at)
        party_calls = [c for c in calls.get(call.party_id, []) if c.call_id != call.call_id] + [call]
        closed = call.record(cmd.outcome, cmd.actor.subject, planner.rules.max_attempts, script_version)
        planner.changed(call)
        next_step = _next_step(planner, party, call, party_calls, closed, cmd.outcome)
        planner.published.append(events.Published(events.CALL_OUTCOME_RECORDED, call.party_id, {
            **call_data(call), "outcome": call.outcome, "rejection_reason": call.rejection_reason,
            "attempts": call.attempts, "final": closed, "contact_made": cmd.outcome.contact_made,
            "completed_on": call.completed_on.isoformat() if call.completed_on else None,
            "recorded_by": cmd.actor.subject, **_public_details(cmd.outcome), "next_step": next_step}))
        commit_planner(uow, planner)
    return call, next_step


def _visible_call(uow, call_id: str, actor: Principal) -> Call:
    call = uow.planning.get_call(call_id)
    if call is None or not actor.may_access(call.line_of_business):
        raise NotFound(f"no call {call_id} is visible to you")
    return call


def _require_may_record(uow, call: Call, actor: Principal) -> None:
    if actor.has_role("supervisor", "planner"):
        return
    agent = uow.planning.agents([call.agent_id]).get(call.agent_id) if call.agent_id else None
    if agent is None or agent.user_subject != actor.subject:
        raise Forbidden("only the agent the call is assigned to, or a supervisor, records its outcome")


def _check_against_catalogues(uow, call: Call, outcome: Outcome) -> int | None:
    repo = ExecutionRepository(uow.session)
    if outcome.rejection_reason is not None and not repo.active_reason(outcome.rejection_reason):
        raise InvalidInput(f"unknown or inactive rejection reason {outcome.rejection_reason!r}", "rejection_reason")
    script = repo.script_for(call.call_type, call.campaign_id, call.script_id)  # the script the queue showed
    if script is None:
        if outcome.answers:
            raise InvalidInput("this call has no script, so it takes no answers", "answers")
        return None
    script_id, version, steps = script
    validate_answers(steps if outcome.outcome == "reached" else _all_optional(steps), outcome.answers)
    call.script_id = script_id
    return version


def _all_optional(steps: list[dict]) -> list[dict]:
    """A conversation cut short (a rejection, a callback) is not expected to get through the script."""
    return [{**step, "questions": [{**q, "required": False} for q in step.get("questions", [])]} for step in steps]


def _next_step(planner: Planner, party, call: Call, party_calls: list[Call], closed: bool,
               outcome: Outcome) -> dict[str, Any]:
    if not closed:
        window = call.retry_window(planner.today)
        agents = [call.agent_id] if call.agent_id else []
        # a retry is exempt from the gap to its own earlier attempts, not to the party's other calls
        others = [c.day for c in planner.contacts(party_calls, exclude=call.call_id) if c.call_type != "follow_up"]
        blocked = gap_blocker(others, planner.rules.gap_days)
        placement = planner.book.place(agents, window, earliest_first=True, blocked=blocked) if agents else None
        if placement is not None:
            slots = planner.agents[placement.agent_id].slots_on(placement.day)
            other = call.other_slot()
            placement = replace(placement, slot=other if other in slots else placement.slot)
        planner.move(call, placement, f"not reached (attempt {call.attempts}): retry at another time of day",
                     keep_booking=True)
        return {"action": "retry", "call_id": call.call_id, "due_on": _iso(call.due_on), "slot": call.slot}
    follow_up = _schedule_follow_up(planner, party, call, outcome)
    if party is not None and is_cycle_customer(party):
        plan_cycle(planner, party, party_calls + planner.new_calls)
    if follow_up is not None:
        return {"action": "callback" if outcome.callback_at else "next_contact", "call_id": follow_up.call_id,
                "due_on": _iso(follow_up.due_on), "remind_at": _iso(follow_up.remind_at)}
    if outcome.outcome == "appointment_booked":
        return {"action": "prepare_appointment", "at": _iso(outcome.appointment_at)}
    if outcome.outcome == "interest_noted":
        return {"action": f"open_{outcome.interest}", "party_id": call.party_id}
    upcoming = sorted((c for c in party_calls + planner.new_calls if c.is_open and c.due_on),
                      key=lambda c: c.due_on)
    if upcoming:
        return {"action": "next_planned_call", "call_id": upcoming[0].call_id, "due_on": _iso(upcoming[0].due_on)}
    return {"action": "none"}


def _schedule_follow_up(planner: Planner, party, call: Call, outcome: Outcome) -> Call | None:
    """A callback the customer asked for, or a next contact the agent set: due then, with a reminder.
    The customer chose the time, so the interference gap does not apply; capacity does."""
    if outcome.callback_at is not None:
        day, remind_at = outcome.callback_at.date(), outcome.callback_at
    elif outcome.next_contact_on is not None:
        day = outcome.next_contact_on
        remind_at = datetime.combine(day, WORKDAY_START, tzinfo=UTC)
    else:
        return None
    if party is None:
        return None
    window = DayWindow(day, day + timedelta(days=0 if outcome.callback_at else FOLLOW_UP_WINDOW_DAYS))
    territory = planner.territory_for(party)
    others = territory.agents_for(party_key(call.party_id)) if territory else ()
    agents = ([call.agent_id] if call.agent_id else []) + [a for a in others if a != call.agent_id]
    placement = planner.book.place(agents, window, key=party_key(call.party_id), earliest_first=True)
    return planner.new_call(party, "follow_up", window, territory, placement, parent_call_id=call.call_id,
                            campaign_id=call.campaign_id, priority=call.priority + 1, remind_at=remind_at)


def _public_details(outcome: Outcome) -> dict[str, Any]:
    details = outcome.details()
    details.pop("answers", None)
    details.pop("notes", None)
    return details


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
