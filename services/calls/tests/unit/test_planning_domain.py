"""The planning rules on their own: cycle gaps, capacity placement, territories, interference, outcomes."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from crm_calls.domain.calls import COMPLETED, FAILED, SCHEDULED, Call, Outcome
from crm_calls.domain.errors import CallClosed, InvalidInput
from crm_calls.domain.interference import ACCEPTED, OVERFLOW, REFUSED, SHIFTED, TOOK_OVER, PartyContact, \
    resolve_request
from crm_calls.domain.policy import ContactPolicy, DayWindow, PlanningRules, next_gap, reserve_days, short_window
from crm_calls.domain.resources import Absence, Agent
from crm_calls.domain.scheduling import CapacityBook, gap_blocker
from crm_calls.domain.territories import Territory, TerritoryMap

TODAY = date(2026, 1, 5)  # a Monday
WEEKDAYS = {d: (time(8), time(16, 30)) for d in ("mon", "tue", "wed", "thu", "fri")}
DEFAULT = ContactPolicy("default", min_contacts=2, min_spacing_days=90)


def agent(agent_id="a", capacity=2, hours=None, absences=()):
    return Agent(agent_id, agent_id.upper(), "call_centre", capacity, hours or WEEKDAYS, absences=list(absences))


def day(n: int) -> date:
    return TODAY + timedelta(days=n)


# -- contact policy -------------------------------------------------------------------------------------
def test_policy_interval_keeps_every_rolling_year_covered():
    assert DEFAULT.max_interval == 182 and 2 * DEFAULT.max_interval < 365
    key = ContactPolicy("key", min_contacts=4, min_spacing_days=30)
    assert key.max_interval == 91 and 4 * key.max_interval < 365


@pytest.mark.parametrize("kwargs", [{"min_contacts": 0}, {"min_contacts": 2, "min_spacing_days": 200},
                                    {"min_contacts": 2, "min_spacing_days": -1}])
def test_policy_rejects_impossible_settings(kwargs):
    with pytest.raises(InvalidInput):
        ContactPolicy("x", **kwargs)


@pytest.mark.parametrize("kwargs", [{"gap_days": -1}, {"max_attempts": 0}, {"horizon_days": 10}])
def test_planning_rules_are_bounded(kwargs):
    with pytest.raises(InvalidInput):
        PlanningRules(**kwargs)


def test_new_customer_first_call_falls_within_one_interval_less_the_reserve():
    # 182 days at most, of which the last 28 are kept for a replacement should this call fail
    assert reserve_days(DEFAULT) == 28
    assert next_gap(DEFAULT, None, [], TODAY, day(365)) == DayWindow(TODAY, day(154))


def test_next_call_window_follows_the_last_contact_with_spacing():
    assert next_gap(DEFAULT, day(-10), [], TODAY, day(365)) == DayWindow(day(80), day(144))


def test_covered_cycle_needs_nothing():
    assert next_gap(DEFAULT, None, [day(100), day(280)], TODAY, day(365)) is None


def test_a_gap_between_planned_calls_is_found():
    # contact 20 days ago, next planned only in 250 days: a call is needed between them
    assert next_gap(DEFAULT, day(-20), [day(250)], TODAY, day(365)) == DayWindow(day(70), day(134))


def test_far_first_planned_call_still_needs_an_early_one():
    assert next_gap(DEFAULT, None, [day(300)], TODAY, day(365)) == DayWindow(TODAY, day(154))


def test_overdue_cycle_calls_as_soon_as_possible():
    window = next_gap(DEFAULT, day(-400), [], TODAY, day(365))
    assert window.start == TODAY and window.end == day(90)


def test_an_overdue_gap_once_planned_is_not_planned_again():
    # the overdue window is filled by a call in it: the next gap follows that call, not the same window again
    assert next_gap(DEFAULT, day(-400), [day(30)], TODAY, day(365)) == DayWindow(day(120), day(184))
    # a call waiting for capacity (its window over) still stands for the contact: it can happen from today
    assert next_gap(DEFAULT, day(-400), [day(-3)], TODAY, day(365)) == DayWindow(day(90), day(154))


def test_a_failed_call_late_in_its_window_is_replaced_before_the_deadline():
    # last contact 160 days ago and nothing planned (the call planned in its window failed): the window ends on
    # the deadline, 182 days after the contact, so the rolling year still holds two contacts
    assert next_gap(DEFAULT, day(-160), [], TODAY, day(365)) == DayWindow(TODAY, day(22))


def test_the_first_window_is_anchored_on_the_day_the_party_became_a_customer():
    # a customer for 100 days whose first call failed: the replacement keeps to the first 182 days
    assert next_gap(DEFAULT, None, [], TODAY, day(365), anchor=day(-100)) == DayWindow(TODAY, day(54))
    assert next_gap(DEFAULT, None, [], TODAY, day(365), anchor=day(-170)) == DayWindow(TODAY, day(12))
    # a contact before the anchor (a reactivated customer) does not count for the new cycle
    assert next_gap(DEFAULT, day(-300), [], TODAY, day(365), anchor=day(-10)) == DayWindow(TODAY, day(144))


def test_short_window_finds_the_first_rolling_year_short_of_the_minimum():
    since = day(-100)
    # one contact on day 180 after becoming a customer: [since, since + 364] holds only one
    assert short_window(DEFAULT, since, [day(80), day(400)], TODAY, day(365)) == DayWindow(since, day(264))
    assert short_window(DEFAULT, since, [day(-10), day(150), day(300)], TODAY, day(365)) is None
    assert short_window(DEFAULT, since, [day(-10), day(150)], TODAY, day(365)) == DayWindow(day(-9), day(355))
    # a contact drops out: the window starting the day after it is short
    assert short_window(DEFAULT, day(-300), [day(-290), day(-120), day(100)], TODAY, day(365)) == \
        DayWindow(day(-289), day(75))


def test_window_cannot_end_before_it_starts():
    with pytest.raises(InvalidInput):
        DayWindow(day(5), day(4))


# -- capacity -------------------------------------------------------------------------------------------
def test_capacity_follows_calendar_and_absences():
    holiday = Absence("h", "a", "holiday", day(1), day(2))
    a = agent(capacity=3, absences=[holiday])
    assert a.capacity_on(TODAY) == 3
    assert a.capacity_on(day(1)) == 0 and a.capacity_on(day(2)) == 0
    assert a.capacity_on(day(5)) == 0  # Saturday
    assert a.slots_on(TODAY) == ("morning", "afternoon")


@pytest.mark.parametrize("kwargs", [{"kind": "party"}, {"first_day": day(3), "last_day": day(2)}])
def test_absence_validation(kwargs):
    values = {"absence_id": "x", "agent_id": "a", "kind": "holiday", "first_day": day(1), "last_day": day(2)}
    with pytest.raises(InvalidInput):
        Absence(**{**values, **kwargs})


def test_agent_capacity_cannot_be_negative():
    with pytest.raises(InvalidInput):
        agent(capacity=-1)


def test_book_never_exceeds_capacity_and_spills_to_the_next_agent():
    book = CapacityBook({"a": agent("a", 1), "b": agent("b", 1)}, base=TODAY)
    one_day = DayWindow(TODAY, TODAY)
    placed = [book.place(["a", "b"], one_day) for _ in range(3)]
    assert [p.agent_id if p else None for p in placed] == ["a", "b", None]
    assert book.free("a", TODAY) == 0 and book.changes[("a", TODAY)] == 1


def test_placement_spreads_over_the_window():
    book = CapacityBook({"a": agent("a", 50)}, base=TODAY)
    window = DayWindow(TODAY, day(27))
    days = {book.place(["a"], window, key=k).day for k in range(200)}
    assert len(days) == 20  # every working day of four weeks used, not only the first


def test_release_frees_the_slot_again():
    book = CapacityBook({"a": agent("a", 1)}, base=TODAY)
    placement = book.place(["a"], DayWindow(TODAY, TODAY))
    book.release(placement.agent_id, placement.day)
    assert book.place(["a"], DayWindow(TODAY, TODAY)) is not None


def test_gap_blocker_blocks_days_closer_than_the_gap():
    blocked = gap_blocker([day(20)], 14)
    assert blocked(day(7)) and blocked(day(33)) and not blocked(day(6)) and not blocked(day(34))
    assert gap_blocker([day(20)], 0) is None


# -- territories ----------------------------------------------------------------------------------------
def test_territory_matches_postal_range_region_and_line():
    north = Territory("n", "North", "a", postal_ranges=[("10000", "19999")], regions=["Hamburg"],
                      line_of_business="retail")
    general = Territory("g", "All", "b", postal_ranges=[("00000", "99999")])
    territories = TerritoryMap([general, north])
    assert territories.territory_for("12345", None, "retail") is north
    assert territories.territory_for("99999", "hamburg", "retail") is north
    assert territories.territory_for("12345", None, "wholesale") is general
    assert territories.territory_for("1234", None, "wholesale") is None


@pytest.mark.parametrize("kwargs", [{"postal_ranges": [], "regions": []},
                                    {"postal_ranges": [("20000", "10000")]},
                                    {"postal_ranges": [("100", "19999")]},
                                    {"substitute_agent_id": "a"}])
def test_territory_validation(kwargs):
    with pytest.raises(InvalidInput):
        Territory("t", "T", "a", **{"postal_ranges": [("10000", "19999")], **kwargs})


def test_a_customer_keeps_one_responsible_agent_of_the_team():
    team = Territory("t", "T", "a", postal_ranges=[("0", "9")], member_agent_ids=["b", "c"],
                     substitute_agent_id="s")
    for key in (0, 1 << 20, 2 << 20, 12345678901):
        order = team.agents_for(key)
        assert order == team.agents_for(key) and order[-1] == "s" and sorted(order[:3]) == ["a", "b", "c"]
    assert {team.agents_for(k)[0] for k in range(300)} == {"a", "b", "c"}


# -- interference ---------------------------------------------------------------------------------------
def contact(call_id, n, call_type="maintenance", window=None, open_=True):
    return PartyContact(call_id, call_type, day(n), window or DayWindow(day(n - 30), day(n + 30)), open_)


def book_for(*agents_):
    return CapacityBook({a.agent_id: a for a in agents_ or (agent("a", 5),)}, base=TODAY - timedelta(days=1))


def test_request_without_neighbours_is_accepted():
    result = resolve_request(DayWindow(day(10), day(20)), [contact("m", 100)], 14, book_for(), ["a"], 0)
    assert result.decision == ACCEPTED and day(10) <= result.placement.day <= day(20)


def test_campaign_call_takes_over_a_maintenance_call_inside_its_window():
    maintenance = contact("m", 15, window=DayWindow(day(0), day(40)))
    result = resolve_request(DayWindow(day(10), day(20)), [maintenance], 14, book_for(), ["a"], 0)
    assert result.decision == TOOK_OVER and result.taken_over == ["m"]
    assert day(10) <= result.placement.day <= day(20)


def test_shift_to_the_first_free_day_when_takeover_does_not_fit():
    # the maintenance call's window does not overlap the request's, so it cannot be taken over
    maintenance = contact("m", 12, window=DayWindow(day(5), day(12)))
    result = resolve_request(DayWindow(day(13), day(40)), [maintenance], 14, book_for(), ["a"], 0)
    assert result.decision == SHIFTED and result.placement.day == day(28)  # day 26 is a Saturday


def test_refused_when_every_day_collides():
    other = contact("c", 15, call_type="campaign")
    result = resolve_request(DayWindow(day(10), day(20)), [other], 14, book_for(), ["a"], 0)
    assert result.decision == REFUSED and "c (campaign" in result.reason and result.placement is None


def test_completed_contacts_also_block_the_gap():
    done = contact("done", 2, call_type="service", open_=False)
    result = resolve_request(DayWindow(TODAY, day(20)), [done], 14, book_for(), ["a"], 0)
    assert result.decision == SHIFTED and result.placement.day == day(16)


def test_overflow_when_no_agent_has_capacity():
    result = resolve_request(DayWindow(day(5), day(6)), [], 14, book_for(agent("a", 0)), ["a"], 0)
    assert result.decision == OVERFLOW and result.placement is None


# -- calls and outcomes ---------------------------------------------------------------------------------
NOW = datetime(2026, 1, 5, 10, tzinfo=UTC)


def new_call(**kwargs):
    values = dict(call_id="c1", party_id="p", call_type="maintenance", status=SCHEDULED, line_of_business="retail",
                  window=DayWindow(TODAY, day(30)), created_at=NOW, agent_id="a", due_on=TODAY)
    return Call(**{**values, **kwargs})


@pytest.mark.parametrize("kwargs", [{"outcome": "maybe"}, {"outcome": "rejected"},
                                    {"outcome": "callback_requested"}, {"outcome": "appointment_booked"},
                                    {"outcome": "interest_noted"}, {"outcome": "interest_noted", "interest": "x"},
                                    {"outcome": "callback_requested", "callback_at": NOW - timedelta(hours=1)},
                                    {"outcome": "reached", "next_contact_on": TODAY}])
def test_outcome_validation(kwargs):
    with pytest.raises(InvalidInput):
        Outcome(recorded_at=NOW, **kwargs)


def test_not_reached_stays_open_until_the_attempts_run_out():
    call = new_call()
    assert call.record(Outcome("not_reached", NOW), "u", max_attempts=2, script_version=None) is False
    assert call.is_open and call.attempts == 1
    assert call.record(Outcome("not_reached", NOW), "u", max_attempts=2, script_version=None) is True
    assert call.status == FAILED and call.completed_on is None


def test_a_reached_call_is_a_contact_and_closes():
    call = new_call()
    assert call.record(Outcome("rejected", NOW, rejection_reason="no_budget"), "u", 3, 2) is True
    assert call.status == COMPLETED and call.completed_on == TODAY and call.script_version == 2
    with pytest.raises(CallClosed):
        call.record(Outcome("reached", NOW), "u", 3, None)
    with pytest.raises(CallClosed):
        call.cancel("late", NOW)


def test_retry_moves_to_the_other_time_of_day():
    assert new_call(slot="morning").other_slot() == "afternoon"
    assert new_call().retry_window(TODAY) == DayWindow(day(1), day(30))


def test_a_team_change_moves_only_the_customers_of_who_came_or_went():
    before = Territory("t", "T", "a", postal_ranges=[("0", "9")], member_agent_ids=["b", "c"])
    after = Territory("t", "T", "a", postal_ranges=[("0", "9")], member_agent_ids=["b", "c", "d"])
    keys = range(0, 3000, 7)
    moved = [k for k in keys if before.agents_for(k)[0] != after.agents_for(k)[0]]
    assert all(after.agents_for(k)[0] == "d" for k in moved)  # every customer who moved went to the newcomer
    assert 0.15 < len(moved) / len(keys) < 0.35  # about a quarter, not almost everyone


def test_a_takeover_keeps_the_contact_near_the_maintenance_day():
    maintenance = contact("m", 24, window=DayWindow(day(0), day(60)))  # day 24 is a Friday
    result = resolve_request(DayWindow(day(10), day(40)), [maintenance], 14, book_for(), ["a"], key=3)
    assert result.decision == TOOK_OVER and result.placement.day == day(24)
