"""`campaign_defined` tells other services (calls, for a campaign's call scripts) a campaign's line of business
before it is launched: published on creation and on a change of its summary, and once by migration 0006 for the
campaigns that existed before the event."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

from campaigns_fixtures import auth, create_campaign
from crm_shared.config import Settings
from crm_shared.migrations import upgrade
from sqlalchemy import insert, select

from crm_campaigns.adapters import orm
from crm_campaigns.bootstrap import build_runtime
from crm_campaigns.domain import events


def defined(engine) -> list[dict]:
    box = orm.messaging.outbox
    with engine.connect() as conn:
        bodies = conn.execute(select(box.c.body).where(box.c.routing_key == events.CAMPAIGN_DEFINED)
                              .order_by(box.c.position)).scalars()
        return [json.loads(b) for b in bodies]


def test_creating_a_campaign_and_changing_its_summary_publish_it(runtime, client):
    headers = auth(runtime)
    campaign_id = create_campaign(client, headers, planned_start="2030-03-01")
    url = f"/api/campaigns/campaigns/{campaign_id}"
    assert client.patch(url, json={"description": "More text"}, headers=headers).status_code == 200
    assert client.patch(url, json={"line_of_business": "wholesale"}, headers=headers).status_code == 200
    published = defined(runtime.engine)
    assert [(e["subject"], e["data"]["line_of_business"], e["data"]["version"], e["data"]["status"])
            for e in published] == [(campaign_id, "retail", 1, "draft"), (campaign_id, "wholesale", 3, "draft")]
    assert published[0]["data"]["planned_start"] == "2030-03-01"


def test_refused_campaigns_publish_nothing(runtime, client):
    response = client.post("/api/campaigns/campaigns", json={"name": "X", "campaign_type": "telemarketing",
                                                            "line_of_business": "no_such_line"},
                           headers=auth(runtime))
    assert response.status_code == 422
    assert defined(runtime.engine) == []


def test_the_campaigns_that_existed_before_the_event_are_published_once(fresh_database, amqp_url):
    url = fresh_database("crm_campaigns")
    upgrade("crm_campaigns", url, "0005")
    runtime = build_runtime(Settings.from_env("campaigns", database_url=url, amqp_url=amqp_url))
    campaign_id, now = str(uuid.uuid4()), datetime.now(UTC)
    with runtime.engine.begin() as conn:
        conn.execute(insert(orm.campaigns).values(
            campaign_id=campaign_id, name="Old", campaign_type="letter", status="active", line_of_business="services",
            owner="someone", planned_start=date(2026, 1, 5), planned_end=None, topics=[], resources=[], version=4,
            created_at=now, updated_at=now))
    runtime.migrate()
    runtime.migrate()
    [event] = defined(runtime.engine)
    runtime.engine.dispose()
    assert (event["source"], event["subject"]) == ("crm.campaigns", campaign_id)
    assert event["data"] == {"campaign_id": campaign_id, "name": "Old", "campaign_type": "letter",
                             "line_of_business": "services", "owner": "someone", "planned_start": "2026-01-05",
                             "planned_end": None, "status": "active", "version": 4}
