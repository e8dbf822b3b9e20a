"""The event catalog matches what campaigns writes: one real flow on PostgreSQL (an imported address list, a
launched telephone campaign with outcomes, completion and evaluation, a cancelled campaign, an e-mail mailing
sent to a local SMTP server and an unsubscribe) puts every crm.campaigns.* type into the outbox; each row's
`data` must carry exactly the fields docs/events/asyncapi.yaml documents for its type, and every type campaigns
publishes or consumes must be documented there."""
from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest
import smtp_server as smtp_fixtures
from campaigns_fixtures import add_parties, auth, create_campaign, design_campaign, smtp_at, use_settings
from crm_shared.events import CloudEvent
from crm_shared.testing.event_catalog import catalog_readme, data_schema, load_catalog, messages_by_type, schema_fields
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_campaigns.adapters import orm
from crm_campaigns.domain import events
from crm_campaigns.service_layer.handlers import EVENT_TYPES, call_outcomes

smtp_server = smtp_fixtures.smtp_server

API = "/api/campaigns"
PUBLISHED = sorted(v for k, v in vars(events).items()
                   if k.isupper() and isinstance(v, str) and v.startswith("crm.campaigns."))
MAIL_STAGES = [
    {"key": "mail", "name": "Offer mail", "action": "mailing",
     "rules": [{"when": {"kind": "mailing_reaction", "value": "sent"}, "then": "advance", "target_stage": "wait"}]},
    {"key": "wait", "name": "Waiting for a reaction", "action": "mailing",
     "rules": [{"when": {"kind": "mailing_reaction", "value": "unsubscribed"}, "then": "fail",
                "failure_code": "opted_out"}]},
]
MAIL_TEMPLATE = {"name": "Offer mail", "channel": "email", "subject": "Hello {{ first_name }}",
                 "body": "{{ salutation }},\nUnsubscribe: {{ unsubscribe_url }}", "line_of_business": "retail"}
IMPORT_MAPPING = {"Firma": "company_name", "PLZ": "postal_code", "Ort": "city", "Straße": "street",
                  "Telefon": "phone"}


@pytest.fixture
def document():
    return load_catalog()


@pytest.fixture
def inline(monkeypatch, runtime, client, smtp_server):
    """Imports and mailings run inside the request; mail goes to the local SMTP server."""
    use_settings(monkeypatch, runtime, client, imports_inline=True, mailings_inline=True,
                 smtp=smtp_at(runtime, smtp_server), public_base_url="https://crm.example")
    return smtp_server


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def written_events(engine) -> list[dict]:
    box = orm.messaging.outbox
    with engine.connect() as conn:
        rows = conn.execute(select(box.c.exchange, box.c.routing_key, box.c.body).order_by(box.c.position)).all()
    found = []
    for exchange, routing_key, body in rows:
        event = json.loads(body)
        assert (exchange, routing_key, event["source"]) == ("crm.campaigns", event["type"], "crm.campaigns"), event
        found.append(event)
    return found


def request_ids(engine, campaign_id: str) -> dict[str, str | None]:
    p = orm.participations.c
    with engine.connect() as conn:
        return dict(conn.execute(select(p.party_id, p.request_id).where(p.campaign_id == campaign_id)).all())


def outcome(request_id: str, party_id: str, campaign_id: str, value: str) -> CloudEvent:
    return CloudEvent(type=events.CALL_OUTCOME_RECORDED, source="crm.calls", subject=party_id, data={
        "call_id": "c", "party_id": party_id, "campaign_id": campaign_id, "request_id": request_id,
        "outcome": value, "final": True, "contact_made": True, "completed_on": datetime.now(UTC).date().isoformat()})


def import_list(client, headers, campaign_id: str) -> None:
    content = "Firma;Straße;PLZ;Ort;Telefon\nNeu GmbH;Hauptstr. 1;10117;Berlin;030 999888\n".encode()
    data = {"file": (io.BytesIO(content), "liste.csv", "text/csv"), "mapping": json.dumps(IMPORT_MAPPING)}
    body = ok(client.post(f"{API}/campaigns/{campaign_id}/imports", data=data, headers=headers,
                          content_type="multipart/form-data"), 202)
    assert (body["status"], body["accepted"]) == ("completed", 1), body


def telephone_campaign(runtime, client, headers) -> None:
    """Launch (call requests), a rejected call (failed), completion (a withdrawn call, evaluation)."""
    campaign_id = create_campaign(client, headers)
    design_campaign(client, headers, campaign_id)
    import_list(client, headers, campaign_id)
    parties = add_parties(runtime.engine, 2)
    ok(client.post(f"{API}/campaigns/{campaign_id}/participants", json={"party_ids": parties}, headers=headers))
    ok(client.post(f"{API}/campaigns/{campaign_id}/launch", headers=headers))
    rejected = parties[0]
    with Session(runtime.engine) as session:
        call_outcomes(session, [outcome(request_ids(runtime.engine, campaign_id)[rejected], rejected, campaign_id,
                                        "rejected")])
        session.commit()
    ok(client.post(f"{API}/campaigns/{campaign_id}/evaluation", headers=headers))
    ok(client.post(f"{API}/campaigns/{campaign_id}/complete", headers=headers))


def cancelled_campaign(runtime, client, headers) -> None:
    campaign_id = create_campaign(client, headers, name="Cancelled")
    design_campaign(client, headers, campaign_id)
    ok(client.post(f"{API}/campaigns/{campaign_id}/participants",
                   json={"party_ids": add_parties(runtime.engine, 1)}, headers=headers))
    ok(client.post(f"{API}/campaigns/{campaign_id}/launch", headers=headers))
    ok(client.post(f"{API}/campaigns/{campaign_id}/cancel", headers=headers))


def mailing_campaign(runtime, client, headers) -> None:
    """An e-mail mailing sent (mailing_sent), then the recipient unsubscribes (contact_opted_out)."""
    [anna] = add_parties(runtime.engine, 1, kind="person", display_name="Anna Adler", company_name=None,
                         first_name="Anna", last_name="Adler", emails=[{"kind": "work", "address": "anna@example.org"}])
    campaign_id = create_campaign(client, headers, name="Mail", campaign_type="email")
    design_campaign(client, headers, campaign_id, MAIL_STAGES, {"opted_out": "Unsubscribed"})
    ok(client.post(f"{API}/campaigns/{campaign_id}/participants", json={"party_ids": [anna]}, headers=headers))
    ok(client.post(f"{API}/campaigns/{campaign_id}/launch", headers=headers))
    template_id = ok(client.post(f"{API}/templates", json=MAIL_TEMPLATE, headers=headers), 201)["template_id"]
    mailing_id = ok(client.post(f"{API}/campaigns/{campaign_id}/mailings",
                                json={"stage_key": "mail", "template_id": template_id}, headers=headers),
                    201)["mailing_id"]
    assert ok(client.post(f"{API}/mailings/{mailing_id}/send", headers=headers), 202)["status"] == "sent"
    [recipient] = ok(client.get(f"{API}/mailings/{mailing_id}/recipients", headers=headers))["items"]
    ok(client.post(f"{API}/mailings/{mailing_id}/recipients/{recipient['recipient_id']}/reactions",
                   json={"kind": "unsubscribed"}, headers=headers), 201)


def test_every_event_campaigns_writes_has_the_documented_data_fields(runtime, client, inline, document):
    headers = auth(runtime)
    telephone_campaign(runtime, client, headers)
    cancelled_campaign(runtime, client, headers)
    mailing_campaign(runtime, client, headers)

    messages = messages_by_type(document)
    seen: set[str] = set()
    for event in written_events(runtime.engine):
        seen.add(event["type"])
        assert event["type"] in messages, event["type"]
        required, known = schema_fields(document, data_schema(messages[event["type"]]))
        keys = set(event["data"])
        assert keys == known, (event["type"], "undocumented:", keys - known, "documented, not written:", known - keys)
        assert required <= keys, (event["type"], required - keys)
    assert set(PUBLISHED) <= seen, set(PUBLISHED) - seen


def test_every_type_campaigns_publishes_or_consumes_is_in_the_catalog(document):
    messages = messages_by_type(document)
    readme = catalog_readme()
    assert len(PUBLISHED) == 11
    for type_ in PUBLISHED:
        assert f"crm.campaigns/{type_}" in document["channels"] and type_ in messages, type_
        assert f"`{type_}`" in readme, type_
        assert messages[type_]["payload"]["allOf"][1]["properties"]["source"] == {"const": "crm.campaigns"}
    for type_ in EVENT_TYPES:
        channel = document["channels"].get(f"crm.{type_.split('.')[1]}/{type_}")
        assert channel is not None and type_ in messages, type_
        assert "campaigns" in {c["service"] for c in channel["x-consumers"]}, type_
