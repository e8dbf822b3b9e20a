"""A three-stage campaign on PostgreSQL: design, launch, call outcomes and a mailing reaction move participants,
time-outs and manual decisions end them, chains carry them on; events land in the outbox."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from campaigns_fixtures import add_parties, auth, create_campaign, design_campaign
from crm_shared.events import CloudEvent
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_campaigns.adapters import orm
from crm_campaigns.service_layer.handlers import call_outcomes
from crm_campaigns.service_layer.participants import expire_timeouts
from crm_campaigns.service_layer.progress import ConditionMet, apply_conditions


def outbox_types(engine) -> list[str]:
    outbox = orm.messaging.outbox
    with engine.connect() as conn:
        return list(conn.execute(select(outbox.c.routing_key).order_by(outbox.c.position)).scalars())


def outbox_data(engine, event_type: str) -> list[dict]:
    outbox = orm.messaging.outbox
    with engine.connect() as conn:
        bodies = conn.execute(select(outbox.c.body).where(outbox.c.routing_key == event_type)
                              .order_by(outbox.c.position)).scalars()
        return [json.loads(body)["data"] for body in bodies]


def participations(engine, campaign_id: str) -> dict[str, tuple]:
    with engine.connect() as conn:
        rows = conn.execute(select(orm.participations).where(orm.participations.c.campaign_id == campaign_id))
        return {r.party_id: (r.status, r.stage_key, r.failure_code, r.request_id) for r in rows}


def outcome_event(request_id: str, party_id: str, campaign_id: str, outcome: str, final: bool = True) -> CloudEvent:
    return CloudEvent(type="crm.calls.call_outcome_recorded.v1", source="crm.calls", subject=party_id, data={
        "call_id": "c", "party_id": party_id, "campaign_id": campaign_id, "request_id": request_id,
        "outcome": outcome, "final": final, "contact_made": outcome != "not_reached",
        "completed_on": datetime.now(UTC).date().isoformat()})


def test_participants_move_through_three_stages(runtime, client, uows):
    headers = auth(runtime)
    campaign_id = create_campaign(client, headers)
    design_campaign(client, headers, campaign_id)
    parties = add_parties(runtime.engine, 4)
    response = client.post(f"/api/campaigns/campaigns/{campaign_id}/participants", json={"party_ids": parties},
                           headers=headers)
    assert response.get_json() == {"added": 4, "already_in": 0}
    assert {p[0] for p in participations(runtime.engine, campaign_id).values()} == {"selected"}

    launched = client.post(f"/api/campaigns/campaigns/{campaign_id}/launch", headers=headers)
    assert launched.status_code == 200 and launched.get_json()["participants"] == 4
    state = participations(runtime.engine, campaign_id)
    assert {p[:2] for p in state.values()} == {("active", "call")}
    requests = outbox_data(runtime.engine, "crm.campaigns.campaign_call_requested.v1")
    assert sorted(r["party_id"] for r in requests) == sorted(parties)
    assert all(r["campaign_id"] == campaign_id and r["window_start"] <= r["window_end"] for r in requests)

    a, b, c, d = parties
    with Session(runtime.engine) as session:
        call_outcomes(session, [outcome_event(state[a][3], a, campaign_id, "interest_noted"),
                                outcome_event(state[b][3], b, campaign_id, "rejected"),
                                outcome_event(state[c][3], c, campaign_id, "not_reached", final=False),
                                outcome_event(state[d][3], d, campaign_id, "interest_noted")])
        session.commit()
    state = participations(runtime.engine, campaign_id)
    assert state[a][:2] == ("active", "offer") and state[a][3] is None
    assert state[b][:3] == ("failed", "call", "no_interest")
    assert state[c][:2] == ("active", "call")  # a retried call is not an outcome yet

    with uows() as uow:
        apply_conditions(uow, [ConditionMet("mailing_reaction", "replied", "replied", participation_id=_pid(
            runtime, campaign_id, a))], datetime.now(UTC))
        uow.commit()
    state = participations(runtime.engine, campaign_id)
    assert state[a][:2] == ("active", "close") and state[a][3].endswith(":close")

    assert expire_timeouts(uows, datetime.now(UTC) + timedelta(days=15)) == 1
    assert participations(runtime.engine, campaign_id)[d][:3] == ("failed", "offer", "no_reaction")

    won = client.post(f"/api/campaigns/campaigns/{campaign_id}/participants/{a}/decisions",
                      json={"decision": "won"}, headers=headers)
    assert won.status_code == 200 and won.get_json()["moved"] == {"succeeded": 1}
    withdrawn = outbox_data(runtime.engine, "crm.campaigns.campaign_call_withdrawn.v1")
    assert [w["request_id"] for w in withdrawn] == [state[a][3]]

    completed = client.post(f"/api/campaigns/campaigns/{campaign_id}/complete", headers=headers)
    assert completed.get_json()["participants"] == 1  # c was still waiting for its call
    final = participations(runtime.engine, campaign_id)
    assert [final[p][0] for p in parties] == ["succeeded", "failed", "excluded", "failed"]
    types = outbox_types(runtime.engine)
    assert types.count("crm.campaigns.campaign_launched.v1") == 1
    assert types.count("crm.campaigns.campaign_completed.v1") == 1
    assert types.count("crm.campaigns.participant_moved.v1") == 4 + 1 + 2 + 1 + 1 + 1 + 1


def test_finishing_participants_enter_the_chained_campaign(runtime, client):
    headers = auth(runtime)
    follow_up = create_campaign(client, headers, name="Follow-up")
    design_campaign(client, headers, follow_up)
    client.post(f"/api/campaigns/campaigns/{follow_up}/launch", headers=headers)
    first = create_campaign(client, headers, name="First")
    design_campaign(client, headers, first)
    chains = client.put(f"/api/campaigns/campaigns/{first}/chains",
                        json={"chains": [{"trigger": "failed:no_interest", "next_campaign_id": follow_up}]},
                        headers=headers)
    assert chains.status_code == 200, chains.get_json()
    back = client.put(f"/api/campaigns/campaigns/{follow_up}/chains",
                      json={"chains": [{"trigger": "succeeded", "next_campaign_id": first}]}, headers=headers)
    assert back.status_code == 422 and back.mimetype == "application/problem+json"
    [party] = add_parties(runtime.engine, 1)
    client.post(f"/api/campaigns/campaigns/{first}/participants", json={"party_ids": [party]}, headers=headers)
    client.post(f"/api/campaigns/campaigns/{first}/launch", headers=headers)
    request_id = participations(runtime.engine, first)[party][3]
    with Session(runtime.engine) as session:
        call_outcomes(session, [outcome_event(request_id, party, first, "rejected")])
        session.commit()
    assert participations(runtime.engine, first)[party][:3] == ("failed", "call", "no_interest")
    assert participations(runtime.engine, follow_up)[party][:2] == ("active", "call")


def _pid(runtime, campaign_id: str, party_id: str) -> str:
    with runtime.engine.connect() as conn:
        return conn.execute(select(orm.participations.c.participation_id).where(
            orm.participations.c.campaign_id == campaign_id, orm.participations.c.party_id == party_id)).scalar_one()
