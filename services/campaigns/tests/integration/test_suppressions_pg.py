"""The suppression list on PostgreSQL: adding, listing, lifting; a party suppressed on every channel leaves its
open participations; the helpers mailings and imports use; invalid requests refused with nothing stored."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from campaigns_fixtures import add_parties, auth, create_campaign, design_campaign
from crm_shared.auth import Principal
from sqlalchemy import func, select

from crm_campaigns.adapters import orm
from crm_campaigns.domain.errors import InvalidInput, NotFound
from crm_campaigns.service_layer import suppressions

URL = "/api/campaigns/suppressions"


def suppress(client, headers, **body):
    return client.post(URL, json={"reason": "objected to contact", **body}, headers=headers)


def stored(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(orm.suppressions))


def participation(engine, campaign_id: str, party_id: str) -> tuple:
    p = orm.participations.c
    with engine.connect() as conn:
        row = conn.execute(select(p.status, p.stage_key, p.request_id).where(p.campaign_id == campaign_id,
                                                                             p.party_id == party_id)).one()
    return tuple(row)


def withdrawn(engine) -> list[str]:
    outbox = orm.messaging.outbox
    with engine.connect() as conn:
        bodies = conn.execute(select(outbox.c.body).where(
            outbox.c.routing_key == "crm.campaigns.campaign_call_withdrawn.v1")).scalars()
        return [json.loads(b)["data"]["request_id"] for b in bodies]


def active_campaign(client, headers, parties: list[str], **fields) -> str:
    campaign_id = create_campaign(client, headers, **fields)
    design_campaign(client, headers, campaign_id)
    client.post(f"/api/campaigns/campaigns/{campaign_id}/participants", json={"party_ids": parties}, headers=headers)
    assert client.post(f"/api/campaigns/campaigns/{campaign_id}/launch", headers=headers).status_code == 200
    return campaign_id


def test_a_suppression_is_stored_normalised_listed_and_lifted(runtime, client):
    headers = auth(runtime)
    [party] = add_parties(runtime.engine, 1)
    created = suppress(client, headers, party_id=party, email=" Jane.Doe@Example.COM ", phone="+49 (0)30 777 888",
                       channel="email")
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert (body["party_id"], body["email_key"], body["phone_key"], body["channel"], body["created_by"]) == \
        (party, "jane.doe@example.com", "4930777888", "email", "marketer")
    assert body["participations_ended"] == 0

    listed = client.get(URL, headers=headers).get_json()["items"]
    assert [s["suppression_id"] for s in listed] == [body["suppression_id"]]
    by_email = client.get(f"{URL}?email=JANE.DOE@example.com", headers=headers).get_json()["items"]
    assert len(by_email) == 1
    assert client.get(f"{URL}?party_id={uuid.uuid4()}", headers=headers).get_json()["items"] == []

    assert client.delete(f"{URL}/{body['suppression_id']}", headers=headers).status_code == 204
    assert client.get(URL, headers=headers).get_json()["items"] == []
    again = client.delete(f"{URL}/{body['suppression_id']}", headers=headers)
    assert again.status_code == 404 and again.mimetype == "application/problem+json"


def test_the_list_pages_newest_first(runtime, client):
    headers = auth(runtime)
    ids = [suppress(client, headers, email=f"p{i}@example.com").get_json()["suppression_id"] for i in range(3)]
    first = client.get(f"{URL}?limit=2", headers=headers).get_json()
    second = client.get(f"{URL}?limit=2&cursor={first['next_cursor']}", headers=headers).get_json()
    assert [s["suppression_id"] for s in first["items"] + second["items"]] == ids[::-1]
    assert second["next_cursor"] is None
    for cursor in ("WyJub3QgYSBkYXRlIiwgIngiXQ==", "WyIyMDI0LTAxLTAxIiwgIlx1MDAwMCJd"):  # ["not a date", "x"], NUL
        bad = client.get(f"{URL}?cursor={cursor}", headers=headers)
        assert bad.status_code == 400 and bad.mimetype == "application/problem+json"


def test_suppressing_a_party_everywhere_ends_its_open_participations(runtime, client):
    headers = auth(runtime)
    party, other = add_parties(runtime.engine, 2)
    first = active_campaign(client, headers, [party, other], name="First")
    second = active_campaign(client, headers, [party], name="Second")
    request_id = participation(runtime.engine, first, party)[2]

    body = suppress(client, headers, party_id=party).get_json()
    assert body["participations_ended"] == 2
    assert participation(runtime.engine, first, party)[0] == "excluded"
    assert participation(runtime.engine, second, party)[0] == "excluded"
    assert participation(runtime.engine, first, other)[:2] == ("active", "call")
    assert request_id in withdrawn(runtime.engine)


def test_a_campaign_scoped_suppression_ends_only_that_participation(runtime, client):
    headers = auth(runtime)
    [party] = add_parties(runtime.engine, 1)
    first = active_campaign(client, headers, [party], name="First")
    second = active_campaign(client, headers, [party], name="Second")
    assert suppress(client, headers, party_id=party, campaign_id=first).get_json()["participations_ended"] == 1
    assert participation(runtime.engine, first, party)[0] == "excluded"
    assert participation(runtime.engine, second, party)[:2] == ("active", "call")


def test_a_single_channel_suppression_leaves_participations_open(runtime, client):
    headers = auth(runtime)
    [party] = add_parties(runtime.engine, 1)
    campaign_id = active_campaign(client, headers, [party])
    assert suppress(client, headers, party_id=party, channel="email").get_json()["participations_ended"] == 0
    assert participation(runtime.engine, campaign_id, party)[:2] == ("active", "call")


def test_the_helpers_find_suppressed_parties_and_contacts(runtime, client, uows):
    headers = auth(runtime)
    by_id, free = add_parties(runtime.engine, 1), add_parties(runtime.engine, 1)
    by_email = add_parties(runtime.engine, 1, emails=[{"kind": "work", "address": "mail@example.com"}],
                           phones=[{"kind": "work", "number": "+49 40 111111"}])
    by_phone = add_parties(runtime.engine, 1, phones=[{"kind": "work", "number": "+49 40 222222"}])
    campaign_id = create_campaign(client, headers, campaign_type="telemarketing")
    not_replicated = str(uuid.uuid4())
    now = datetime.now(UTC)
    with uows() as uow:
        uow.suppressions.add(party_id=by_id[0], reason="objected", created_by="t", now=now)
        uow.suppressions.add(party_id=not_replicated, reason="objected", created_by="t", now=now)
        uow.suppressions.add(email="MAIL@example.com", channel="email", reason="unsubscribed", created_by="t", now=now)
        uow.suppressions.add(phone="040 222222", channel="phone", campaign_id=campaign_id, reason="no calls",
                             created_by="t", now=now)
        uow.commit()
    everyone = [*by_id, *by_email, *by_phone, *free, not_replicated]
    with uows() as uow:
        s = uow.suppressions
        assert s.suppressed_party_ids(everyone, None, None) == {by_id[0], by_email[0], not_replicated}
        assert s.suppressed_party_ids(everyone, campaign_id, "phone") == {by_id[0], by_phone[0], not_replicated}
        assert s.suppressed_party_ids(everyone, campaign_id, "email") == {by_id[0], by_email[0], not_replicated}
        assert s.is_suppressed(email=" mail@EXAMPLE.com", channel="email")
        assert not s.is_suppressed(email="mail@example.com", channel="phone")
        assert s.is_suppressed(party_id=by_email[0], channel="email")  # through its replicated e-mail
        assert s.is_suppressed(phone="+49 40 222222", campaign_id=campaign_id, channel="phone")
        assert not s.is_suppressed(phone="+49 40 222222", campaign_id=str(uuid.uuid4()), channel="phone")
        assert not s.is_suppressed(party_id=free[0])
        assert not s.is_suppressed()
        assert s.suppressed_contacts(["mail@example.com", "x@example.com"], ["4940222222"], campaign_id, None) == \
            ({"mail@example.com"}, {"4940222222"})


def test_suppressions_of_campaigns_in_other_lines_are_invisible(runtime, client):
    headers = auth(runtime)
    [retail_party] = add_parties(runtime.engine, 1)
    wholesale = create_campaign(client, headers, line_of_business="wholesale")
    scoped = suppress(client, headers, email="x@example.com", campaign_id=wholesale).get_json()
    own = suppress(client, headers, party_id=retail_party).get_json()
    retailer = auth(runtime, lines=("retail",), subject="retailer")
    listed = client.get(URL, headers=retailer).get_json()["items"]
    assert [s["suppression_id"] for s in listed] == [own["suppression_id"]]
    assert client.delete(f"{URL}/{scoped['suppression_id']}", headers=retailer).status_code == 404
    assert stored(runtime.engine) == 2


def lines_matrix(runtime, client, uows) -> dict[str, str]:
    """Suppressions of every kind, added by someone who sees all lines: name -> suppression id."""
    headers = auth(runtime)
    [retail_party] = add_parties(runtime.engine, 1)
    [wholesale_party] = add_parties(runtime.engine, 1, line_of_business="wholesale")
    retail, wholesale = (create_campaign(client, headers, line_of_business=line) for line in ("retail", "wholesale"))
    made = {name: suppress(client, headers, **body).get_json()["suppression_id"] for name, body in {
        "retail party": {"party_id": retail_party},
        "wholesale party": {"party_id": wholesale_party, "email": "w@example.com"},
        "address everywhere": {"email": "anyone@example.com"},
        "address in retail campaign": {"email": "r@example.com", "campaign_id": retail},
        "address in wholesale campaign": {"phone": "+49 30 999999", "campaign_id": wholesale},
        "retail party in wholesale campaign": {"party_id": retail_party, "campaign_id": wholesale},
    }.items()}
    with uows() as uow:
        made["party not replicated"] = uow.suppressions.add(party_id=str(uuid.uuid4()), reason="objected",
                                                            created_by="t", now=datetime.now(UTC))["suppression_id"]
        uow.commit()
    made["parties"] = (retail_party, wholesale_party)
    return made


SEEN_BY_RETAIL = {"retail party", "address in retail campaign"}


def test_a_caller_of_one_line_sees_and_lifts_only_suppressions_of_that_line(runtime, client, uows):
    made = lines_matrix(runtime, client, uows)
    retail_party, wholesale_party = made.pop("parties")
    retailer = auth(runtime, lines=("retail",), subject="retailer")
    listed = client.get(URL, headers=retailer).get_json()["items"]
    assert {s["suppression_id"] for s in listed} == {made[name] for name in SEEN_BY_RETAIL}
    assert client.get(f"{URL}?party_id={wholesale_party}", headers=retailer).get_json()["items"] == []
    assert client.get(f"{URL}?email=w@example.com", headers=retailer).get_json()["items"] == []
    everything = client.get(URL, headers=auth(runtime)).get_json()["items"]
    assert len(everything) == len(made)
    for name, suppression_id in made.items():
        response = client.delete(f"{URL}/{suppression_id}", headers=retailer)
        assert response.status_code == (204 if name in SEEN_BY_RETAIL else 404), name
    assert stored(runtime.engine) == len(made) - len(SEEN_BY_RETAIL)


def test_the_service_layer_applies_the_same_rule_to_reading_lifting_and_adding(runtime, client, uows):
    made = lines_matrix(runtime, client, uows)
    retail_party, wholesale_party = made.pop("parties")
    retailer = Principal("retailer", frozenset({"marketing"}), frozenset({"retail"}))
    now = datetime.now(UTC)
    page = suppressions.suppression_page(uows(), retailer, limit=50, after=None, party_id=None, email=None,
                                         campaign_id=None)
    assert {r["suppression_id"] for r in page} == {made[name] for name in SEEN_BY_RETAIL}
    with pytest.raises(NotFound):
        suppressions.delete_suppression(uows(), retailer, made["address everywhere"])
    with pytest.raises(NotFound):
        suppressions.delete_suppression(uows(), retailer, made["retail party in wholesale campaign"])
    with pytest.raises(InvalidInput) as everywhere:
        suppressions.add_suppression(uows(), retailer, {"email": "new@example.com", "channel": "all",
                                                        "reason": "objected"}, now)
    assert everywhere.value.field == "campaign_id"
    with pytest.raises(InvalidInput) as foreign:
        suppressions.add_suppression(uows(), retailer, {"party_id": wholesale_party, "channel": "all",
                                                        "reason": "objected"}, now)
    assert foreign.value.field == "party_id"
    added = suppressions.add_suppression(uows(), retailer, {"party_id": retail_party, "email": "new@example.com",
                                                            "channel": "email", "reason": "objected"}, now)
    suppressions.delete_suppression(uows(), retailer, added["suppression_id"])
    assert stored(runtime.engine) == len(made)


def test_an_address_suppressed_everywhere_is_added_only_by_callers_seeing_all_lines(runtime, client):
    retailer = auth(runtime, lines=("retail",), subject="retailer")
    refused = suppress(client, retailer, email="a@example.com")
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    assert [e["field"] for e in refused.get_json()["errors"]] == ["campaign_id"]
    assert stored(runtime.engine) == 0
    retail = create_campaign(client, retailer)
    assert suppress(client, retailer, email="a@example.com", campaign_id=retail).status_code == 201
    assert suppress(client, auth(runtime), email="a@example.com").status_code == 201
    assert stored(runtime.engine) == 2


@pytest.mark.parametrize("body, field", [
    ({}, "party_id"),
    ({"email": "not-an-address"}, "email"),
    ({"phone": "call me maybe"}, "phone"),
    ({"party_id": "00000000-0000-0000-0000-000000000001"}, "party_id"),
    ({"party_id": "not-a-uuid"}, "party_id"),
    ({"email": "a@example.com", "campaign_id": "00000000-0000-0000-0000-000000000002"}, "campaign_id"),
    ({"email": "a@example.com", "channel": "pigeon"}, "channel"),
    ({"email": "a@example.com", "reason": ""}, "reason"),
    ({"email": "a@example.com", "colour": "red"}, "colour"),
    ({"email": "a\u0000@example.com"}, "email"),
    ({"email": "a@example.com", "reason": "no\u0000"}, "reason"),
])
def test_invalid_suppressions_are_refused_and_store_nothing(runtime, client, body, field):
    response = suppress(client, auth(runtime), **body)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert field in [e["field"] for e in response.get_json()["errors"]]
    assert stored(runtime.engine) == 0


def test_parties_and_campaigns_outside_the_callers_lines_cannot_be_suppressed(runtime, client):
    [wholesale_party] = add_parties(runtime.engine, 1, line_of_business="wholesale")
    wholesale_campaign = create_campaign(client, auth(runtime), line_of_business="wholesale")
    retailer = auth(runtime, lines=("retail",))
    party = suppress(client, retailer, party_id=wholesale_party)
    campaign = suppress(client, retailer, email="a@example.com", campaign_id=wholesale_campaign)
    assert [party.status_code, campaign.status_code] == [422, 422]
    assert stored(runtime.engine) == 0


def test_only_editors_change_the_list(runtime, client):
    seller = auth(runtime, roles=("sales",))
    assert suppress(client, seller, email="a@example.com").status_code == 403
    created = suppress(client, auth(runtime), email="a@example.com").get_json()
    assert client.delete(f"{URL}/{created['suppression_id']}", headers=seller).status_code == 403
    assert client.delete(f"{URL}/not-a-uuid", headers=auth(runtime)).status_code == 404
    assert stored(runtime.engine) == 1
