"""The resource-planning API on a migrated PostgreSQL database: agents, absences (with re-planning), targets,
quotas and performance, territories (with calls following a change of hands), contact policies and rules.

Every validation case asserts the problem+json answer and that nothing stored changed."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from planning_fixtures import migrated_runtime
from calls_factories import snapshot
from crm_shared.auth import mint_token
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from crm_calls.adapters import orm
from crm_calls.adapters.repository import CustomerReplicaRepository
from crm_calls.domain.model import replica_from_snapshot

PROBLEM = "application/problem+json"
API = "/api/calls"
MISSING = "00000000-0000-4000-8000-000000000000"
WEEK = {day: ["08:00", "16:30"] for day in ("mon", "tue", "wed", "thu", "fri")}
AGENT = {"name": "Ada Agent", "role": "call_centre", "daily_capacity": 5, "working_hours": WEEK}
FIGURES = {"calls_made": 100, "customers_reached": 40, "appointments_booked": 10}
STATE_TABLES = ("agents", "agent_absences", "agent_targets", "role_quotas", "territories", "contact_policies",
                "planning_rules", "calls", "agent_day_loads", "outbox")


@pytest.fixture(scope="module")
def runtime(postgres_url, amqp_url):
    # module scope: one database for all tests here, dropped at the end; tests use their own agents/territories
    with migrated_runtime(postgres_url, amqp_url, "calls_resources") as runtime:
        yield runtime


@pytest.fixture(scope="module")
def client(runtime):
    return runtime.create_app().test_client()


@pytest.fixture(scope="module")
def auth(runtime):
    def headers(*roles, subject="alice"):
        token = mint_token(runtime.settings.jwt, subject, list(roles), ["*"])
        return {"Authorization": f"Bearer {token}"}
    return headers


@pytest.fixture(scope="module")
def planner(auth):
    return auth("planner", subject="paula")


@pytest.fixture(scope="module")
def make_agent(client, planner):
    def make(**overrides):
        body = {**AGENT, "name": f"Agent {uuid.uuid4().hex[:8]}", **overrides}
        response = client.post(f"{API}/agents", json=body, headers=planner)
        assert response.status_code == 201, response.get_json()
        return response.get_json()
    return make


@pytest.fixture(scope="module")
def make_territory(client, planner):
    def make(agent_id, substitute=None, **overrides):
        body = {"name": f"Territory {uuid.uuid4().hex[:8]}", "postal_ranges": [["99000", "99999"]],
                "agent_id": agent_id, "substitute_agent_id": substitute, **overrides}
        response = client.post(f"{API}/territories", json=body, headers=planner)
        assert response.status_code == 201, response.get_json()
        return response.get_json()
    return make


@pytest.fixture(scope="module")
def db(runtime):
    """Direct access for seeding and checking rows."""
    class Db:
        def party(self, postal_code="70100"):
            """A customer in the replica, written directly: the event handlers would plan its cycle."""
            data = snapshot(lifecycle_state="customer", line_of_business="insurance",
                            primary_address={"street": "Weg 1", "postal_code": postal_code, "city": "Stuttgart",
                                             "country": "DE"})
            with Session(runtime.engine) as session, session.begin():
                CustomerReplicaRepository(session).upsert_if_newer(
                    replica_from_snapshot(data, deactivated=False, event_time=None))
            return data["party_id"]

        def call(self, party_id, agent_id, due_on, territory_id=None, window=None, status="scheduled",
                 book=True, **extra):
            start, end = window or (due_on, due_on + timedelta(days=10))
            row = {"call_id": str(uuid.uuid4()), "party_id": party_id, "call_type": "maintenance", "status": status,
                   "line_of_business": "insurance", "territory_id": territory_id, "agent_id": agent_id,
                   "window_start": start, "window_end": end, "due_on": due_on, "created_at": datetime.now(UTC),
                   "version": 1, **extra}
            with runtime.engine.begin() as conn:
                conn.execute(insert(orm.calls).values(**row))
                if book:
                    self.book(agent_id, due_on, 1)
            return row["call_id"]

        def book(self, agent_id, day, count):
            from crm_shared.db import dialect_insert
            table = orm.agent_day_loads
            statement = dialect_insert(table, "postgresql").values(agent_id=agent_id, day=day, booked=count)
            with runtime.engine.begin() as conn:
                conn.execute(statement.on_conflict_do_update(
                    index_elements=[table.c.agent_id, table.c.day], set_={"booked": table.c.booked + count}))

        def get_call(self, call_id):
            with runtime.engine.connect() as conn:
                return conn.execute(select(orm.calls).where(orm.calls.c.call_id == call_id)).one()

        def load(self, agent_id, day):
            table = orm.agent_day_loads
            with runtime.engine.connect() as conn:
                return conn.scalar(select(table.c.booked).where(table.c.agent_id == agent_id, table.c.day == day)) or 0

        def events(self, type_suffix, call_id):
            table = runtime.messaging.outbox
            with runtime.engine.connect() as conn:
                rows = conn.execute(select(table.c.routing_key, table.c.body).order_by(table.c.position)).all()
            found = [json.loads(r.body) for r in rows if r.routing_key == f"crm.calls.{type_suffix}.v1"]
            return [e for e in found if e["data"]["call_id"] == call_id]

        def state(self):
            """Every row of every table the API can change, to prove a refused request changed nothing."""
            with runtime.engine.connect() as conn:
                return {name: sorted(map(repr, conn.execute(select(orm.metadata.tables[name]))))
                        for name in STATE_TABLES}
    return Db()


def assert_problem(response, status, field=None):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    if field is not None:
        fields = [e.get("field") for e in response.get_json().get("errors", [])]
        assert field in fields, response.get_json()
    return response.get_json()


def a_monday(weeks_ahead=2) -> date:
    today = datetime.now(UTC).date()
    return today + timedelta(days=7 * weeks_ahead - today.weekday())


# -- validation: every refused request is problem+json and changes nothing -------------------------------------
LATER = a_monday(3)
CASES = [
    # (method, path, json body or None, expected status, field named in errors or None)
    ("post", "/agents", {**AGENT, "daily_capacity": -1}, 422, "daily_capacity"),
    ("post", "/agents", {**AGENT, "daily_capacity": "five"}, 422, "daily_capacity"),
    ("post", "/agents", {**AGENT, "daily_capacity": "5"}, 422, "daily_capacity"),
    ("post", "/agents", {**AGENT, "daily_capacity": 2.5}, 422, "daily_capacity"),
    ("post", "/agents", {**AGENT, "daily_capacity": True}, 422, "daily_capacity"),
    ("post", "/agents", {**AGENT, "working_hours": {"funday": ["08:00", "16:00"]}}, 422, "working_hours"),
    ("post", "/agents", {**AGENT, "working_hours": {"mon": ["16:00", "08:00"]}}, 422, "working_hours"),
    ("post", "/agents", {**AGENT, "working_hours": {"mon": ["09:00", "09:00"]}}, 422, "working_hours"),
    ("post", "/agents", {**AGENT, "working_hours": {"mon": ["8am", "4pm"]}}, 422, "working_hours"),
    ("post", "/agents", {**AGENT, "working_hours": {"mon": ["08:00"]}}, 422, "working_hours"),
    ("post", "/agents", {**AGENT, "working_hours": {"mon": "08:00-16:00"}}, 422, "working_hours"),
    ("post", "/agents", {**AGENT, "working_hours": ["mon"]}, 422, "working_hours"),
    ("post", "/agents", {**AGENT, "role": "boss"}, 422, "role"),
    ("post", "/agents", {**AGENT, "name": ""}, 422, "name"),
    ("post", "/agents", {**AGENT, "name": "   "}, 422, "name"),
    ("post", "/agents", {**AGENT, "name": "x\x00y"}, 422, "name"),
    ("post", "/agents", {**AGENT, "name": 42}, 422, "name"),
    ("post", "/agents", {**AGENT, "active": "yes"}, 422, "active"),
    ("post", "/agents", {**AGENT, "colour": "red"}, 422, "colour"),
    ("post", "/agents", {k: v for k, v in AGENT.items() if k != "name"}, 422, "name"),
    ("post", "/agents", {k: v for k, v in AGENT.items() if k != "working_hours"}, 422, "working_hours"),
    ("post", "/agents", {k: v for k, v in AGENT.items() if k != "daily_capacity"}, 422, "daily_capacity"),
    ("post", "/agents", {**AGENT, "user_subject": "taken"}, 409, "user_subject"),
    ("post", "/agents", [AGENT], 422, None),
    ("get", "/agents?limit=0", None, 422, "limit"),
    ("get", "/agents?role=boss", None, 422, "role"),
    ("get", "/agents?active=maybe", None, 422, "active"),
    ("get", "/agents?cursor=garbage", None, 400, "cursor"),
    ("get", "/agents/not-a-uuid", None, 404, None),
    ("get", f"/agents/{MISSING}", None, 404, "agent_id"),
    ("patch", "/agents/{agent}", {}, 422, "_schema"),
    ("patch", "/agents/{agent}", {"daily_capacity": -1}, 422, "daily_capacity"),
    ("patch", "/agents/{agent}", {"working_hours": {"mon": ["17:00", "08:00"]}}, 422, "working_hours"),
    ("patch", "/agents/{agent}", {"working_hours": {"xyz": ["08:00", "16:00"]}}, 422, "working_hours"),
    ("patch", "/agents/{agent}", {"role": "boss"}, 422, "role"),
    ("patch", "/agents/{agent}", {"active": 1}, 422, "active"),
    ("patch", "/agents/{agent}", {"version": 7}, 422, "version"),
    ("patch", "/agents/{other}", {"user_subject": "taken"}, 409, "user_subject"),
    ("patch", f"/agents/{MISSING}", {"name": "B"}, 404, "agent_id"),
    ("patch", "/agents/not-a-uuid", {"name": "B"}, 404, None),
    ("post", "/agents/{agent}/absences", {"kind": "holiday", "first_day": "2030-05-10", "last_day": "2030-05-09"},
     422, "last_day"),
    ("post", "/agents/{agent}/absences", {"kind": "vacation", "first_day": "2030-05-10", "last_day": "2030-05-12"},
     422, "kind"),
    ("post", "/agents/{agent}/absences", {"kind": "holiday", "first_day": "2030-13-01", "last_day": "2030-05-12"},
     422, "first_day"),
    ("post", "/agents/{agent}/absences", {"kind": "holiday", "first_day": 20300510, "last_day": "2030-05-12"},
     422, "first_day"),
    ("post", "/agents/{agent}/absences", {"kind": "holiday", "first_day": "2030-05-10"}, 422, "last_day"),
    ("post", "/agents/{agent}/absences", {"first_day": "2030-05-10", "last_day": "2030-05-12"}, 422, "kind"),
    ("post", f"/agents/{MISSING}/absences", {"kind": "holiday", "first_day": "2030-05-10", "last_day": "2030-05-12"},
     404, "agent_id"),
    ("post", "/agents/nope/absences", {"kind": "holiday", "first_day": "2030-05-10", "last_day": "2030-05-12"},
     404, None),
    ("get", f"/agents/{MISSING}/absences", None, 404, "agent_id"),
    ("delete", f"/agents/{{agent}}/absences/{MISSING}", None, 404, "absence_id"),
    ("delete", "/agents/{agent}/absences/nope", None, 404, None),
    ("delete", f"/agents/{MISSING}/absences/{{absence}}", None, 404, "absence_id"),
    ("put", "/agents/{agent}/targets/2030-13", FIGURES, 422, "month"),
    ("put", "/agents/{agent}/targets/203001", FIGURES, 422, "month"),
    ("put", "/agents/{agent}/targets/2030-1", FIGURES, 422, "month"),
    ("put", "/agents/{agent}/targets/2030-01", {**FIGURES, "calls_made": -1}, 422, "calls_made"),
    ("put", "/agents/{agent}/targets/2030-01", {**FIGURES, "customers_reached": "40"}, 422, "customers_reached"),
    ("put", "/agents/{agent}/targets/2030-01", {"calls_made": 1, "customers_reached": 1}, 422,
     "appointments_booked"),
    ("put", f"/agents/{MISSING}/targets/2030-01", FIGURES, 404, "agent_id"),
    ("get", f"/agents/{MISSING}/targets", None, 404, "agent_id"),
    ("get", "/agents/{agent}/performance?month=2030-13", None, 422, "month"),
    ("get", "/agents/{agent}/performance?month=March", None, 422, "month"),
    ("get", "/agents/{agent}/performance", None, 422, "month"),
    ("get", f"/agents/{MISSING}/performance?month=2030-01", None, 404, "agent_id"),
    ("put", "/role-quotas/boss", FIGURES, 422, "role"),
    ("put", "/role-quotas/service", {**FIGURES, "appointments_booked": -3}, 422, "appointments_booked"),
    ("put", "/role-quotas/service", {**FIGURES, "calls_made": None}, 422, "calls_made"),
    ("get", "/role-quotas/boss", None, 422, "role"),
    ("post", "/territories", {"name": "North", "postal_ranges": [["10000", "19999"]], "agent_id": "{agent}"},
     409, "name"),
    ("post", "/territories", {"name": "T1", "postal_ranges": [["10000", "19999"]], "agent_id": MISSING},
     422, "agent_id"),
    ("post", "/territories", {"name": "T1", "postal_ranges": [["10000", "19999"]], "agent_id": "{agent}",
                              "substitute_agent_id": MISSING}, 422, "substitute_agent_id"),
    ("post", "/territories", {"name": "T1", "postal_ranges": [["10000", "19999"]], "agent_id": "{agent}",
                              "substitute_agent_id": "{agent}"}, 422, "substitute_agent_id"),
    ("post", "/territories", {"name": "T1", "regions": ["Ulm"], "agent_id": "{agent}", "member_agent_ids": [MISSING]},
     422, "member_agent_ids"),
    ("post", "/territories", {"name": "T1", "regions": ["Ulm"], "agent_id": "{agent}", "member_agent_ids": ["x"]},
     422, "member_agent_ids.0"),
    ("post", "/territories", {"name": "T1", "regions": ["Ulm"], "agent_id": "{agent}", "member_agent_ids": ["{other}"],
                              "substitute_agent_id": "{other}"}, 422, "substitute_agent_id"),
    ("post", "/territories", {"name": "T1", "agent_id": "{agent}"}, 422, "postal_ranges"),
    ("post", "/territories", {"name": "T1", "postal_ranges": [["1000", "99999"]], "agent_id": "{agent}"},
     422, "postal_ranges"),
    ("post", "/territories", {"name": "T1", "postal_ranges": [["20000", "10000"]], "agent_id": "{agent}"},
     422, "postal_ranges"),
    ("post", "/territories", {"name": "T1", "postal_ranges": [["10000"]], "agent_id": "{agent}"},
     422, "postal_ranges.0"),
    ("post", "/territories", {"name": "T1", "postal_ranges": "10000-19999", "agent_id": "{agent}"},
     422, "postal_ranges"),
    ("post", "/territories", {"name": "T1", "regions": ["Berlin"], "agent_id": "nope"}, 422, "agent_id"),
    ("post", "/territories", {"name": "T1", "regions": ["  "], "agent_id": "{agent}"}, 422, "regions.0"),
    ("post", "/territories", {"regions": ["Berlin"], "agent_id": "{agent}"}, 422, "name"),
    ("post", "/territories", {"name": "T1", "regions": ["Berlin"]}, 422, "agent_id"),
    ("get", "/territories?agent_id=nope", None, 422, "agent_id"),
    ("get", "/territories/nope", None, 404, None),
    ("get", f"/territories/{MISSING}", None, 404, "territory_id"),
    ("put", "/territories/{territory}", {"name": "South", "regions": ["Berlin"], "agent_id": "{agent}"},
     409, "name"),
    ("put", "/territories/{territory}", {"name": "North", "regions": ["Berlin"], "agent_id": MISSING},
     422, "agent_id"),
    ("put", "/territories/{territory}", {"name": "North", "agent_id": "{agent}"}, 422, "postal_ranges"),
    ("put", f"/territories/{MISSING}", {"name": "X", "regions": ["Berlin"], "agent_id": "{agent}"},
     404, "territory_id"),
    ("delete", "/territories/{busy}", None, 409, None),
    ("delete", f"/territories/{MISSING}", None, 404, "territory_id"),
    ("put", "/contact-policies/default", {"min_contacts": 0, "min_spacing_days": 10}, 422, "min_contacts"),
    ("put", "/contact-policies/default", {"min_contacts": 53, "min_spacing_days": 1}, 422, "min_contacts"),
    ("put", "/contact-policies/default", {"min_contacts": 4, "min_spacing_days": 100}, 422, "min_spacing_days"),
    ("put", "/contact-policies/default", {"min_contacts": 4, "min_spacing_days": -1}, 422, "min_spacing_days"),
    ("put", "/contact-policies/default", {"min_contacts": "4", "min_spacing_days": 10}, 422, "min_contacts"),
    ("put", "/contact-policies/default", {"min_contacts": 4}, 422, "min_spacing_days"),
    ("put", "/contact-policies/" + "s" * 65, {"min_contacts": 4, "min_spacing_days": 10}, 422, "segment"),
    ("put", "/planning-rules", {"gap_days": 91, "max_attempts": 3, "horizon_days": 365}, 422, "gap_days"),
    ("put", "/planning-rules", {"gap_days": 14, "max_attempts": 0, "horizon_days": 365}, 422, "max_attempts"),
    ("put", "/planning-rules", {"gap_days": 14, "max_attempts": 3, "horizon_days": 10}, 422, "horizon_days"),
    ("put", "/planning-rules", {"gap_days": 14, "max_attempts": 3}, 422, "horizon_days"),
    ("put", "/planning-rules", {"gap_days": 14.5, "max_attempts": 3, "horizon_days": 365}, 422, "gap_days"),
]


@pytest.fixture(scope="module")
def world(client, planner, make_agent, make_territory, db):
    agent = make_agent(user_subject="taken")
    other = make_agent()
    territory = make_territory(agent["agent_id"], name="North", postal_ranges=[["10000", "19999"]])
    make_territory(other["agent_id"], name="South", regions=["Munich"], postal_ranges=[])
    busy = make_territory(other["agent_id"], name="Busy", postal_ranges=[["88000", "88999"]])
    db.call(db.party("88100"), other["agent_id"], a_monday(4), busy["territory_id"])
    absence = client.post(f"{API}/agents/{other['agent_id']}/absences", headers=planner,
                          json={"kind": "training", "first_day": "2031-01-06", "last_day": "2031-01-07"})
    assert absence.status_code == 201
    return {"agent": agent["agent_id"], "other": other["agent_id"], "territory": territory["territory_id"],
            "busy": busy["territory_id"],
            "absence": absence.get_json()["absence_id"]}


def _filled(value, world):
    if isinstance(value, dict):
        return {k: _filled(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [_filled(v, world) for v in value]
    return value.format(**world) if isinstance(value, str) else value


@pytest.mark.parametrize("method, path, body, status, field", CASES,
                         ids=[f"{c[0]} {c[1][:40]} {c[3]} {c[4]}" for c in CASES])
def test_bad_input_is_a_problem_and_changes_nothing(client, planner, world, db, method, path, body, status, field):
    before = db.state()
    kwargs = {"json": _filled(body, world)} if body is not None else {}
    response = getattr(client, method)(API + _filled(path, world), headers=planner, **kwargs)
    assert_problem(response, status, field)
    assert db.state() == before


@pytest.mark.parametrize("path, body", [
    ("/agents/{agent}", {"name": "Renamed"}),
    ("/territories/{territory}", {"name": "North", "postal_ranges": [["10000", "19999"]], "agent_id": "{agent}"}),
    ("/contact-policies/default", {"min_contacts": 2, "min_spacing_days": 90}),
    ("/planning-rules", {"gap_days": 14, "max_attempts": 3, "horizon_days": 365}),
])
@pytest.mark.parametrize("if_match, status, field", [('"99"', 412, "If-Match"), ("1", 422, "If-Match"),
                                                     ("*", 422, "If-Match")])
def test_a_stale_or_malformed_if_match_changes_nothing(client, planner, world, db, path, body, if_match, status,
                                                       field):
    method = client.patch if path.startswith("/agents") else client.put
    before = db.state()
    response = method(API + _filled(path, world), json=_filled(body, world), headers={**planner, "If-Match": if_match})
    assert_problem(response, status, field)
    assert db.state() == before


@pytest.mark.parametrize("method, path, body", [
    ("post", "/agents", AGENT),
    ("patch", "/agents/{agent}", {"name": "B"}),
    ("post", "/agents/{agent}/absences", {"kind": "holiday", "first_day": "2030-05-10", "last_day": "2030-05-12"}),
    ("delete", "/agents/{agent}/absences/{absence}", None),
    ("put", "/agents/{agent}/targets/2030-01", FIGURES),
    ("put", "/role-quotas/service", FIGURES),
    ("post", "/territories", {"name": "T9", "regions": ["Berlin"], "agent_id": "{agent}"}),
    ("put", "/territories/{territory}", {"name": "North", "regions": ["Berlin"], "agent_id": "{agent}"}),
    ("delete", "/territories/{territory}", None),
    ("put", "/contact-policies/default", {"min_contacts": 3, "min_spacing_days": 30}),
    ("put", "/planning-rules", {"gap_days": 7, "max_attempts": 3, "horizon_days": 365}),
])
@pytest.mark.parametrize("roles", [("sales",), ("agent",), ("supervisor",), ()])
def test_changes_need_the_planner_role(client, auth, world, db, method, path, body, roles):
    before = db.state()
    kwargs = {"json": _filled(body, world)} if body is not None else {}
    response = getattr(client, method)(API + _filled(path, world), headers=auth(*roles), **kwargs)
    assert_problem(response, 403)
    assert db.state() == before


@pytest.mark.parametrize("path", ["/agents", "/agents/{agent}", "/agents/{agent}/absences", "/agents/{agent}/targets",
                                  "/territories", "/territories/{territory}", "/role-quotas", "/contact-policies",
                                  "/planning-rules"])
def test_reading_needs_a_token_and_no_role(client, auth, world, path):
    assert_problem(client.get(API + _filled(path, world)), 401)
    assert client.get(API + _filled(path, world), headers=auth()).status_code == 200


# -- agents -------------------------------------------------------------------------------------------------------
def test_register_read_change_and_list_agents(client, planner, auth):
    created = client.post(f"{API}/agents", headers=planner, json={
        "name": "Zoe Field", "role": "field_sales", "daily_capacity": 6, "user_subject": "zoe",
        "working_hours": {"fri": ["08:00", "12:00"], "mon": ["09:00", "17:30"]}})
    assert created.status_code == 201 and created.headers["ETag"] == '"1"'
    agent = created.get_json()
    assert agent["working_hours"] == {"mon": ["09:00", "17:30"], "fri": ["08:00", "12:00"]}
    assert (agent["role"], agent["daily_capacity"], agent["active"], agent["version"]) == ("field_sales", 6, True, 1)

    url = f"{API}/agents/{agent['agent_id']}"
    read = client.get(url, headers=auth())
    assert read.get_json() == agent and read.headers["ETag"] == '"1"'

    changed = client.patch(url, headers={**planner, "If-Match": '"1"'},
                           json={"daily_capacity": 0, "working_hours": {"tue": ["07:00", "15:00"]}, "active": False})
    assert changed.status_code == 200 and changed.headers["ETag"] == '"2"'
    body = changed.get_json()
    assert (body["daily_capacity"], body["working_hours"], body["active"]) == (0, {"tue": ["07:00", "15:00"]}, False)
    assert body["name"] == "Zoe Field" and body["user_subject"] == "zoe"
    unlinked = client.patch(url, headers={**planner, "If-Match": 'W/"2"'}, json={"user_subject": None})
    assert unlinked.get_json()["user_subject"] is None and unlinked.headers["ETag"] == '"3"'

    inactive = client.get(f"{API}/agents?role=field_sales&active=false", headers=auth()).get_json()["items"]
    assert agent["agent_id"] in [a["agent_id"] for a in inactive]
    active = client.get(f"{API}/agents?role=field_sales&active=true", headers=auth()).get_json()["items"]
    assert agent["agent_id"] not in [a["agent_id"] for a in active]


def test_agents_page_by_name(client, auth, make_agent):
    for _ in range(3):
        make_agent(role="service")
    seen, cursor = [], None
    while True:
        query = {"limit": 2, "role": "service", **({"cursor": cursor} if cursor else {})}
        page = client.get(f"{API}/agents", query_string=query, headers=auth()).get_json()
        seen += [(a["name"], a["agent_id"]) for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) >= 3 and seen == sorted(seen) and len(set(seen)) == len(seen)


def test_an_idempotent_retry_registers_one_agent(client, planner, db):
    headers = {**planner, "Idempotency-Key": f"agent-{uuid.uuid4()}"}
    body = {**AGENT, "name": f"Once {uuid.uuid4().hex[:6]}"}
    first = client.post(f"{API}/agents", json=body, headers=headers)
    again = client.post(f"{API}/agents", json=body, headers=headers)
    assert again.headers.get("Idempotent-Replayed") == "true" and again.get_json() == first.get_json()
    names = [row for row in db.state()["agents"] if body["name"] in row]
    assert len(names) == 1


# -- absences re-plan the agent's calls -----------------------------------------------------------------------------
def test_an_absence_moves_the_agents_call_to_the_substitute_on_the_same_day(client, planner, auth, db, make_agent,
                                                                             make_territory):
    a, b = make_agent(daily_capacity=5), make_agent(daily_capacity=5)
    territory = make_territory(a["agent_id"], b["agent_id"], postal_ranges=[["70000", "70999"]])
    day = a_monday(2)
    call_id = db.call(db.party("70100"), a["agent_id"], day, territory["territory_id"])
    assert (db.load(a["agent_id"], day), db.load(b["agent_id"], day)) == (1, 0)

    response = client.post(f"{API}/agents/{a['agent_id']}/absences", headers=planner, json={
        "kind": "holiday", "first_day": day.isoformat(), "last_day": (day + timedelta(days=2)).isoformat(),
        "note": "Lisbon"})

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["replanned"] == {"moved_same_day": 1, "moved_other_day": 0, "overflow": 0}
    assert (body["kind"], body["first_day"], body["note"]) == ("holiday", day.isoformat(), "Lisbon")
    call = db.get_call(call_id)
    assert (call.agent_id, call.due_on, call.status, call.version) == (b["agent_id"], day, "scheduled", 2)
    assert (db.load(a["agent_id"], day), db.load(b["agent_id"], day)) == (0, 1)
    [event] = db.events("call_rescheduled", call_id)
    assert event["data"]["agent_id"] == b["agent_id"] and event["data"]["previous_agent_id"] == a["agent_id"]
    assert event["data"]["reason"] == "agent absent: holiday" and event["data"]["due_on"] == day.isoformat()
    listed = client.get(f"{API}/agents/{a['agent_id']}/absences", headers=auth()).get_json()["items"]
    assert [x["absence_id"] for x in listed] == [body["absence_id"]]


def test_an_absence_moves_a_call_to_another_day_when_the_substitute_is_full(client, planner, db, make_agent,
                                                                            make_territory):
    a, b = make_agent(daily_capacity=5), make_agent(daily_capacity=1)
    territory = make_territory(a["agent_id"], b["agent_id"], postal_ranges=[["71000", "71999"]])
    day = a_monday(2)
    db.book(b["agent_id"], day, 1)  # the substitute's only slot that day is taken
    call_id = db.call(db.party("71100"), a["agent_id"], day, territory["territory_id"])

    response = client.post(f"{API}/agents/{a['agent_id']}/absences", headers=planner, json={
        "kind": "sickness", "first_day": day.isoformat(), "last_day": day.isoformat()})

    assert response.get_json()["replanned"] == {"moved_same_day": 0, "moved_other_day": 1, "overflow": 0}
    call = db.get_call(call_id)
    assert call.status == "scheduled" and day < call.due_on <= call.window_end
    assert db.load(a["agent_id"], day) == 0 and db.load(call.agent_id, call.due_on) == 1
    assert db.events("call_rescheduled", call_id)[0]["data"]["reason"] == "agent absent: sickness"


def test_an_absence_overflows_a_call_nobody_can_take(client, planner, db, make_agent, make_territory):
    a = make_agent(daily_capacity=5)
    territory = make_territory(a["agent_id"], postal_ranges=[["72000", "72999"]])
    day = a_monday(2)
    call_id = db.call(db.party("72100"), a["agent_id"], day, territory["territory_id"],
                      window=(day, day + timedelta(days=1)))
    other_agents_call = db.call(db.party("72200"), a["agent_id"], day + timedelta(days=7), territory["territory_id"])

    response = client.post(f"{API}/agents/{a['agent_id']}/absences", headers=planner, json={
        "kind": "training", "first_day": day.isoformat(), "last_day": (day + timedelta(days=1)).isoformat()})

    assert response.get_json()["replanned"] == {"moved_same_day": 0, "moved_other_day": 0, "overflow": 1}
    call = db.get_call(call_id)
    assert (call.status, call.agent_id, call.due_on) == ("overflow", None, None)
    assert db.load(a["agent_id"], day) == 0
    assert db.events("call_overflowed", call_id)
    assert db.get_call(other_agents_call).agent_id == a["agent_id"]  # outside the absence: untouched


def test_deleting_an_absence(client, planner, auth, make_agent):
    a = make_agent()
    url = f"{API}/agents/{a['agent_id']}/absences"
    created = client.post(url, headers=planner, json={"kind": "other", "first_day": "2031-02-03",
                                                      "last_day": "2031-02-03"}).get_json()
    assert created["replanned"] == {"moved_same_day": 0, "moved_other_day": 0, "overflow": 0}
    assert client.delete(f"{url}/{created['absence_id']}", headers=planner).status_code == 204
    assert client.get(url, headers=auth()).get_json()["items"] == []
    assert_problem(client.delete(f"{url}/{created['absence_id']}", headers=planner), 404, "absence_id")


# -- targets, quotas, performance -----------------------------------------------------------------------------------
def test_targets_and_role_quotas(client, planner, auth, make_agent):
    a = make_agent()
    url = f"{API}/agents/{a['agent_id']}/targets"
    assert client.put(f"{url}/2030-02", json=FIGURES, headers=planner).get_json() == {"month": "2030-02", **FIGURES}
    assert client.put(f"{url}/2030-01", json=FIGURES, headers=planner).status_code == 200
    changed = {**FIGURES, "calls_made": 120}
    assert client.put(f"{url}/2030-02", json=changed, headers=planner).status_code == 200
    assert client.get(url, headers=auth()).get_json()["items"] == [{"month": "2030-01", **FIGURES},
                                                                    {"month": "2030-02", **changed}]
    assert client.put(f"{API}/role-quotas/service", json=FIGURES, headers=planner).get_json() == \
        {"role": "service", **FIGURES}
    assert client.get(f"{API}/role-quotas/service", headers=auth()).get_json() == {"role": "service", **FIGURES}
    assert {"role": "service", **FIGURES} in client.get(f"{API}/role-quotas", headers=auth()).get_json()["items"]
    assert_problem(client.get(f"{API}/role-quotas/field_sales", headers=auth()), 404, "role")


def test_performance_counts_the_calls_closed_in_the_month(client, planner, auth, db, make_agent):
    agent = make_agent(role="key_account_manager", user_subject=f"kam-{uuid.uuid4().hex[:6]}")
    colleague = make_agent(role="key_account_manager")
    x, y, z = db.party(), db.party(), db.party()
    march = lambda day, hour=12: datetime(2025, 3, day, hour, tzinfo=UTC)  # noqa: E731
    closed = dict(book=False, due_on=date(2025, 3, 3))
    for party, status, outcome, at in [
            (x, "completed", "reached", march(5)), (x, "completed", "appointment_booked", march(10)),
            (y, "completed", "interest_noted", march(20)), (z, "failed", "not_reached", march(31, 23)),
            (z, "completed", "reached", datetime(2025, 4, 1, tzinfo=UTC)),  # April
            (y, "cancelled", None, march(12))]:
        db.call(party, agent["agent_id"], status=status, outcome=outcome, closed_at=at, **closed)
    db.call(x, colleague["agent_id"], status="completed", outcome="reached", closed_at=march(5), **closed)
    db.call(y, agent["agent_id"], status="scheduled", outcome="not_reached", attempts=1, book=False,
            due_on=date(2025, 3, 28))  # an attempt, still open: not counted until it closes
    url = f"{API}/agents/{agent['agent_id']}/performance"

    assert client.put(f"{API}/agents/{agent['agent_id']}/targets/2025-03", headers=planner,
                      json={"calls_made": 8, "customers_reached": 4, "appointments_booked": 0}).status_code == 200
    own = client.get(f"{url}?month=2025-03", headers=auth("supervisor"))
    assert own.status_code == 200, own.get_json()
    assert own.get_json() == {"agent_id": agent["agent_id"], "month": "2025-03", "target_source": "agent", "figures": {
        "calls_made": {"target": 8, "actual": 4, "ratio": "0.500"},
        "customers_reached": {"target": 4, "actual": 2, "ratio": "0.500"},
        "appointments_booked": {"target": 0, "actual": 1, "ratio": None}}}

    none = client.get(f"{url}?month=2025-04", headers=auth("planner")).get_json()
    assert none["target_source"] is None and none["figures"]["calls_made"] == {"target": None, "actual": 1,
                                                                               "ratio": None}
    client.put(f"{API}/role-quotas/key_account_manager", headers=planner,
               json={"calls_made": 4, "customers_reached": 1, "appointments_booked": 1})
    quota = client.get(f"{url}?month=2025-04", headers=auth("agent", subject=agent["user_subject"])).get_json()
    assert quota["target_source"] == "role"
    assert quota["figures"]["calls_made"] == {"target": 4, "actual": 1, "ratio": "0.250"}
    assert quota["figures"]["customers_reached"] == {"target": 1, "actual": 1, "ratio": "1.000"}

    assert_problem(client.get(f"{url}?month=2025-03", headers=auth("agent", subject="someone-else")), 403)
    assert_problem(client.get(f"{url}?month=2025-03", headers=auth("sales")), 403)
    assert client.get(f"{url}?month=2025-03", headers=auth("admin")).status_code == 200


# -- territories ------------------------------------------------------------------------------------------------------
def test_create_read_list_and_rename_a_territory(client, planner, auth, make_agent):
    a, b = make_agent(), make_agent()
    created = client.post(f"{API}/territories", headers=planner, json={
        "name": f"Rhine {uuid.uuid4().hex[:6]}", "line_of_business": "insurance",
        "postal_ranges": [["50 000", "50999"]], "regions": ["Köln "], "agent_id": a["agent_id"],
        "substitute_agent_id": b["agent_id"]})
    assert created.status_code == 201 and created.headers["ETag"] == '"1"'
    territory = created.get_json()
    assert territory["postal_ranges"] == [["50000", "50999"]] and territory["regions"] == ["köln"]
    url = f"{API}/territories/{territory['territory_id']}"
    assert client.get(url, headers=auth()).get_json() == territory

    mine = client.get(f"{API}/territories?agent_id={b['agent_id']}", headers=auth()).get_json()["items"]
    assert [t["territory_id"] for t in mine] == [territory["territory_id"]]

    renamed = client.put(url, headers={**planner, "If-Match": '"1"'}, json={
        "name": territory["name"] + " West", "postal_ranges": [["50000", "50999"]], "agent_id": a["agent_id"],
        "substitute_agent_id": b["agent_id"]})
    assert renamed.status_code == 200 and renamed.headers["ETag"] == '"2"'
    assert renamed.get_json()["replanned"] is None and renamed.get_json()["regions"] == []


def test_a_territory_changing_hands_takes_its_open_calls_along(client, planner, db, make_agent, make_territory):
    old, new, substitute = make_agent(), make_agent(), make_agent()
    territory = make_territory(old["agent_id"], substitute["agent_id"], postal_ranges=[["73000", "73999"]])
    day = a_monday(2)
    moving = db.call(db.party("73100"), old["agent_id"], day, territory["territory_id"])
    with_substitute = db.call(db.party("73200"), substitute["agent_id"], day, territory["territory_id"])
    body = {"name": territory["name"], "postal_ranges": [["73000", "73999"]], "agent_id": new["agent_id"],
            "substitute_agent_id": substitute["agent_id"]}

    response = client.put(f"{API}/territories/{territory['territory_id']}", json=body,
                          headers={**planner, "If-Match": '"1"'})

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["replanned"] == {"moved_same_day": 2, "moved_other_day": 0, "overflow": 0}
    assert db.get_call(moving).agent_id == new["agent_id"] and db.get_call(moving).due_on == day
    assert db.get_call(with_substitute).agent_id == new["agent_id"]
    assert (db.load(old["agent_id"], day), db.load(substitute["agent_id"], day), db.load(new["agent_id"], day)) == \
        (0, 0, 2)
    assert db.events("call_rescheduled", moving)[0]["data"]["reason"] == "territory changed hands"

    # only the substitute changes: calls of the responsible agent stay where they are
    body["substitute_agent_id"] = old["agent_id"]
    again = client.put(f"{API}/territories/{territory['territory_id']}", json=body, headers=planner)
    assert again.get_json()["replanned"] == {"moved_same_day": 0, "moved_other_day": 0, "overflow": 0}
    assert db.get_call(moving).version == 2


def test_a_territory_without_open_calls_can_be_deleted(client, planner, auth, db, make_agent, make_territory):
    a = make_agent()
    territory = make_territory(a["agent_id"], postal_ranges=[["74000", "74999"]])
    url = f"{API}/territories/{territory['territory_id']}"
    call_id = db.call(db.party("74100"), a["agent_id"], a_monday(2), territory["territory_id"])
    assert_problem(client.delete(url, headers=planner), 409)
    with db_engine(client) as conn:
        conn.execute(orm.calls.update().where(orm.calls.c.call_id == call_id).values(status="cancelled"))
    assert client.delete(url, headers=planner).status_code == 204
    assert_problem(client.get(url, headers=auth()), 404, "territory_id")


def test_a_planner_of_one_line_cannot_read_or_change_another_lines_territories(client, runtime, planner, db,
                                                                                 make_agent, make_territory):
    a, b = make_agent(), make_agent()
    insurance = make_territory(a["agent_id"], postal_ranges=[["75000", "75999"]], line_of_business="insurance")
    call_id = db.call(db.party("75100"), a["agent_id"], a_monday(2), insurance["territory_id"])
    token = mint_token(runtime.settings.jwt, "rita", ["planner"], ["retail"])
    retailer = {"Authorization": f"Bearer {token}"}
    own = client.post(f"{API}/territories", headers=retailer, json={
        "name": f"Retail {uuid.uuid4().hex[:6]}", "line_of_business": "retail", "postal_ranges": [["75000", "75999"]],
        "agent_id": a["agent_id"]}).get_json()
    before = db.state()
    url = f"{API}/territories/{insurance['territory_id']}"
    body = {"name": insurance["name"], "line_of_business": "insurance", "postal_ranges": [["75000", "75999"]],
            "agent_id": b["agent_id"]}

    assert_problem(client.get(url, headers=retailer), 404, "territory_id")
    listed = client.get(f"{API}/territories?agent_id={a['agent_id']}&limit=100", headers=retailer).get_json()
    assert [t["territory_id"] for t in listed["items"]] == [own["territory_id"]]
    assert_problem(client.put(url, json=body, headers=retailer), 404, "territory_id")
    assert_problem(client.delete(url, headers=retailer), 404, "territory_id")
    assert_problem(client.post(f"{API}/territories", json={**body, "name": "Elsewhere"}, headers=retailer), 422,
                   "line_of_business")
    assert_problem(client.put(f"{API}/territories/{own['territory_id']}", json={**body, "name": own["name"]},
                              headers=retailer), 422, "line_of_business")
    assert db.state() == before
    assert db.get_call(call_id).agent_id == a["agent_id"]


def db_engine(client):
    return client.application.extensions["crm"]["engine"].begin()


# -- contact policies and planning rules ----------------------------------------------------------------------------
def test_contact_policies(client, planner, auth):
    policies = {p["segment"]: p for p in client.get(f"{API}/contact-policies", headers=auth()).get_json()["items"]}
    assert policies["default"]["min_contacts"] == 2 and policies["key_account"]["max_interval"] == 91
    created = client.put(f"{API}/contact-policies/vip", json={"min_contacts": 6, "min_spacing_days": 30},
                         headers={**planner, "If-Match": '"0"'})
    assert created.status_code == 200 and created.headers["ETag"] == '"1"'
    assert created.get_json() == {"segment": "vip", "min_contacts": 6, "min_spacing_days": 30, "max_interval": 60,
                                  "version": 1}
    changed = client.put(f"{API}/contact-policies/vip", json={"min_contacts": 4, "min_spacing_days": 60},
                         headers={**planner, "If-Match": '"1"'})
    assert changed.headers["ETag"] == '"2"' and changed.get_json()["min_contacts"] == 4
    assert_problem(client.put(f"{API}/contact-policies/vip", json={"min_contacts": 4, "min_spacing_days": 60},
                              headers={**planner, "If-Match": '"1"'}), 412, "If-Match")


def test_planning_rules(client, planner, auth):
    read = client.get(f"{API}/planning-rules", headers=auth())
    version = read.get_json()["version"]
    assert read.headers["ETag"] == f'"{version}"'
    assert {k: v for k, v in read.get_json().items() if k != "version"} == \
        {"gap_days": 14, "max_attempts": 3, "horizon_days": 365}
    changed = client.put(f"{API}/planning-rules", headers={**planner, "If-Match": f'"{version}"'},
                         json={"gap_days": 7, "max_attempts": 5, "horizon_days": 180})
    assert changed.status_code == 200 and changed.get_json() == {"gap_days": 7, "max_attempts": 5,
                                                                 "horizon_days": 180, "version": version + 1}
    restored = client.put(f"{API}/planning-rules", headers=planner,
                          json={"gap_days": 14, "max_attempts": 3, "horizon_days": 365})
    assert restored.headers["ETag"] == f'"{version + 2}"'


def test_every_endpoint_is_documented_with_its_problems(client):
    spec = client.get(f"{API}/openapi.json").get_json()
    operations = {(path, method): op for path, item in spec["paths"].items() for method, op in item.items()
                  if method in ("get", "post", "put", "patch", "delete")
                  and set(op.get("tags", ())) & {"agents", "territories", "planning_rules"}}
    assert len(operations) == 22
    for (path, method), operation in operations.items():
        assert operation.get("summary"), (path, method)
        codes = set(operation["responses"])
        assert codes & {"200", "201", "204"}, (path, method)
        if method != "get":
            assert "403" in codes, (path, method)
            assert operation["responses"]["403"]["content"].get(PROBLEM), (path, method)
