"""Staff, territories and customers for planning tests, written straight into the calls tables."""
from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import UTC, datetime

from crm_shared.config import Settings
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from crm_calls.adapters import orm
from crm_calls.bootstrap import build_runtime
from crm_calls.service_layer.clock import SYSTEM_CLOCK
from crm_calls.service_layer.unit_of_work import CallsUnitOfWork

WEEKDAYS = {d: ["08:00", "16:30"] for d in ("mon", "tue", "wed", "thu", "fri")}


def uow_factory(engine, clock=SYSTEM_CLOCK):
    sessions = sessionmaker(engine, expire_on_commit=False)
    return lambda: CallsUnitOfWork(sessions, orm.messaging.outbox, "calls", clock)


def add_team(engine, capacity: int = 10, members: int = 1, user_subjects=()) -> dict:
    """One territory covering every 5-digit postal code, its responsible agent, members and a substitute."""
    ids = [str(uuid.uuid4()) for _ in range(members + 1)]
    subjects = list(user_subjects) + [None] * (len(ids) + 1)
    with engine.begin() as conn:
        conn.execute(insert(orm.agents), [
            {"agent_id": a, "name": f"Agent {i}", "role": "call_centre", "user_subject": subjects[i],
             "daily_capacity": capacity, "working_hours": WEEKDAYS, "active": True, "version": 1}
            for i, a in enumerate(ids)])
        territory_id = str(uuid.uuid4())
        conn.execute(insert(orm.territories).values(
            territory_id=territory_id, name=f"All {territory_id[:6]}", line_of_business=None,
            postal_ranges=[["00000", "99999"]], regions=[], agent_id=ids[0], substitute_agent_id=ids[-1],
            member_agent_ids=ids[1:-1], version=1))
    return {"territory_id": territory_id, "agents": ids, "responsible": ids[0], "substitute": ids[-1]}


def add_customer(engine, lifecycle_state: str = "customer", line_of_business: str = "retail",
                 postal_code: str = "10115", segment: str = "default", customer_since=None) -> str:
    party_id = str(uuid.uuid4())
    with engine.begin() as conn:
        conn.execute(insert(orm.customer_replica).values(
            party_id=party_id, kind="company", display_name=f"Customer {party_id[:6]}",
            lifecycle_state=lifecycle_state, customer_number=None, line_of_business=line_of_business,
            postal_code=postal_code, city="Berlin", phone="+49 30 1", email=None, segment=segment, version=1,
            updated_at=datetime.now(UTC), deactivated=False, customer_since=customer_since))
    return party_id


def add_contact(engine, party_id: str, day, call_type: str = "visit", line_of_business: str = "retail",
                status: str = "completed", agent_id: str | None = None, window=None,
                territory_id: str | None = None) -> str:
    """A contact made on `day` (a completed call, as `POST /contacts` stores one), or with `status="scheduled"`
    a call due that day (not booked against capacity) in `window` (start, end; default that day)."""
    call_id = str(uuid.uuid4())
    done = status == "completed"
    with engine.begin() as conn:
        conn.execute(insert(orm.calls).values(
            call_id=call_id, party_id=party_id, call_type=call_type, status=status, agent_id=agent_id,
            line_of_business=line_of_business, window_start=window[0] if window else day,
            window_end=window[1] if window else day, due_on=day, territory_id=territory_id,
            completed_on=day if done else None, created_at=datetime.now(UTC), slot="morning", priority=0,
            attempts=0, outcome="reached" if done else None, version=1))
        if agent_id is not None and status == "scheduled":  # booked, as the planner books it
            conn.execute(insert(orm.agent_day_loads).values(agent_id=agent_id, day=day, booked=1))
    return call_id


@contextmanager
def migrated_runtime(postgres_url: str, amqp_url: str, prefix: str):
    """A calls runtime on a new, migrated PostgreSQL database, dropped afterwards (for module-scoped fixtures)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    runtime = build_runtime(Settings.from_env("calls", database_url=url, amqp_url=amqp_url))
    try:
        runtime.migrate()
        yield runtime
    finally:
        runtime.engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
