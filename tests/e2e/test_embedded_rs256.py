"""Embedded mode starts whichever way tokens are verified: with JWT_JWKS_URL (RS256, tokens from an identity
provider) it cannot mint the demo admin token, so it says so and starts without demo data instead of failing."""
from __future__ import annotations

import threading

import pytest
from test_embedded_demo import load_embedded
from werkzeug.test import Client

from crm_shared.auth import TokenVerifier
from crm_shared.config import Settings

pytestmark = pytest.mark.e2e


@pytest.fixture
def stop():
    event = threading.Event()
    yield event
    event.set()


def test_rs256_mode_starts_without_a_demo_token(tmp_path, monkeypatch, capsys, stop):
    monkeypatch.setenv("JWT_JWKS_URL", "http://127.0.0.1:9/.well-known/jwks.json")
    monkeypatch.delenv("JWT_SECRET", raising=False)
    runner = load_embedded()
    gateway, token = runner.prepare(tmp_path / "data", stop)
    assert token is None and "RS256 mode" in capsys.readouterr().err
    client = Client(gateway)
    assert client.get("/api/customers/openapi.json").status_code == 200
    refused = client.get("/api/customers/parties")
    assert refused.status_code == 401 and refused.mimetype == "application/problem+json"


def test_hs256_mode_prints_an_admin_token_the_services_accept(tmp_path, monkeypatch, stop):
    monkeypatch.delenv("JWT_JWKS_URL", raising=False)
    runner = load_embedded()
    gateway, token = runner.prepare(tmp_path / "data", stop, demo_data=False)
    assert TokenVerifier(Settings.from_env("customers").jwt).verify(token).is_admin
    listed = Client(gateway).get("/api/customers/parties", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200 and listed.json["items"] == []
