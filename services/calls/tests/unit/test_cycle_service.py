"""The planning use cases on a SQLite database built by the service's migrations: cycles planned from
customer events, deactivation, territory moves, outcomes with retries and callbacks, the daily roll-forward."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from calls_factories import party_event
from crm_shared.auth import Principal
from crm_shared.config import Settings
from planning_fixtures import add_contact, add_customer, add_team, uow_factory
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from crm_calls.adapters import orm
from crm_calls.bootstrap import build_runtime
from crm_calls.domain.calls import Outcome
from crm_calls.domain.commands import RequestCall
from crm_calls.domain.errors import CallClosed, InvalidInput
from crm_calls.domain.policy import DayWindow
from crm_calls.service_layer.calls import request_calls, roll_forward, sync_parties, withdraw_requests
from crm_calls.service_layer.clock import FixedClock
from crm_calls.service_layer.contacts import RecordContact, cycle_of, record_contact
from crm_calls.service_layer.handlers import HANDLERS
from crm_calls.service_layer.outcomes import RecordOutcome, record_outcome

SUPERVISOR = Principal("sup", frozenset({"supervisor"}), frozenset({"*"}))


@pytest.fixture
def runtime(tmp_path):
    runtime = build_runtime(Settings.from_env("calls", database_url=f"sqlite:///{tmp_path}/calls.db",
                                              amqp_url="memory://"))
    runtime.migrate()
    yield runtime
    runtime.engine.dispose()


def apply(runtime, *events):
    with Session(runtime.engine) as session, session.begin():
        for e in events:
            HANDLERS[e.type](session, e)


def calls_of(runtime, party_id, status=None):
    query = select(orm.calls).where(orm.calls.c.party_id == party_id).order_by(orm.calls.c.due_on)
    if status:
        query = query.where(orm.calls.c.status == status)
    with runtime.engine.connect() as conn:
        return conn.execute(query).all()


def outbox_types(runtime):
    with runtime.engine.connect() as conn:
        return [r.routing_key for r in conn.execute(select(orm.messaging.outbox.c.routing_key))]


def customer_event(kind="lifecycle", version=2, **overrides):
    values = dict(lifecycle_state="customer", customer_number="C-1",
                  primary_address={"postal_code": "10115", "city": "Berlin"})
    return party_event(kind, version=version, **{**values, **overrides})


def test_becoming_a_customer_plans_the_cycle_at_once(runtime):
    team = add_team(runtime.engine)
    event = customer_event()
    apply(runtime, event)
    planned = calls_of(runtime, event.data["party_id"], "scheduled")
    today = date.today()
    assert len(planned) >= 2 and all(c.call_type == "maintenance" for c in planned)
    assert sum(1 for c in planned if today <= c.due_on < today + timedelta(days=365)) >= 2
    assert all(c.agent_id in team["agents"] for c in planned)
    assert all((b.due_on - a.due_on).days <= 182 for a, b in zip(planned, planned[1:], strict=False))
    assert outbox_types(runtime).count("crm.calls.call_scheduled.v1") == len(planned)


def test_a_repeated_event_plans_nothing_more(runtime):
    add_team(runtime.engine)
    event = customer_event()
    apply(runtime, event)
    before = len(calls_of(runtime, event.data["party_id"]))
    apply(runtime, customer_event(kind="updated", version=3, party_id=event.data["party_id"]))
    assert len(calls_of(runtime, event.data["party_id"])) == before


def test_prospects_get_no_cycle(runtime):
    add_team(runtime.engine)
    event = customer_event(kind="registered", version=1, lifecycle_state="prospect", customer_number=None)
    apply(runtime, event)
    assert calls_of(runtime, event.data["party_id"]) == []


def test_deactivation_cancels_every_open_call(runtime):
    add_team(runtime.engine)
    event = customer_event()
    apply(runtime, event)
    apply(runtime, customer_event(kind="deactivated", version=3, party_id=event.data["party_id"],
                                  lifecycle_state="inactive"))
    calls = calls_of(runtime, event.data["party_id"])
    assert calls and all(c.status == "cancelled" for c in calls)
    with runtime.engine.connect() as conn:
        assert conn.execute(text("SELECT coalesce(sum(booked), 0) FROM agent_day_loads")).scalar() == 0


def test_a_move_to_another_territory_takes_the_calls_along(runtime):
    add_team(runtime.engine)
    north = add_team(runtime.engine)
    with runtime.engine.begin() as conn:
        conn.execute(update(orm.territories).where(orm.territories.c.territory_id == north["territory_id"])
                     .values(postal_ranges=[["20000", "29999"]], line_of_business="insurance"))
    event = customer_event()
    apply(runtime, event)
    apply(runtime, customer_event(kind="updated", version=3, party_id=event.data["party_id"],
                                  primary_address={"postal_code": "20095", "city": "Hamburg"}))
    open_calls = calls_of(runtime, event.data["party_id"], "scheduled")
    assert open_calls and all(c.territory_id == north["territory_id"] for c in open_calls)
    assert all(c.agent_id in north["agents"] for c in open_calls)
    assert "crm.calls.call_rescheduled.v1" in outbox_types(runtime)


def test_no_agent_capacity_means_overflow_never_dropped(runtime):
    add_team(runtime.engine, capacity=0)
    event = customer_event()
    apply(runtime, event)
    calls = calls_of(runtime, event.data["party_id"])
    assert calls and all(c.status == "overflow" and c.due_on is None for c in calls)
    assert "crm.calls.call_overflowed.v1" in outbox_types(runtime)


def first_call(runtime, party_id):
    return calls_of(runtime, party_id, "scheduled")[0]


def record(runtime, call_id, outcome, **kwargs):
    now = datetime.now(UTC)
    return record_outcome(uow_factory(runtime.engine)(),
                          RecordOutcome(call_id, Outcome(outcome, now, **kwargs), SUPERVISOR))


def test_not_reached_is_retried_then_fails_and_the_cycle_is_topped_up(runtime):
    add_team(runtime.engine)
    party = add_customer(runtime.engine)
    roll_forward(uow_factory(runtime.engine))
    call = first_call(runtime, party)
    _, step = record(runtime, call.call_id, "not_reached")
    assert step["action"] == "retry" and step["call_id"] == call.call_id
    record(runtime, call.call_id, "not_reached")
    _, step = record(runtime, call.call_id, "not_reached")
    failed = [c for c in calls_of(runtime, party) if c.call_id == call.call_id][0]
    assert failed.status == "failed" and failed.attempts == 3
    open_calls = calls_of(runtime, party, "scheduled")
    assert sum(1 for c in open_calls if c.due_on < date.today() + timedelta(days=365)) >= 2
    with pytest.raises(CallClosed):
        record(runtime, call.call_id, "reached")


def test_a_callback_is_scheduled_with_a_reminder(runtime):
    add_team(runtime.engine)
    party = add_customer(runtime.engine)
    roll_forward(uow_factory(runtime.engine))
    call = first_call(runtime, party)
    callback_at = datetime.now(UTC) + timedelta(days=3)
    _, step = record(runtime, call.call_id, "callback_requested", callback_at=callback_at)
    follow_up = [c for c in calls_of(runtime, party) if c.call_type == "follow_up"][0]
    assert step["action"] == "callback" and step["call_id"] == follow_up.call_id
    assert follow_up.parent_call_id == call.call_id and follow_up.remind_at is not None
    assert follow_up.status in ("scheduled", "overflow")


def test_unknown_rejection_reason_changes_nothing(runtime):
    add_team(runtime.engine)
    party = add_customer(runtime.engine)
    roll_forward(uow_factory(runtime.engine))
    call = first_call(runtime, party)
    with pytest.raises(InvalidInput):
        record(runtime, call.call_id, "rejected", rejection_reason="no_such_reason")
    assert first_call(runtime, party).attempts == 0


def test_roll_forward_replaces_missed_calls_and_is_idempotent(runtime):
    add_team(runtime.engine)
    party = add_customer(runtime.engine)
    new_uow = uow_factory(runtime.engine)
    first = roll_forward(new_uow)
    assert first["parties"] == 1 and first["calls_planned"] >= 2
    missed = first_call(runtime, party)
    with runtime.engine.begin() as conn:
        conn.execute(update(orm.calls).where(orm.calls.c.call_id == missed.call_id)
                     .values(due_on=date.today() - timedelta(days=3)))
    again = roll_forward(new_uow)
    moved = [c for c in calls_of(runtime, party) if c.call_id == missed.call_id][0]
    assert again["calls_moved"] == 1 and moved.due_on >= date.today()
    assert roll_forward(new_uow)["calls_planned"] == 0


def test_a_due_reminder_is_sent_once(runtime):
    from crm_calls.service_layer.reminders import send_due_reminders

    add_team(runtime.engine)
    party = add_customer(runtime.engine)
    roll_forward(uow_factory(runtime.engine))
    record(runtime, first_call(runtime, party).call_id, "reached", next_contact_on=date.today() + timedelta(days=2),
           answers={"satisfaction": 4})
    new_uow = uow_factory(runtime.engine)
    assert send_due_reminders(new_uow(), now=datetime.now(UTC)) == 0
    later = datetime.now(UTC) + timedelta(days=3)
    assert send_due_reminders(new_uow(), now=later) == 1
    assert send_due_reminders(new_uow(), now=later) == 0
    assert outbox_types(runtime).count("crm.calls.next_contact_due.v1") == 1


def test_roll_forward_moves_calls_off_a_deactivated_agent(runtime):
    team = add_team(runtime.engine, members=1)
    party = add_customer(runtime.engine)
    new_uow = uow_factory(runtime.engine)
    roll_forward(new_uow)
    leaving = first_call(runtime, party).agent_id
    with runtime.engine.begin() as conn:
        conn.execute(update(orm.agents).where(orm.agents.c.agent_id == leaving).values(active=False))
    roll_forward(new_uow)
    open_calls = calls_of(runtime, party, "scheduled")
    assert open_calls and all(c.agent_id != leaving and c.agent_id in team["agents"] for c in open_calls)


def maintenance_days(runtime, party_id):
    return [c.due_on for c in calls_of(runtime, party_id) if c.call_type == "maintenance" and c.status == "scheduled"]


def test_an_overdue_customer_gets_the_calls_the_policy_needs_and_no_more(runtime):
    """Reactivated after a long pause: the last contact is 400 days old, so the cycle is overdue. One call
    fills the overdue window, the rest follow it with the policy's spacing, and re-planning adds nothing."""
    add_team(runtime.engine, capacity=20)
    clock = FixedClock(datetime(2026, 3, 2, 6, tzinfo=UTC))
    party = add_customer(runtime.engine, customer_since=clock.today() - timedelta(days=500))
    add_contact(runtime.engine, party, clock.today() - timedelta(days=400))
    new_uow = uow_factory(runtime.engine, clock)
    roll_forward(new_uow)
    days = maintenance_days(runtime, party)
    assert sum(1 for d in days if d <= clock.today() + timedelta(days=90)) == 1, days
    assert all((b - a).days >= 90 for a, b in zip(days, days[1:], strict=False)), days
    assert roll_forward(new_uow)["calls_planned"] == 0
    for _ in range(20):  # day after day, nothing changes but the horizon moving on by a day
        clock.advance(days=1)
        roll_forward(new_uow)
    later = maintenance_days(runtime, party)
    assert len(later) <= len(days) + 1 and all((b - a).days >= 90 for a, b in zip(later, later[1:], strict=False))


def test_a_first_call_that_disappears_is_replaced_within_the_customers_first_interval(runtime):
    """Customers for 170 days whose first call failed (nothing made, nothing planned): the replacement falls
    within 182 days of the day they became customers, not 182 days from the re-planning day."""
    add_team(runtime.engine, capacity=20, members=2)
    clock = FixedClock(datetime(2026, 3, 2, 6, tzinfo=UTC))
    since = clock.today() - timedelta(days=170)
    parties = [add_customer(runtime.engine, customer_since=since) for _ in range(6)]
    roll_forward(uow_factory(runtime.engine, clock))
    for party in parties:
        first = min(maintenance_days(runtime, party))
        assert clock.today() <= first <= since + timedelta(days=182), (party, first)
        cycle = cycle_of(uow_factory(runtime.engine, clock)(), party, SUPERVISOR)
        assert cycle["satisfied"] and cycle["short_window"] is None


def test_the_cycle_is_satisfied_only_when_every_rolling_year_holds_the_minimum(runtime):
    add_team(runtime.engine)
    clock = FixedClock(datetime(2026, 3, 2, 6, tzinfo=UTC))
    today = clock.today()
    party = add_customer(runtime.engine, customer_since=today - timedelta(days=100))
    # two calls planned in the next 12 months, but none within the customer's first 12 months
    for offset in (300, 320):
        add_contact(runtime.engine, party, today + timedelta(days=offset), call_type="maintenance",
                    status="scheduled")
    cycle = cycle_of(uow_factory(runtime.engine, clock)(), party, SUPERVISOR)
    assert cycle["planned_in_horizon"] == 2
    assert cycle["satisfied"] is False
    assert cycle["short_window"] == {"start": today - timedelta(days=100), "end": today + timedelta(days=264)}


def test_becoming_a_customer_again_starts_a_new_cycle_from_that_day(runtime):
    add_team(runtime.engine)
    event = customer_event(version=2, occurred_at="2026-01-10T09:00:00+00:00")
    party_id = event.data["party_id"]
    apply(runtime, event)
    apply(runtime, customer_event(kind="updated", version=3, party_id=party_id,
                                  occurred_at="2026-02-01T09:00:00+00:00"))
    with runtime.engine.connect() as conn:
        since = conn.execute(select(orm.customer_replica.c.customer_since)
                             .where(orm.customer_replica.c.party_id == party_id)).scalar_one()
    assert since == date(2026, 1, 10)  # an update of a customer keeps the day it became one
    apply(runtime, customer_event(kind="deactivated", version=4, party_id=party_id, lifecycle_state="inactive",
                                  occurred_at="2026-03-01T09:00:00+00:00"),
          customer_event(version=5, party_id=party_id, occurred_at="2026-09-01T09:00:00+00:00"))
    with runtime.engine.connect() as conn:
        since = conn.execute(select(orm.customer_replica.c.customer_since)
                             .where(orm.customer_replica.c.party_id == party_id)).scalar_one()
    assert since == date(2026, 9, 1)


def test_a_move_to_another_territory_keeps_the_gap_between_the_calls_it_moves(runtime):
    """Two campaign calls 14 days apart (the gap) move with the customer to the new territory's team: each
    is re-placed keeping the gap to the other, not wherever the new team happens to be free."""
    old = add_team(runtime.engine, capacity=20)
    north = add_team(runtime.engine, capacity=20)
    with runtime.engine.begin() as conn:
        conn.execute(update(orm.territories).where(orm.territories.c.territory_id == north["territory_id"])
                     .values(postal_ranges=[["20000", "29999"]], line_of_business="retail"))
    clock = FixedClock(datetime(2026, 3, 2, 6, tzinfo=UTC))  # a Monday
    first = clock.today() + timedelta(days=21)
    window = (first, first + timedelta(days=27))
    party = add_customer(runtime.engine)
    for day in (first, first + timedelta(days=14)):
        add_contact(runtime.engine, party, day, call_type="campaign", status="scheduled", window=window,
                    agent_id=old["responsible"], territory_id=old["territory_id"])
    with runtime.engine.begin() as conn:
        conn.execute(update(orm.customer_replica).where(orm.customer_replica.c.party_id == party)
                     .values(postal_code="20095"))
    sync_parties(uow_factory(runtime.engine, clock)(), [party])
    scheduled = sorted((c for c in calls_of(runtime, party, "scheduled")), key=lambda c: c.due_on)
    assert all(c.territory_id == north["territory_id"] for c in scheduled)
    assert [c.call_type for c in scheduled if c.call_type == "campaign"] == ["campaign", "campaign"]
    days = [c.due_on for c in scheduled]
    assert all((b - a).days >= 14 for a, b in zip(days, days[1:], strict=False)), days


def test_a_visit_moves_or_cancels_the_planned_calls_inside_the_gap(runtime):
    """A visit today: the maintenance call due in 5 days is cancelled (the visit took its place), the campaign
    call due in 9 days moves to the first day of its window that keeps the gap, and the cycle plans on from the
    visit with the policy's spacing."""
    team = add_team(runtime.engine, capacity=20)
    clock = FixedClock(datetime(2026, 3, 2, 6, tzinfo=UTC))  # a Monday
    today = clock.today()
    party = add_customer(runtime.engine, customer_since=today - timedelta(days=150))
    maintenance = add_contact(runtime.engine, party, today + timedelta(days=5), call_type="maintenance",
                              status="scheduled", window=(today, today + timedelta(days=30)),
                              agent_id=team["responsible"], territory_id=team["territory_id"])
    campaign = add_contact(runtime.engine, party, today + timedelta(days=9), call_type="campaign",
                           status="scheduled", window=(today, today + timedelta(days=40)),
                           agent_id=team["responsible"], territory_id=team["territory_id"])
    record_contact(uow_factory(runtime.engine, clock)(),
                   RecordContact(party, "visit", today, "visited", SUPERVISOR))
    by_id = {c.call_id: c for c in calls_of(runtime, party)}
    assert by_id[maintenance].status == "cancelled"
    assert by_id[campaign].status == "scheduled" and by_id[campaign].due_on >= today + timedelta(days=14)
    days = sorted(c.due_on for c in by_id.values() if c.status == "scheduled")
    assert all((b - a).days >= 14 for a, b in zip([today, *days], days, strict=False)), days
    maintenance_days = [c.due_on for c in by_id.values() if c.status == "scheduled" and c.call_type == "maintenance"]
    assert maintenance_days and min(maintenance_days) >= today + timedelta(days=90)
    with runtime.engine.connect() as conn:  # bookings follow the calls
        loads = dict(conn.execute(text("SELECT day, sum(booked) FROM agent_day_loads GROUP BY day")).all())
    assert loads.get(today + timedelta(days=5), 0) == 0 and loads.get(today + timedelta(days=9), 0) == 0


def test_a_retry_keeps_the_gap_to_the_partys_other_calls(runtime):
    team = add_team(runtime.engine, capacity=20)
    clock = FixedClock(datetime(2026, 3, 2, 9, tzinfo=UTC))  # a Monday
    today = clock.today()
    party = add_customer(runtime.engine, customer_since=today - timedelta(days=30))
    maintenance = add_contact(runtime.engine, party, today, call_type="maintenance", status="scheduled",
                              window=(today, today + timedelta(days=60)), agent_id=team["responsible"],
                              territory_id=team["territory_id"])
    campaign_day = today + timedelta(days=14)
    add_contact(runtime.engine, party, campaign_day, call_type="campaign", status="scheduled",
                window=(campaign_day, campaign_day), agent_id=team["responsible"], territory_id=team["territory_id"])
    _, step = record_outcome(uow_factory(runtime.engine, clock)(),
                             RecordOutcome(maintenance, Outcome("not_reached", clock.now()), SUPERVISOR))
    retry = date.fromisoformat(step["due_on"])
    assert step["action"] == "retry" and abs((retry - campaign_day).days) >= 14, retry


def test_withdrawing_a_call_that_took_over_the_cycle_plans_the_cycle_again_at_once(runtime):
    add_team(runtime.engine, capacity=20)
    clock = FixedClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    today = clock.today()
    since = today - timedelta(days=150)
    party = add_customer(runtime.engine, customer_since=since)
    new_uow = uow_factory(runtime.engine, clock)
    window = DayWindow(today + timedelta(days=5), today + timedelta(days=12))
    [result] = request_calls(new_uow(), [RequestCall("spring:1", party, "campaign", window, "spring")])
    assert result.call is not None
    assert withdraw_requests(new_uow(), ["spring:1"], "left the campaign") == 1
    first = min(maintenance_days(runtime, party))
    assert today <= first <= since + timedelta(days=182), first
