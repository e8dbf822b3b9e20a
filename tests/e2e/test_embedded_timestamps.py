"""Every date-time embedded mode (SQLite) answers has a UTC offset, as the OpenAPI documents' date-time format
requires: they came back naive from SQLite."""
from __future__ import annotations

import re
import threading
from datetime import datetime

import pytest
from test_embedded_demo import load_embedded
from werkzeug.test import Client

pytestmark = pytest.mark.e2e
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def date_times(value, path=""):
    if isinstance(value, dict):
        for key, child in value.items():
            yield from date_times(child, f"{path}.{key}")
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from date_times(child, f"{path}.{index}")
    elif isinstance(value, str) and DATE_TIME.match(value):
        yield path, value


def test_date_times_from_sqlite_carry_an_offset(tmp_path):
    stop = threading.Event()
    try:
        gateway, token = load_embedded().prepare(tmp_path / "data", stop, demo_data=False)
        client, headers = Client(gateway), {"Authorization": f"Bearer {token}"}
        party = client.post("/api/customers/parties", headers=headers, json={
            "kind": "company", "company_name": "Offset GmbH", "line_of_business": "retail"})
        campaign = client.post("/api/campaigns/campaigns", headers=headers, json={
            "name": "Offsets", "campaign_type": "telemarketing", "line_of_business": "retail"})
        agent = client.post("/api/calls/agents", headers=headers, json={
            "name": "Ann", "role": "call_centre", "daily_capacity": 5,
            "working_hours": {"mon": ["08:00", "16:00"]}})
        answers = [party, campaign, agent, client.get("/api/customers/parties", headers=headers),
                   client.get("/api/campaigns/campaigns", headers=headers)]
        assert [r.status_code for r in answers] == [201, 201, 201, 200, 200], [r.json for r in answers]
        found = [(path, value) for answer in answers for path, value in date_times(answer.json)]
        assert {path.rsplit(".", 1)[-1] for path, _ in found} >= {"created_at", "updated_at"}
        naive = [(path, value) for path, value in found if datetime.fromisoformat(value).tzinfo is None]
        assert naive == []
    finally:
        stop.set()
