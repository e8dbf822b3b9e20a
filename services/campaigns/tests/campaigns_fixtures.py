"""A migrated campaigns runtime on PostgreSQL, tokens, and parties written straight into the replica."""
from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from crm_shared.auth import mint_token
from crm_shared.config import Settings
from sqlalchemy import insert

from crm_campaigns.adapters import orm
from crm_campaigns.bootstrap import build_runtime, uow_factory
from crm_campaigns.domain.replica import replica_from_snapshot


@pytest.fixture
def runtime(fresh_database, amqp_url):
    settings = Settings.from_env("campaigns", database_url=fresh_database("crm_campaigns"), amqp_url=amqp_url)
    built = build_runtime(settings)
    built.migrate()
    yield built
    built.engine.dispose()


@pytest.fixture
def client(runtime):
    return runtime.create_app().test_client()


def use_settings(monkeypatch, runtime, client, **changes):
    """The service as if it had started with these settings (crm_campaigns/config.py) changed: the app the
    client calls and the runtime the tasks and the consumer are built from."""
    changed = replace(client.application.extensions["crm"]["settings"], **changes)
    monkeypatch.setitem(client.application.extensions["crm"], "settings", changed)
    monkeypatch.setattr(runtime, "settings", changed)
    return changed


def smtp_at(runtime, server, port: int | None = None):
    """The SMTP settings pointing at a local test server (or at `port` on its host)."""
    return replace(runtime.settings.smtp, host=server.host, port=server.port if port is None else port)


@pytest.fixture
def uows(runtime):
    return uow_factory(runtime.engine)


def auth(runtime, roles=("marketing",), lines=("*",), subject="marketer") -> dict:
    return {"Authorization": f"Bearer {mint_token(runtime.settings.jwt, subject, list(roles), list(lines))}"}


def snapshot(**overrides) -> dict:
    party_id = overrides.pop("party_id", str(uuid.uuid4()))
    data = {"party_id": party_id, "kind": "company", "display_name": f"Firm {party_id[:8]}",
            "company_name": f"Firm {party_id[:8]}", "first_name": None, "last_name": None,
            "lifecycle_state": "customer", "customer_number": None, "line_of_business": "retail",
            "primary_address": {"street": "Main St 1", "postal_code": "10115", "city": "Berlin", "country": "DE"},
            "phones": [{"kind": "work", "number": "+49 30 1234567"}], "emails": [], "attributes": {}, "version": 1,
            "occurred_at": datetime.now(UTC).isoformat()}
    data.update(overrides)
    return data


def add_parties(engine, count: int = 1, **overrides) -> list[str]:
    rows = [replica_from_snapshot(snapshot(**overrides), deactivated=False, event_time=datetime.now(UTC))
            for _ in range(count)]
    with engine.begin() as conn:
        conn.execute(insert(orm.party_replica), rows)
    return [r["party_id"] for r in rows]


def add_lines(engine, *codes: str) -> None:
    """Lines of business beyond the three seeded ones, as customers' line_of_business_defined adds them."""
    with engine.begin() as conn:
        conn.execute(insert(orm.lines_of_business), [{"code": code, "label": code.title()} for code in codes])


THREE_STAGES = [
    {"key": "call", "name": "First call", "action": "call", "expected_value": "100", "probability": "0.5",
     "rules": [{"when": {"kind": "call_outcome", "value": "interest_noted"}, "then": "advance",
                "target_stage": "offer"},
               {"when": {"kind": "call_outcome", "value": "rejected"}, "then": "fail", "failure_code": "no_interest"},
               {"when": {"kind": "call_outcome"}, "then": "fail", "failure_code": "unreachable"}]},
    {"key": "offer", "name": "Send offer", "action": "mailing", "expected_value": "500", "probability": "0.4",
     "timeout_days": 14,
     "rules": [{"when": {"kind": "mailing_reaction", "value": "replied"}, "then": "advance", "target_stage": "close"},
               {"when": {"kind": "timeout"}, "then": "fail", "failure_code": "no_reaction"}]},
    {"key": "close", "name": "Closing call", "action": "call", "expected_value": "2000", "probability": "0.3",
     "rules": [{"when": {"kind": "call_outcome", "value": "appointment_booked"}, "then": "succeed"},
               {"when": {"kind": "manual", "value": "won"}, "then": "succeed"},
               {"when": {"kind": "call_outcome"}, "then": "fail", "failure_code": "no_interest"}]},
]
FAILURE_CODES = {"no_interest": "Not interested", "unreachable": "Could not be reached",
                 "no_reaction": "Did not react to the offer"}


def create_campaign(client, headers, **overrides) -> str:
    body = {"name": "Spring offer", "campaign_type": "telemarketing", "line_of_business": "retail", **overrides}
    response = client.post("/api/campaigns/campaigns", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["campaign_id"]


def design_campaign(client, headers, campaign_id: str, stages=None, codes=None) -> None:
    for code, description in (codes or FAILURE_CODES).items():
        response = client.post(f"/api/campaigns/campaigns/{campaign_id}/failure-codes",
                               json={"code": code, "description": description}, headers=headers)
        assert response.status_code == 201, response.get_json()
    response = client.put(f"/api/campaigns/campaigns/{campaign_id}/stages", json={"stages": stages or THREE_STAGES},
                          headers=headers)
    assert response.status_code == 200, response.get_json()
