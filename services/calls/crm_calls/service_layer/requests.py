"""Requested calls (campaign, telemarketing, service, follow-up): placed by territory and capacity, with
interference resolved against the party's other calls (see domain/interference.py for the rules)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crm_calls.domain import events
from crm_calls.domain.calls import Call
from crm_calls.domain.commands import RequestCall
from crm_calls.domain.errors import Conflict
from crm_calls.domain.interference import REFUSED, Resolution, resolve_request
from crm_calls.service_layer.planner import Planner, party_key


@dataclass(frozen=True)
class RequestResult:
    request_id: str
    decision: str
    reason: str
    call: Call | None


def request_call(planner: Planner, party, party_calls: list[Call], cmd: RequestCall,
                 known: dict[tuple[str, str], Call] | None = None,
                 refused: dict[tuple[str, str], Any] | None = None) -> RequestResult:
    """`party_calls` is the party's open calls and recent contacts; the new call is appended to it. `known` and
    `refused`: the calls made and the refusals stored for the batch's request ids, by (line, request id).

    A request id is the caller's key within the party's line of business: asking again answers what the
    first request got (its call, or its refusal), stores nothing and publishes nothing. Another line's use of
    the same id is not seen at all (it would tell the caller that the id exists there)."""
    line = party.line_of_business if party is not None else None
    key = (line, cmd.request_id)
    if known is None:
        known = {(c.line_of_business, c.request_id): c for c in planner.repo.calls_by_request(cmd.request_id)}
    if refused is None:
        refused = planner.repo.refusals_by_requests([cmd.request_id])
    refusals = planner.refusals
    existing = next((c for c in party_calls if c.request_id == cmd.request_id), None) or known.get(key)
    earlier = refusals.get(key) or refused.get(key)
    if existing is not None and existing.party_id != cmd.party_id or \
            existing is None and earlier is not None and earlier.party_id != cmd.party_id:
        raise Conflict(f"request_id {cmd.request_id} was already used for another party", "request_id")
    if existing is not None:
        return RequestResult(cmd.request_id, "duplicate", "this request was already handled", existing)
    if earlier is not None:
        return RequestResult(cmd.request_id, REFUSED, earlier.reason, None)
    refusal = _refusal(party, cmd, planner)
    if refusal:
        return _refuse(planner, party, cmd, Resolution(REFUSED, refusal))
    territory = planner.territory_for(party)
    agents = territory.agents_for(party_key(party.party_id)) if territory else ()
    resolution = resolve_request(cmd.window.clipped(planner.today) or cmd.window, planner.contacts(party_calls),
                                 planner.rules.gap_days, planner.book, agents, party_key(party.party_id))
    if resolution.decision == REFUSED:
        return _refuse(planner, party, cmd, resolution)
    for call in party_calls:
        if call.call_id in resolution.taken_over:
            planner.cancel(call, f"taken over by the {cmd.call_type} call of request {cmd.request_id}")
    call = planner.new_call(party, cmd.call_type, cmd.window, territory, resolution.placement,
                            campaign_id=cmd.campaign_id, request_id=cmd.request_id, priority=cmd.priority,
                            script_id=cmd.script_id)
    party_calls.append(call)
    planner.decide(party.party_id, cmd.call_type, resolution.decision, resolution.reason, call, cmd.request_id,
                   resolution.taken_over)
    return RequestResult(cmd.request_id, resolution.decision, resolution.reason, call)


@dataclass(frozen=True)
class _Refusal:
    party_id: str
    reason: str


def _refusal(party, cmd: RequestCall, planner: Planner) -> str | None:
    if party is None:
        return f"party {cmd.party_id} is not known to the calls service"
    if party.deactivated:
        return "the party is deactivated"
    if cmd.call_type == "telemarketing" and party.lifecycle_state not in ("suspect", "prospect"):
        return "telemarketing calls are for suspects and prospects, not for customers"
    if cmd.window.end < planner.today:
        return f"the window ended on {cmd.window.end}"
    return None


def _refuse(planner: Planner, party, cmd: RequestCall, resolution: Resolution) -> RequestResult:
    planner.decide(cmd.party_id, cmd.call_type, REFUSED, resolution.reason, None, cmd.request_id, [])
    if party is not None:  # a second request with this id in the same batch answers the same
        planner.refusals[(party.line_of_business, cmd.request_id)] = _Refusal(cmd.party_id, resolution.reason)
    planner.published.append(events.Published(events.CALL_REQUEST_REFUSED, cmd.party_id, {
        "request_id": cmd.request_id, "party_id": cmd.party_id, "call_type": cmd.call_type,
        "campaign_id": cmd.campaign_id, "reason": resolution.reason}))
    return RequestResult(cmd.request_id, REFUSED, resolution.reason, None)


def withdraw_request(planner: Planner, call: Call | None, reason: str) -> bool:
    if call is None or not call.is_open:
        return False
    planner.cancel(call, reason)
    return True

