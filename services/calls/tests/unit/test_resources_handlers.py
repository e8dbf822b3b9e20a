"""The resource-planning use cases on a SQLite database built by the service's own migrations."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from calls_factories import snapshot
from crm_shared.auth import Principal
from crm_shared.config import Settings
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from crm_calls.adapters import orm
from crm_calls.adapters.repository import CustomerReplicaRepository
from crm_calls.bootstrap import build_runtime
from crm_calls.domain.calls import Call
from crm_calls.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from crm_calls.domain.model import replica_from_snapshot
from crm_calls.domain.policy import DayWindow
from crm_calls.domain.territories import Territory
from crm_calls.service_layer import resources as use_cases
from crm_calls.service_layer.planner import party_key
from crm_calls.service_layer.resources import VersionMismatch, _leaves_with
from crm_calls.service_layer.unit_of_work import CallsUnitOfWork

WEEK = {day: ["08:00", "16:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
EVERY_LINE = Principal("paula", frozenset({"planner"}), frozenset({"*"}))
INSURANCE = Principal("ines", frozenset({"planner"}), frozenset({"insurance"}))


@pytest.fixture
def runtime(tmp_path):
    runtime = build_runtime(Settings.from_env("calls", database_url=f"sqlite:///{tmp_path}/calls.db",
                                              amqp_url="memory://"))
    runtime.migrate()
    yield runtime
    runtime.engine.dispose()


@pytest.fixture
def uow(runtime):
    sessions = sessionmaker(runtime.engine, expire_on_commit=False)
    return lambda: CallsUnitOfWork(sessions, runtime.messaging.outbox, "calls")


def agent(uow, **overrides):
    values = {"name": f"Agent {uuid.uuid4().hex[:6]}", "role": "call_centre", "daily_capacity": 5,
              "working_hours": WEEK, **overrides}
    return use_cases.register_agent(uow(), **values)


def rows(runtime, table):
    with runtime.engine.connect() as conn:
        return conn.execute(select(table)).all()


def seed_call(runtime, agent_id, day, territory_id, line="insurance"):
    data = snapshot(lifecycle_state="customer", line_of_business=line)
    with Session(runtime.engine) as session, session.begin():
        CustomerReplicaRepository(session).upsert_if_newer(replica_from_snapshot(data, deactivated=False,
                                                                                 event_time=None))
    call_id = str(uuid.uuid4())
    with runtime.engine.begin() as conn:
        conn.execute(insert(orm.calls).values(
            call_id=call_id, party_id=data["party_id"], call_type="maintenance", status="scheduled",
            line_of_business=line, territory_id=territory_id, agent_id=agent_id, window_start=day,
            window_end=day + timedelta(days=10), due_on=day, created_at=datetime.now(UTC), version=1))
        conn.execute(insert(orm.agent_day_loads).values(agent_id=agent_id, day=day, booked=1))
    return call_id


def next_monday(weeks=2) -> date:
    today = datetime.now(UTC).date()
    return today + timedelta(days=7 * weeks - today.weekday())


def test_update_agent_checks_the_version_and_the_rules_and_keeps_the_row_on_refusal(runtime, uow):
    ada = agent(uow, user_subject="ada")
    with pytest.raises(VersionMismatch):
        use_cases.update_agent(uow(), ada.agent_id, {"name": "Ada B"}, expected_version=2)
    with pytest.raises(InvalidInput) as error:
        use_cases.update_agent(uow(), ada.agent_id, {"daily_capacity": -1})
    assert error.value.field == "daily_capacity"
    with pytest.raises(InvalidInput):
        use_cases.update_agent(uow(), ada.agent_id, {"working_hours": {"mon": ["10:00", "09:00"]}})
    [row] = rows(runtime, orm.agents)
    assert (row.name, row.daily_capacity, row.version) == (ada.name, 5, 1)

    changed = use_cases.update_agent(uow(), ada.agent_id, {"daily_capacity": 3, "role": "service"}, 1)
    assert (changed.daily_capacity, changed.role, changed.version) == (3, "service", 2)
    assert use_cases.get_agent(uow(), ada.agent_id) == changed


def test_a_user_subject_belongs_to_one_agent(uow):
    agent(uow, user_subject="bob")
    with pytest.raises(Conflict) as error:
        agent(uow, user_subject="bob")
    assert error.value.field == "user_subject"
    other = agent(uow)
    with pytest.raises(Conflict):
        use_cases.update_agent(uow(), other.agent_id, {"user_subject": "bob"})


def test_an_absence_hands_the_days_calls_to_a_team_member(runtime, uow):
    absent, member = agent(uow), agent(uow)
    territory = use_cases.create_territory(uow(), EVERY_LINE, name="Team", agent_id=absent.agent_id,
                                           member_agent_ids=[member.agent_id], postal_ranges=[("10000", "19999")])
    day = next_monday()
    call_id = seed_call(runtime, absent.agent_id, day, territory.territory_id)

    absence, counts = use_cases.add_absence(uow(), absent.agent_id, kind="sickness", first_day=day, last_day=day)

    assert counts == {"moved_same_day": 1, "moved_other_day": 0, "overflow": 0}
    [call] = rows(runtime, orm.calls)
    assert (call.call_id, call.agent_id, call.due_on) == (call_id, member.agent_id, day)
    loads = {(r.agent_id, r.day): r.booked for r in rows(runtime, orm.agent_day_loads)}
    assert loads == {(absent.agent_id, day): 0, (member.agent_id, day): 1}
    assert [r.routing_key for r in rows(runtime, runtime.messaging.outbox)] == ["crm.calls.call_rescheduled.v1"]
    assert use_cases.list_absences(uow(), absent.agent_id) == [absence]


def test_an_absence_for_an_unknown_agent_stores_nothing(runtime, uow):
    with pytest.raises(NotFound):
        use_cases.add_absence(uow(), str(uuid.uuid4()), kind="holiday", first_day=date(2030, 1, 1),
                              last_day=date(2030, 1, 2))
    with pytest.raises(InvalidInput):
        use_cases.add_absence(uow(), agent(uow).agent_id, kind="holiday", first_day=date(2030, 1, 2),
                              last_day=date(2030, 1, 1))
    assert rows(runtime, orm.agent_absences) == []


def test_which_calls_leave_with_a_territory_changing_hands():
    def call(agent_id):
        party = str(uuid.uuid4())
        return Call(str(uuid.uuid4()), party, "maintenance", "scheduled", "insurance",
                    DayWindow(date(2030, 1, 1), date(2030, 1, 9)), datetime.now(UTC), agent_id=agent_id)

    old = Territory("t", "T", "a", postal_ranges=[("1", "9")], substitute_agent_id="s")
    new_responsible = Territory("t", "T", "b", postal_ranges=[("1", "9")], substitute_agent_id="s")
    new_substitute = Territory("t", "T", "a", postal_ranges=[("1", "9")], substitute_agent_id="z")
    assert _leaves_with(call("a"), old, new_responsible) and _leaves_with(call("s"), old, new_responsible)
    assert not _leaves_with(call("b"), old, new_responsible)
    assert not _leaves_with(call("a"), old, new_substitute)
    assert _leaves_with(call("s"), old, new_substitute)  # the old substitute is out
    assert _leaves_with(call(None), old, new_substitute)  # overflow gets another chance

    team = Territory("t", "T", "a", postal_ranges=[("1", "9")], member_agent_ids=["m"])
    smaller = Territory("t", "T", "a", postal_ranges=[("1", "9")])
    for _ in range(20):
        c = call(None)
        c.agent_id = team.agents_for(party_key(c.party_id))[0]
        assert _leaves_with(c, team, smaller) == (c.agent_id == "m")


def test_territory_rules_are_checked_before_anything_is_stored(runtime, uow):
    a = agent(uow)
    with pytest.raises(InvalidInput) as error:
        use_cases.create_territory(uow(), EVERY_LINE, name="X", agent_id=a.agent_id,
                                   member_agent_ids=[str(uuid.uuid4())], regions=["Ulm"])
    assert error.value.field == "member_agent_ids"
    use_cases.create_territory(uow(), EVERY_LINE, name="X", agent_id=a.agent_id, regions=["Ulm"])
    with pytest.raises(Conflict):
        use_cases.create_territory(uow(), EVERY_LINE, name="X", agent_id=a.agent_id, regions=["Bonn"])
    assert len(rows(runtime, orm.territories)) == 1


def test_a_territory_with_open_calls_is_not_deleted(runtime, uow):
    a = agent(uow)
    territory = use_cases.create_territory(uow(), EVERY_LINE, name="Busy", agent_id=a.agent_id, regions=["Ulm"])
    seed_call(runtime, a.agent_id, next_monday(), territory.territory_id)
    with pytest.raises(Conflict):
        use_cases.delete_territory(uow(), EVERY_LINE, territory.territory_id)
    assert use_cases.get_territory(uow(), EVERY_LINE, territory.territory_id) == territory


def test_a_planner_of_one_line_sees_and_manages_only_territories_of_that_line(runtime, uow):
    a = agent(uow)
    retail = use_cases.create_territory(uow(), EVERY_LINE, name="Retail", agent_id=a.agent_id, regions=["Ulm"],
                                        line_of_business="retail")
    everywhere = use_cases.create_territory(uow(), EVERY_LINE, name="All", agent_id=a.agent_id, regions=["Bonn"])
    own = use_cases.create_territory(uow(), INSURANCE, name="Insurance", agent_id=a.agent_id, regions=["Köln"],
                                     line_of_business="insurance")
    listed = use_cases.list_territories(uow(), INSURANCE, limit=10, after=None, agent_id=None)
    assert [t.name for t in listed] == ["All", "Insurance"]
    assert len(use_cases.list_territories(uow(), EVERY_LINE, limit=10, after=None, agent_id=a.agent_id)) == 3
    assert use_cases.get_territory(uow(), INSURANCE, everywhere.territory_id) == everywhere
    with pytest.raises(NotFound):
        use_cases.get_territory(uow(), INSURANCE, retail.territory_id)
    fields = {"name": "Moved", "agent_id": a.agent_id, "regions": ["Ulm"]}
    for line in ("retail", None):
        with pytest.raises(InvalidInput) as created:
            use_cases.create_territory(uow(), INSURANCE, **fields, line_of_business=line)
        assert created.value.field == "line_of_business"
        with pytest.raises(InvalidInput) as moved:  # giving one's own territory to another line, or to all
            use_cases.replace_territory(uow(), INSURANCE, own.territory_id, {**fields, "line_of_business": line})
        assert moved.value.field == "line_of_business"
    with pytest.raises(NotFound):
        use_cases.replace_territory(uow(), INSURANCE, retail.territory_id, {**fields, "line_of_business": "insurance"})
    with pytest.raises(Forbidden):
        use_cases.replace_territory(uow(), INSURANCE, everywhere.territory_id,
                                    {**fields, "line_of_business": "insurance"})
    with pytest.raises(NotFound):
        use_cases.delete_territory(uow(), INSURANCE, retail.territory_id)
    with pytest.raises(Forbidden):
        use_cases.delete_territory(uow(), INSURANCE, everywhere.territory_id)
    stored = {r.territory_id: (r.name, r.line_of_business, r.version) for r in rows(runtime, orm.territories)}
    assert stored == {retail.territory_id: ("Retail", "retail", 1), everywhere.territory_id: ("All", None, 1),
                      own.territory_id: ("Insurance", "insurance", 1)}
    use_cases.replace_territory(uow(), INSURANCE, own.territory_id, {**fields, "line_of_business": "insurance"})
    use_cases.delete_territory(uow(), INSURANCE, own.territory_id)
    assert len(rows(runtime, orm.territories)) == 2


def test_a_territory_changing_hands_moves_no_call_the_planner_may_not_see(runtime, uow):
    old, new = agent(uow), agent(uow)
    territory = use_cases.create_territory(uow(), EVERY_LINE, name="Mixed", agent_id=old.agent_id,
                                           postal_ranges=[("10000", "19999")])
    day = next_monday()
    insurance_call = seed_call(runtime, old.agent_id, day, territory.territory_id)
    retail_call = seed_call(runtime, old.agent_id, day + timedelta(days=1), territory.territory_id, line="retail")
    # an all-lines planner narrows the territory to insurance; the retail call is still there
    use_cases.replace_territory(uow(), EVERY_LINE, territory.territory_id,
                                {"name": "Mixed", "agent_id": old.agent_id, "postal_ranges": [("10000", "19999")],
                                 "line_of_business": "insurance"})

    _, counts = use_cases.replace_territory(uow(), INSURANCE, territory.territory_id,
                                            {"name": "Mixed", "agent_id": new.agent_id,
                                             "postal_ranges": [("10000", "19999")], "line_of_business": "insurance"})

    assert counts == {"moved_same_day": 1, "moved_other_day": 0, "overflow": 0}
    agents = {r.call_id: r.agent_id for r in rows(runtime, orm.calls)}
    assert agents == {insurance_call: new.agent_id, retail_call: old.agent_id}


def test_policies_and_rules_carry_versions(uow):
    with pytest.raises(VersionMismatch):
        use_cases.set_contact_policy(uow(), "vip", min_contacts=4, min_spacing_days=30, expected_version=1)
    created = use_cases.set_contact_policy(uow(), "vip", min_contacts=4, min_spacing_days=30, expected_version=0)
    assert created.version == 1
    assert use_cases.set_contact_policy(uow(), "vip", min_contacts=5, min_spacing_days=30).version == 2
    with pytest.raises(InvalidInput):
        use_cases.set_contact_policy(uow(), "vip", min_contacts=5, min_spacing_days=80)

    _, version = use_cases.get_planning_rules(uow())
    with pytest.raises(VersionMismatch):
        use_cases.set_planning_rules(uow(), gap_days=7, max_attempts=3, horizon_days=365,
                                     expected_version=version + 1)
    rules, new_version = use_cases.set_planning_rules(uow(), gap_days=7, max_attempts=3, horizon_days=365,
                                                      expected_version=version)
    assert (rules.gap_days, new_version) == (7, version + 1)
    assert use_cases.get_planning_rules(uow()) == (rules, new_version)


@pytest.mark.parametrize("month, start, after", [("2025-01", datetime(2025, 1, 1, tzinfo=UTC), "2025-02"),
                                                 ("2025-12", datetime(2025, 12, 1, tzinfo=UTC), "2026-01")])
def test_months(month, start, after):
    assert use_cases.month_start(month) == start and use_cases._next_month(month) == after


@pytest.mark.parametrize("month", ["2025-13", "2025-00", "25-01", "2025-1", "2025/01", ""])
def test_malformed_months(month):
    with pytest.raises(InvalidInput):
        use_cases.month_start(month)


def test_performance_is_for_the_agent_a_supervisor_or_a_planner(uow):
    kim = agent(uow, user_subject="kim")
    who = lambda subject, *roles: Principal(subject, frozenset(roles), frozenset())  # noqa: E731
    for reader in (who("kim", "agent"), who("x", "supervisor"), who("y", "planner"), who("z", "admin")):
        report = use_cases.agent_performance(uow(), kim.agent_id, "2030-01", reader)
        assert report["figures"]["calls_made"] == {"target": None, "actual": 0, "ratio": None}
    with pytest.raises(Forbidden):
        use_cases.agent_performance(uow(), kim.agent_id, "2030-01", who("kimberly", "agent"))
    nobody = agent(uow)
    with pytest.raises(Forbidden):  # an agent without a user_subject is not "everyone without a sub"
        use_cases.agent_performance(uow(), nobody.agent_id, "2030-01", who("", "agent"))
