"""Reading and writing what the resource-planning API manages: agents, absences, targets and quotas,
territories, contact policies and the planning rules. The planner reads the same tables through
PlanningRepository; this repository only adds what the API needs (single rows, pages, upserts, figures)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time
from typing import Any

from crm_shared.db import dialect_insert
from sqlalchemy import String, and_, case, cast, delete, distinct, func, insert, or_, select, update
from sqlalchemy.orm import Session

from crm_calls.adapters import orm
from crm_calls.adapters.planning_repository import agent_from_row, territory_from_row
from crm_calls.domain.calls import COMPLETED, FAILED, OPEN_STATUSES
from crm_calls.domain.policy import ContactPolicy, PlanningRules
from crm_calls.domain.resources import WEEKDAYS, Absence, Agent
from crm_calls.domain.territories import Territory

FIGURES = ("calls_made", "customers_reached", "appointments_booked")


def hours_document(hours: dict[str, tuple[time, time]]) -> dict[str, list[str]]:
    """Parsed working hours back to `{"mon": ["08:00", "16:30"]}`, weekdays in calendar order."""
    return {day: [hours[day][0].strftime("%H:%M"), hours[day][1].strftime("%H:%M")]
            for day in WEEKDAYS if day in hours}


class ResourcesRepository:
    def __init__(self, session: Session):
        self.session = session
        self.dialect = session.get_bind().dialect.name

    # -- agents --------------------------------------------------------------------------------------
    def get_agent(self, agent_id: str, *, lock: bool = False) -> Agent | None:
        query = select(orm.agents).where(orm.agents.c.agent_id == agent_id)
        row = self.session.execute(query.with_for_update() if lock else query).first()
        return agent_from_row(row, []) if row else None

    def agent_ids_with_subject(self, subject: str) -> list[str]:
        query = select(orm.agents.c.agent_id).where(orm.agents.c.user_subject == subject)
        return list(self.session.scalars(query))

    def existing_agent_ids(self, agent_ids: Iterable[str]) -> set[str]:
        query = select(orm.agents.c.agent_id).where(orm.agents.c.agent_id.in_(sorted(set(agent_ids))))
        return set(self.session.scalars(query))

    def agents_page(self, *, limit: int, after: tuple[str, str] | None = None, role: str | None = None,
                    active: bool | None = None) -> list[Agent]:
        """Ordered by (name, agent_id)."""
        table = orm.agents
        query = select(table).order_by(table.c.name, table.c.agent_id).limit(limit)
        if after is not None:
            query = query.where(or_(table.c.name > after[0], and_(table.c.name == after[0],
                                                                   table.c.agent_id > after[1])))
        if role is not None:
            query = query.where(table.c.role == role)
        if active is not None:
            query = query.where(table.c.active.is_(active))
        return [agent_from_row(row, []) for row in self.session.execute(query)]

    def add_agent(self, agent: Agent) -> None:
        self.session.execute(insert(orm.agents).values(**_agent_row(agent)))

    def save_agent(self, agent: Agent) -> None:
        row = _agent_row(agent)
        self.session.execute(update(orm.agents).where(orm.agents.c.agent_id == row.pop("agent_id")).values(**row))

    # -- absences ------------------------------------------------------------------------------------
    def add_absence(self, absence: Absence) -> None:
        self.session.execute(insert(orm.agent_absences).values(
            absence_id=absence.absence_id, agent_id=absence.agent_id, kind=absence.kind,
            first_day=absence.first_day, last_day=absence.last_day, note=absence.note))

    def absences_of(self, agent_id: str) -> list[Absence]:
        table = orm.agent_absences
        query = select(table).where(table.c.agent_id == agent_id).order_by(table.c.first_day, table.c.absence_id)
        return [Absence(r.absence_id, r.agent_id, r.kind, r.first_day, r.last_day, r.note)
                for r in self.session.execute(query)]

    def delete_absence(self, agent_id: str, absence_id: str) -> bool:
        table = orm.agent_absences
        result = self.session.execute(delete(table).where(table.c.agent_id == agent_id,
                                                          table.c.absence_id == absence_id))
        return result.rowcount > 0

    # -- targets and quotas --------------------------------------------------------------------------
    def put_target(self, agent_id: str, month: str, figures: dict[str, int]) -> None:
        self._upsert(orm.agent_targets, {"agent_id": agent_id, "month": month, **_figures(figures)},
                     ("agent_id", "month"))

    def target(self, agent_id: str, month: str) -> dict[str, int] | None:
        table = orm.agent_targets
        row = self.session.execute(select(table).where(table.c.agent_id == agent_id, table.c.month == month)).first()
        return _figures(row._mapping) if row else None

    def targets_of(self, agent_id: str) -> list[dict[str, Any]]:
        table = orm.agent_targets
        query = select(table).where(table.c.agent_id == agent_id).order_by(table.c.month)
        return [{"month": row.month, **_figures(row._mapping)} for row in self.session.execute(query)]

    def put_quota(self, role: str, figures: dict[str, int]) -> None:
        self._upsert(orm.role_quotas, {"role": role, **_figures(figures)}, ("role",))

    def quota(self, role: str) -> dict[str, int] | None:
        row = self.session.execute(select(orm.role_quotas).where(orm.role_quotas.c.role == role)).first()
        return _figures(row._mapping) if row else None

    def quotas(self) -> list[dict[str, Any]]:
        rows = self.session.execute(select(orm.role_quotas).order_by(orm.role_quotas.c.role))
        return [{"role": row.role, **_figures(row._mapping)} for row in rows]

    def actuals(self, agent_id: str, start: datetime, end: datetime) -> dict[str, int]:
        """Calls of this agent closed (completed or failed) in [start, end): how many, how many distinct
        parties among the completed ones, and how many completed with an appointment booked."""
        table = orm.calls
        completed = table.c.status == COMPLETED
        query = select(
            func.count(),
            func.count(distinct(case((completed, table.c.party_id)))),
            func.coalesce(func.sum(case((and_(completed, table.c.outcome == "appointment_booked"), 1), else_=0)), 0),
        ).where(table.c.agent_id == agent_id, table.c.status.in_((COMPLETED, FAILED)),
                table.c.closed_at >= start, table.c.closed_at < end)
        made, reached, appointments = self.session.execute(query).one()
        return {"calls_made": made, "customers_reached": reached, "appointments_booked": int(appointments)}

    # -- territories ---------------------------------------------------------------------------------
    def get_territory(self, territory_id: str, *, lock: bool = False) -> Territory | None:
        query = select(orm.territories).where(orm.territories.c.territory_id == territory_id)
        row = self.session.execute(query.with_for_update() if lock else query).first()
        return territory_from_row(row) if row else None

    def territory_id_named(self, name: str) -> str | None:
        return self.session.scalar(select(orm.territories.c.territory_id).where(orm.territories.c.name == name))

    def territories_page(self, *, limit: int, after: tuple[str, str] | None = None,
                         agent_id: str | None = None, lines: set[str] | None = None) -> list[Territory]:
        """Ordered by (name, territory_id); `agent_id` finds territories where the agent is responsible, a team
        member or the substitute; `lines` (None: all) keeps those of these lines and those for all lines."""
        table = orm.territories
        query = select(table).order_by(table.c.name, table.c.territory_id).limit(limit)
        if lines is not None:
            query = query.where(or_(table.c.line_of_business.is_(None), table.c.line_of_business.in_(lines)))
        if after is not None:
            query = query.where(or_(table.c.name > after[0], and_(table.c.name == after[0],
                                                                   table.c.territory_id > after[1])))
        if agent_id is not None:
            query = query.where(_staffed_by(agent_id))
        return [territory_from_row(row) for row in self.session.execute(query)]

    def territories_of_agent(self, agent_id: str) -> list[Territory]:
        """Territories where the agent is responsible, a team member or the substitute."""
        table = orm.territories
        query = select(table).where(_staffed_by(agent_id)).order_by(table.c.territory_id)
        return [territory_from_row(row) for row in self.session.execute(query)]

    def add_territory(self, territory: Territory) -> None:
        self.session.execute(insert(orm.territories).values(**_territory_row(territory)))

    def save_territory(self, territory: Territory) -> None:
        row = _territory_row(territory)
        table = orm.territories
        self.session.execute(update(table).where(table.c.territory_id == row.pop("territory_id")).values(**row))

    def delete_territory(self, territory_id: str) -> None:
        self.session.execute(delete(orm.territories).where(orm.territories.c.territory_id == territory_id))

    def open_call_count(self, territory_id: str) -> int:
        table = orm.calls
        query = select(func.count()).where(table.c.territory_id == territory_id, table.c.status.in_(OPEN_STATUSES))
        return self.session.scalar(query)

    # -- contact policies and planning rules ---------------------------------------------------------
    def policy(self, segment: str, *, lock: bool = False) -> ContactPolicy | None:
        table = orm.contact_policies
        query = select(table).where(table.c.segment == segment)
        row = self.session.execute(query.with_for_update() if lock else query).first()
        return ContactPolicy(row.segment, row.min_contacts, row.min_spacing_days, row.version) if row else None

    def policies(self) -> list[ContactPolicy]:
        rows = self.session.execute(select(orm.contact_policies).order_by(orm.contact_policies.c.segment))
        return [ContactPolicy(r.segment, r.min_contacts, r.min_spacing_days, r.version) for r in rows]

    def put_policy(self, policy: ContactPolicy) -> None:
        self._upsert(orm.contact_policies, {"segment": policy.segment, "min_contacts": policy.min_contacts,
                                            "min_spacing_days": policy.min_spacing_days,
                                            "version": policy.version}, ("segment",))

    def rules(self, *, lock: bool = False) -> tuple[PlanningRules, int]:
        """The one row of planning rules (created by the migration) and its version."""
        table = orm.planning_rules
        query = select(table).where(table.c.rules_id == 1)
        row = self.session.execute(query.with_for_update() if lock else query).one()
        return PlanningRules(row.gap_days, row.max_attempts, row.horizon_days), row.version

    def save_rules(self, rules: PlanningRules, version: int) -> None:
        table = orm.planning_rules
        self.session.execute(update(table).where(table.c.rules_id == 1).values(
            gap_days=rules.gap_days, max_attempts=rules.max_attempts, horizon_days=rules.horizon_days,
            version=version))

    def _upsert(self, table, row: dict[str, Any], keys: tuple[str, ...]) -> None:
        statement = dialect_insert(table, self.dialect).values(**row)
        self.session.execute(statement.on_conflict_do_update(
            index_elements=[table.c[k] for k in keys],
            set_={name: statement.excluded[name] for name in row if name not in keys}))


def _staffed_by(agent_id: str):
    """Responsible, substitute, or in the team: the JSON list is matched as text (`"<id>"` with its quotes),
    which reads the same on PostgreSQL's jsonb and SQLite's JSON; ids are UUIDs, so nothing needs escaping."""
    table = orm.territories
    return or_(table.c.agent_id == agent_id, table.c.substitute_agent_id == agent_id,
               cast(table.c.member_agent_ids, String).like(f'%"{agent_id}"%'))


def _figures(values) -> dict[str, int]:
    return {name: values[name] for name in FIGURES}


def _agent_row(agent: Agent) -> dict[str, Any]:
    return {"agent_id": agent.agent_id, "name": agent.name, "role": agent.role, "user_subject": agent.user_subject,
            "daily_capacity": agent.daily_capacity, "working_hours": hours_document(agent.working_hours),
            "active": agent.active, "version": agent.version}


def _territory_row(territory: Territory) -> dict[str, Any]:
    return {"territory_id": territory.territory_id, "name": territory.name,
            "line_of_business": territory.line_of_business,
            "postal_ranges": [list(r) for r in territory.postal_ranges], "regions": list(territory.regions),
            "agent_id": territory.agent_id, "substitute_agent_id": territory.substitute_agent_id,
            "member_agent_ids": list(territory.member_agent_ids), "version": territory.version}
