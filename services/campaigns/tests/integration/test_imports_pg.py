"""Address-list imports on PostgreSQL: upload over the API, processing inline and as the Celery task, duplicates
against the replica, earlier rows and earlier imports, suppressions, participants, suspect events, failures that
leave nothing behind, the report."""
from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime

import openpyxl
import pytest
from campaigns_fixtures import add_lines, add_parties, auth, create_campaign, design_campaign, use_settings
from sqlalchemy import event, func, insert, select

from crm_campaigns.adapters import orm
from crm_campaigns.adapters.import_tables import address_imports, import_files, import_rows
from crm_campaigns.entrypoints import tasks
from crm_campaigns.service_layer import imports, progress

SUSPECT_IMPORTED = "crm.campaigns.suspect_imported.v1"
MAPPING = {"Firma": "company_name", "Vorname": "first_name", "Nachname": "last_name", "PLZ": "postal_code",
           "Ort": "city", "Straße": "street", "Telefon": "phone", "E-Mail": "email", "Sparte": "line_of_business"}
HEADER = "Firma;Vorname;Nachname;Straße;PLZ;Ort;Telefon;E-Mail;Sparte"
OPEN_QUOTE = '"Offen' + "x" * 200_000    # a quote never closed: the reader fails when the cell grows too large
CONTRACT_FIELDS = {"party_id", "kind", "company_name", "first_name", "last_name", "line_of_business", "address",
                   "phone", "email", "attributes", "campaign_id", "import_id", "row_number"}


@pytest.fixture
def inline(monkeypatch, runtime, client):
    use_settings(monkeypatch, runtime, client, imports_inline=True)


@pytest.fixture
def queued(monkeypatch, runtime, client):
    """Uploads are queued for the Celery task; the queued ids are collected instead of sent to a broker."""
    use_settings(monkeypatch, runtime, client, imports_inline=False)
    sent: list[str] = []
    monkeypatch.setattr(tasks.process_address_import, "delay", sent.append)
    return sent


def csv_file(*lines: str) -> bytes:
    return "\n".join([HEADER, *lines]).encode()


def upload(client, headers, campaign_id: str, content: bytes, filename: str = "liste.csv", mapping=None,
           content_type: str = "text/csv", **form):
    data = {"file": (io.BytesIO(content), filename, content_type),
            "mapping": mapping if isinstance(mapping, str) else json.dumps(mapping or MAPPING), **form}
    return client.post(f"/api/campaigns/campaigns/{campaign_id}/imports", data=data, headers=headers,
                       content_type="multipart/form-data")


def report(client, headers, import_id: str, **query) -> list[dict]:
    response = client.get(f"/api/campaigns/imports/{import_id}/rows", query_string={"limit": 200, **query},
                          headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def outbox_data(engine, event_type: str) -> list[dict]:
    outbox = orm.messaging.outbox
    with engine.connect() as conn:
        bodies = conn.execute(select(outbox.c.body).where(outbox.c.routing_key == event_type)
                              .order_by(outbox.c.position)).scalars()
        return [json.loads(body)["data"] for body in bodies]


def outbox_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(orm.messaging.outbox)).scalar()


def participants(engine, campaign_id: str) -> dict[str, tuple]:
    p = orm.participations.c
    with engine.connect() as conn:
        rows = conn.execute(select(p.party_id, p.status, p.stage_key, p.source).where(p.campaign_id == campaign_id))
        return {r.party_id: (r.status, r.stage_key, r.source) for r in rows}


def table_count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def suppress(engine, *, party_id=None, email_key=None, phone_key=None, campaign_id=None, channel="all") -> None:
    with engine.begin() as conn:
        conn.execute(insert(orm.suppressions).values(
            suppression_id=str(uuid.uuid4()), party_id=party_id, email_key=email_key, phone_key=phone_key,
            campaign_id=campaign_id, channel=channel, reason="objected", created_by="test",
            created_at=datetime.now(UTC)))


def party(engine, name: str, postal: str = "10115", phone: str | None = None, email: str | None = None,
          **overrides) -> str:
    return add_parties(engine, 1, display_name=name, company_name=name,
                       primary_address={"street": "Weg 1", "postal_code": postal, "city": "Berlin", "country": "DE"},
                       phones=[{"kind": "work", "number": phone}] if phone else [],
                       emails=[{"kind": "work", "address": email}] if email else [], **overrides)[0]


# --- the whole import ------------------------------------------------------------------------------------------

def test_a_csv_list_into_a_draft_campaign(runtime, client, inline, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK", 3)   # duplicates must be found across chunks, too
    engine, headers = runtime.engine, auth(runtime)
    add_lines(engine, "sanitary")
    campaign_id = create_campaign(client, headers)
    other_campaign = create_campaign(client, headers, name="Other")
    by_phone = party(engine, "Müller GmbH", phone="+49 30 1234567")
    by_email = party(engine, "Schmidt AG", postal="80331", email="info@schmidt.de")
    deactivated = party(engine, "Alt KG", phone="+49 40 555666", lifecycle_state="inactive")
    suppressed = party(engine, "Gesperrt GmbH", email="post@gesperrt.de")
    suppress(engine, party_id=suppressed)
    suppress(engine, email_key="nein@danke.de")
    suppress(engine, phone_key="4989111222", campaign_id=other_campaign)   # another campaign's: does not apply
    suppress(engine, email_key="nur@post.de", channel="mail")              # one channel only: does not apply
    content = csv_file(
        "Neu GmbH;Anna;Kontakt;Hauptstr. 1;10117;Berlin;030 999888;;",                    # 2 accepted
        "MÜLLER GmbH & Co. KG;;;;10 115;Berlin;030 1234567;;",                           # 3 duplicate (phone)
        "Schmidt;;;;80331;München;;Info@Schmidt.de;",                                     # 4 duplicate (e-mail)
        "Neu;;;;10117;Berlin;+49 30 999888;neu@neu.de;",                                  # 5 duplicate of row 2
        "Kaputt GmbH;;;;1;Berlin;;;",                                                      # 6 rejected
        "Nein Danke GmbH;;;;10115;Berlin;;nein@danke.de;",                                # 7 rejected: suppressed
        "Alt KG;;;;10115;Hamburg;040 555666;;",                                           # 8 deactivated party
        "Gesperrt GmbH;;;;10115;Berlin;;post@gesperrt.de;",                               # 9 suppressed party
        "Bayern OHG;;;;80333;München;089 111222;nur@post.de;sanitary",                    # 10 accepted
        "neu@neu.de;;;;10117;Berlin;;neu@neu.de;",                                        # 11 accepted: new name
    )
    response = upload(client, headers, campaign_id, content)

    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/api/campaigns/imports/{body['import_id']}")
    assert (body["status"], body["total_rows"], body["processed_rows"], body["progress"]) == \
        ("completed", 10, 10, "1.0000")
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (3, 5, 2)
    rows = {r["row_number"]: r for r in report(client, headers, body["import_id"])}
    assert {n: r["outcome"] for n, r in rows.items()} == {
        2: "accepted", 3: "duplicate", 4: "duplicate", 5: "duplicate", 6: "rejected", 7: "rejected",
        8: "duplicate", 9: "duplicate", 10: "accepted", 11: "accepted"}
    new_party = rows[2]["party_id"]
    assert (rows[3]["party_id"], rows[4]["party_id"], rows[5]["party_id"]) == (by_phone, by_email, new_party)
    assert rows[5]["reason"] == "matches row 2 of this file"
    assert (rows[6]["field"], rows[7]["reason"], rows[7]["field"]) == ("postal_code", "suppressed", "email")
    assert (rows[8]["party_id"], rows[9]["party_id"]) == (deactivated, suppressed)
    not_added = "matches an existing party, which was not added to the campaign: the party is"
    assert (rows[8]["reason"], rows[9]["reason"]) == (f"{not_added} deactivated", f"{not_added} suppressed")
    assert all(r["party_id"] is None for r in (rows[6], rows[7]))

    joined = participants(engine, campaign_id)
    expected = {new_party, by_phone, by_email, rows[10]["party_id"], rows[11]["party_id"]}
    assert set(joined) == expected
    assert set(joined.values()) == {("selected", None, "import")}

    suspects = outbox_data(engine, SUSPECT_IMPORTED)
    assert [s["row_number"] for s in suspects] == [2, 10, 11]
    first = suspects[0]
    assert set(first) == CONTRACT_FIELDS
    assert first == {"party_id": new_party, "kind": "company", "company_name": "Neu GmbH", "first_name": None,
                     "last_name": None, "line_of_business": "retail",
                     "address": {"street": "Hauptstr. 1", "postal_code": "10117", "city": "Berlin", "country": "DE"},
                     "phone": "030 999888", "email": None, "attributes": {}, "campaign_id": campaign_id,
                     "import_id": body["import_id"], "row_number": 2}
    assert suspects[1]["line_of_business"] == "sanitary"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(import_files)).scalar() == 0
        assert conn.execute(select(func.count()).where(import_rows.c.suspect.isnot(None))).scalar() == 0


def test_an_xlsx_list_into_an_active_campaign_enters_the_first_stage(runtime, client, inline):
    engine, headers = runtime.engine, auth(runtime)
    campaign_id = create_campaign(client, headers)
    design_campaign(client, headers, campaign_id)
    assert client.post(f"/api/campaigns/campaigns/{campaign_id}/launch", headers=headers).status_code == 200
    known = party(engine, "Bäckerei Korn", phone="+49 30 7654321")
    with engine.begin() as conn:
        conn.execute(insert(orm.attribute_definitions), [{"name": "employees", "type": "number", "choices": []},
                                                          {"name": "since", "type": "date", "choices": []}])
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Typ", "Firma", "Vorname", "Nachname", "PLZ", "Telefon", "Mitarbeiter", "Seit"])
    sheet.append(["person", "Ignoriert AG", "Jana", "Nowak", 10115, "030 111222", 3, datetime(2020, 5, 17)])
    sheet.append(["company", "Bäckerei Korn", None, None, 10115, "030 7654321", None, None])
    sheet.append(["company", "Korn", None, None, None, None, None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    mapping = {"Typ": "kind", "Firma": "company_name", "Vorname": "first_name", "Nachname": "last_name",
               "PLZ": "postal_code", "Telefon": "phone", "Mitarbeiter": "attribute:employees",
               "Seit": "attribute:since"}

    response = upload(client, headers, campaign_id, buffer.getvalue(), "liste.xlsx", mapping,
                      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert (body["file_format"], body["accepted"], body["duplicates"], body["rejected"]) == ("xlsx", 1, 1, 1)
    rows = {r["row_number"]: r for r in report(client, headers, body["import_id"])}
    assert (rows[3]["party_id"], rows[4]["field"]) == (known, "postal_code")
    suspect = rows[2]["party_id"]
    assert participants(engine, campaign_id) == {suspect: ("active", "call", "import"),
                                                 known: ("active", "call", "import")}
    requested = {r["party_id"] for r in outbox_data(engine, "crm.campaigns.campaign_call_requested.v1")}
    assert requested == {suspect, known}
    [event_data] = outbox_data(engine, SUSPECT_IMPORTED)
    assert (event_data["kind"], event_data["company_name"], event_data["first_name"], event_data["last_name"]) == (
        "person", None, "Jana", "Nowak")
    assert event_data["attributes"] == {"employees": 3, "since": "2020-05-17"}


def test_a_second_import_finds_the_suspects_of_the_first_before_the_replica_has_them(runtime, client, inline):
    headers = auth(runtime)
    first_campaign, second_campaign = create_campaign(client, headers), create_campaign(client, headers, name="B")
    content = csv_file("Neu GmbH;;;;10117;Berlin;030 999888;;")
    first = upload(client, headers, first_campaign, content).get_json()
    second = upload(client, headers, second_campaign, content).get_json()

    assert (first["accepted"], second["accepted"], second["duplicates"]) == (1, 0, 1)
    [row] = report(client, headers, second["import_id"])
    assert row["reason"] == "matches a party imported earlier"
    assert set(participants(runtime.engine, second_campaign)) == set(participants(runtime.engine, first_campaign))
    assert len(outbox_data(runtime.engine, SUSPECT_IMPORTED)) == 1


def test_rows_outside_the_callers_lines_of_business_are_rejected(runtime, client, inline):
    headers = auth(runtime, lines=("retail",))
    campaign_id = create_campaign(client, headers)
    content = csv_file("A GmbH;;;;10115;Berlin;;;retail", "B GmbH;;;;10115;Berlin;;;heating")
    body = upload(client, headers, campaign_id, content).get_json()

    assert (body["accepted"], body["rejected"]) == (1, 1)
    [rejected] = report(client, headers, body["import_id"], outcome="rejected")
    assert (rejected["row_number"], rejected["field"]) == (3, "line_of_business")


def test_rows_of_a_line_customers_has_not_defined_are_rejected(runtime, client, inline):
    """customers would refuse such a suspect, so it never joins the campaign."""
    headers = auth(runtime)
    campaign_id = create_campaign(client, headers)
    content = csv_file("A GmbH;;;;10115;Berlin;;;wholesale", "B GmbH;;;;10115;Berlin;;;no_such_line")
    body = upload(client, headers, campaign_id, content).get_json()

    assert (body["accepted"], body["rejected"]) == (1, 1)
    [rejected] = report(client, headers, body["import_id"], outcome="rejected")
    assert (rejected["row_number"], rejected["field"]) == (3, "line_of_business")
    assert "not defined" in rejected["reason"]
    assert [s["line_of_business"] for s in outbox_data(runtime.engine, SUSPECT_IMPORTED)] == ["wholesale"]


# --- background processing, re-runs and failures ------------------------------------------------------------

def test_the_api_queues_the_task_and_the_task_imports(runtime, client, uows, queued, monkeypatch):
    headers = auth(runtime)
    campaign_id = create_campaign(client, headers)
    response = upload(client, headers, campaign_id, csv_file("Neu GmbH;;;;10117;Berlin;;;"))

    assert response.status_code == 202
    body = response.get_json()
    assert (body["status"], body["total_rows"], body["progress"]) == ("pending", None, None)
    assert queued == [body["import_id"]]
    assert participants(runtime.engine, campaign_id) == {}

    monkeypatch.setattr(tasks, "_uows", lambda: uows)
    assert tasks.process_address_import(body["import_id"]) == "completed"
    followed = client.get(response.headers["Location"], headers=headers).get_json()
    assert (followed["status"], followed["accepted"], followed["progress"]) == ("completed", 1, "1.0000")
    assert followed["started_at"] and followed["finished_at"]
    assert len(participants(runtime.engine, campaign_id)) == 1


def test_an_import_that_cannot_be_queued_fails_with_503(runtime, client, monkeypatch):
    use_settings(monkeypatch, runtime, client, imports_inline=False)

    def broker_down(_import_id):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.process_address_import, "delay", broker_down)
    headers = auth(runtime)
    campaign_id = create_campaign(client, headers)
    response = upload(client, headers, campaign_id, csv_file("Neu GmbH;;;;10117;Berlin;;;"))

    assert response.status_code == 503 and response.mimetype == "application/problem+json"
    with runtime.engine.connect() as conn:
        assert conn.execute(select(address_imports.c.status, address_imports.c.error)).one()[0] == "failed"
    assert table_count(runtime.engine, import_files) == 0


def test_processing_a_finished_import_again_changes_nothing(runtime, client, uows, inline, monkeypatch):
    headers = auth(runtime)
    campaign_id = create_campaign(client, headers)
    body = upload(client, headers, campaign_id, csv_file("Neu GmbH;;;;10117;Berlin;;;", "X;;;;1;;;;")).get_json()
    before = (outbox_count(runtime.engine), participants(runtime.engine, campaign_id),
              report(client, headers, body["import_id"]), client.get(f"/api/campaigns/imports/{body['import_id']}",
                                                                     headers=headers).get_json())

    monkeypatch.setattr(tasks, "_uows", lambda: uows)
    assert imports.process_import(uows, body["import_id"]) == "completed"
    assert tasks.process_address_import(body["import_id"]) == "completed"
    after = (outbox_count(runtime.engine), participants(runtime.engine, campaign_id),
             report(client, headers, body["import_id"]), client.get(f"/api/campaigns/imports/{body['import_id']}",
                                                                    headers=headers).get_json())
    assert after == before


def test_a_file_broken_midway_fails_and_leaves_nothing(runtime, client, uows, queued):
    headers = auth(runtime)
    campaign_id = create_campaign(client, headers)
    good = [f"Firma {i};;;;{10000 + i};Berlin;;;" for i in range(50)]
    content = csv_file(*good, OPEN_QUOTE, *good)
    import_id = upload(client, headers, campaign_id, content).get_json()["import_id"]

    assert imports.process_import(uows, import_id) == "failed"
    found = client.get(f"/api/campaigns/imports/{import_id}", headers=headers).get_json()
    assert "row 52" in found["error"] and "quote" in found["error"]
    assert (found["accepted"], found["duplicates"], found["rejected"], found["processed_rows"]) == (0, 0, 0, 0)
    assert report(client, headers, import_id) == []
    assert participants(runtime.engine, campaign_id) == {}
    assert outbox_data(runtime.engine, SUSPECT_IMPORTED) == []
    assert table_count(runtime.engine, import_files) == 0
    assert imports.process_import(uows, import_id) == "failed"


def test_a_file_that_breaks_while_rows_are_classified_keeps_nothing(runtime, client, uows, queued, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK", 10)
    monkeypatch.setattr(imports, "_count", lambda *_: None)   # as if the counting pass had not seen the break
    headers = auth(runtime)
    campaign_id = create_campaign(client, headers)
    content = csv_file(*[f"Firma {i};;;;{10000 + i};Berlin;;;" for i in range(35)], OPEN_QUOTE)
    import_id = upload(client, headers, campaign_id, content).get_json()["import_id"]

    assert imports.process_import(uows, import_id) == "failed"
    assert table_count(runtime.engine, import_rows) == 0
    assert participants(runtime.engine, campaign_id) == {}
    assert outbox_data(runtime.engine, SUSPECT_IMPORTED) == []


def test_a_campaign_closed_before_processing_fails_the_import(runtime, client, uows, queued):
    headers = auth(runtime)
    campaign_id = create_campaign(client, headers)
    import_id = upload(client, headers, campaign_id, csv_file("Neu GmbH;;;;10117;Berlin;;;")).get_json()["import_id"]
    assert client.post(f"/api/campaigns/campaigns/{campaign_id}/cancel", headers=headers).status_code == 200

    assert imports.process_import(uows, import_id) == "failed"
    assert "cancelled" in client.get(f"/api/campaigns/imports/{import_id}", headers=headers).get_json()["error"]
    assert table_count(runtime.engine, import_rows) == 0
    assert outbox_data(runtime.engine, SUSPECT_IMPORTED) == []


def test_a_run_that_crashed_while_applying_is_re_run_from_the_start(runtime, client, uows, queued, monkeypatch):
    headers = auth(runtime)
    campaign_id = create_campaign(client, headers)
    content = csv_file("Neu GmbH;;;;10117;Berlin;030 999888;;", "Neu;;;;10117;Berlin;030 999888;;", "X;;;;1;;;;")
    import_id = upload(client, headers, campaign_id, content).get_json()["import_id"]
    real_add = progress.add_participants

    def crash(*_args, **_kwargs):
        raise RuntimeError("worker lost")

    monkeypatch.setattr(progress, "add_participants", crash)
    with pytest.raises(RuntimeError):
        imports.process_import(uows, import_id)
    crashed = client.get(f"/api/campaigns/imports/{import_id}", headers=headers).get_json()
    assert (crashed["status"], crashed["processed_rows"], crashed["total_rows"]) == ("running", 3, 3)
    assert participants(runtime.engine, campaign_id) == {}
    assert outbox_data(runtime.engine, SUSPECT_IMPORTED) == []

    monkeypatch.setattr(progress, "add_participants", real_add)
    assert imports.process_import(uows, import_id) == "completed"
    done = client.get(f"/api/campaigns/imports/{import_id}", headers=headers).get_json()
    assert (done["accepted"], done["duplicates"], done["rejected"]) == (1, 1, 1)
    assert table_count(runtime.engine, import_rows) == 3
    assert len(participants(runtime.engine, campaign_id)) == 1
    assert len(outbox_data(runtime.engine, SUSPECT_IMPORTED)) == 1


def test_a_superseded_run_stops_and_the_newer_one_imports(runtime, client, uows, queued, monkeypatch):
    """A task redelivered while the first run still works: the first stops at its next chunk."""
    monkeypatch.setattr(imports, "CHUNK", 2)
    headers = auth(runtime)
    campaign_id = create_campaign(client, headers)
    content = csv_file(*[f"Firma {i};;;;{10000 + i};Berlin;;;" for i in range(6)])
    import_id = upload(client, headers, campaign_id, content).get_json()["import_id"]
    real_parse, overtaken = imports.parse_row, []

    def overtaken_before_second_chunk(row_number, *args, **kwargs):
        if row_number == 4 and not overtaken:   # between the transactions of the first and the second chunk
            overtaken.append("started")
            overtaken.append(imports.process_import(uows, import_id))   # the redelivered task, run to its end
        return real_parse(row_number, *args, **kwargs)

    monkeypatch.setattr(imports, "parse_row", overtaken_before_second_chunk)
    assert imports.process_import(uows, import_id) == "completed"
    assert overtaken == ["started", "completed"]
    assert table_count(runtime.engine, import_rows) == 6
    assert len(participants(runtime.engine, campaign_id)) == 6
    assert len(outbox_data(runtime.engine, SUSPECT_IMPORTED)) == 6


# --- refused uploads ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("filename", "content", "mapping", "status", "field"), [
    ("liste.pdf", b"%PDF-1.7 not a list", None, 415, "file"),
    ("liste.csv", b"%PDF-1.7 not a list", None, 415, "file"),
    ("liste.csv", b"Firma;Firma;PLZ\nA;B;1\n", None, 422, "file"),
    ("liste.csv", csv_file("A;;;;1;;;;"), {**MAPPING, "Ort": "attribute:groesse"}, 422, "mapping.Ort"),
    ("liste.csv", csv_file("A;;;;1;;;;"), {**MAPPING, "Fax": "phone"}, 422, "mapping.Fax"),
    ("liste.csv", csv_file("A;;;;1;;;;"), {**MAPPING, "Ort": "town"}, 422, "mapping.Ort"),
    ("liste.csv", csv_file("A;;;;1;;;;"), "not json", 422, "mapping"),
    ("liste.csv", csv_file("A;;;;1;;;;"), "[1, 2]", 422, "mapping"),
])
def test_bad_uploads_are_refused_and_store_nothing(runtime, client, inline, filename, content, mapping, status,
                                                   field):
    headers = auth(runtime)
    campaign_id = create_campaign(client, headers)
    response = upload(client, headers, campaign_id, content, filename, mapping)

    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert field in [e["field"] for e in response.get_json()["errors"]]
    assert_nothing_stored(runtime.engine)


def test_a_missing_file_is_refused(runtime, client, inline):
    headers = auth(runtime)
    campaign_id = create_campaign(client, headers)
    response = client.post(f"/api/campaigns/campaigns/{campaign_id}/imports", data={"mapping": json.dumps(MAPPING)},
                           headers=headers, content_type="multipart/form-data")

    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert {"location": "files", "field": "file", "message": "Missing data for required field."} in \
        response.get_json()["errors"]
    assert_nothing_stored(runtime.engine)


@pytest.mark.parametrize("limit", ["100", "2000"])
def test_a_file_above_the_size_limit_gets_413(runtime, client, inline, monkeypatch, limit):
    """100: the request body itself is too large; 2000: the body fits with the form, the file does not."""
    monkeypatch.setattr("crm_campaigns.entrypoints.imports_api.FORM_OVERHEAD", 0 if limit == "100" else 10_000)
    use_settings(monkeypatch, runtime, client, import_max_bytes=int(limit))
    headers = auth(runtime)
    campaign_id = create_campaign(client, headers)
    response = upload(client, headers, campaign_id, csv_file(*["Firma;;;;10115;;;;"] * 200))

    assert response.status_code == 413 and response.mimetype == "application/problem+json"
    assert_nothing_stored(runtime.engine)


def test_uploads_the_caller_may_not_make_are_refused(runtime, client, inline):
    owner = auth(runtime)
    campaign_id = create_campaign(client, owner)
    retail_only = auth(runtime, lines=("retail",))
    add_lines(runtime.engine, "heating")
    heating = create_campaign(client, owner, line_of_business="heating")
    content = csv_file("A GmbH;;;;10115;;;;")

    assert upload(client, auth(runtime, roles=("sales",)), campaign_id, content).status_code == 403
    assert upload(client, retail_only, heating, content).status_code == 404
    refused = upload(client, retail_only, campaign_id, content, default_line_of_business="heating")
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "default_line_of_business"
    assert upload(client, owner, campaign_id, content, default_line_of_business="Heizung & Sanitär").status_code == 422
    assert client.post(f"/api/campaigns/campaigns/{campaign_id}/cancel", headers=owner).status_code == 200
    assert upload(client, owner, campaign_id, content).status_code == 409
    assert upload(client, owner, "not-a-uuid", content).status_code == 404
    assert_nothing_stored(runtime.engine)


def assert_nothing_stored(engine) -> None:
    assert [table_count(engine, t) for t in (address_imports, import_files, import_rows)] == [0, 0, 0]
    assert participants_total(engine) == 0 and outbox_data(engine, SUSPECT_IMPORTED) == []


def participants_total(engine) -> int:
    return table_count(engine, orm.participations)


# --- the report --------------------------------------------------------------------------------------------------

def test_the_report_pages_filters_and_downloads_as_csv(runtime, client, inline):
    headers = auth(runtime)
    campaign_id = create_campaign(client, headers)
    content = csv_file("A GmbH;;;;10115;;;;", "Zu kurz GmbH;;;;1;;;;", "B GmbH;;;;10115;;;;", "C;;;;x;;;;")
    import_id = upload(client, headers, campaign_id, content).get_json()["import_id"]

    first = client.get(f"/api/campaigns/imports/{import_id}/rows", query_string={"outcome": "rejected", "limit": 1},
                       headers=headers).get_json()
    second = client.get(f"/api/campaigns/imports/{import_id}/rows",
                        query_string={"outcome": "rejected", "limit": 1, "cursor": first["next_cursor"]},
                        headers=headers).get_json()
    assert [r["row_number"] for r in first["items"] + second["items"]] == [3, 5]
    assert second["next_cursor"] is None
    assert client.get(f"/api/campaigns/imports/{import_id}/rows", query_string={"outcome": "maybe"},
                      headers=headers).status_code == 422

    response = client.get(f"/api/campaigns/imports/{import_id}/report.csv", headers=headers)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    lines = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    api_rows = report(client, headers, import_id)
    assert [int(r["row_number"]) for r in lines] == [r["row_number"] for r in api_rows] == [2, 3, 4, 5]
    assert [r["outcome"] for r in lines] == [r["outcome"] for r in api_rows]
    assert [r["party_id"] or None for r in lines] == [r["party_id"] for r in api_rows]
    assert [r["reason"] or None for r in lines] == [r["reason"] for r in api_rows]
    assert lines[1]["field"] == "postal_code"


def test_imports_of_other_lines_of_business_are_invisible(runtime, client, inline):
    owner = auth(runtime)
    add_lines(runtime.engine, "heating")
    campaign_id = create_campaign(client, owner, line_of_business="heating")
    import_id = upload(client, owner, campaign_id, csv_file("A GmbH;;;;10115;;;;")).get_json()["import_id"]
    stranger = auth(runtime, lines=("retail",))

    for path in ("", "/rows", "/report.csv"):
        response = client.get(f"/api/campaigns/imports/{import_id}{path}", headers=stranger)
        assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert client.get(f"/api/campaigns/imports/{uuid.uuid4()}", headers=owner).status_code == 404
    assert client.get(f"/api/campaigns/campaigns/{campaign_id}/imports", headers=stranger).status_code == 404


def test_a_campaigns_imports_are_listed_newest_first(runtime, client, inline):
    headers = auth(runtime)
    campaign_id = create_campaign(client, headers)
    ids = [upload(client, headers, campaign_id, csv_file("A GmbH;;;;10115;;;;")).get_json()["import_id"]
           for _ in range(3)]
    first = client.get(f"/api/campaigns/campaigns/{campaign_id}/imports", query_string={"limit": 2},
                       headers=headers).get_json()
    rest = client.get(f"/api/campaigns/campaigns/{campaign_id}/imports",
                      query_string={"limit": 2, "cursor": first["next_cursor"]}, headers=headers).get_json()
    assert [i["import_id"] for i in first["items"] + rest["items"]] == ids[::-1]


# --- scale ---------------------------------------------------------------------------------------------------------

def test_rows_are_judged_in_chunks_with_set_based_queries(runtime, client, uows, queued):
    """5,000 rows, 5% duplicates of known parties, 1% bad: the statements run grow with chunks, not rows."""
    engine, headers = runtime.engine, auth(runtime)
    campaign_id = create_campaign(client, headers)
    known = {i: party(engine, f"Bekannt {i}", postal=f"{20000 + i}", phone=f"+49 30 {5000000 + i}")
             for i in range(0, 5000, 20)}
    lines = []
    for i in range(5000):
        if i in known:
            lines.append(f"Bekannt {i} GmbH;;;;{20000 + i};;030 {5000000 + i};;")
        elif i % 100 == 1:
            lines.append(f"Kaputt {i};;;;;;;;")
        else:
            lines.append(f"Firma {i};;;;{30000 + i};;030 {6000000 + i};firma{i}@example.de;")
    import_id = upload(client, headers, campaign_id, csv_file(*lines)).get_json()["import_id"]
    statements = []

    def counted(*_args):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", counted)
    try:
        assert imports.process_import(uows, import_id) == "completed"
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    found = client.get(f"/api/campaigns/imports/{import_id}", headers=headers).get_json()

    assert (found["total_rows"], found["accepted"], found["duplicates"], found["rejected"]) == (5000, 4700, 250, 50)
    assert len(participants(engine, campaign_id)) == 4950
    assert len(outbox_data(engine, SUSPECT_IMPORTED)) == 4700
    assert len(statements) < 200, len(statements)
