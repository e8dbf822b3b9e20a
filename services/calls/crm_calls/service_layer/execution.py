"""Use cases of call execution: scripts and their versions, the rejection-reason catalogue, an agent's work
queue and the rejection analysis. Each takes a unit of work; writes commit once at the end."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from crm_shared.auth import Principal

from crm_calls.adapters.execution_repository import CampaignReplicaRepository, ExecutionRepository
from crm_calls.domain import scripts as rules
from crm_calls.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from crm_calls.domain.scripts import RejectionReason, ScriptVersion

MANAGING_ROLES = ("supervisor", "planner")  # plus admin, which has every role
AGENT_ROLE = "agent"
GROUPINGS = ("reason", "campaign", "agent", "month")


# -- scripts ------------------------------------------------------------------------------------------
# A script for a call type serves every line of business. A script for a campaign belongs to the campaign's line,
# which calls learns from campaigns' `campaign_defined` events (campaign_replica): it is created, read, revised
# and deleted only by a caller who may access that line; to anyone else it looks missing. A campaign calls does
# not know (yet) counts as of unknown line, so only a caller who sees all lines creates or sees a script for it;
# anyone else is refused with 422 naming campaign_id, for an unknown campaign as for one of another line.
def create_script(uow, principal: Principal, *, name: Any, call_type: str | None, campaign_id: str | None,
                  steps: Any, now: datetime | None = None) -> ScriptVersion:
    script = rules.new_script(str(uuid.uuid4()), name, call_type, campaign_id, steps, principal.subject,
                              now or _now(uow))
    with uow:
        if script.campaign_id is not None and not _campaign_visible(uow, principal, script.campaign_id):
            raise InvalidInput(f"no campaign {script.campaign_id} is known to you", "campaign_id")
        _repo(uow).add_script_version(script)
        uow.commit()
    return script


def revise_script(uow, principal: Principal, script_id: str, *, name: Any, steps: Any,
                  now: datetime | None = None) -> ScriptVersion:
    """Adds the next version; the versions before it stay as they are."""
    actor = principal.subject
    with uow:
        repo = _repo(uow)
        current = repo.latest_script(script_id, lock=True)
        if current is None or not _script_visible(uow, principal, current):
            raise NotFound(f"no script {script_id}", "script_id")
        revised = rules.next_version(current, name, steps, actor, now or _now(uow))
        if not repo.add_script_version(revised):
            raise Conflict(f"script {script_id} was changed at the same time; read it again", "script_id")
        uow.commit()
    return revised


def delete_script(uow, principal: Principal, script_id: str) -> None:
    with uow:
        repo = _repo(uow)
        current = repo.latest_script(script_id, lock=True)
        if current is None or not _script_visible(uow, principal, current):
            raise NotFound(f"no script {script_id}", "script_id")
        rules.check_deletable(current, repo.script_in_use(script_id))
        repo.delete_script(script_id)
        uow.commit()


def get_script(uow, principal: Principal, script_id: str, version: int | None = None) -> ScriptVersion:
    with uow:
        repo = _repo(uow)
        script = repo.latest_script(script_id) if version is None else repo.script_version(script_id, version)
        if script is not None and not _script_visible(uow, principal, script):
            raise NotFound(f"no script {script_id}", "script_id")
    if script is None:
        raise NotFound(f"no script {script_id}" + (f" version {version}" if version is not None else ""),
                       "script_id" if version is None else "version")
    return script


def list_scripts(uow, principal: Principal, *, limit: int, after: tuple[str, str] | None, call_type: str | None,
                 campaign_id: str | None) -> list[ScriptVersion]:
    """Scripts for call types, and scripts for campaigns of the caller's lines."""
    lines = None if principal.sees_all_lines() else set(principal.lines_of_business)
    with uow:
        return _repo(uow).list_scripts(limit=limit, after=after, call_type=call_type, campaign_id=campaign_id,
                                       campaign_lines=lines)


def _campaign_visible(uow, principal: Principal, campaign_id: str) -> bool:
    line = CampaignReplicaRepository(uow.session).line_of(campaign_id)
    return principal.sees_all_lines() if line is None else principal.may_access(line)


def _script_visible(uow, principal: Principal, script: ScriptVersion) -> bool:
    return script.campaign_id is None or _campaign_visible(uow, principal, script.campaign_id)


# -- rejection reasons --------------------------------------------------------------------------------
def list_reasons(uow, *, include_inactive: bool = False) -> list[RejectionReason]:
    with uow:
        return _repo(uow).reasons(include_inactive=include_inactive)


def add_reason(uow, *, code: Any, label: Any) -> RejectionReason:
    reason = RejectionReason(code, label)
    with uow:
        if not _repo(uow).add_reason(reason):
            raise Conflict(f"there is a rejection reason {code!r} already", "code")
        uow.commit()
    return reason


def change_reason(uow, code: str, *, label: Any = None, active: bool | None = None) -> RejectionReason:
    """Relabel, deactivate (hidden from new outcomes) or reactivate a reason; reasons are never deleted."""
    with uow:
        repo = _repo(uow)
        current = repo.reason(code, lock=True)
        if current is None:
            raise NotFound(f"no rejection reason {code!r}", "code")
        changed = current.changed(label=label, active=active)
        repo.save_reason(changed)
        uow.commit()
    return changed


# -- the agent's work queue ---------------------------------------------------------------------------
@dataclass(frozen=True)
class WorkQueue:
    agent_id: str
    day: date
    items: list[dict[str, Any]]


def work_queue(uow, principal: Principal, agent_id: str, day: date | None = None,
               now: datetime | None = None) -> WorkQueue:
    """The agent's scheduled calls due on `day` (default today) and their follow-ups whose reminder time has
    passed, in the caller's lines of business, most urgent first, each with its customer and script.

    Reminders count up to now for today's queue, up to the end of the day for another day's."""
    now = now or _now(uow)
    day = day or now.date()
    reminders_until = now if day == now.date() else datetime.combine(day + timedelta(days=1), time(), UTC)
    lines = None if principal.sees_all_lines() else set(principal.lines_of_business)
    with uow:
        repo = _repo(uow)
        agent = repo.agent(agent_id)
        if agent is None:
            raise NotFound(f"no agent {agent_id}", "agent_id")
        if not principal.has_role(*MANAGING_ROLES) and not (
                principal.has_role(AGENT_ROLE) and agent.user_subject == principal.subject):
            raise Forbidden("an agent sees only their own work queue", "agent_id")
        rows = repo.work_queue(agent_id, day, reminders_until, lines)
        scripts = repo.scripts_for({_script_key(row) for row in rows})
    return WorkQueue(agent_id, day, [_queue_item(row, scripts[_script_key(row)]) for row in rows])


def _script_key(row) -> tuple[str, str | None, str | None]:
    return row.call_type, row.campaign_id, row.script_id


def _queue_item(row, script: ScriptVersion | None) -> dict[str, Any]:
    customer = None if row.replica_party_id is None else {
        "party_id": row.party_id, "display_name": row.display_name, "customer_number": row.customer_number,
        "phone": row.phone, "email": row.email, "postal_code": row.postal_code, "city": row.city,
        "lifecycle_state": row.lifecycle_state}
    return {
        "call_id": row.call_id, "party_id": row.party_id, "call_type": row.call_type, "status": row.status,
        "line_of_business": row.line_of_business, "due_on": row.due_on, "slot": row.slot,
        "window": {"start": row.window_start, "end": row.window_end}, "priority": row.priority,
        "campaign_id": row.campaign_id, "attempts": row.attempts, "remind_at": row.remind_at,
        "reminder_only": row.reminder_only, "customer": customer,
        "script": None if script is None else {"script_id": script.script_id, "version": script.version,
                                               "name": script.name, "steps": script.steps},
    }


# -- rejection analysis -------------------------------------------------------------------------------
@dataclass(frozen=True)
class RejectionAnalysis:
    group_by: str
    first_day: date
    last_day: date
    rejected: int
    outcomes_recorded: int
    items: list[dict[str, Any]]

    @property
    def rejection_rate(self) -> float | None:
        return round(self.rejected / self.outcomes_recorded, 4) if self.outcomes_recorded else None


def rejection_analysis(uow, principal: Principal, *, group_by: str, first_day: date, last_day: date,
                       campaign_id: str | None = None, agent_id: str | None = None) -> RejectionAnalysis:
    """Rejected calls closed from `first_day` to `last_day` (inclusive, UTC days), grouped; `share` is each
    group's part of the rejections. `outcomes_recorded` counts every call closed with an outcome in the
    same period and filters, so `rejected / outcomes_recorded` is the rejection rate."""
    if group_by not in GROUPINGS:
        raise InvalidInput(f"group_by must be one of {', '.join(GROUPINGS)}", "group_by")
    if last_day < first_day:
        raise InvalidInput("the period ends before it starts: from is after to", "to")
    start = datetime.combine(first_day, time(), UTC)
    end = datetime.combine(last_day + timedelta(days=1), time(), UTC)
    scope = {"lines_of_business": None if principal.sees_all_lines() else set(principal.lines_of_business),
             "campaign_id": campaign_id, "agent_id": agent_id}
    with uow:
        repo = _repo(uow)
        groups = repo.rejections(group_by, start, end, **scope)
        recorded = repo.outcomes_recorded(start, end, **scope)
    rejected = sum(count for _, _, count in groups)
    items = [{"key": key, "label": label, "count": count, "share": round(count / rejected, 4)}
             for key, label, count in groups]
    return RejectionAnalysis(group_by, first_day, last_day, rejected, recorded, items)


def _repo(uow) -> ExecutionRepository:
    """The unit of work's session, read through this module's repository (the unit of work is shared)."""
    return ExecutionRepository(uow.session)


def _now(uow) -> datetime:
    """The unit of work's clock (the one place calls reads the time)."""
    return uow.clock.now()
