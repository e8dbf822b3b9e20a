"""Live figures and evaluations on PostgreSQL: participants moved by the stage rules, numbers checked against
hand-computed values, the comparison endpoint, `campaign_evaluated` in the outbox, and the Celery tasks."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from campaigns_fixtures import add_parties, auth, create_campaign, design_campaign
from sqlalchemy import select, update

from crm_campaigns.adapters import orm
from crm_campaigns.entrypoints import tasks
from crm_campaigns.service_layer.evaluation import publish_due_evaluations
from crm_campaigns.service_layer.progress import ConditionMet, apply_conditions

API = "/api/campaigns/campaigns"
EVALUATED = "crm.campaigns.campaign_evaluated.v1"
# Each party's way through call → offer → close (THREE_STAGES of the fixtures).
PATHS = {
    "p1": [("call_outcome", "interest_noted")],                                               # waits in offer
    "p2": [("call_outcome", "rejected")],                                                     # fails: no_interest
    "p3": [("call_outcome", "not_reached")],                                                  # fails: unreachable
    "p4": [("call_outcome", "interest_noted"), ("mailing_reaction", "replied"), ("manual", "won")],  # succeeds
    "p5": [("call_outcome", "interest_noted"), ("timeout", None)],                             # fails: no_reaction
    "p6": [],                                                                                 # waits in call
    "p7": [("call_outcome", "request_refused")],                                              # fails: unreachable
}


def outbox_data(engine, event_type: str = EVALUATED) -> list[dict]:
    outbox = orm.messaging.outbox
    with engine.connect() as conn:
        bodies = conn.execute(select(outbox.c.body).where(outbox.c.routing_key == event_type)
                              .order_by(outbox.c.position)).scalars()
        return [json.loads(body)["data"] for body in bodies]


def participation_ids(engine, campaign_id: str) -> dict[str, str]:
    p = orm.participations.c
    with engine.connect() as conn:
        rows = conn.execute(select(p.party_id, p.participation_id).where(p.campaign_id == campaign_id))
        return dict(rows.all())


def launched_campaign(runtime, client, headers, count: int, **fields) -> tuple[str, list[str]]:
    campaign_id = create_campaign(client, headers, **fields)
    design_campaign(client, headers, campaign_id)
    parties = add_parties(runtime.engine, count)
    client.post(f"{API}/{campaign_id}/participants", json={"party_ids": parties}, headers=headers)
    assert client.post(f"{API}/{campaign_id}/launch", headers=headers).status_code == 200
    return campaign_id, parties


def move(uows, pid: str, kind: str, value: str | None) -> None:
    with uows() as uow:
        done = apply_conditions(uow, [ConditionMet(kind, value, f"test: {value}", participation_id=pid)],
                                datetime.now(UTC))
        uow.commit()
    assert done.ignored == 0, (kind, value)


def played_campaign(runtime, client, uows, headers, **fields) -> tuple[str, dict[str, str]]:
    """Seven participants on the paths above, p1 then excluded by hand; costs and one order recorded."""
    campaign_id, parties = launched_campaign(runtime, client, headers, len(PATHS), **fields)
    named = dict(zip(PATHS, parties, strict=True))
    pids = participation_ids(runtime.engine, campaign_id)
    for name, steps in PATHS.items():
        for kind, value in steps:
            move(uows, pids[named[name]], kind, value)
    assert client.delete(f"{API}/{campaign_id}/participants/{named['p1']}", headers=headers).status_code == 204
    for body in ({"name": "Agents", "planned_amount": "100", "actual_amount": "80", "stage_key": "call"},
                 {"name": "Closing", "planned_amount": "50", "stage_key": "close"},
                 {"name": "Agency", "planned_amount": "500", "actual_amount": "450"}):
        assert client.post(f"{API}/{campaign_id}/cost-items", json=body, headers=headers).status_code == 201
    order = {"party_id": named["p4"], "kind": "order", "reference": f"SO-{campaign_id}", "amount": "1000",
             "occurred_on": datetime.now(UTC).date().isoformat()}
    assert client.post(f"{API}/{campaign_id}/revenue", json=order, headers=headers).status_code == 201
    return campaign_id, named


def test_figures_per_stage_add_up(runtime, client, uows):
    headers = auth(runtime)
    campaign_id, _ = played_campaign(runtime, client, uows, headers)
    response = client.get(f"{API}/{campaign_id}/figures", headers=headers)
    assert response.status_code == 200, response.get_json()
    figures = response.get_json()
    stages = {s["stage_key"]: s for s in figures["stages"]}
    assert list(stages) == ["call", "offer", "close"]
    for stage in figures["stages"]:
        assert stage["entered"] == stage["waiting"] + stage["moved_on"] + stage["succeeded"] + stage["failed"] \
            + stage["excluded"], stage
        assert stage["failed"] == sum(stage["failed_by_code"].values())
    counts = lambda s: (s["entered"], s["waiting"], s["moved_on"], s["succeeded"], s["failed_by_code"],  # noqa: E731
                        s["excluded"])
    assert counts(stages["call"]) == (7, 1, 3, 0, {"no_interest": 1, "unreachable": 2}, 0)
    assert counts(stages["offer"]) == (3, 0, 1, 0, {"no_reaction": 1}, 1)
    assert counts(stages["close"]) == (1, 0, 0, 1, {}, 0)
    assert stages["call"]["expected_value"] == "50.00"  # 1 waiting × 100 × 0.5
    assert (stages["call"]["planned_cost"], stages["call"]["actual_cost"]) == ("100.00", "80.00")
    assert (stages["close"]["planned_cost"], stages["close"]["actual_cost"], stages["close"]["revenue"]) == \
        ("50.00", "0.00", "1000.00")
    level = figures["campaign_level"]
    assert (level["planned_cost"], level["actual_cost"], level["revenue"]) == ("500.00", "450.00", "0.00")
    assert [i["name"] for i in level["cost_items"]] == ["Agency"]
    totals = figures["totals"]
    assert (totals["waiting"], totals["succeeded"], totals["failed"], totals["excluded"]) == (1, 1, 4, 1)
    assert (totals["expected_value"], totals["planned_cost"], totals["actual_cost"], totals["revenue"]) == \
        ("50.00", "650.00", "530.00", "1000.00")


def test_evaluation_matches_the_hand_computed_numbers(runtime, client, uows):
    headers = auth(runtime)
    campaign_id, _ = played_campaign(runtime, client, uows, headers, expected_conversion_rate="0.1",
                                     value_per_conversion="2000")
    response = client.get(f"{API}/{campaign_id}/evaluation", headers=headers)
    assert response.status_code == 200, response.get_json()
    e = response.get_json()
    assert [(f["stage_key"], f["entered"]) for f in e["funnel"]] == [("call", 7), ("offer", 3), ("close", 1)]
    # responded and contacted: p1, p2, p4, p5 (p3 was not reached, p7's call was refused, p6 not called yet)
    assert (e["participants"], e["started"], e["responded"], e["contacted"]) == (7, 7, 4, 4)
    assert (e["succeeded"], e["failed"], e["excluded"]) == (1, 4, 1)
    assert (e["response_rate"], e["conversion_rate"]) == ("0.5714", "0.1429")          # 4/7, 1/7
    assert (e["cost_per_contact"], e["cost_per_success"]) == ("132.50", "530.00")      # 530/4, 530/1
    assert (e["planned_cost"], e["actual_cost"]) == ("650.00", "530.00")
    assert (e["estimated_revenue"], e["actual_revenue"]) == ("1400.00", "1000.00")     # 7 × 0.1 × 2000
    assert (e["estimated_roi"], e["actual_roi"]) == ("1.1538", "0.8868")               # 750/650, 470/530
    assert [(f["code"], f["count"], f["description"]) for f in e["failure_codes"]] == [
        ("no_interest", 1, "Not interested"), ("no_reaction", 1, "Did not react to the offer"),
        ("unreachable", 2, "Could not be reached")]


def test_an_empty_campaign_has_undefined_ratios_not_errors(runtime, client):
    headers = auth(runtime)
    campaign_id = create_campaign(client, headers)
    e = client.get(f"{API}/{campaign_id}/evaluation", headers=headers).get_json()
    assert (e["funnel"], e["started"], e["participants"]) == ([], 0, 0)
    assert [e[k] for k in ("response_rate", "conversion_rate", "cost_per_contact", "cost_per_success",
                           "estimated_roi", "actual_roi")] == [None] * 6
    figures = client.get(f"{API}/{campaign_id}/figures", headers=headers).get_json()
    assert figures["stages"] == [] and figures["totals"]["actual_cost"] == "0.00"


def test_campaigns_are_compared_side_by_side(runtime, client):
    headers = auth(runtime)
    first, _ = launched_campaign(runtime, client, headers, 2, name="First")
    second, _ = launched_campaign(runtime, client, headers, 3, name="Second")
    url = "/api/campaigns/evaluations"
    response = client.get(f"{url}?campaign_id={second}&campaign_id={first}", headers=headers)
    assert response.status_code == 200, response.get_json()
    assert [(i["campaign_id"], i["started"]) for i in response.get_json()["items"]] == [(second, 3), (first, 2)]
    hidden = create_campaign(client, headers, name="Hidden", line_of_business="wholesale")
    retail_only = auth(runtime, lines=("retail",))
    for query, status in ((f"campaign_id={first}", 422), (f"campaign_id={first}&campaign_id={first}", 422),
                          (f"campaign_id={first}&campaign_id=nope", 422), ("", 422),
                          ("&".join(f"campaign_id={first}" for _ in range(21)), 422),
                          (f"campaign_id={first}&campaign_id={hidden}", 404)):
        answer = client.get(f"{url}?{query}", headers=retail_only)
        assert answer.status_code == status and answer.mimetype == "application/problem+json", (query, answer.json)


def test_evaluation_is_published_on_request_and_on_completion(runtime, client):
    headers = auth(runtime)
    campaign_id, _ = launched_campaign(runtime, client, headers, 2)
    client.post(f"{API}/{campaign_id}/cost-items", json={"name": "Print", "planned_amount": "99.90"},
                headers=headers)
    assert client.post(f"{API}/{campaign_id}/evaluation", headers=auth(runtime, roles=("agent",))).status_code == 403
    assert client.post(f"{API}/{campaign_id}/evaluation",
                       headers=auth(runtime, lines=("wholesale",))).status_code == 404
    assert outbox_data(runtime.engine) == []
    published = client.post(f"{API}/{campaign_id}/evaluation", headers=headers)
    assert published.status_code == 200 and published.get_json()["evaluated_at"]
    [event] = outbox_data(runtime.engine)
    assert (event["campaign_id"], event["status"], event["line_of_business"], event["campaign_type"]) == \
        (campaign_id, "active", "retail", "telemarketing")
    assert (event["started"], event["planned_cost"], event["estimated_roi"]) == (2, "99.90", "-1.0000")
    assert event["name"] == "Spring offer" and event["evaluated_at"]

    assert client.post(f"{API}/{campaign_id}/complete", headers=headers).status_code == 200
    completed = outbox_data(runtime.engine)[-1]
    assert (completed["status"], completed["excluded"], completed["funnel"][0]["entered"]) == ("completed", 2, 2)


def test_the_timeout_task_moves_participants_whose_stage_ran_out(runtime, client, uows, monkeypatch):
    headers = auth(runtime)
    campaign_id, [waiting, late] = launched_campaign(runtime, client, headers, 2)
    pids = participation_ids(runtime.engine, campaign_id)
    for party in (waiting, late):
        move(uows, pids[party], "call_outcome", "interest_noted")
    with runtime.engine.begin() as conn:
        conn.execute(update(orm.participations).where(orm.participations.c.participation_id == pids[late])
                     .values(timeout_at=datetime.now(UTC) - timedelta(minutes=1)))
    monkeypatch.setattr(tasks, "_runtime", lambda: runtime)
    assert tasks.expire_timeouts() == 1
    assert tasks.expire_timeouts() == 0
    p = orm.participations.c
    with runtime.engine.connect() as conn:
        states = dict(conn.execute(select(p.party_id, p.status + ":" + p.stage_key).where(
            p.campaign_id == campaign_id)).all())
    assert states == {waiting: "active:offer", late: "failed:offer"}


def test_the_daily_task_evaluates_active_and_recently_finished_campaigns(runtime, client, uows, monkeypatch):
    headers = auth(runtime)
    active, _ = launched_campaign(runtime, client, headers, 1, name="Active")
    recent, _ = launched_campaign(runtime, client, headers, 1, name="Recent")
    old, _ = launched_campaign(runtime, client, headers, 1, name="Old")
    create_campaign(client, headers, name="Draft")
    for campaign_id in (recent, old):
        client.post(f"{API}/{campaign_id}/complete", headers=headers)
    with runtime.engine.begin() as conn:
        conn.execute(update(orm.campaigns).where(orm.campaigns.c.campaign_id == old)
                     .values(updated_at=datetime.now(UTC) - timedelta(days=3)))
    before = len(outbox_data(runtime.engine))
    monkeypatch.setattr(tasks, "_runtime", lambda: runtime)
    assert tasks.publish_evaluations() == 2
    assert sorted(e["campaign_id"] for e in outbox_data(runtime.engine)[before:]) == sorted([active, recent])
    assert publish_due_evaluations(uows, datetime.now(UTC) + timedelta(days=2)) == 1  # only the active one
