"""Reading and writing what call execution needs: scripts and their versions, the rejection-reason catalogue,
an agent's work queue (one joined query) and the rejection analysis (grouped in the database)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from crm_shared.db import dialect_insert
from sqlalchemy import and_, case, delete, exists, func, literal, or_, select, update
from sqlalchemy.orm import Session

from crm_calls.adapters import orm
from crm_calls.domain.calls import SCHEDULED
from crm_calls.domain.scripts import RejectionReason, ScriptChoice, ScriptVersion, choose_script

scripts = orm.call_scripts
reasons = orm.rejection_reasons
calls = orm.calls
replica = orm.customer_replica
agents = orm.agents
FOLLOW_UP = "follow_up"


def _latest_versions():
    """Per script: its latest version and when its first version was made."""
    return (select(scripts.c.script_id, func.max(scripts.c.version).label("version"),
                   func.min(scripts.c.created_at).label("first_created_at"))
            .group_by(scripts.c.script_id).subquery("latest"))


class ExecutionRepository:
    def __init__(self, session: Session):
        self.session = session
        self.dialect = session.get_bind().dialect.name

    # -- scripts -------------------------------------------------------------------------------------
    def add_script_version(self, script: ScriptVersion) -> bool:
        """False when this (script_id, version) exists already (a concurrent revision got there first)."""
        statement = dialect_insert(scripts, self.dialect).values(**script_to_row(script))
        statement = statement.on_conflict_do_nothing(index_elements=[scripts.c.script_id, scripts.c.version])
        return self.session.execute(statement.returning(scripts.c.version)).first() is not None

    def latest_script(self, script_id: str, *, lock: bool = False) -> ScriptVersion | None:
        query = select(scripts).where(scripts.c.script_id == script_id)
        if lock:  # every revision of one script takes these locks, so revisions of it queue up
            self.session.execute(query.with_for_update()).all()
        row = self.session.execute(query.order_by(scripts.c.version.desc()).limit(1)).first()
        return script_from_row(row) if row else None

    def script_version(self, script_id: str, version: int) -> ScriptVersion | None:
        row = self.session.execute(select(scripts).where(scripts.c.script_id == script_id,
                                                         scripts.c.version == version)).first()
        return script_from_row(row) if row else None

    def list_scripts(self, *, limit: int, after: tuple[str, str] | None = None, call_type: str | None = None,
                     campaign_id: str | None = None, campaign_lines: set[str] | None = None) -> list[ScriptVersion]:
        """Latest versions, by (name, script_id); with `campaign_lines`, scripts for campaigns only of campaigns
        of these lines (campaign_replica)."""
        latest = _latest_versions()
        query = (select(scripts).join(latest, and_(scripts.c.script_id == latest.c.script_id,
                                                   scripts.c.version == latest.c.version))
                 .order_by(scripts.c.name, scripts.c.script_id).limit(limit))
        if after is not None:
            name, script_id = after
            query = query.where(or_(scripts.c.name > name, and_(scripts.c.name == name,
                                                                  scripts.c.script_id > script_id)))
        if call_type is not None:
            query = query.where(scripts.c.call_type == call_type)
        if campaign_id is not None:
            query = query.where(scripts.c.campaign_id == campaign_id)
        if campaign_lines is not None:
            replica = orm.campaign_replica
            visible = select(replica.c.campaign_id).where(replica.c.line_of_business.in_(campaign_lines))
            query = query.where(or_(scripts.c.campaign_id.is_(None), scripts.c.campaign_id.in_(visible)))
        return [script_from_row(row) for row in self.session.execute(query)]

    def script_in_use(self, script_id: str) -> bool:
        return bool(self.session.execute(select(exists().where(calls.c.script_id == script_id))).scalar())

    def delete_script(self, script_id: str) -> None:
        self.session.execute(delete(scripts).where(scripts.c.script_id == script_id))

    def scripts_for(self, wanted: Iterable[tuple[str, str | None, str | None]]) -> dict[
            tuple[str, str | None, str | None], ScriptVersion | None]:
        """For each (call_type, campaign_id, script_id) the latest version of the script such a call is made
        with, in one query: the script named by `script_id` when given and it exists, else the one
        `choose_script` picks (the campaign's own script, else the call type's)."""
        wanted = set(wanted)
        if not wanted:
            return {}
        call_types = sorted({call_type for call_type, _, _ in wanted})
        campaign_ids = sorted({campaign_id for _, campaign_id, _ in wanted if campaign_id is not None})
        pinned = sorted({script_id for _, _, script_id in wanted if script_id is not None})
        latest = _latest_versions()
        target = and_(scripts.c.campaign_id.is_(None), scripts.c.call_type.in_(call_types))
        if campaign_ids:
            target = or_(target, scripts.c.campaign_id.in_(campaign_ids))
        if pinned:
            target = or_(target, scripts.c.script_id.in_(pinned))
        query = (select(scripts, latest.c.first_created_at)
                 .join(latest, and_(scripts.c.script_id == latest.c.script_id,
                                    scripts.c.version == latest.c.version))
                 .where(target))
        found, candidates = {}, []
        for row in self.session.execute(query):
            found[row.script_id] = script_from_row(row)
            candidates.append(ScriptChoice(row.script_id, row.version, row.call_type, row.campaign_id,
                                           row.first_created_at))
        chosen: dict[tuple[str, str | None, str | None], ScriptVersion | None] = {}
        for call_type, campaign_id, script_id in wanted:
            choice = choose_script(candidates, call_type, campaign_id)
            chosen[(call_type, campaign_id, script_id)] = found.get(script_id) or (
                found[choice.script_id] if choice else None)
        return chosen

    def script_for(self, call_type: str, campaign_id: str | None,
                   script_id: str | None = None) -> tuple[str, int, list[dict]] | None:
        """(script_id, version, steps) of the script a call of this type (and campaign) is made with: the latest
        version of the campaign's own script if it has one, else of the call type's script (the most recently
        created if several). A call that names its script (`script_id`, set by a call request) uses the latest
        version of that one, as long as it exists."""
        script = self.scripts_for([(call_type, campaign_id, script_id)])[(call_type, campaign_id, script_id)]
        return (script.script_id, script.version, script.steps) if script else None

    # -- rejection reasons ---------------------------------------------------------------------------
    def reasons(self, *, include_inactive: bool = False) -> list[RejectionReason]:
        query = select(reasons).order_by(reasons.c.code)
        if not include_inactive:
            query = query.where(reasons.c.active.is_(True))
        return [RejectionReason(row.code, row.label, row.active) for row in self.session.execute(query)]

    def reason(self, code: str, *, lock: bool = False) -> RejectionReason | None:
        query = select(reasons).where(reasons.c.code == code)
        row = self.session.execute(query.with_for_update() if lock else query).first()
        return RejectionReason(row.code, row.label, row.active) if row else None

    def add_reason(self, reason: RejectionReason) -> bool:
        """False when the code is taken."""
        statement = dialect_insert(reasons, self.dialect).values(code=reason.code, label=reason.label,
                                                                 active=reason.active)
        statement = statement.on_conflict_do_nothing(index_elements=[reasons.c.code]).returning(reasons.c.code)
        return self.session.execute(statement).first() is not None

    def save_reason(self, reason: RejectionReason) -> None:
        self.session.execute(update(reasons).where(reasons.c.code == reason.code).values(
            label=reason.label, active=reason.active))

    def active_reason(self, code: str) -> bool:
        """Whether a new outcome may give this rejection reason."""
        query = select(reasons.c.active).where(reasons.c.code == code)
        return bool(self.session.execute(query).scalar())

    # -- the agent's work queue ----------------------------------------------------------------------
    def agent(self, agent_id: str):
        return self.session.execute(select(agents).where(agents.c.agent_id == agent_id)).first()

    def work_queue(self, agent_id: str, day: date, reminders_until: datetime,
                   lines_of_business: Iterable[str] | None) -> list[Any]:
        """The agent's scheduled calls due on `day`, and their follow-up calls whose reminder time is at or
        before `reminders_until`, with the customer's replica row; `lines_of_business=None` means all."""
        reminder = and_(calls.c.call_type == FOLLOW_UP, calls.c.remind_at.is_not(None),
                        calls.c.remind_at <= reminders_until)
        query = (
            select(calls.c.call_id, calls.c.party_id, calls.c.call_type, calls.c.status, calls.c.line_of_business,
                   calls.c.due_on, calls.c.slot, calls.c.window_start, calls.c.window_end, calls.c.priority,
                   calls.c.campaign_id, calls.c.attempts, calls.c.remind_at, calls.c.script_id,
                   calls.c.script_version,
                   case((calls.c.due_on == day, literal(False)), else_=literal(True)).label("reminder_only"),
                   replica.c.display_name, replica.c.customer_number, replica.c.phone, replica.c.email,
                   replica.c.postal_code, replica.c.city, replica.c.lifecycle_state,
                   replica.c.party_id.label("replica_party_id"))
            .select_from(calls.outerjoin(replica, replica.c.party_id == calls.c.party_id))
            .where(calls.c.agent_id == agent_id, calls.c.status == SCHEDULED,
                   or_(calls.c.due_on == day, reminder))
            .order_by(calls.c.priority.desc(), calls.c.window_end, calls.c.call_id)
        )
        if lines_of_business is not None:
            query = query.where(calls.c.line_of_business.in_(sorted(lines_of_business)))
        return list(self.session.execute(query))

    # -- rejection analysis --------------------------------------------------------------------------
    def _closed_in(self, start: datetime, end: datetime, lines_of_business: Iterable[str] | None,
                   campaign_id: str | None, agent_id: str | None) -> list:
        conditions = [calls.c.outcome.is_not(None), calls.c.closed_at >= start, calls.c.closed_at < end]
        if lines_of_business is not None:
            conditions.append(calls.c.line_of_business.in_(sorted(lines_of_business)))
        if campaign_id is not None:
            conditions.append(calls.c.campaign_id == campaign_id)
        if agent_id is not None:
            conditions.append(calls.c.agent_id == agent_id)
        return conditions

    def outcomes_recorded(self, start: datetime, end: datetime, *, lines_of_business: Iterable[str] | None,
                          campaign_id: str | None = None, agent_id: str | None = None) -> int:
        """Calls closed in [start, end) with a recorded outcome."""
        conditions = self._closed_in(start, end, lines_of_business, campaign_id, agent_id)
        return self.session.execute(select(func.count()).select_from(calls).where(*conditions)).scalar_one()

    def rejections(self, group_by: str, start: datetime, end: datetime, *,
                   lines_of_business: Iterable[str] | None, campaign_id: str | None = None,
                   agent_id: str | None = None) -> list[tuple[str | None, str | None, int]]:
        """(key, label, count) of calls closed in [start, end) with the outcome `rejected`, most first."""
        conditions = [*self._closed_in(start, end, lines_of_business, campaign_id, agent_id),
                      calls.c.outcome == "rejected"]
        source = calls
        if group_by == "reason":
            key, label = calls.c.rejection_reason, func.max(reasons.c.label)
            source = calls.outerjoin(reasons, reasons.c.code == calls.c.rejection_reason)
        elif group_by == "campaign":
            key, label = calls.c.campaign_id, literal(None)
        elif group_by == "agent":
            key, label = calls.c.agent_id, func.max(agents.c.name)
            source = calls.outerjoin(agents, agents.c.agent_id == calls.c.agent_id)
        elif group_by == "month":
            key, label = self._month(calls.c.closed_at), literal(None)
        else:
            raise ValueError(f"cannot group rejections by {group_by!r}")
        count = func.count()
        query = (select(key.label("key"), label.label("label"), count.label("count")).select_from(source)
                 .where(*conditions).group_by(key).order_by(count.desc(), key))
        return [(row.key, row.label, row.count) for row in self.session.execute(query)]

    def _month(self, column):
        if self.dialect == "postgresql":
            return func.to_char(func.timezone("UTC", column), "YYYY-MM")
        return func.strftime("%Y-%m", column)  # SQLite keeps UTC datetimes as text


def script_to_row(script: ScriptVersion) -> dict[str, Any]:
    return {"script_id": script.script_id, "version": script.version, "name": script.name,
            "call_type": script.call_type, "campaign_id": script.campaign_id, "steps": script.steps,
            "predefined": script.predefined, "created_at": script.created_at, "created_by": script.created_by}


def script_from_row(row) -> ScriptVersion:
    return ScriptVersion(script_id=row.script_id, version=row.version, name=row.name, call_type=row.call_type,
                         campaign_id=row.campaign_id, steps=row.steps, predefined=row.predefined,
                         created_at=row.created_at, created_by=row.created_by)


class CampaignReplicaRepository:
    """The line of business of each campaign, as campaign_defined events carry it (newest version kept)."""

    def __init__(self, session: Session):
        self.session = session

    def upsert_if_newer(self, campaign_id: str, line_of_business: str, version: int) -> None:
        table = orm.campaign_replica
        statement = dialect_insert(table, self.session.get_bind().dialect.name).values(
            campaign_id=campaign_id, line_of_business=line_of_business, version=version)
        self.session.execute(statement.on_conflict_do_update(
            index_elements=[table.c.campaign_id], set_={"line_of_business": line_of_business, "version": version},
            where=table.c.version < statement.excluded.version))

    def line_of(self, campaign_id: str) -> str | None:
        table = orm.campaign_replica
        return self.session.scalar(select(table.c.line_of_business).where(table.c.campaign_id == campaign_id))
