"""Call execution over HTTP on a migrated PostgreSQL database: scripts and their versions, the rejection-reason
catalogue, the agent's work queue and the rejection analysis; every endpoint's bad input answers problem+json
and changes nothing. Calls, parties and agents are inserted as rows (the planning code makes them in real use)."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from planning_fixtures import migrated_runtime
from crm_shared.auth import mint_token
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from crm_calls.adapters import orm
from crm_calls.adapters.execution_repository import ExecutionRepository

PROBLEM = "application/problem+json"
API = "/api/calls"
DAY = date(2030, 5, 6)
NOW = datetime.now(UTC)
AGENT_A, AGENT_B, AGENT_C = (str(uuid.uuid4()) for _ in range(3))
MISSING = "00000000-0000-4000-8000-000000000000"
STEPS = [{"prompt": "Greet", "questions": []},
         {"prompt": "Offer", "questions": [
             {"id": "interested", "text": "Interested?", "kind": "yes_no", "required": True},
             {"id": "size", "text": "Size", "kind": "choice", "choices": ["small", "large"]}]}]


@pytest.fixture(scope="module")
def runtime(postgres_url, amqp_url):
    # module scope: one database for all tests here, dropped at the end
    with migrated_runtime(postgres_url, amqp_url, "calls_exec") as runtime:
        yield runtime


@pytest.fixture(scope="module")
def client(runtime):
    return runtime.create_app().test_client()


@pytest.fixture(scope="module")
def auth(runtime):
    def headers(roles=("supervisor",), lines=("*",), sub="sam"):
        return {"Authorization": "Bearer " + mint_token(runtime.settings.jwt, sub, list(roles), list(lines))}
    return headers


@pytest.fixture(scope="module")
def insert(runtime):
    """Row inserters for the tables other code fills in real use."""
    def rows(table, *values):
        with runtime.engine.begin() as conn:
            conn.execute(table.insert(), list(values))
    return rows


def party(lob="insurance", **overrides):
    values = {"party_id": str(uuid.uuid4()), "kind": "company", "display_name": "Acme GmbH",
              "lifecycle_state": "customer", "customer_number": "C-1", "line_of_business": lob,
              "postal_code": "10115", "city": "Berlin", "phone": "+49 30 1", "email": "info@acme.example",
              "segment": "default", "version": 1, "updated_at": NOW, "deactivated": False}
    return {**values, **overrides}


def call(party_row, **overrides):
    values = {"call_id": str(uuid.uuid4()), "party_id": party_row["party_id"], "call_type": "maintenance",
              "status": "scheduled", "line_of_business": party_row["line_of_business"], "agent_id": AGENT_A,
              "window_start": DAY - timedelta(days=7), "window_end": DAY + timedelta(days=7), "due_on": DAY,
              "slot": "morning", "priority": 0, "attempts": 0, "created_at": NOW, "version": 1}
    optional = ("campaign_id", "outcome", "rejection_reason", "script_id", "script_version", "completed_on",
                "closed_at", "remind_at")
    return {**dict.fromkeys(optional), **values, **overrides}  # executemany wants the same keys in every row


def agent(agent_id, subject, name):
    return {"agent_id": agent_id, "name": name, "role": "call_centre", "user_subject": subject,
            "daily_capacity": 20, "working_hours": {"mon": ["08:00", "16:00"]}, "active": True, "version": 1}


@pytest.fixture(scope="module")
def stored(runtime):
    """Everything the endpoints here could change, to compare before and after a refused request."""
    def snapshot():
        with runtime.engine.connect() as conn:
            return {
                "scripts": conn.execute(select(orm.call_scripts).order_by(
                    orm.call_scripts.c.script_id, orm.call_scripts.c.version)).all(),
                "reasons": conn.execute(select(orm.rejection_reasons).order_by(orm.rejection_reasons.c.code)).all(),
                "calls": conn.execute(select(orm.calls).order_by(orm.calls.c.call_id)).all(),
                "outbox": conn.execute(select(func.count()).select_from(runtime.messaging.outbox)).scalar(),
            }
    return snapshot


def assert_problem(response, status, field=None):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    if field is not None:
        assert field in [e.get("field") for e in response.get_json().get("errors", [])], response.get_json()
    return response.get_json()


@pytest.fixture(scope="module")
def world(runtime, insert):
    """Agents, parties and calls for the work queue (on DAY) and the analysis (closed in 2024)."""
    insert(orm.agents, agent(AGENT_A, "agent-a", "Anna"), agent(AGENT_B, "agent-b", "Ben"),
           agent(AGENT_C, "agent-c", "Cleo"))
    insurer, bank, leasing = party("insurance", display_name="Insurer"), party("banking", display_name="Bank"), \
        party("leasing", display_name="Lease Co")
    insert(orm.customer_replica, insurer, bank, leasing)
    ids = {}

    def add(key, party_row, **overrides):
        row = call(party_row, **overrides)
        ids[key] = row["call_id"]
        return row

    past, future = DAY - timedelta(days=3), DAY + timedelta(days=3)
    insert(orm.calls,
           # agent A's queue on DAY
           add("low", insurer, priority=0, window_end=DAY + timedelta(days=2)),
           add("high", insurer, priority=5),
           add("same_prio_late_end", insurer, priority=3, window_end=DAY + timedelta(days=20)),
           add("same_prio_early_end", insurer, priority=3, window_end=DAY + timedelta(days=1)),
           add("campaign", bank, call_type="campaign", campaign_id="spring-2030", priority=1),
           add("reminder", insurer, call_type="follow_up", due_on=future, priority=0,
               remind_at=datetime.combine(DAY, datetime.min.time(), UTC) + timedelta(hours=9)),
           # not in the queue
           add("other_day", insurer, due_on=future),
           add("done", insurer, status="completed", outcome="reached", completed_on=DAY),
           add("overflow", insurer, status="overflow", agent_id=None, due_on=None),
           add("reminder_later", insurer, call_type="follow_up", due_on=future,
               remind_at=datetime.combine(future, datetime.min.time(), UTC)),
           add("reminder_not_follow_up", insurer, call_type="service", due_on=future,
               remind_at=datetime.combine(past, datetime.min.time(), UTC)),
           add("agent_b", insurer, agent_id=AGENT_B),
           # agent C, today: one due today, one follow-up reminded an hour ago, one reminded in an hour
           add("c_today", leasing, agent_id=AGENT_C, due_on=NOW.date()),
           add("c_reminded", leasing, agent_id=AGENT_C, call_type="follow_up", due_on=NOW.date() + timedelta(9),
               remind_at=NOW - timedelta(hours=1)),
           add("c_not_yet", leasing, agent_id=AGENT_C, call_type="follow_up", due_on=NOW.date() + timedelta(9),
               remind_at=NOW + timedelta(hours=1)))

    def closed(key, party_row, outcome, when, reason=None, **overrides):
        return add(key, party_row, status="completed" if outcome != "not_reached" else "failed", outcome=outcome,
                   rejection_reason=reason, closed_at=when, due_on=when.date(), attempts=1,
                   completed_on=when.date() if outcome != "not_reached" else None, **overrides)

    jan, feb = datetime(2024, 1, 15, 10, tzinfo=UTC), datetime(2024, 2, 10, 23, 30, tzinfo=UTC)
    insert(orm.calls,
           closed("r1", insurer, "rejected", jan, "no_interest", campaign_id="spring", agent_id=AGENT_A),
           closed("r2", insurer, "rejected", jan, "no_interest", agent_id=AGENT_B),
           closed("r3", insurer, "rejected", feb, "no_budget", campaign_id="spring", agent_id=AGENT_A),
           closed("r4", bank, "rejected", feb, "has_supplier", agent_id=AGENT_B),
           closed("r5", leasing, "rejected", feb, "no_interest", campaign_id="autumn", agent_id=AGENT_A),
           closed("ok1", insurer, "reached", jan, agent_id=AGENT_A),
           closed("ok2", bank, "appointment_booked", feb, campaign_id="spring", agent_id=AGENT_B),
           closed("ok3", insurer, "not_reached", feb, agent_id=AGENT_A),
           closed("before", insurer, "rejected", datetime(2023, 12, 31, 23, 59, tzinfo=UTC), "no_interest"),
           closed("after", insurer, "rejected", datetime(2024, 3, 1, 0, 0, tzinfo=UTC), "no_interest"))
    return ids


# -- scripts ---------------------------------------------------------------------------------------------------
def create_script(client, auth, **body):
    body = {"name": "Spring offer", "campaign_id": "spring-2030", "steps": STEPS, **body}
    response = client.post(f"{API}/scripts", json=body, headers=auth())
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_the_seeded_scripts_are_listed_one_per_call_type(client, auth):
    response = client.get(f"{API}/scripts", query_string={"call_type": "maintenance"}, headers=auth(["agent"]))
    assert response.status_code == 200
    [maintenance] = response.get_json()["items"]
    assert (maintenance["name"], maintenance["version"], maintenance["predefined"]) == ("Maintenance call", 1, True)
    assert maintenance["script_id"] == str(uuid.uuid5(uuid.NAMESPACE_URL, "crm-calls-script:maintenance"))
    assert maintenance["steps"][1]["questions"][0]["id"] == "satisfaction"


def test_a_script_is_created_revised_and_its_old_version_kept(client, auth):
    created = create_script(client, auth, name="Summer offer", campaign_id="summer-2030")
    script_id = created["script_id"]
    assert (created["version"], created["predefined"], created["created_by"], created["call_type"]) == \
        (1, False, "sam", None)
    assert client.get(f"{API}/scripts/{script_id}", headers=auth(["agent"])).get_json() == created

    steps = [{"prompt": "Shorter offer", "questions": [{"id": "ok", "text": "OK?", "kind": "yes_no"}]}]
    response = client.put(f"{API}/scripts/{script_id}", json={"name": "Summer offer v2", "steps": steps},
                          headers=auth(["planner"], sub="pat"))
    assert response.status_code == 200, response.get_json()
    revised = response.get_json()
    assert (revised["version"], revised["name"], revised["campaign_id"], revised["created_by"]) == \
        (2, "Summer offer v2", "summer-2030", "pat")
    assert revised["steps"][0]["questions"][0] == {"id": "ok", "text": "OK?", "kind": "yes_no", "required": False}
    assert client.get(f"{API}/scripts/{script_id}", headers=auth()).get_json()["version"] == 2
    assert client.get(f"{API}/scripts/{script_id}/versions/1", headers=auth()).get_json() == created
    assert client.get(f"{API}/scripts/{script_id}/versions/2", headers=auth()).get_json() == revised
    listed = client.get(f"{API}/scripts", query_string={"campaign_id": "summer-2030"}, headers=auth()).get_json()
    assert [(s["script_id"], s["version"]) for s in listed["items"]] == [(script_id, 2)]


def test_a_predefined_script_is_versioned_but_not_deleted(client, auth, stored):
    service_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "crm-calls-script:service"))
    response = client.put(f"{API}/scripts/{service_id}", json={"name": "Service call", "steps": STEPS},
                          headers=auth(["admin"], lines=[]))
    assert response.status_code == 200
    assert (response.get_json()["version"], response.get_json()["predefined"]) == (2, True)
    before = stored()
    assert_problem(client.delete(f"{API}/scripts/{service_id}", headers=auth()), 409, "script_id")
    assert stored() == before


def test_a_users_script_is_deleted_unless_calls_refer_to_it(client, auth, insert, stored):
    unused = create_script(client, auth, name="Unused", campaign_id="unused")
    assert client.delete(f"{API}/scripts/{unused['script_id']}", headers=auth()).status_code == 204
    assert_problem(client.get(f"{API}/scripts/{unused['script_id']}", headers=auth()), 404)

    used = create_script(client, auth, name="Used", campaign_id="used")
    customer = party("insurance")
    insert(orm.customer_replica, customer)
    insert(orm.calls, call(customer, agent_id=None, status="overflow", due_on=None, script_id=used["script_id"],
                           script_version=1))
    before = stored()
    assert_problem(client.delete(f"{API}/scripts/{used['script_id']}", headers=auth()), 409, "script_id")
    assert stored() == before


def test_scripts_list_in_pages_by_name(client, auth):
    for i in range(3):
        create_script(client, auth, name=f"Zz paging {i}", campaign_id=f"paging-{i}")
    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = client.get(f"{API}/scripts", query_string=query, headers=auth()).get_json()
        seen += [(s["name"], s["script_id"]) for s in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen)) >= 8
    assert [n for n, _ in seen if n.startswith("Zz paging")] == ["Zz paging 0", "Zz paging 1", "Zz paging 2"]


def test_creating_a_script_is_idempotent_with_a_key(client, auth, stored):
    headers = {**auth(), "Idempotency-Key": "script-once"}
    body = {"name": "Once", "call_type": "telemarketing", "steps": STEPS}
    first = client.post(f"{API}/scripts", json=body, headers=headers)
    before = stored()
    again = client.post(f"{API}/scripts", json=body, headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json() and stored() == before


def test_script_for_prefers_the_campaigns_own_script_then_the_newest_for_the_call_type(runtime, client, auth):
    own = create_script(client, auth, name="Autumn", campaign_id="autumn-2030")
    create_script(client, auth, name="Autumn older", campaign_id="autumn-2031")
    client.put(f"{API}/scripts/{own['script_id']}", json={"name": "Autumn v2", "steps": STEPS}, headers=auth())
    newest_visit = create_script(client, auth, name="Visit B", call_type="visit", campaign_id=None)
    with Session(runtime.engine) as session:
        repo = ExecutionRepository(session)
        assert repo.script_for("campaign", "autumn-2030")[:2] == (own["script_id"], 2)
        assert repo.script_for("campaign", "autumn-2030")[2][1]["questions"][0]["id"] == "interested"
        seeded_campaign = str(uuid.uuid5(uuid.NAMESPACE_URL, "crm-calls-script:campaign"))
        assert repo.script_for("campaign", "no-such-campaign")[:2] == (seeded_campaign, 1)
        assert repo.script_for("campaign", None)[:2] == (seeded_campaign, 1)
        # an older-created script revised later does not beat a newer one
        older_visit = create_script(client, auth, name="Visit A", call_type="visit", campaign_id=None)
        assert repo.script_for("visit", None)[0] == older_visit["script_id"]
        client.put(f"{API}/scripts/{newest_visit['script_id']}", json={"name": "Visit B2", "steps": STEPS},
                   headers=auth())
        assert repo.script_for("visit", None)[0] == older_visit["script_id"]
        # a call that names its script uses that one
        assert repo.script_for("visit", None, newest_visit["script_id"])[:2] == (newest_visit["script_id"], 2)
        assert repo.script_for("visit", None, MISSING)[0] == older_visit["script_id"]


# -- rejection reasons -----------------------------------------------------------------------------------------
def test_reasons_are_added_deactivated_and_reactivated(runtime, client, auth):
    seeded = client.get(f"{API}/rejection-reasons", headers=auth(["agent"])).get_json()["items"]
    assert len(seeded) == 7 and all(r["active"] for r in seeded)
    assert {"code": "no_budget", "label": "No budget", "active": True} in seeded

    response = client.post(f"{API}/rejection-reasons", json={"code": "too_expensive", "label": "Too expensive"},
                           headers=auth())
    assert response.status_code == 201 and response.get_json()["active"] is True
    response = client.patch(f"{API}/rejection-reasons/too_expensive", json={"active": False}, headers=auth())
    assert response.get_json() == {"code": "too_expensive", "label": "Too expensive", "active": False}
    codes = [r["code"] for r in client.get(f"{API}/rejection-reasons", headers=auth()).get_json()["items"]]
    assert "too_expensive" not in codes
    everything = client.get(f"{API}/rejection-reasons?include_inactive=true", headers=auth()).get_json()["items"]
    assert {"code": "too_expensive", "label": "Too expensive", "active": False} in everything
    with Session(runtime.engine) as session:
        repo = ExecutionRepository(session)
        assert (repo.active_reason("too_expensive"), repo.active_reason("no_budget"), repo.active_reason("nope")) \
            == (False, True, False)
    response = client.patch(f"{API}/rejection-reasons/too_expensive", json={"active": True, "label": "Price"},
                            headers=auth(["planner"]))
    assert response.get_json() == {"code": "too_expensive", "label": "Price", "active": True}


# -- work queue ------------------------------------------------------------------------------------------------
def queue(client, headers, agent_id=AGENT_A, day=DAY):
    response = client.get(f"{API}/agents/{agent_id}/work-queue", query_string={"day": day.isoformat()} if day
                          else {}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_work_queue_holds_the_days_calls_and_passed_reminders_most_urgent_first(client, auth, world):
    body = queue(client, auth())
    assert (body["agent_id"], body["day"]) == (AGENT_A, DAY.isoformat())
    order = [world_key(world, item["call_id"]) for item in body["items"]]
    assert order == ["high", "same_prio_early_end", "same_prio_late_end", "campaign", "low", "reminder"]
    first = body["items"][0]
    assert {k: first[k] for k in ("call_type", "due_on", "slot", "priority", "attempts", "campaign_id",
                                  "remind_at", "reminder_only", "status")} == {
        "call_type": "maintenance", "due_on": DAY.isoformat(), "slot": "morning", "priority": 5, "attempts": 0,
        "campaign_id": None, "remind_at": None, "reminder_only": False, "status": "scheduled"}
    assert first["window"] == {"start": (DAY - timedelta(days=7)).isoformat(),
                               "end": (DAY + timedelta(days=7)).isoformat()}
    assert {k: first["customer"][k] for k in ("display_name", "customer_number", "phone", "email", "postal_code",
                                              "city", "lifecycle_state")} == {
        "display_name": "Insurer", "customer_number": "C-1", "phone": "+49 30 1", "email": "info@acme.example",
        "postal_code": "10115", "city": "Berlin", "lifecycle_state": "customer"}
    reminder = body["items"][-1]
    assert reminder["reminder_only"] is True and reminder["call_type"] == "follow_up"


def world_key(world, call_id):
    return next(key for key, value in world.items() if value == call_id)


def test_each_queue_item_carries_the_script_to_use(client, auth, world):
    spring = create_script(client, auth, name="Spring 2030", campaign_id="spring-2030")
    items = {world_key(world, i["call_id"]): i for i in queue(client, auth())["items"]}
    maintenance_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "crm-calls-script:maintenance"))
    assert (items["high"]["script"]["script_id"], items["high"]["script"]["name"]) == \
        (maintenance_id, "Maintenance call")
    assert items["high"]["script"]["steps"][1]["questions"][0]["id"] == "satisfaction"
    assert (items["campaign"]["script"]["script_id"], items["campaign"]["script"]["version"]) == \
        (spring["script_id"], 1)
    follow_up_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "crm-calls-script:follow_up"))
    assert items["reminder"]["script"]["script_id"] == follow_up_id


def test_the_work_queue_is_one_joined_query_whatever_its_length(runtime, client, auth, world):
    statements = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(runtime.engine, "before_cursor_execute", count)
    try:
        long = len(queue(client, auth(), AGENT_A)["items"])
        long_statements, statements[:] = len(statements), []
        short = len(queue(client, auth(), AGENT_B)["items"])
        short_statements = len(statements)
    finally:
        event.remove(runtime.engine, "before_cursor_execute", count)
    assert (long, short) == (6, 1)
    assert long_statements == short_statements == 3  # the agent, the calls joined with customers, the scripts


def test_the_work_queue_is_scoped_to_the_callers_lines(client, auth, world):
    keys = [world_key(world, i["call_id"]) for i in queue(client, auth(lines=["insurance"]))["items"]]
    assert keys == ["high", "same_prio_early_end", "same_prio_late_end", "low", "reminder"]
    assert queue(client, auth(lines=["retail"]))["items"] == []


def test_an_agent_reads_only_their_own_queue(client, auth, world):
    own = queue(client, auth(["agent"], sub="agent-a"))
    assert len(own["items"]) == 6
    before = client.get(f"{API}/agents/{AGENT_B}/work-queue?day={DAY}", headers=auth(["agent"], sub="agent-a"))
    assert_problem(before, 403, "agent_id")
    assert_problem(client.get(f"{API}/agents/{AGENT_A}/work-queue", headers=auth(["sales"], sub="agent-a")), 403)
    for role in ("planner", "admin"):
        assert len(queue(client, auth([role], sub="x"), AGENT_B)["items"]) == 1


def test_todays_queue_is_the_default_and_counts_reminders_up_to_now(client, auth, world):
    keys = [world_key(world, i["call_id"]) for i in queue(client, auth(["agent"], sub="agent-c"), AGENT_C,
                                                          day=None)["items"]]
    assert sorted(keys) == ["c_reminded", "c_today"]


# -- rejection analysis -----------------------------------------------------------------------------------------
def analysis(client, headers, **query):
    query = {"from": "2024-01-01", "to": "2024-02-29", **query}
    response = client.get(f"{API}/analysis/rejections", query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_rejections_by_reason_with_shares_and_the_total_for_the_rate(client, auth, world):
    body = analysis(client, auth(["supervisor"]))
    assert (body["group_by"], body["from"], body["to"]) == ("reason", "2024-01-01", "2024-02-29")
    assert (body["rejected"], body["outcomes_recorded"], body["rejection_rate"]) == (5, 8, "0.6250")
    assert body["items"] == [
        {"key": "no_interest", "label": "No interest", "count": 3, "share": "0.6000"},
        {"key": "has_supplier", "label": "Already has a supplier", "count": 1, "share": "0.2000"},
        {"key": "no_budget", "label": "No budget", "count": 1, "share": "0.2000"},
    ]


def test_rejections_by_campaign_agent_and_month(client, auth, world):
    by_campaign = analysis(client, auth(["planner"]), group_by="campaign")["items"]
    assert [(r["key"], r["count"]) for r in by_campaign] == [("spring", 2), (None, 2), ("autumn", 1)] or \
        [(r["key"], r["count"]) for r in by_campaign] == [(None, 2), ("spring", 2), ("autumn", 1)]
    by_agent = analysis(client, auth(["admin"], lines=[]), group_by="agent")["items"]
    assert [(r["key"], r["label"], r["count"]) for r in by_agent] == [(AGENT_A, "Anna", 3), (AGENT_B, "Ben", 2)]
    by_month = analysis(client, auth(), group_by="month")["items"]
    assert [(r["key"], r["count"], r["share"]) for r in by_month] == [("2024-02", 3, "0.6000"), ("2024-01", 2,
                                                                                                "0.4000")]


def test_rejection_filters_and_lines_of_business(client, auth, world):
    spring = analysis(client, auth(), campaign_id="spring")
    assert (spring["rejected"], spring["outcomes_recorded"]) == (2, 3)
    anna = analysis(client, auth(), agent_id=AGENT_A)
    assert (anna["rejected"], anna["outcomes_recorded"]) == (3, 5)
    insurance = analysis(client, auth(lines=["insurance"]))
    assert (insurance["rejected"], insurance["outcomes_recorded"]) == (3, 5)
    one_day = analysis(client, auth(), **{"from": "2024-02-10", "to": "2024-02-10"})
    assert (one_day["rejected"], one_day["outcomes_recorded"]) == (3, 5)
    empty = analysis(client, auth(), **{"from": "2020-01-01", "to": "2020-01-31"})
    assert (empty["rejected"], empty["outcomes_recorded"], empty["rejection_rate"], empty["items"]) == (0, 0, None,
                                                                                                       [])


# -- every endpoint refuses bad input with problem+json and changes nothing --------------------------------------
SERVICE_SCRIPT = str(uuid.uuid5(uuid.NAMESPACE_URL, "crm-calls-script:service"))
GOOD = {"name": "X", "call_type": "service", "steps": STEPS}
Q = {"id": "q", "text": "Q", "kind": "text"}
CASES = [
    # (method, path, json body or None, status, field named in errors or None, roles)
    ("get", "/scripts?call_type=cold", None, 422, "call_type", None),
    ("get", "/scripts?campaign_id=%00x", None, 422, "campaign_id", None),
    ("get", "/scripts?limit=0", None, 422, "limit", None),
    ("get", "/scripts?limit=201", None, 422, "limit", None),
    ("get", "/scripts?cursor=garbage", None, 400, "cursor", None),
    ("get", "/scripts/not-a-uuid", None, 404, None, None),
    ("get", f"/scripts/{MISSING}", None, 404, "script_id", None),
    ("get", f"/scripts/{SERVICE_SCRIPT}/versions/99", None, 404, "version", None),
    ("get", f"/scripts/{SERVICE_SCRIPT}/versions/0", None, 404, "version", None),
    ("get", f"/scripts/{SERVICE_SCRIPT}/versions/-1", None, 404, None, None),
    ("get", f"/scripts/{SERVICE_SCRIPT}/versions/one", None, 404, None, None),
    ("post", "/scripts", {**GOOD, "steps": []}, 422, "steps", None),
    ("post", "/scripts", {**GOOD, "steps": "greet"}, 422, "steps", None),
    ("post", "/scripts", {k: v for k, v in GOOD.items() if k != "steps"}, 422, "steps", None),
    ("post", "/scripts", {**GOOD, "name": ""}, 422, "name", None),
    ("post", "/scripts", {**GOOD, "name": "   "}, 422, "name", None),
    ("post", "/scripts", {**GOOD, "name": "x" * 201}, 422, "name", None),
    ("post", "/scripts", {**GOOD, "name": "a\x00b"}, 422, "name", None),
    ("post", "/scripts", {**GOOD, "call_type": "cold"}, 422, "call_type", None),
    ("post", "/scripts", {**GOOD, "campaign_id": "spring"}, 422, "call_type", None),
    ("post", "/scripts", {"name": "X", "steps": STEPS}, 422, "call_type", None),
    ("post", "/scripts", {**GOOD, "call_type": None, "campaign_id": " spring"}, 422, "campaign_id", None),
    ("post", "/scripts", {**GOOD, "colour": "red"}, 422, "colour", None),
    ("post", "/scripts", {**GOOD, "steps": [{"prompt": ""}]}, 422, "steps.0.prompt", None),
    ("post", "/scripts", {**GOOD, "steps": [{"prompt": "p", "questions": [Q, Q]}]}, 422,
     "steps.0.questions.1.id", None),
    ("post", "/scripts", {**GOOD, "steps": [{"prompt": "p", "questions": [Q]}, {"prompt": "p", "questions": [Q]}]},
     422, "steps.1.questions.0.id", None),
    ("post", "/scripts", {**GOOD, "steps": [{"prompt": "p", "questions": [{**Q, "id": "Bad Id"}]}]}, 422,
     "steps.0.questions.0.id", None),
    ("post", "/scripts", {**GOOD, "steps": [{"prompt": "p", "questions": [{**Q, "kind": "date"}]}]}, 422,
     "steps.0.questions.0.kind", None),
    ("post", "/scripts", {**GOOD, "steps": [{"prompt": "p", "questions": [{**Q, "choices": ["a"]}]}]}, 422,
     "steps.0.questions.0.choices", None),
    ("post", "/scripts", {**GOOD, "steps": [{"prompt": "p", "questions": [{**Q, "kind": "choice"}]}]}, 422,
     "steps.0.questions.0.choices", None),
    ("post", "/scripts", {**GOOD, "steps": [{"prompt": "p", "questions": [{**Q, "kind": "choice",
                                                                           "choices": []}]}]}, 422,
     "steps.0.questions.0.choices", None),
    ("post", "/scripts", {**GOOD, "steps": [{"prompt": "p", "questions": [{**Q, "kind": "choice",
                                                                           "choices": ["a", "a"]}]}]}, 422,
     "steps.0.questions.0.choices", None),
    ("post", "/scripts", {**GOOD, "steps": [{"prompt": "p", "questions": [{**Q, "required": "yes"}]}]}, 422,
     "steps.0.questions.0.required", None),
    ("post", "/scripts", {**GOOD, "steps": [{"prompt": "p", "questions": [{**Q, "required": 1}]}]}, 422,
     "steps.0.questions.0.required", None),
    ("post", "/scripts", {**GOOD, "steps": [{"prompt": "p", "questions": None}]}, 422, "steps.0.questions", None),
    ("post", "/scripts", {**GOOD, "steps": [None]}, 422, "steps.0", None),
    ("post", "/scripts", {**GOOD, "steps": [{"prompt": "p"}] * 51}, 422, "steps", None),
    ("post", "/scripts", GOOD, 403, None, ("agent",)),
    ("put", f"/scripts/{SERVICE_SCRIPT}", {"name": "X", "steps": []}, 422, "steps", None),
    ("put", f"/scripts/{SERVICE_SCRIPT}", {"name": "X", "steps": STEPS, "call_type": "visit"}, 422, "call_type",
     None),
    ("put", f"/scripts/{SERVICE_SCRIPT}", {"steps": STEPS}, 422, "name", None),
    ("put", f"/scripts/{SERVICE_SCRIPT}", {"name": "X", "steps": STEPS}, 403, None, ("agent",)),
    ("put", f"/scripts/{MISSING}", {"name": "X", "steps": STEPS}, 404, "script_id", None),
    ("put", "/scripts/not-a-uuid", {"name": "X", "steps": STEPS}, 404, None, None),
    ("delete", f"/scripts/{MISSING}", None, 404, "script_id", None),
    ("delete", "/scripts/not-a-uuid", None, 404, None, None),
    ("delete", f"/scripts/{SERVICE_SCRIPT}", None, 409, "script_id", None),
    ("delete", f"/scripts/{SERVICE_SCRIPT}", None, 403, None, ("agent",)),
    ("get", "/rejection-reasons?include_inactive=maybe", None, 422, "include_inactive", None),
    ("post", "/rejection-reasons", {"code": "x", "label": "One letter"}, 422, "code", None),
    ("post", "/rejection-reasons", {"code": "No_Interest", "label": "Caps"}, 422, "code", None),
    ("post", "/rejection-reasons", {"code": "late\n", "label": "Newline"}, 422, "code", None),
    ("post", "/rejection-reasons", {"code": "a" * 65, "label": "Long"}, 422, "code", None),
    ("post", "/rejection-reasons", {"code": "price"}, 422, "label", None),
    ("post", "/rejection-reasons", {"code": "price", "label": " "}, 422, "label", None),
    ("post", "/rejection-reasons", {"code": "price", "label": "x" * 201}, 422, "label", None),
    ("post", "/rejection-reasons", {"code": "price", "label": "Price", "active": False}, 422, "active", None),
    ("post", "/rejection-reasons", {"code": "no_interest", "label": "Again"}, 409, "code", None),
    ("post", "/rejection-reasons", {"code": "price", "label": "Price"}, 403, None, ("agent",)),
    ("patch", "/rejection-reasons/no_interest", {}, 422, "label", None),
    ("patch", "/rejection-reasons/no_interest", {"active": "perhaps"}, 422, "active", None),
    ("patch", "/rejection-reasons/no_interest", {"active": 0}, 422, "active", None),
    ("patch", "/rejection-reasons/no_interest", {"active": None}, 422, "active", None),
    ("patch", "/rejection-reasons/no_interest", {"label": None}, 422, "label", None),
    ("patch", "/rejection-reasons/no_interest", {"label": ""}, 422, "label", None),
    ("patch", "/rejection-reasons/no_interest", {"label": "  "}, 422, "label", None),
    ("patch", "/rejection-reasons/no_interest", {"code": "other"}, 422, "code", None),
    ("patch", "/rejection-reasons/no_interest", {"active": False}, 403, None, ("agent",)),
    ("patch", "/rejection-reasons/unknown_code", {"active": False}, 404, "code", None),
    ("patch", "/rejection-reasons/Bad%00Code", {"active": False}, 422, "code", None),
    ("get", f"/agents/{AGENT_A}/work-queue?day=2030-13-01", None, 422, "day", None),
    ("get", f"/agents/{AGENT_A}/work-queue?day=06.05.2030", None, 422, "day", None),
    ("get", f"/agents/{AGENT_A}/work-queue?day=1800-01-01", None, 422, "day", None),
    ("get", f"/agents/{AGENT_A}/work-queue?day=", None, 422, "day", None),
    ("get", f"/agents/{MISSING}/work-queue", None, 404, "agent_id", None),
    ("get", "/agents/not-a-uuid/work-queue", None, 404, None, None),
    ("get", f"/agents/{AGENT_A}/work-queue", None, 403, "agent_id", ("agent",)),
    ("get", "/analysis/rejections?from=2024-01-01&to=2024-01-31&group_by=colour", None, 422, "group_by", None),
    ("get", "/analysis/rejections?from=2024-02-01&to=2024-01-31", None, 422, "to", None),
    ("get", "/analysis/rejections?from=2024-01-01", None, 422, "to", None),
    ("get", "/analysis/rejections?to=2024-01-01", None, 422, "from", None),
    ("get", "/analysis/rejections?from=2024-1-1&to=2024-01-31", None, 422, "from", None),
    ("get", "/analysis/rejections?from=2024-01-01&to=2024-02-30", None, 422, "to", None),
    ("get", "/analysis/rejections?from=0001-01-01&to=2024-01-31", None, 422, "from", None),
    ("get", "/analysis/rejections?from=2024-01-01&to=9999-12-31", None, 422, "to", None),
    ("get", "/analysis/rejections?from=2024-01-01&to=2024-01-31&agent_id=anna", None, 422, "agent_id", None),
    ("get", "/analysis/rejections?from=2024-01-01&to=2024-01-31&campaign_id=%00", None, 422, "campaign_id", None),
    ("get", "/analysis/rejections?from=2024-01-01&to=2024-01-31", None, 403, None, ("agent",)),
    ("get", "/analysis/rejections?from=2024-01-01&to=2024-01-31", None, 403, None, ("sales",)),
]


@pytest.mark.parametrize("method, path, body, status, field, roles", CASES,
                         ids=[f"{c[0]} {c[1]} {c[3]} {c[4]}" for c in CASES])
def test_bad_input_is_a_problem_and_changes_nothing(client, auth, world, stored, method, path, body, status, field,
                                                    roles):
    headers = auth(roles) if roles else auth()
    before = stored()
    response = getattr(client, method)(API + path, headers=headers, **({"json": body} if body is not None else {}))
    assert_problem(response, status, field)
    assert stored() == before


@pytest.mark.parametrize("method, path", [("post", "/scripts"), ("put", f"/scripts/{SERVICE_SCRIPT}"),
                                          ("post", "/rejection-reasons"), ("patch", "/rejection-reasons/other")])
@pytest.mark.parametrize("data", ["not json", "[1, 2]", "", "null"])
def test_a_body_that_is_not_a_json_object_is_a_problem(client, auth, stored, method, path, data):
    before = stored()
    response = getattr(client, method)(API + path, data=data, content_type="application/json", headers=auth())
    assert 400 <= response.status_code < 500 and response.mimetype == PROBLEM, response.get_data(as_text=True)
    assert stored() == before


@pytest.mark.parametrize("method, path", [
    ("get", "/scripts"), ("post", "/scripts"), ("get", f"/scripts/{SERVICE_SCRIPT}"),
    ("put", f"/scripts/{SERVICE_SCRIPT}"), ("delete", f"/scripts/{SERVICE_SCRIPT}"),
    ("get", f"/scripts/{SERVICE_SCRIPT}/versions/1"), ("get", "/rejection-reasons"), ("post", "/rejection-reasons"),
    ("patch", "/rejection-reasons/other"), ("get", f"/agents/{AGENT_A}/work-queue"),
    ("get", "/analysis/rejections?from=2024-01-01&to=2024-01-31"),
])
def test_every_endpoint_needs_a_token(client, stored, method, path):
    before = stored()
    assert_problem(getattr(client, method)(API + path, json={}), 401)
    assert stored() == before


def test_the_endpoints_are_documented(client):
    spec = client.get(f"{API}/openapi.json").get_json()
    for path, methods in {"/scripts": {"get", "post"}, "/scripts/{script_id}": {"get", "put", "delete"},
                          "/scripts/{script_id}/versions/{version}": {"get"},
                          "/rejection-reasons": {"get", "post"}, "/rejection-reasons/{code}": {"patch"},
                          "/agents/{agent_id}/work-queue": {"get"}, "/analysis/rejections": {"get"}}.items():
        documented = spec["paths"][API + path]
        assert methods <= set(documented), path
        for method in methods:
            assert any(code.startswith("2") for code in documented[method]["responses"]), (path, method)
    assert "422" in spec["paths"][API + "/scripts"]["post"]["responses"]
    assert "404" in spec["paths"][API + "/agents/{agent_id}/work-queue"]["get"]["responses"]
