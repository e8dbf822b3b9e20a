"""Use cases of resource planning: agents and their absences, targets and quotas, territories, contact
policies and planning rules. Each opens the unit of work, lets the domain validate, and saves.

An absence, and a territory changing hands, re-plan the calls they affect in the same transaction. Locks
follow the planning core's order: the changed row itself (agent or territory), then the calls' parties,
then the agents (taken by the Planner).
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from crm_shared.auth import Principal
from sqlalchemy.exc import IntegrityError

from crm_calls.adapters.resources_repository import FIGURES, ResourcesRepository
from crm_calls.domain.calls import Call
from crm_calls.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from crm_calls.domain.policy import ContactPolicy, PlanningRules
from crm_calls.domain.resources import AGENT_ROLES, Absence, Agent, parse_working_hours
from crm_calls.domain.territories import Territory
from crm_calls.service_layer.planner import Planner, commit_planner, party_key
from crm_calls.service_layer.replanning import calls_to_replan_for_absence, replan

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
PERFORMANCE_READERS = ("supervisor", "planner")


class VersionMismatch(Conflict):
    """If-Match named another version than the stored one (the API answers 412)."""


def resources(uow) -> ResourcesRepository:
    return ResourcesRepository(uow.session)


# -- agents ---------------------------------------------------------------------------------------------
def register_agent(uow, *, name: str, role: str, daily_capacity: int, working_hours: dict,
                   user_subject: str | None = None, active: bool = True) -> Agent:
    agent = Agent(agent_id=str(uuid.uuid4()), name=name, role=role, daily_capacity=daily_capacity,
                  working_hours=parse_working_hours(working_hours), user_subject=user_subject, active=active)
    with uow:
        repo = resources(uow)
        _require_free_subject(repo, agent)
        repo.add_agent(agent)
        _commit_unique(uow, "user_subject", "another agent already has this user_subject")
    return agent


def get_agent(uow, agent_id: str) -> Agent:
    with uow:
        return _agent(resources(uow), agent_id)


def list_agents(uow, *, limit: int, after: tuple[str, str] | None, role: str | None,
                active: bool | None) -> list[Agent]:
    with uow:
        return resources(uow).agents_page(limit=limit, after=after, role=role, active=active)


def update_agent(uow, agent_id: str, changes: dict[str, Any], expected_version: int | None = None) -> Agent:
    """`changes` holds only the fields to change; `working_hours` as the `{"mon": [start, end]}` document."""
    if "working_hours" in changes:
        changes = {**changes, "working_hours": parse_working_hours(changes["working_hours"])}
    with uow:
        repo = resources(uow)
        agent = _agent(repo, agent_id, lock=True)
        _check_version(agent.version, expected_version)
        agent = replace(agent, **changes, version=agent.version + 1)
        _require_free_subject(repo, agent)
        repo.save_agent(agent)
        _commit_unique(uow, "user_subject", "another agent already has this user_subject")
    return agent


# -- absences ---------------------------------------------------------------------------------------------
def add_absence(uow, agent_id: str, *, kind: str, first_day: date, last_day: date,
                note: str | None = None) -> tuple[Absence, dict[str, int]]:
    """Saves the absence and moves the agent's open calls on those days to a colleague of the same
    territories (the same day if one has room, else another day of the call's window, else overflow)."""
    absence = Absence(str(uuid.uuid4()), agent_id, kind, first_day, last_day, note)
    with uow:
        repo = resources(uow)
        _agent(repo, agent_id)
        repo.add_absence(absence)
        colleagues = {a for t in repo.territories_of_agent(agent_id) for a in t.agents()}  # team, substitute
        counts = _replan_locked(uow, lambda: calls_to_replan_for_absence(uow.planning, agent_id, first_day,
                                                                         last_day),
                                {agent_id} | colleagues, f"agent absent: {kind}")
    return absence, counts


def list_absences(uow, agent_id: str) -> list[Absence]:
    with uow:
        repo = resources(uow)
        _agent(repo, agent_id)
        return repo.absences_of(agent_id)


def remove_absence(uow, agent_id: str, absence_id: str) -> None:
    """Calls moved away when the absence was entered stay where they are."""
    with uow:
        if not resources(uow).delete_absence(agent_id, absence_id):
            raise NotFound(f"agent {agent_id} has no absence {absence_id}", "absence_id")
        uow.commit()


# -- targets, quotas and performance ------------------------------------------------------------------------
def set_target(uow, agent_id: str, month: str, figures: dict[str, int]) -> dict[str, Any]:
    month_start(month)
    with uow:
        repo = resources(uow)
        _agent(repo, agent_id)
        repo.put_target(agent_id, month, figures)
        uow.commit()
    return {"month": month, **{name: figures[name] for name in FIGURES}}


def list_targets(uow, agent_id: str) -> list[dict[str, Any]]:
    with uow:
        repo = resources(uow)
        _agent(repo, agent_id)
        return repo.targets_of(agent_id)


def set_role_quota(uow, role: str, figures: dict[str, int]) -> dict[str, Any]:
    _require_role_name(role)
    with uow:
        resources(uow).put_quota(role, figures)
        uow.commit()
    return {"role": role, **{name: figures[name] for name in FIGURES}}


def get_role_quota(uow, role: str) -> dict[str, Any]:
    _require_role_name(role)
    with uow:
        quota = resources(uow).quota(role)
    if quota is None:
        raise NotFound(f"no quota is set for the role {role}", "role")
    return {"role": role, **quota}


def list_role_quotas(uow) -> list[dict[str, Any]]:
    with uow:
        return resources(uow).quotas()


def agent_performance(uow, agent_id: str, month: str, actor: Principal) -> dict[str, Any]:
    """The month's target (the agent's own, else the quota of its role) against what the calls table says.

    calls_made: the agent's calls closed in the month (UTC) as completed or failed; an attempt that left the
    call open for a retry is counted once the call closes. customers_reached: distinct parties among those
    completed. appointments_booked: those completed with the outcome appointment_booked.
    """
    start, end = month_start(month), month_start(_next_month(month))
    with uow:
        repo = resources(uow)
        agent = _agent(repo, agent_id)
        if not actor.has_role(*PERFORMANCE_READERS) and (agent.user_subject is None
                                                         or agent.user_subject != actor.subject):
            raise Forbidden("only the agent, a supervisor or a planner may read this performance")
        target, source = repo.target(agent_id, month), "agent"
        if target is None:
            target, source = repo.quota(agent.role), "role"
        actual = repo.actuals(agent_id, start, end)
    return {"agent_id": agent_id, "month": month, "target_source": source if target else None,
            "figures": {name: _figure(target[name] if target else None, actual[name]) for name in FIGURES}}


# -- territories ----------------------------------------------------------------------------------------------
# A territory belongs to one line of business, or to all lines (`domain/territories.py`): it is read by whoever
# may access its line (one for all lines by everyone) and created, changed or deleted only by a planner who may
# access its line (one for all lines only by a planner who sees all lines). A territory of another line looks
# missing (404); one the caller sees but may not manage answers 403; a line the caller may not give it, 422.
def create_territory(uow, actor: Principal, **fields) -> Territory:
    territory = Territory(territory_id=str(uuid.uuid4()), **fields)
    _require_line_to_manage(actor, territory)
    with uow:
        repo = resources(uow)
        _require_territory_agents(repo, territory)
        _require_free_name(repo, territory)
        repo.add_territory(territory)
        _commit_unique(uow, "name", "a territory with this name already exists")
    return territory


def get_territory(uow, actor: Principal, territory_id: str) -> Territory:
    with uow:
        return _territory(resources(uow), actor, territory_id)


def list_territories(uow, actor: Principal, *, limit: int, after: tuple[str, str] | None,
                     agent_id: str | None) -> list[Territory]:
    """Territories of the caller's lines and those for all lines."""
    lines = None if actor.sees_all_lines() else set(actor.lines_of_business)
    with uow:
        return resources(uow).territories_page(limit=limit, after=after, agent_id=agent_id, lines=lines)


def replace_territory(uow, actor: Principal, territory_id: str, fields: dict[str, Any],
                      expected_version: int | None = None) -> tuple[Territory, dict[str, int] | None]:
    """When the responsible agent, the team or the substitute changes, the territory's open calls that no
    longer belong where they are move in the same transaction (see `_leaves_with`); returns the counts then.
    Only calls of lines the caller may access move: with the rule above these are all of the territory's
    calls, and a call of another line left there by an earlier change of the territory's line stays untouched."""
    with uow:
        repo = resources(uow)
        old = _territory(repo, actor, territory_id, lock=True)
        _require_to_manage(actor, old)
        _check_version(old.version, expected_version)
        new = Territory(territory_id=territory_id, version=old.version + 1, **fields)
        _require_line_to_manage(actor, new)
        _require_territory_agents(repo, new)
        _require_free_name(repo, new)
        repo.save_territory(new)
        if new.agents() == old.agents():
            _commit_unique(uow, "name", "a territory with this name already exists")
            return new, None
        counts = _replan_locked(uow, lambda: [c for c in uow.planning.open_calls(territory_id=territory_id)
                                              if actor.may_access(c.line_of_business) and _leaves_with(c, old, new)],
                                set(old.agents()) | set(new.agents()), "territory changed hands")
    return new, counts


def delete_territory(uow, actor: Principal, territory_id: str) -> None:
    with uow:
        repo = resources(uow)
        _require_to_manage(actor, _territory(repo, actor, territory_id, lock=True))
        if open_calls := repo.open_call_count(territory_id):
            raise Conflict(f"the territory still has {open_calls} open calls; give it to another agent instead")
        repo.delete_territory(territory_id)
        uow.commit()


# -- contact policies and planning rules ------------------------------------------------------------------------
def list_contact_policies(uow) -> list[ContactPolicy]:
    with uow:
        return resources(uow).policies()


def set_contact_policy(uow, segment: str, *, min_contacts: int, min_spacing_days: int,
                       expected_version: int | None = None) -> ContactPolicy:
    with uow:
        repo = resources(uow)
        old = repo.policy(segment, lock=True)
        _check_version(old.version if old else 0, expected_version)
        policy = ContactPolicy(segment, min_contacts, min_spacing_days, version=old.version + 1 if old else 1)
        repo.put_policy(policy)
        uow.commit()
    return policy


def get_planning_rules(uow) -> tuple[PlanningRules, int]:
    with uow:
        return resources(uow).rules()


def set_planning_rules(uow, *, gap_days: int, max_attempts: int, horizon_days: int,
                       expected_version: int | None = None) -> tuple[PlanningRules, int]:
    rules = PlanningRules(gap_days=gap_days, max_attempts=max_attempts, horizon_days=horizon_days)
    with uow:
        repo = resources(uow)
        _, version = repo.rules(lock=True)
        _check_version(version, expected_version)
        repo.save_rules(rules, version + 1)
        uow.commit()
    return rules, version + 1


# -- helpers -------------------------------------------------------------------------------------------------
def month_start(month: str) -> datetime:
    match = MONTH.match(month)
    if match is None:
        raise InvalidInput("a month is written YYYY-MM", "month")
    return datetime(int(match[1]), int(match[2]), 1, tzinfo=UTC)


def _next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def _figure(target: int | None, actual: int) -> dict[str, Any]:
    return {"target": target, "actual": actual, "ratio": round(actual / target, 3) if target else None}


def _replan_locked(uow, find_calls: Callable[[], list[Call]], agent_ids: Iterable[str], reason: str) -> dict:
    """Parties of the calls first, then the agents (the Planner locks them), then the calls read again: the
    first read only names the parties, the second is what a concurrent change can no longer move. Besides
    `agent_ids`, the agents of the calls' own territories are taken too, since `replan` offers the calls to them."""
    first = find_calls()
    locked = {c.party_id for c in first}
    uow.planning.lock_parties(locked)
    territories = {t.territory_id: t for t in uow.planning.territories().territories}
    agent_ids = set(agent_ids) | {a for c in first if c.territory_id in territories
                                  for a in territories[c.territory_id].agents()}
    planner = Planner(uow.planning, agent_ids=agent_ids)
    calls = find_calls()
    late = {c.party_id for c in calls} - locked
    if late:  # booked between the two reads; locked out of the usual order, which only this rare case does
        uow.planning.lock_parties(late)
        calls = find_calls()
    counts = replan(planner, calls, reason)
    commit_planner(uow, planner)
    return counts


def _leaves_with(call: Call, old: Territory, new: Territory) -> bool:
    """A call moves unless it is already with the customer's responsible agent in the new territory (the
    team member `agents_for` picks): when that agent changed, or when the call's agent left the territory.
    Calls waiting for capacity (no agent) are tried again."""
    key = party_key(call.party_id)
    responsible = new.agents_for(key)[0]
    if call.agent_id == responsible:
        return False
    return old.agents_for(key)[0] != responsible or call.agent_id not in new.agents()


def _agent(repo: ResourcesRepository, agent_id: str, *, lock: bool = False) -> Agent:
    agent = repo.get_agent(agent_id, lock=lock)
    if agent is None:
        raise NotFound(f"no agent {agent_id}", "agent_id")
    return agent


def _territory(repo: ResourcesRepository, actor: Principal, territory_id: str, *, lock: bool = False) -> Territory:
    territory = repo.get_territory(territory_id, lock=lock)
    if territory is None or not territory.visible_to(actor):
        raise NotFound(f"no territory {territory_id}", "territory_id")
    return territory


def _require_to_manage(actor: Principal, territory: Territory) -> None:
    if not territory.manageable_by(actor):
        raise Forbidden("a territory for all lines of business is managed only by a planner of all lines")


def _require_line_to_manage(actor: Principal, territory: Territory) -> None:
    if not territory.manageable_by(actor):
        raise InvalidInput("you may not manage territories for that line of business; a territory for all "
                           "lines needs access to all lines", "line_of_business")


def _require_free_subject(repo: ResourcesRepository, agent: Agent) -> None:
    if agent.user_subject is not None and any(a != agent.agent_id
                                              for a in repo.agent_ids_with_subject(agent.user_subject)):
        raise Conflict("another agent already has this user_subject", "user_subject")


def _require_free_name(repo: ResourcesRepository, territory: Territory) -> None:
    holder = repo.territory_id_named(territory.name)
    if holder is not None and holder != territory.territory_id:
        raise Conflict("a territory with this name already exists", "name")


def _require_territory_agents(repo: ResourcesRepository, territory: Territory) -> None:
    known = repo.existing_agent_ids(territory.agents())
    for field in ("agent_id", "substitute_agent_id"):
        agent_id = getattr(territory, field)
        if agent_id is not None and agent_id not in known:
            raise InvalidInput(f"no agent {agent_id}", field)
    unknown = [a for a in territory.member_agent_ids if a not in known]
    if unknown:
        raise InvalidInput(f"no agent {', '.join(unknown)}", "member_agent_ids")


def _require_role_name(role: str) -> None:
    if role not in AGENT_ROLES:
        raise InvalidInput(f"role must be one of {', '.join(AGENT_ROLES)}", "role")


def _check_version(current: int, expected: int | None) -> None:
    if expected is not None and expected != current:
        raise VersionMismatch(f"the stored version is {current}, not {expected}", "If-Match")


def _commit_unique(uow, field: str, message: str) -> None:
    """Commits; a unique index that a concurrent request won meanwhile becomes the same 409 as the check."""
    try:
        uow.commit()
    except IntegrityError:
        raise Conflict(message, field) from None
