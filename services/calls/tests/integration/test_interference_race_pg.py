"""Two planners racing for one customer on PostgreSQL can never leave two calls inside the gap."""
from __future__ import annotations

import threading
from collections import Counter
from datetime import date, timedelta

import pytest
from crm_shared.config import Settings
from planning_fixtures import add_customer, add_team, uow_factory
from sqlalchemy import text

from crm_calls.bootstrap import build_runtime
from crm_calls.domain.commands import RequestCall
from crm_calls.domain.policy import DayWindow
from crm_calls.service_layer.calls import request_calls, sync_parties

ROUNDS = 15


@pytest.fixture
def runtime(fresh_database, amqp_url):
    runtime = build_runtime(Settings.from_env("calls", database_url=fresh_database("calls_race"),
                                              amqp_url=amqp_url))
    runtime.migrate()
    yield runtime
    runtime.engine.dispose()


def race(*actions):
    barrier = threading.Barrier(len(actions))
    errors = []

    def run(action):
        barrier.wait()
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(a,)) for a in actions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors


def collisions(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT a.call_id, b.call_id, a.due_on, b.due_on FROM calls a JOIN calls b "
            "ON a.party_id = b.party_id AND a.call_id < b.call_id "
            "WHERE a.status = 'scheduled' AND b.status = 'scheduled' "
            "AND abs(a.due_on - b.due_on) < (SELECT gap_days FROM planning_rules)")).all()


def test_two_campaign_requests_racing_for_one_customer(runtime):
    add_team(runtime.engine, capacity=50)
    new_uow = uow_factory(runtime.engine)
    window = DayWindow(date.today() + timedelta(days=3), date.today() + timedelta(days=12))
    decisions = Counter()
    for round_ in range(ROUNDS):
        party = add_customer(runtime.engine, lifecycle_state="prospect")
        requests = [RequestCall(f"r{round_}-{n}", party, "campaign", window, campaign_id=f"c{n}") for n in (1, 2)]

        def ask(cmd):
            return lambda: decisions.update(r.decision for r in request_calls(new_uow(), [cmd]))

        race(ask(requests[0]), ask(requests[1]))
    print(f"\n{ROUNDS} races, decisions: {dict(decisions)}, collisions: {len(collisions(runtime.engine))}")
    assert collisions(runtime.engine) == []
    # a 10-day window inside a 14-day gap holds one call: each race has one winner and one refusal
    assert decisions == Counter(accepted=ROUNDS, refused=ROUNDS)


def test_cycle_planning_racing_a_campaign_request(runtime):
    add_team(runtime.engine, capacity=50)
    new_uow = uow_factory(runtime.engine)
    window = DayWindow(date.today(), date.today() + timedelta(days=60))
    for round_ in range(ROUNDS):
        party = add_customer(runtime.engine)
        cmd = RequestCall(f"cycle-{round_}", party, "campaign", window, campaign_id="c")
        race(lambda p=party: sync_parties(new_uow(), [p]), lambda c=cmd: request_calls(new_uow(), [c]))
    found = collisions(runtime.engine)
    print(f"\n{ROUNDS} races of cycle planning against a campaign request, collisions: {len(found)}")
    assert found == []
    with runtime.engine.connect() as conn:
        campaign_calls = conn.execute(text("SELECT count(*) FROM calls WHERE call_type = 'campaign' "
                                           "AND status = 'scheduled'")).scalar()
    assert campaign_calls == ROUNDS  # the campaign call always finds room: shift or takeover


def test_roll_forward_refreshes_statistics_as_it_goes(runtime):
    from crm_calls.service_layer.calls import roll_forward

    add_team(runtime.engine, capacity=50)
    for _ in range(3):
        add_customer(runtime.engine)
    totals = roll_forward(uow_factory(runtime.engine), chunk_size=1, analyze_every=1)
    with runtime.engine.connect() as conn:
        analyzed = conn.execute(text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'calls'")).scalar()
    assert totals["parties"] == 3 and totals["calls_planned"] >= 6
    assert analyzed is not None
