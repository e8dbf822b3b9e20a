"""Embedded mode (make run): all five services in this process on SQLite and the in-process bus. Its demo data
ends with a launched two-call campaign whose retail participants get their first campaign calls from calls."""
from __future__ import annotations

import importlib.util
import io
import json
import os
import sys
import threading

import pytest
from e2e_stack import ROOT, eventually
from werkzeug.test import Client

from crm_shared.auth import mint_token
from crm_shared.config import Settings

pytestmark = pytest.mark.e2e


def load_embedded():
    spec = importlib.util.spec_from_file_location("embedded_runner", ROOT / "deploy" / "embedded" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def embedded(tmp_path):
    runner = load_embedded()
    stop = threading.Event()
    gateway = runner.Gateway(runner.start_services(tmp_path / "data", stop))
    token = mint_token(Settings.from_env("customers").jwt, "demo-admin", ["admin"], ["*"])
    yield runner, gateway, token
    stop.set()


def test_the_demo_data_launches_a_two_call_campaign_with_calls_planned(embedded):
    runner, gateway, token = embedded
    headers = {"Authorization": f"Bearer {token}"}
    runner.load_demo_data(gateway, token)
    client = Client(gateway)
    [campaign] = client.get("/api/campaigns/campaigns", headers=headers).json["items"]
    assert campaign["status"] == "active" and campaign["line_of_business"] == "retail"
    stages = client.get(f"/api/campaigns/campaigns/{campaign['campaign_id']}/stages", headers=headers).json
    assert [s["key"] for s in stages["stages"]] == ["first_call", "close"]

    parties = client.get("/api/customers/parties?limit=50", headers=headers).json["items"]
    retail = {p["party_id"] for p in parties if p["line_of_business"] == "retail"}
    found = client.get(f"/api/campaigns/campaigns/{campaign['campaign_id']}/participants", headers=headers).json
    participants = {p["party_id"]: p for p in found["items"]}
    assert set(participants) == retail and len(retail) >= 2
    assert {(p["status"], p["stage_key"]) for p in participants.values()} == {("active", "first_call")}

    def planned():
        calls = client.get("/api/calls/calls?call_type=campaign&limit=50", headers=headers).json["items"]
        return calls if {c["request_id"] for c in calls} >= {p["request_id"] for p in participants.values()} \
            else None

    calls = eventually(planned, timeout=30)
    assert {c["campaign_id"] for c in calls} == {campaign["campaign_id"]}

    runner.load_demo_data(gateway, token)  # a restart loads nothing twice
    assert len(client.get("/api/campaigns/campaigns", headers=headers).json["items"]) == 1


def test_embedded_mode_passes_inline_work_as_settings_and_leaves_the_environment_alone(tmp_path, monkeypatch):
    """No Celery worker runs: campaigns processes uploads and sends mailings in the request because embedded mode
    hands it those settings, not because it wrote CAMPAIGNS_*_INLINE into this process's environment."""
    for name in ("CAMPAIGNS_IMPORTS_INLINE", "IMPORTS_INLINE", "CAMPAIGNS_MAILINGS_INLINE", "MAILINGS_INLINE"):
        monkeypatch.delenv(name, raising=False)
    before = dict(os.environ)
    runner = load_embedded()
    stop = threading.Event()
    try:
        gateway = runner.Gateway(runner.start_services(tmp_path / "data", stop))
        assert dict(os.environ) == before
        settings = gateway.apps["campaigns"].extensions["crm"]["settings"]
        assert (settings.imports_inline, settings.mailings_inline) == (True, True)
        client = Client(gateway)
        headers = {"Authorization": f"Bearer {mint_token(settings.jwt, 'demo-admin', ['admin'], ['*'])}"}
        created = client.post("/api/campaigns/campaigns", headers=headers, json=runner.DEMO_CAMPAIGN)
        assert created.status_code == 201, created.get_data(as_text=True)
        upload = client.post(f"/api/campaigns/campaigns/{created.json['campaign_id']}/imports", headers=headers,
                             data={"file": (io.BytesIO(b"Firma;PLZ\nAcme GmbH;10115\n"), "list.csv", "text/csv"),
                                   "mapping": json.dumps({"Firma": "company_name", "PLZ": "postal_code"})})
        assert upload.status_code == 202, upload.get_data(as_text=True)
        assert (upload.json["status"], upload.json["accepted"]) == ("completed", 1)  # in the request
    finally:
        stop.set()
