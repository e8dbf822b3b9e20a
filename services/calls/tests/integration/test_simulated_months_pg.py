"""Months of daily work on a simulated clock, at the service layer on PostgreSQL, with the cycle, gap and
capacity invariants checked on every simulated day.

Each day: the nightly roll-forward, the day's events (customers joining, a reactivation after a long pause, a
territory move, a visit, a campaign call taking over a maintenance call and then withdrawn, an absence, a
capacity cut), then an outcome for every call due that day (reached; one customer is not reached until the
call fails, twice). At the end of every day:
- capacity: no agent-day from today on holds more scheduled calls than the agent's capacity that day (0 on
  weekends and absences), and the booking table agrees with the calls;
- gap: no open call of a party less than `gap_days` from another open call or a contact of that party
  (callbacks exempt);
- cycle: every active customer's contacts made and calls scheduled hold the policy's minimum in every rolling
  12 months from the day they became customers (or, for the customer who was overdue when the simulation
  began, from the contact that ended the overdue stretch), and no customer has more open maintenance calls
  than the policy can need.
"""
from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta

import pytest
from calls_factories import party_event
from crm_shared.auth import Principal
from crm_shared.config import Settings
from planning_fixtures import add_contact, add_team, uow_factory
from sqlalchemy import insert, text, update
from sqlalchemy.orm import Session

from crm_calls.adapters import orm
from crm_calls.adapters.planning_repository import PlanningRepository
from crm_calls.bootstrap import build_runtime
from crm_calls.domain.calls import Outcome
from crm_calls.domain.commands import RequestCall
from crm_calls.domain.policy import DayWindow, short_window
from crm_calls.service_layer.calls import request_calls, roll_forward, withdraw_requests
from crm_calls.service_layer.clock import FixedClock
from crm_calls.service_layer.contacts import RecordContact, record_contact
from crm_calls.service_layer.handlers import make_handlers
from crm_calls.service_layer.outcomes import RecordOutcome, record_outcome

START = date(2026, 1, 5)  # a Monday
DAYS = 200
SUPERVISOR = Principal("sup", frozenset({"supervisor"}), frozenset({"*"}))
BERLIN = {"postal_code": "10115", "city": "Berlin"}
HAMBURG = {"postal_code": "20095", "city": "Hamburg"}


@pytest.fixture
def world(fresh_database, amqp_url):
    clock = FixedClock(datetime.combine(START, time(7), UTC))
    runtime = build_runtime(Settings.from_env("calls", database_url=fresh_database("calls_sim"), amqp_url=amqp_url),
                            clock=clock)
    runtime.migrate()
    yield runtime, clock
    runtime.engine.dispose()


class Simulation:
    def __init__(self, runtime, clock):
        self.runtime, self.clock, self.engine = runtime, clock, runtime.engine
        self.uow = uow_factory(self.engine, clock)
        self.handlers = make_handlers(clock)
        self.versions: dict[str, int] = {}
        self.not_reached_left: Counter = Counter()
        self.checked_days = 0

    @property
    def today(self) -> date:
        return self.clock.today()

    def party(self, kind="registered", party_id=None, address=None, **snapshot) -> str:
        party_id = party_id or str(uuid.uuid4())
        self.versions[party_id] = self.versions.get(party_id, 0) + 1
        values = {"lifecycle_state": "customer", "customer_number": "C-" + party_id[:6], "attributes": {},
                  "line_of_business": "retail", "primary_address": address or BERLIN,
                  "occurred_at": self.clock.now().isoformat(), **snapshot}
        event = party_event(kind, party_id=party_id, version=self.versions[party_id], **values)
        with Session(self.engine) as session, session.begin():
            self.handlers[event.type](session, [event])
        return party_id

    def calls(self, party_id=None, status=None) -> list:
        query = "SELECT * FROM calls WHERE true"
        args = {}
        if party_id:
            query, args["p"] = query + " AND party_id = :p", party_id
        if status:
            query, args["s"] = query + " AND status = :s", status
        with self.engine.connect() as conn:
            return conn.execute(text(query + " ORDER BY due_on, call_id"), args).all()

    def work_the_day(self) -> None:
        """An outcome for every call due today, as the agents record them from their queues."""
        for call in [c for c in self.calls(status="scheduled") if c.due_on == self.today]:
            if call.call_type == "maintenance" and self.not_reached_left[call.party_id] > 0:
                outcome = Outcome("not_reached", self.clock.now())
            elif call.call_type == "maintenance":
                outcome = Outcome("reached", self.clock.now(), answers={"satisfaction": 4})
            else:
                outcome = Outcome("interest_noted", self.clock.now(), interest="lead")
            _, step = record_outcome(self.uow(), RecordOutcome(call.call_id, outcome, SUPERVISOR))
            if outcome.outcome == "not_reached" and step["action"] != "retry":
                self.not_reached_left[call.party_id] -= 1  # the call failed after the last attempt

    # -- invariants ---------------------------------------------------------------------------------
    def check(self, cycle_from: dict[str, date | None]) -> None:
        today = self.today
        with Session(self.engine) as session:
            repo = PlanningRepository(session)
            agents, rules, policies = repo.agents(), repo.rules(), repo.policies()
            horizon = today + timedelta(days=rules.horizon_days)
            calls = session.execute(text("SELECT * FROM calls")).all()
            loads = {(r.agent_id, r.day): r.booked for r in session.execute(text("SELECT * FROM agent_day_loads"))}
            parties = {r.party_id: r for r in session.execute(text("SELECT * FROM customer_replica"))}
        booked = Counter((c.agent_id, c.due_on) for c in calls if c.status == "scheduled")
        for (agent_id, day), n in booked.items():
            if day >= today:
                assert n <= agents[agent_id].capacity_on(day), (today, agent_id, day, n)
        used = Counter((c.agent_id, c.due_on) for c in calls
                       if c.status in ("scheduled", "completed", "failed") and c.agent_id)
        # every call holds its booking (an attempt not reached keeps the day it used, so loads may be more)
        assert all(loads.get(k, 0) >= n for k, n in used.items()), today
        assert all(n >= 0 for n in loads.values()), today

        by_party = defaultdict(list)
        for c in calls:
            by_party[c.party_id].append(c)
        for party_id, party_calls in by_party.items():
            open_days = [(c.call_id, c.due_on) for c in party_calls if c.status == "scheduled"
                         and c.call_type != "follow_up"]
            contacts = [(c.call_id, c.completed_on) for c in party_calls if c.status == "completed"]
            for call_id, day in open_days:
                for other_id, other in open_days + contacts:
                    assert other_id == call_id or abs((day - other).days) >= rules.gap_days, (
                        today, party_id, call_id, day, other_id, other)
            assert all(c.status != "overflow" for c in party_calls), (  # capacity suffices
                today, party_id, [(c.call_type, c.status, c.window_start, c.window_end, c.territory_id)
                                  for c in party_calls], parties[party_id].postal_code)

        for party_id, since in cycle_from.items():
            party = parties[party_id]
            if party.lifecycle_state != "customer" or party.deactivated:
                continue
            policy = policies.get(party.segment) or policies["default"]
            party_calls = by_party[party_id]
            made = [c.completed_on for c in party_calls if c.status == "completed"]
            planned = [c.due_on for c in party_calls if c.status == "scheduled" and c.due_on >= today]
            maintenance = [c for c in party_calls if c.status == "scheduled" and c.call_type == "maintenance"]
            most = rules.horizon_days // max(policy.min_spacing_days, 1) + 2  # at the policy's closest spacing
            assert len(maintenance) <= most, (today, party_id, len(maintenance))
            start = max(since or party.customer_since, party.customer_since)
            if since is None and party.customer_since < START:
                continue  # overdue when the simulation began: judged from the contact that ended it
            short = short_window(policy, start, made + planned, today, horizon)
            assert short is None, (today, party_id, party.segment, short, sorted(made), sorted(planned))
        self.checked_days += 1


def test_months_of_daily_work_keep_the_cycle_gap_and_capacity_invariants(world):
    runtime, clock = world
    sim = Simulation(runtime, clock)
    team_a = add_team(runtime.engine, capacity=2, members=2)
    team_b = add_team(runtime.engine, capacity=2, members=1)
    with runtime.engine.begin() as conn:
        conn.execute(update(orm.territories).where(orm.territories.c.territory_id == team_a["territory_id"])
                     .values(postal_ranges=[["10000", "19999"]]))
        conn.execute(update(orm.territories).where(orm.territories.c.territory_id == team_b["territory_id"])
                     .values(postal_ranges=[["20000", "29999"]]))

    plain = [sim.party() for _ in range(6)]
    key_account = sim.party(attributes={"segment": "key_account"})
    not_reached = [sim.party() for _ in range(4)]
    taken_over = [sim.party() for _ in range(3)]
    moving, visited = sim.party(), sim.party()
    for party_id in not_reached:
        sim.not_reached_left[party_id] = 1  # the first call fails after every attempt
    # a customer for years, last contacted 300 days ago: overdue from the first day
    clock.set(datetime.combine(START - timedelta(days=700), time(7), UTC))
    overdue = sim.party()
    clock.set(datetime.combine(START, time(7), UTC))
    add_contact(runtime.engine, overdue, START - timedelta(days=300))
    # a customer who left long ago and comes back on day 20 (their last contact is 400 days old)
    returning = sim.party(lifecycle_state="inactive")
    add_contact(runtime.engine, returning, START - timedelta(days=400))
    cycle_from: dict[str, date | None] = {p: START for p in
                                          [*plain, key_account, *not_reached, moving, visited, *taken_over]}
    cycle_from[overdue] = None  # from the contact that ends the overdue stretch
    withdraw_on: dict[str, date] = {}

    for n in range(DAYS):
        clock.set(datetime.combine(START + timedelta(days=n), time(1, 30), UTC))
        if n == 25:  # the responsible agent of team A away for two weeks, entered (directly) ahead
            with runtime.engine.begin() as conn:
                conn.execute(insert(orm.agent_absences).values(
                    absence_id=str(uuid.uuid4()), agent_id=team_a["responsible"], kind="holiday",
                    first_day=sim.today + timedelta(days=5), last_day=sim.today + timedelta(days=19)))
        if n == 90:  # a capacity cut for everyone, entered the evening before: the nightly job re-places
            with runtime.engine.begin() as conn:
                conn.execute(update(orm.agents).values(daily_capacity=1))
        roll_forward(sim.uow)
        clock.set(datetime.combine(START + timedelta(days=n), time(9), UTC))
        today = sim.today
        if n == 3:  # campaign calls that take over the first maintenance calls, withdrawn two days before
            for party_id in taken_over:
                first = min((c for c in sim.calls(party_id, "scheduled")), key=lambda c: c.due_on)
                window = DayWindow(max(today + timedelta(days=1), first.due_on - timedelta(days=3)),
                                   first.due_on + timedelta(days=3))
                cmd = RequestCall(f"spring:{party_id}", party_id, "campaign", window, "spring")
                [result] = request_calls(sim.uow(), [cmd])
                assert result.decision == "took_over", result
                withdraw_on[party_id] = max(result.call.due_on - timedelta(days=2), today + timedelta(days=1))
        for party_id in [p for p, day in withdraw_on.items() if day == today]:
            assert withdraw_requests(sim.uow(), [f"spring:{party_id}"], "the participant left the campaign") == 1
        if n == 20:
            sim.party("lifecycle", party_id=returning)
            cycle_from[returning] = today
        if n == 40:
            sim.party("updated", party_id=moving, address=HAMBURG)
        if n == 60:
            record_contact(sim.uow(), RecordContact(visited, "visit", today, "on site", SUPERVISOR))
        sim.work_the_day()
        if cycle_from[overdue] is None:
            ended = [c.completed_on for c in sim.calls(overdue, "completed") if c.completed_on >= START]
            cycle_from[overdue] = min(ended) if ended else None
        sim.check(cycle_from)

    assert sim.checked_days == DAYS
    # the story happened as scripted
    for party_id in not_reached:
        assert sim.not_reached_left[party_id] == 0
        assert sum(1 for c in sim.calls(party_id) if c.status == "failed") == 1
    for party_id in taken_over:
        assert [c.status for c in sim.calls(party_id) if c.request_id == f"spring:{party_id}"] == ["cancelled"]
    assert all(c.territory_id == team_b["territory_id"] for c in sim.calls(moving, "scheduled"))
    assert cycle_from[overdue] is not None and cycle_from[overdue] <= START + timedelta(days=91)
    assert any(c.call_type == "visit" for c in sim.calls(visited, "completed"))
    assert sim.calls(returning, "completed")
    with runtime.engine.connect() as conn:
        made = conn.execute(text("SELECT count(*) FROM calls WHERE status = 'completed' AND completed_on >= :s"),
                            {"s": START}).scalar()
    assert made >= 20
