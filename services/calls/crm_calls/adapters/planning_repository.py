"""Reading and writing the planning state: rules, staff, territories, bookings, calls and decisions.

Writes that many calls share (bulk planning) are set-based; locks are taken in one order everywhere
(parties, then agents, each sorted) so concurrent planners wait for each other instead of deadlocking.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import fields
from datetime import date
from typing import Any

from crm_shared.db import dialect_insert
from sqlalchemy import and_, or_, select, text, update
from sqlalchemy.orm import Session

from crm_calls.adapters import orm
from crm_calls.domain.calls import COMPLETED, OPEN_STATUSES, Call
from crm_calls.domain.policy import ContactPolicy, DayWindow, PlanningRules
from crm_calls.domain.resources import Absence, Agent, parse_working_hours
from crm_calls.domain.territories import Territory, TerritoryMap

CALL_COLUMNS = [f.name for f in fields(Call) if f.name != "window"]
COPY_THRESHOLD = 200


class PlanningRepository:
    def __init__(self, session: Session):
        self.session = session
        self.dialect = session.get_bind().dialect.name

    # -- configuration -------------------------------------------------------------------------------
    def rules(self) -> PlanningRules:
        row = self.session.execute(select(orm.planning_rules).where(orm.planning_rules.c.rules_id == 1)).one()
        return PlanningRules(gap_days=row.gap_days, max_attempts=row.max_attempts, horizon_days=row.horizon_days)

    def policies(self) -> dict[str, ContactPolicy]:
        rows = self.session.execute(select(orm.contact_policies))
        return {r.segment: ContactPolicy(r.segment, r.min_contacts, r.min_spacing_days, r.version) for r in rows}

    def agents(self, agent_ids: Iterable[str] | None = None) -> dict[str, Agent]:
        query = select(orm.agents)
        absences = select(orm.agent_absences)
        if agent_ids is not None:
            ids = sorted(set(agent_ids))
            query = query.where(orm.agents.c.agent_id.in_(ids))
            absences = absences.where(orm.agent_absences.c.agent_id.in_(ids))
        by_agent: dict[str, list[Absence]] = defaultdict(list)
        for row in self.session.execute(absences):
            by_agent[row.agent_id].append(Absence(row.absence_id, row.agent_id, row.kind, row.first_day,
                                                  row.last_day, row.note))
        return {row.agent_id: agent_from_row(row, by_agent[row.agent_id]) for row in self.session.execute(query)}

    def territories(self) -> TerritoryMap:
        return TerritoryMap(territory_from_row(row) for row in self.session.execute(select(orm.territories)))

    # -- locks ---------------------------------------------------------------------------------------
    def lock_parties(self, party_ids: Iterable[str]) -> dict[str, Any]:
        """The replica rows of these parties, locked: every change to a party's calls holds its row."""
        table = orm.customer_replica
        query = select(table).where(table.c.party_id.in_(sorted(set(party_ids)))).order_by(table.c.party_id)
        return {row.party_id: row for row in self.session.execute(query.with_for_update())}

    def lock_agents(self, agent_ids: Iterable[str]) -> None:
        """Serialises bookings per agent, so two planners never both take an agent's last free slot."""
        table = orm.agents
        query = select(table.c.agent_id).where(table.c.agent_id.in_(sorted(set(agent_ids))))
        self.session.execute(query.order_by(table.c.agent_id).with_for_update()).all()

    # -- bookings ------------------------------------------------------------------------------------
    def loads(self, agent_ids: Iterable[str], first: date, last: date) -> dict[tuple[str, date], int]:
        table = orm.agent_day_loads
        query = select(table).where(table.c.agent_id.in_(sorted(set(agent_ids))), table.c.day.between(first, last))
        return {(row.agent_id, row.day): row.booked for row in self.session.execute(query)}

    def save_loads(self, changes: Mapping[tuple[str, date], int]) -> None:
        table = orm.agent_day_loads
        rows = [{"agent_id": a, "day": d, "booked": n} for (a, d), n in sorted(changes.items()) if n]
        if not rows:
            return
        statement = dialect_insert(table, self.dialect)
        self.session.execute(statement.on_conflict_do_update(
            index_elements=[table.c.agent_id, table.c.day],
            set_={"booked": table.c.booked + statement.excluded.booked}), rows)

    # -- calls ---------------------------------------------------------------------------------------
    def contacts_of(self, party_ids: Iterable[str], since: date) -> dict[str, list[Call]]:
        """Open calls and contacts made since `since`, per party: what cycles and interference look at."""
        table = orm.calls
        query = select(table).where(table.c.party_id.in_(sorted(set(party_ids))), or_(
            table.c.status.in_(OPEN_STATUSES), and_(table.c.status == COMPLETED, table.c.completed_on >= since)))
        found: dict[str, list[Call]] = defaultdict(list)
        for row in self.session.execute(query):
            found[row.party_id].append(call_from_row(row))
        return found

    def contacts_in_range(self, first: str, last: str, since: date) -> dict[str, list[Call]]:
        """`contacts_of` for a chunk of parties ordered by id: two index range scans, not a long IN list."""
        table = orm.calls
        in_range = table.c.party_id.between(first, last)
        open_calls = select(table).where(in_range, table.c.status.in_(OPEN_STATUSES))
        made = select(table).where(in_range, table.c.status == COMPLETED, table.c.completed_on >= since)
        found: dict[str, list[Call]] = defaultdict(list)
        for row in self.session.execute(open_calls.union_all(made)):
            found[row.party_id].append(call_from_row(row))
        return found

    def lock_party_range(self, first: str, last: str) -> dict[str, Any]:
        table = orm.customer_replica
        query = select(table).where(table.c.party_id.between(first, last)).order_by(table.c.party_id)
        return {row.party_id: row for row in self.session.execute(query.with_for_update())}

    def get_call(self, call_id: str, *, lock: bool = False) -> Call | None:
        query = select(orm.calls).where(orm.calls.c.call_id == call_id)
        row = self.session.execute(query.with_for_update() if lock else query).first()
        return call_from_row(row) if row else None

    def calls_by_request(self, request_id: str, lines_of_business: Iterable[str] | None = None) -> list[Call]:
        """The calls of this request id (one per line of business at most); `None` means every line."""
        query = select(orm.calls).where(orm.calls.c.request_id == request_id).order_by(orm.calls.c.call_id)
        if lines_of_business is not None:
            query = query.where(orm.calls.c.line_of_business.in_(sorted(lines_of_business)))
        return [call_from_row(row) for row in self.session.execute(query)]

    def refresh_statistics(self) -> None:
        """ANALYZE the tables bulk planning grows, in its own short transaction (PostgreSQL only)."""
        if self.dialect != "postgresql":
            return
        with self.session.get_bind().connect() as conn:
            conn.execute(text("ANALYZE calls, agent_day_loads, interference_decisions"))
            conn.commit()

    def calls_by_requests(self, request_ids: Iterable[str]) -> dict[tuple[str, str], Call]:
        """By (line of business, request id): a request id is unique within a line."""
        query = select(orm.calls).where(orm.calls.c.request_id.in_(sorted(set(request_ids))))
        return {(row.line_of_business, row.request_id): call_from_row(row) for row in self.session.execute(query)}

    def refusals_by_requests(self, request_ids: Iterable[str]) -> dict[tuple[str, str], Any]:
        """Refusals stored for these request ids, by (line of business of the party, request id)."""
        table, parties = orm.interference_decisions, orm.customer_replica
        query = (select(table, parties.c.line_of_business).join(parties, parties.c.party_id == table.c.party_id)
                 .where(table.c.request_id.in_(sorted(set(request_ids))), table.c.decision == "refused")
                 .order_by(table.c.decided_at, table.c.decision_id))
        found: dict[tuple[str, str], Any] = {}
        for row in self.session.execute(query):
            found.setdefault((row.line_of_business, row.request_id), row)
        return found

    def open_calls(self, *, agent_id: str | None = None, territory_id: str | None = None,
                   first: date | None = None, last: date | None = None) -> list[Call]:
        table = orm.calls
        query = select(table).where(table.c.status.in_(OPEN_STATUSES))
        if agent_id is not None:
            query = query.where(table.c.agent_id == agent_id)
        if territory_id is not None:
            query = query.where(table.c.territory_id == territory_id)
        if first is not None and last is not None:
            query = query.where(table.c.due_on.between(first, last))
        return [call_from_row(row) for row in self.session.execute(query.order_by(table.c.call_id))]

    def add_calls(self, calls: list[Call]) -> None:
        if len(calls) >= COPY_THRESHOLD and self.dialect == "postgresql":
            self._copy_calls(calls)
        elif calls:
            self.session.execute(orm.calls.insert(), [call_to_row(c) for c in calls])

    def _copy_calls(self, calls: list[Call]) -> None:
        """COPY for the daily job's thousands of new calls: several times faster than INSERT batches."""
        from psycopg.types.json import Jsonb

        columns = [c.name for c in orm.calls.columns]
        raw = self.session.connection().connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY calls ({', '.join(columns)}) FROM STDIN") as copy:
            for call in calls:
                row = call_to_row(call)
                if row["outcome_details"] is not None:
                    row["outcome_details"] = Jsonb(row["outcome_details"])
                copy.write_row([row[name] for name in columns])

    def save_call(self, call: Call) -> None:
        row = call_to_row(call)
        self.session.execute(update(orm.calls).where(orm.calls.c.call_id == call.call_id).values(**row))

    def add_decisions(self, decisions: list[dict]) -> None:
        if decisions:
            self.session.execute(orm.interference_decisions.insert(), decisions)

    def party_ids_after(self, after: str, limit: int) -> list[str]:
        """Parties whose calls the daily job looks after: customers, and anyone with open calls."""
        table = orm.customer_replica
        calls = orm.calls
        has_open_calls = select(calls.c.party_id).where(  # correlated EXISTS: an index probe per party
            calls.c.party_id == table.c.party_id, calls.c.status.in_(OPEN_STATUSES)).exists()
        query = select(table.c.party_id).where(table.c.party_id > after).where(or_(
            and_(table.c.lifecycle_state == "customer", table.c.deactivated.is_(False)), has_open_calls))
        return list(self.session.scalars(query.order_by(table.c.party_id).limit(limit)))

    # -- reads for the API -------------------------------------------------------------------------------
    def list_calls(self, *, limit: int, after: str | None, lines_of_business: Iterable[str] | None,
                   **filters: Any) -> list[Call]:
        """Ordered by call_id; `filters` are column equalities plus due_from/due_to; None means any."""
        table = orm.calls
        query = select(table).order_by(table.c.call_id).limit(limit)
        if after is not None:
            query = query.where(table.c.call_id > after)
        if lines_of_business is not None:
            query = query.where(table.c.line_of_business.in_(sorted(lines_of_business)))
        due_from, due_to = filters.pop("due_from", None), filters.pop("due_to", None)
        if due_from is not None:
            query = query.where(table.c.due_on >= due_from)
        if due_to is not None:
            query = query.where(table.c.due_on <= due_to)
        for name, value in filters.items():
            if value is not None:
                query = query.where(table.c[name] == value)
        return [call_from_row(row) for row in self.session.execute(query)]

    def list_decisions(self, *, limit: int, after: str | None, lines_of_business: Iterable[str] | None = None,
                       **filters: Any) -> list:
        """`lines_of_business=None` means all, including decisions about parties never replicated."""
        table, parties = orm.interference_decisions, orm.customer_replica
        query = select(table).order_by(table.c.decision_id).limit(limit)
        if after is not None:
            query = query.where(table.c.decision_id > after)
        if lines_of_business is not None:
            query = query.join(parties, parties.c.party_id == table.c.party_id).where(
                parties.c.line_of_business.in_(sorted(lines_of_business)))
        for name, value in filters.items():
            if value is not None:
                query = query.where(table.c[name] == value)
        return list(self.session.execute(query))

def agent_from_row(row, absences: list[Absence]) -> Agent:
    return Agent(agent_id=row.agent_id, name=row.name, role=row.role, daily_capacity=row.daily_capacity,
                 working_hours=parse_working_hours(row.working_hours), user_subject=row.user_subject,
                 active=row.active, version=row.version, absences=absences)


def territory_from_row(row) -> Territory:
    return Territory(territory_id=row.territory_id, name=row.name, agent_id=row.agent_id,
                     postal_ranges=[tuple(r) for r in row.postal_ranges], regions=list(row.regions),
                     line_of_business=row.line_of_business, substitute_agent_id=row.substitute_agent_id,
                     member_agent_ids=list(row.member_agent_ids or []), version=row.version)


def call_from_row(row) -> Call:
    values = {name: getattr(row, name) for name in CALL_COLUMNS}
    return Call(window=DayWindow(row.window_start, row.window_end), **values)


def call_to_row(call: Call) -> dict[str, Any]:
    row = {name: getattr(call, name) for name in CALL_COLUMNS}
    row["window_start"], row["window_end"] = call.window.start, call.window.end
    return row

