"""Mailings on PostgreSQL with a local SMTP server: templates, a mailing to a stage's participants, sending
(personalised, skipped, bounced, deferred and retried), letters as one PDF, reactions moving participants, the
public unsubscribe link and the suppression it leaves, and every refused request storing nothing."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
import smtp_server as smtp_fixtures
from campaigns_fixtures import THREE_STAGES, add_parties, auth, create_campaign, design_campaign, smtp_at, use_settings
from sqlalchemy import func, insert, select

from crm_campaigns.adapters import orm
from crm_campaigns.adapters.mailing_tables import mail_templates, mailing_reactions, mailing_recipients, mailings
from crm_campaigns.entrypoints import tasks

smtp_server = smtp_fixtures.smtp_server

API = "/api/campaigns"
BASE_URL = "https://crm.example"
MAIL_STAGES = [
    {"key": "mail", "name": "Offer mail", "action": "mailing",
     "rules": [{"when": {"kind": "mailing_reaction", "value": "sent"}, "then": "advance", "target_stage": "wait"},
               {"when": {"kind": "mailing_reaction", "value": "bounced"}, "then": "fail",
                "failure_code": "bounced"}]},
    {"key": "wait", "name": "Waiting for a reaction", "action": "mailing",
     "rules": [{"when": {"kind": "mailing_reaction", "value": "opened"}, "then": "advance", "target_stage": "hot"},
               {"when": {"kind": "mailing_reaction", "value": "replied"}, "then": "succeed"},
               {"when": {"kind": "mailing_reaction", "value": "unsubscribed"}, "then": "fail",
                "failure_code": "opted_out"},
               {"when": {"kind": "mailing_reaction", "value": "bounced"}, "then": "fail", "failure_code": "bounced"}]},
    {"key": "hot", "name": "Opened the offer", "action": "task",
     "rules": [{"when": {"kind": "mailing_reaction", "value": "clicked"}, "then": "succeed"}]},
]
MAIL_CODES = {"bounced": "The mail bounced", "opted_out": "Unsubscribed"}
EMAIL_TEMPLATE = {"name": "Spring offer mail", "channel": "email", "subject": "Hello {{ first_name }}",
                  "body": "{{ salutation }},\nour {{ campaign_name }} awaits you.\nUnsubscribe: {{ unsubscribe_url }}",
                  "line_of_business": "retail"}
LETTER_TEMPLATE = {"name": "Spring offer letter", "channel": "letter", "subject": "Our offer",
                   "body": "{{ salutation }},\nwe write to you at {{ street }}.", "line_of_business": "retail"}


@pytest.fixture
def headers(runtime):
    return auth(runtime)


@pytest.fixture
def inline_mail(monkeypatch, runtime, client, smtp_server):
    """Mailings are sent inside the request, to the local SMTP server."""
    use_settings(monkeypatch, runtime, client, mailings_inline=True, smtp=smtp_at(runtime, smtp_server),
                 public_base_url=BASE_URL)
    return smtp_server


# -- helpers -----------------------------------------------------------------------------------------------------
def problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    return response.get_json()


def person(engine, first: str, last: str, email: str | None, **overrides) -> str:
    [party_id] = add_parties(engine, 1, kind="person", display_name=f"{first} {last}", company_name=None,
                             first_name=first, last_name=last,
                             emails=[{"kind": "work", "address": email}] if email else [], **overrides)
    return party_id


def running_campaign(client, headers, party_ids: list[str], stages=None, codes=None, **fields) -> str:
    campaign_id = create_campaign(client, headers, **{"campaign_type": "email", **fields})
    design_campaign(client, headers, campaign_id, stages or MAIL_STAGES, codes or MAIL_CODES)
    added = client.post(f"{API}/campaigns/{campaign_id}/participants", json={"party_ids": party_ids}, headers=headers)
    assert added.status_code == 200, added.get_json()
    assert client.post(f"{API}/campaigns/{campaign_id}/launch", headers=headers).status_code == 200
    return campaign_id


def template(client, headers, body=None) -> str:
    response = client.post(f"{API}/templates", json=body or EMAIL_TEMPLATE, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["template_id"]


def new_mailing(client, headers, campaign_id: str, template_id: str, stage_key: str = "mail") -> dict:
    response = client.post(f"{API}/campaigns/{campaign_id}/mailings",
                           json={"stage_key": stage_key, "template_id": template_id}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def send(client, headers, mailing_id: str) -> dict:
    response = client.post(f"{API}/mailings/{mailing_id}/send", headers=headers)
    assert response.status_code == 202, response.get_json()
    return response.get_json()


def recipients(client, headers, mailing_id: str, status: str | None = None) -> dict[str, dict]:
    query = f"?status={status}" if status else ""
    response = client.get(f"{API}/mailings/{mailing_id}/recipients{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return {r["party_id"]: r for r in response.get_json()["items"]}


def positions(engine, campaign_id: str) -> dict[str, tuple]:
    with engine.connect() as conn:
        rows = conn.execute(select(orm.participations).where(orm.participations.c.campaign_id == campaign_id))
        return {r.party_id: (r.status, r.stage_key, r.failure_code) for r in rows}


def outbox(engine, event_type: str) -> list[dict]:
    box = orm.messaging.outbox
    with engine.connect() as conn:
        bodies = conn.execute(select(box.c.body).where(box.c.routing_key == event_type).order_by(box.c.position))
        return [json.loads(body)["data"] for body in bodies.scalars()]


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def suppress(engine, party_id: str, channel: str = "email") -> None:
    with engine.begin() as conn:
        conn.execute(insert(orm.suppressions).values(
            suppression_id=str(uuid.uuid4()), party_id=party_id, email_key=None, phone_key=None, campaign_id=None,
            channel=channel, reason="asked by phone", created_by="test", created_at=datetime.now(UTC)))


def reaction(client, headers, mailing_id: str, recipient_id: str, kind: str, **body):
    return client.post(f"{API}/mailings/{mailing_id}/recipients/{recipient_id}/reactions",
                       json={"kind": kind, **body}, headers=headers)


def by_recipient(server) -> dict[str, object]:
    return {mail.recipients[0]: mail.message for mail in server.messages}


# -- e-mail ------------------------------------------------------------------------------------------------------
def test_an_email_mailing_reaches_the_stage_personalised_and_skips_who_it_cannot_reach(runtime, client, headers,
                                                                                        inline_mail):
    engine = runtime.engine
    anna = person(engine, "Anna", "Adler", "anna@example.org")
    ben = person(engine, "Ben", "Bauer", "bounce-ben@example.org")
    carl = person(engine, "Carl", "Cramer", None)
    dora = person(engine, "Dora", "Dietz", "dora@example.org")
    suppress(engine, dora)
    campaign_id = running_campaign(client, headers, [anna, ben, carl, dora], name="Spring offer")
    mailing = new_mailing(client, headers, campaign_id, template(client, headers))
    assert (mailing["status"], mailing["channel"]) == ("draft", "email")
    assert mailing["counts"] == {"queued": 2, "skipped": 2, "sent": 0, "bounced": 0, "deferred": 0}
    skipped = recipients(client, headers, mailing["mailing_id"], "skipped")
    assert {p: r["detail"] for p, r in skipped.items()} == {carl: "no e-mail address", dora: "suppressed for email"}

    done = send(client, headers, mailing["mailing_id"])
    assert done["status"] == "sent" and done["sent_at"] is not None
    assert done["counts"] == {"queued": 0, "skipped": 2, "sent": 1, "bounced": 1, "deferred": 0}
    message = by_recipient(inline_mail)["anna@example.org"]
    assert len(inline_mail.messages) == 1 and message["Subject"] == "Hello Anna"
    [anna_row] = [r for p, r in recipients(client, headers, mailing["mailing_id"]).items() if p == anna]
    link = message["List-Unsubscribe"].strip("<>")
    assert link.startswith(f"{BASE_URL}/api/campaigns/unsubscribe/{uuid.UUID(anna_row['recipient_id']).hex}.")
    assert message["Message-ID"] == f"<{anna_row['recipient_id']}@crm.local>"
    assert message.get_content().rstrip("\n") == (
        f"Dear Anna Adler,\nour Spring offer awaits you.\nUnsubscribe: {link}")

    assert positions(engine, campaign_id) == {anna: ("active", "wait", None), ben: ("failed", "mail", "bounced"),
                                              carl: ("active", "mail", None), dora: ("active", "mail", None)}
    ben_row = recipients(client, headers, mailing["mailing_id"], "bounced")[ben]
    assert ben_row["detail"].startswith("550") and ben_row["attempts"] == 1
    bounces = client.get(f"{API}/mailings/{mailing['mailing_id']}/recipients/{ben_row['recipient_id']}/reactions",
                         headers=headers).get_json()["items"]
    assert [(r["kind"], r["detail"][:3]) for r in bounces] == [("bounced", "550")]
    [event] = outbox(engine, "crm.campaigns.mailing_sent.v1")
    assert datetime.fromisoformat(event.pop("sent_at")) == datetime.fromisoformat(done["sent_at"])
    assert event == {"mailing_id": mailing["mailing_id"], "campaign_id": campaign_id, "stage_key": "mail",
                     "channel": "email", "status": "sent", "counts": done["counts"]}

    problem(client.post(f"{API}/mailings/{mailing['mailing_id']}/send", headers=headers), 409)
    problem(client.get(f"{API}/mailings/{mailing['mailing_id']}/document.pdf", headers=headers), 404)
    assert len(inline_mail.messages) == 1


def test_deferred_recipients_are_retried_until_they_run_out_of_attempts(runtime, client, headers, inline_mail,
                                                                        monkeypatch):
    engine = runtime.engine
    anna = person(engine, "Anna", "Adler", "anna@example.org")
    lena = person(engine, "Lena", "Lang", "later-lena@example.org")
    campaign_id = running_campaign(client, headers, [anna, lena])
    mailing_id = new_mailing(client, headers, campaign_id, template(client, headers))["mailing_id"]

    nobody = smtp_at(runtime, inline_mail, smtp_fixtures.free_port())  # nobody answers there
    use_settings(monkeypatch, runtime, client, smtp=nobody)
    first = send(client, headers, mailing_id)
    assert first["status"] == "sending" and first["counts"]["deferred"] == 2
    assert {p: r["attempts"] for p, r in recipients(client, headers, mailing_id).items()} == {anna: 1, lena: 1}
    assert positions(engine, campaign_id)[anna] == ("active", "mail", None)

    use_settings(monkeypatch, runtime, client, smtp=smtp_at(runtime, inline_mail))
    second = send(client, headers, mailing_id)
    assert second["status"] == "sending" and (second["counts"]["sent"], second["counts"]["deferred"]) == (1, 1)
    assert [m.recipients for m in inline_mail.messages] == [["anna@example.org"]]
    assert positions(engine, campaign_id)[anna] == ("active", "wait", None)
    assert outbox(engine, "crm.campaigns.mailing_sent.v1") == []

    for _ in range(3):  # attempts 3, 4 and 5 for Lena, whose server keeps answering "try later"
        last = send(client, headers, mailing_id)
    assert last["status"] == "sent" and (last["counts"]["sent"], last["counts"]["deferred"]) == (1, 1)
    lena_row = recipients(client, headers, mailing_id)[lena]
    assert (lena_row["status"], lena_row["attempts"], lena_row["detail"][:3]) == ("deferred", 5, "451")
    assert len(inline_mail.messages) == 1  # Anna was not sent the mail again
    assert len(outbox(engine, "crm.campaigns.mailing_sent.v1")) == 1
    problem(client.post(f"{API}/mailings/{mailing_id}/send", headers=headers), 409)


def test_who_left_the_stage_or_was_suppressed_after_the_mailing_was_made_is_not_mailed(runtime, client, headers,
                                                                                       inline_mail):
    engine = runtime.engine
    anna = person(engine, "Anna", "Adler", "anna@example.org")
    otto = person(engine, "Otto", "Ost", "otto@example.org")
    paul = person(engine, "Paul", "Pohl", "paul@example.org")
    campaign_id = running_campaign(client, headers, [anna, otto, paul])
    mailing_id = new_mailing(client, headers, campaign_id, template(client, headers))["mailing_id"]
    assert client.delete(f"{API}/campaigns/{campaign_id}/participants/{otto}", headers=headers).status_code == 204
    suppress(engine, paul, channel="all")

    done = send(client, headers, mailing_id)
    assert (done["counts"]["sent"], done["counts"]["skipped"]) == (1, 2)
    rows = recipients(client, headers, mailing_id)
    assert rows[otto]["detail"] == "left stage 'mail' before the mailing went out"
    assert rows[paul]["detail"] == "suppressed for email" and rows[paul]["attempts"] == 0
    assert [m.recipients for m in inline_mail.messages] == [["anna@example.org"]]


def test_without_inline_sending_the_mailing_is_queued_for_the_worker(runtime, client, headers, monkeypatch):
    queued = []
    use_settings(monkeypatch, runtime, client, mailings_inline=False)
    monkeypatch.setattr(tasks.send_mailing, "delay", queued.append)
    anna = person(runtime.engine, "Anna", "Adler", "anna@example.org")
    campaign_id = running_campaign(client, headers, [anna])
    mailing_id = new_mailing(client, headers, campaign_id, template(client, headers))["mailing_id"]
    answer = send(client, headers, mailing_id)
    assert answer["status"] == "sending" and answer["counts"]["queued"] == 1
    assert queued == [mailing_id]


def test_the_task_comes_back_for_deferred_recipients(runtime, client, headers, uows, monkeypatch, smtp_server):
    later = []
    use_settings(monkeypatch, runtime, client, mailings_inline=False)
    monkeypatch.setattr(tasks, "_uows", lambda: uows)
    monkeypatch.setattr(tasks, "_runtime", lambda: runtime)
    monkeypatch.setattr(tasks.send_mailing, "apply_async", lambda args, countdown: later.append((args, countdown)))
    use_settings(monkeypatch, runtime, client, smtp=smtp_at(runtime, smtp_server))
    monkeypatch.setattr(tasks.send_mailing, "delay", lambda mailing_id: None)
    lena = person(runtime.engine, "Lena", "Lang", "later-lena@example.org")
    anna = person(runtime.engine, "Anna", "Adler", "anna@example.org")
    mailing_id = new_mailing(client, headers, running_campaign(client, headers, [lena, anna]),
                             template(client, headers))["mailing_id"]
    send(client, headers, mailing_id)

    assert tasks.send_mailing(mailing_id) == "sending"
    assert later == [((mailing_id,), tasks.MAILING_RETRY_SECONDS)]
    assert [m.recipients for m in smtp_server.messages] == [["anna@example.org"]]


# -- letters -----------------------------------------------------------------------------------------------------
def test_letters_become_one_stored_pdf_and_their_recipients_count_as_sent(runtime, client, headers, inline_mail):
    engine = runtime.engine
    home = person(engine, "Hanna", "Heim", None, primary_address={"street": "Hofweg 2", "postal_code": "10115",
                                                                   "city": "Berlin", "country": "DE"})
    abroad = person(engine, "Albert", "Aust", None, primary_address={"street": "Ring 5", "postal_code": "1010",
                                                                      "city": "Wien", "country": "AT"})
    nowhere = person(engine, "Nora", "Nix", None, primary_address={"city": "Berlin"})
    campaign_id = running_campaign(client, headers, [home, abroad, nowhere], campaign_type="letter")
    mailing = new_mailing(client, headers, campaign_id, template(client, headers, LETTER_TEMPLATE))
    assert (mailing["channel"], mailing["counts"]["queued"], mailing["counts"]["skipped"]) == ("letter", 2, 1)
    assert recipients(client, headers, mailing["mailing_id"])[abroad]["address"] == "Albert Aust\nRing 5\n1010 Wien\nAT"
    document_url = f"{API}/mailings/{mailing['mailing_id']}/document.pdf"
    problem(client.get(document_url, headers=headers), 404)

    done = send(client, headers, mailing["mailing_id"])
    assert done["status"] == "sent" and done["has_document"] is True
    assert (done["counts"]["sent"], done["counts"]["skipped"]) == (2, 1)
    pdf = client.get(document_url, headers=headers)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF-1.4") and b"/Count 2 " in pdf.data
    for text in ("(Dear Hanna Heim,)", "(we write to you at Hofweg 2.)", "(Dear Albert Aust,)", "(1010 Wien)",
                 "(AT)"):
        assert text.encode("cp1252") in pdf.data, text
    assert b"Nora" not in pdf.data
    assert inline_mail.messages == []
    assert positions(engine, campaign_id)[home] == ("active", "wait", None)
    assert positions(engine, campaign_id)[nowhere] == ("active", "mail", None)
    problem(client.get(document_url, headers=auth(runtime, lines=("wholesale",))), 404)


# -- reactions ---------------------------------------------------------------------------------------------------
@pytest.fixture
def sent_mailing(runtime, client, headers, inline_mail):
    """Anna and Bob were sent the mail (now waiting in `wait`), Carl was skipped."""
    engine = runtime.engine
    parties = {"anna": person(engine, "Anna", "Adler", "anna@example.org"),
               "bob": person(engine, "Bob", "Brandt", "bob@example.org"),
               "carl": person(engine, "Carl", "Cramer", None)}
    campaign_id = running_campaign(client, headers, list(parties.values()))
    mailing_id = new_mailing(client, headers, campaign_id, template(client, headers))["mailing_id"]
    send(client, headers, mailing_id)
    rows = recipients(client, headers, mailing_id)
    return {"campaign_id": campaign_id, "mailing_id": mailing_id, "parties": parties,
            "recipient": {name: rows[party_id]["recipient_id"] for name, party_id in parties.items()}}


def test_reactions_move_participants_by_their_stage_rules(runtime, client, headers, sent_mailing):
    mailing_id, recipient, parties = sent_mailing["mailing_id"], sent_mailing["recipient"], sent_mailing["parties"]
    yesterday = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0).astimezone(timezone(timedelta(hours=1)))
    opened = reaction(client, headers, mailing_id, recipient["anna"], "opened", occurred_at=yesterday.isoformat())
    assert opened.status_code == 201 and opened.get_json()["kind"] == "opened"
    assert positions(runtime.engine, sent_mailing["campaign_id"])[parties["anna"]] == ("active", "hot", None)
    clicked = reaction(client, headers, mailing_id, recipient["anna"], "clicked", detail="https://shop.example/offer")
    assert clicked.status_code == 201 and clicked.get_json()["detail"] == "https://shop.example/offer"
    assert reaction(client, headers, mailing_id, recipient["bob"], "replied").status_code == 201

    state = positions(runtime.engine, sent_mailing["campaign_id"])
    assert state[parties["anna"]] == ("succeeded", "hot", None) and state[parties["bob"]] == ("succeeded", "wait", None)
    listed = client.get(f"{API}/mailings/{mailing_id}/recipients/{recipient['anna']}/reactions",
                        headers=headers).get_json()["items"]
    assert [r["kind"] for r in listed] == ["opened", "clicked"]
    assert datetime.fromisoformat(listed[0]["occurred_at"]) == yesterday


def test_a_reaction_reported_twice_is_recorded_once(runtime, client, headers, sent_mailing):
    mailing_id, anna = sent_mailing["mailing_id"], sent_mailing["recipient"]["anna"]
    first = reaction(client, headers, mailing_id, anna, "opened")
    history_before = count(runtime.engine, orm.stage_history)
    again = reaction(client, headers, mailing_id, anna, "opened", detail="second pixel load")
    assert again.status_code == 200 and again.get_json() == first.get_json()
    assert count(runtime.engine, mailing_reactions) == 1
    assert count(runtime.engine, orm.stage_history) == history_before


def test_a_late_bounce_marks_the_recipient_bounced_and_fails_the_participant(runtime, client, headers, sent_mailing):
    mailing_id, bob = sent_mailing["mailing_id"], sent_mailing["recipient"]["bob"]
    assert reaction(client, headers, mailing_id, bob, "bounced", detail="5.2.2 mailbox full").status_code == 201
    row = recipients(client, headers, mailing_id)[sent_mailing["parties"]["bob"]]
    assert (row["status"], row["detail"]) == ("bounced", "5.2.2 mailbox full")
    assert client.get(f"{API}/mailings/{mailing_id}", headers=headers).get_json()["counts"]["bounced"] == 1
    assert positions(runtime.engine, sent_mailing["campaign_id"])[sent_mailing["parties"]["bob"]] == (
        "failed", "wait", "bounced")


@pytest.mark.parametrize("body, status, field", [
    ({"kind": "sent"}, 422, "kind"),
    ({"kind": "exploded"}, 422, "kind"),
    ({}, 422, "kind"),
    ({"kind": "opened", "occurred_at": "2026-01-05T10:00:00"}, 422, "occurred_at"),
    ({"kind": "opened", "occurred_at": "not a time"}, 422, "occurred_at"),
    ({"kind": "opened", "detail": "x" * 1001}, 422, "detail"),
])
def test_bad_reactions_are_refused_and_change_nothing(runtime, client, headers, sent_mailing, body, status, field):
    url = f"{API}/mailings/{sent_mailing['mailing_id']}/recipients/{sent_mailing['recipient']['anna']}/reactions"
    before = positions(runtime.engine, sent_mailing["campaign_id"])
    assert field in str(problem(client.post(url, json=body, headers=headers), status))
    assert count(runtime.engine, mailing_reactions) == 0
    assert positions(runtime.engine, sent_mailing["campaign_id"]) == before


def test_reactions_that_cannot_be_are_refused(runtime, client, headers, sent_mailing):
    mailing_id, recipient = sent_mailing["mailing_id"], sent_mailing["recipient"]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    problem(reaction(client, headers, mailing_id, recipient["anna"], "opened", occurred_at=future), 422)
    problem(reaction(client, headers, mailing_id, recipient["carl"], "opened"), 409)  # Carl was skipped
    problem(reaction(client, headers, mailing_id, str(uuid.uuid4()), "opened"), 404)
    problem(reaction(client, headers, str(uuid.uuid4()), recipient["anna"], "opened"), 404)
    problem(reaction(client, headers, mailing_id, "not-a-uuid", "opened"), 404)
    problem(reaction(client, auth(runtime, roles=("agent",)), mailing_id, recipient["anna"], "opened"), 403)
    problem(reaction(client, auth(runtime, lines=("wholesale",)), mailing_id, recipient["anna"], "opened"), 404)
    assert count(runtime.engine, mailing_reactions) == 0


# -- unsubscribing -----------------------------------------------------------------------------------------------
def _link(server, address: str) -> str:
    return by_recipient(server)[address]["List-Unsubscribe"].strip("<>").removeprefix(BASE_URL)


def test_the_public_unsubscribe_link_suppresses_the_party_for_later_mailings(runtime, client, headers, sent_mailing,
                                                                           inline_mail):
    engine, anna = runtime.engine, sent_mailing["parties"]["anna"]
    link = _link(inline_mail, "anna@example.org")
    page = client.get(link)
    assert page.status_code == 200 and page.mimetype == "text/html" and b'method="post"' in page.data
    assert count(engine, orm.suppressions) == 0  # opening the link alone changes nothing

    answer = client.post(link, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200 and answer.get_json() == {"unsubscribed": True, "channel": "email"}
    with engine.connect() as conn:
        [row] = conn.execute(select(orm.suppressions)).all()
    assert (row.party_id, row.email_key, row.channel, row.campaign_id) == (anna, "anna@example.org", "email", None)
    assert row.reason == f"unsubscribed via mailing {sent_mailing['mailing_id']}"
    [opted_out] = outbox(engine, "crm.campaigns.contact_opted_out.v1")
    assert {k: opted_out[k] for k in ("party_id", "email", "channel", "mailing_id")} == {
        "party_id": anna, "email": "anna@example.org", "channel": "email", "mailing_id": sent_mailing["mailing_id"]}
    assert positions(engine, sent_mailing["campaign_id"])[anna] == ("failed", "wait", "opted_out")

    assert client.post(link).status_code == 200
    assert count(engine, orm.suppressions) == 1 and len(outbox(engine, "crm.campaigns.contact_opted_out.v1")) == 1

    bob = sent_mailing["parties"]["bob"]
    later = running_campaign(client, headers, [anna, bob], name="Summer offer")
    mailing = new_mailing(client, headers, later, template(client, headers))
    rows = recipients(client, headers, mailing["mailing_id"])
    assert (rows[anna]["status"], rows[anna]["detail"]) == ("skipped", "suppressed for email")
    assert rows[bob]["status"] == "queued"


def test_unsubscribing_from_everything_through_the_page(runtime, client, sent_mailing, inline_mail):
    link = _link(inline_mail, "bob@example.org")
    answer = client.post(f"{link}?all_channels=true", headers={"Accept": "text/html"})
    assert answer.status_code == 200 and answer.mimetype == "text/html" and b"unsubscribed" in answer.data
    with runtime.engine.connect() as conn:
        assert conn.execute(select(orm.suppressions.c.channel, orm.suppressions.c.party_id)).all() == [
            ("all", sent_mailing["parties"]["bob"])]


def test_a_tampered_or_forged_unsubscribe_link_is_not_found(runtime, client, sent_mailing, inline_mail):
    link = _link(inline_mail, "anna@example.org")
    hex_id, signature = link.rsplit("/", 1)[1].split(".")
    other_id = uuid.UUID(sent_mailing["recipient"]["bob"]).hex
    forged = [link[:-1] + ("A" if link[-1] != "A" else "B"), link.replace(hex_id, other_id),
              f"/api/campaigns/unsubscribe/{hex_id}", "/api/campaigns/unsubscribe/nonsense",
              f"/api/campaigns/unsubscribe/{uuid.uuid4().hex}.{signature}"]
    for url in forged:
        problem(client.post(url), 404)
        problem(client.get(url), 404)
    assert count(runtime.engine, orm.suppressions) == 0 and count(runtime.engine, mailing_reactions) == 0


# -- refused requests --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("changes, field", [
    ({"body": "Dear {{ nickname }}"}, "body"),
    ({"subject": "Hi {{ attribute.shoe_size }}"}, "subject"),
    ({"body": "Dear {{ first_name"}, "body"),
    ({"subject": None}, "subject"),
    ({"subject": "two\nlines"}, "subject"),
    ({"channel": "sms"}, "channel"),
    ({"channel": "letter", "html": True}, "html"),
    ({"name": ""}, "name"),
    ({"body": ""}, "body"),
    ({"html": "maybe"}, "html"),
])
def test_a_bad_template_is_refused_and_not_stored(runtime, client, headers, changes, field):
    response = client.post(f"{API}/templates", json={**EMAIL_TEMPLATE, **changes}, headers=headers)
    assert field in str(problem(response, 422))
    assert count(runtime.engine, mail_templates) == 0


def test_templates_know_the_attribute_definitions_and_the_callers_lines(runtime, client, headers):
    with runtime.engine.begin() as conn:
        conn.execute(insert(orm.attribute_definitions).values(name="tariff", type="text", choices=[]))
    body = {**EMAIL_TEMPLATE, "body": "Your tariff: {{ attribute.tariff }}"}
    template_id = template(client, headers, body)
    wholesale = auth(runtime, lines=("wholesale",))
    problem(client.post(f"{API}/templates", json=body, headers=wholesale), 422)
    problem(client.post(f"{API}/templates", json=body, headers=auth(runtime, roles=("agent",))), 403)
    problem(client.get(f"{API}/templates/{template_id}", headers=wholesale), 404)
    assert client.get(f"{API}/templates", headers=wholesale).get_json()["items"] == []
    assert [t["template_id"] for t in client.get(f"{API}/templates?channel=email", headers=headers)
            .get_json()["items"]] == [template_id]
    assert client.get(f"{API}/templates?channel=letter", headers=headers).get_json()["items"] == []
    problem(client.get(f"{API}/templates"), 401)
    problem(client.get(f"{API}/templates/not-a-uuid", headers=headers), 404)


def test_a_template_update_is_checked_like_a_new_one(runtime, client, headers):
    template_id = template(client, headers)
    url = f"{API}/templates/{template_id}"
    problem(client.put(url, json={**EMAIL_TEMPLATE, "body": "{{ nickname }}"}, headers=headers), 422)
    problem(client.put(url, json={**EMAIL_TEMPLATE, "version": 7}, headers=headers), 409)
    problem(client.put(url, json={**LETTER_TEMPLATE}, headers=headers), 409)
    assert client.get(url, headers=headers).get_json()["body"] == EMAIL_TEMPLATE["body"]
    changed = client.put(url, json={**EMAIL_TEMPLATE, "subject": "Hi {{ last_name }}", "version": 1}, headers=headers)
    assert changed.status_code == 200 and (changed.get_json()["subject"], changed.get_json()["version"]) == (
        "Hi {{ last_name }}", 2)


def test_a_template_cannot_change_while_its_mailing_is_being_sent(runtime, client, headers, monkeypatch):
    use_settings(monkeypatch, runtime, client, mailings_inline=False)
    monkeypatch.setattr(tasks.send_mailing, "delay", lambda mailing_id: None)
    anna = person(runtime.engine, "Anna", "Adler", "anna@example.org")
    template_id = template(client, headers)
    send(client, headers, new_mailing(client, headers, running_campaign(client, headers, [anna]),
                                      template_id)["mailing_id"])
    problem(client.put(f"{API}/templates/{template_id}", json=EMAIL_TEMPLATE, headers=headers), 409)


def test_a_mailing_that_cannot_be_made_is_refused_and_not_stored(runtime, client, headers):
    engine = runtime.engine
    anna = person(engine, "Anna", "Adler", "anna@example.org")
    email_campaign = running_campaign(client, headers, [anna])
    calls_campaign = running_campaign(client, headers, [anna], stages=THREE_STAGES,
                                      codes={"no_interest": "x", "unreachable": "y", "no_reaction": "z"},
                                      campaign_type="telemarketing")
    draft = create_campaign(client, headers, campaign_type="email")
    design_campaign(client, headers, draft, MAIL_STAGES, MAIL_CODES)
    email_template, letter_template = template(client, headers), template(client, headers, LETTER_TEMPLATE)
    cases = [
        (email_campaign, {"stage_key": "nowhere", "template_id": email_template}, 422, "stage_key"),
        (calls_campaign, {"stage_key": "call", "template_id": email_template}, 422, "stage_key"),
        (email_campaign, {"stage_key": "mail", "template_id": letter_template}, 422, "template_id"),
        (email_campaign, {"stage_key": "mail", "template_id": email_template, "channel": "letter"}, 422, "channel"),
        (email_campaign, {"stage_key": "mail", "template_id": str(uuid.uuid4())}, 422, "template_id"),
        (email_campaign, {"stage_key": "mail", "template_id": "not-a-uuid"}, 422, "template_id"),
        (email_campaign, {"stage_key": "mail"}, 422, "template_id"),
        (email_campaign, {"stage_key": "wait", "template_id": email_template}, 409, "stage_key"),
        (calls_campaign, {"stage_key": "offer", "template_id": email_template}, 409, "stage_key"),
        (draft, {"stage_key": "mail", "template_id": email_template}, 409, "active"),
        (str(uuid.uuid4()), {"stage_key": "mail", "template_id": email_template}, 404, "campaign"),
    ]
    for campaign_id, body, status, hint in cases:
        answer = problem(client.post(f"{API}/campaigns/{campaign_id}/mailings", json=body, headers=headers), status)
        assert hint in str(answer), (body, answer)
    url = f"{API}/campaigns/{email_campaign}/mailings"
    problem(client.post(url, json={"stage_key": "mail", "template_id": email_template},
                        headers=auth(runtime, roles=("agent",))), 403)
    problem(client.post(url, json={"stage_key": "mail", "template_id": email_template},
                        headers=auth(runtime, lines=("wholesale",))), 404)
    assert count(engine, mailings) == 0 and count(engine, mailing_recipients) == 0


def test_unknown_or_invisible_mailings_are_not_found(runtime, client, headers, inline_mail):
    anna = person(runtime.engine, "Anna", "Adler", "anna@example.org")
    mailing_id = new_mailing(client, headers, running_campaign(client, headers, [anna]),
                             template(client, headers))["mailing_id"]
    wholesale = auth(runtime, lines=("wholesale",))
    for path in ("", "/recipients", "/document.pdf"):
        problem(client.get(f"{API}/mailings/{mailing_id}{path}", headers=wholesale), 404)
        problem(client.get(f"{API}/mailings/{uuid.uuid4()}{path}", headers=headers), 404)
        problem(client.get(f"{API}/mailings/not-a-uuid{path}", headers=headers), 404)
    problem(client.post(f"{API}/mailings/{mailing_id}/send", headers=wholesale), 404)
    problem(client.post(f"{API}/mailings/{mailing_id}/send", headers=auth(runtime, roles=("agent",))), 403)
    problem(client.get(f"{API}/mailings/{mailing_id}/recipients?status=lost", headers=headers), 422)
    assert client.get(f"{API}/mailings/{mailing_id}", headers=headers).get_json()["status"] == "draft"
    assert inline_mail.messages == []


def test_the_api_document_shows_the_unsubscribe_link_as_the_one_route_without_a_token(client):
    paths = client.get(f"{API}/openapi.json").get_json()["paths"]
    unsubscribe = paths["/api/campaigns/unsubscribe/{token}"]
    assert unsubscribe["get"]["security"] == [] and unsubscribe["post"]["security"] == []
    assert "security" not in paths["/api/campaigns/mailings/{mailing_id}/send"]["post"]  # the global bearer applies
    assert "application/pdf" in str(paths["/api/campaigns/mailings/{mailing_id}/document.pdf"]["get"]["responses"])
