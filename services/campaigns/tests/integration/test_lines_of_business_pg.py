"""Campaigns, templates and imports name a line of business customers has defined: campaigns checks it against
its replica of customers' lines (seeded with customers' three initial ones, then fed by
`line_of_business_defined`), answering 422 naming the field and storing nothing otherwise."""
from __future__ import annotations

import io
import json

import pytest
from campaigns_fixtures import auth, create_campaign
from crm_shared.events import new_event
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_campaigns.adapters import orm
from crm_campaigns.adapters.import_tables import address_imports
from crm_campaigns.adapters.mailing_tables import mail_templates
from crm_campaigns.domain import events
from crm_campaigns.service_layer.handlers import make_handlers

API = "/api/campaigns"
TEMPLATE = {"name": "Offer", "channel": "email", "subject": "Hello", "body": "Dear customer"}


def rows(runtime, table) -> int:
    with runtime.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(table))


def define(runtime, code: str, label: str) -> None:
    """As the consumer does with customers' event."""
    event = new_event(events.LINE_OF_BUSINESS_DEFINED, "crm.customers", code, {"code": code, "label": label})
    with Session(runtime.engine) as session:
        make_handlers(runtime.settings.attribution_window_days)[events.LINE_OF_BUSINESS_DEFINED](session, event)
        session.commit()


def refused(response, field: str) -> None:
    assert response.status_code == 422 and response.mimetype == "application/problem+json", response.get_json()
    assert [e["field"] for e in response.get_json()["errors"]] == [field]


def test_the_replica_starts_with_the_lines_customers_seeds(runtime):
    with runtime.engine.connect() as conn:
        assert sorted(conn.execute(select(orm.lines_of_business.c.code)).scalars()) == \
            ["retail", "services", "wholesale"]


@pytest.mark.parametrize("line", ["no_such_line", "energy"])
def test_a_campaign_or_template_for_an_unknown_line_is_refused_and_nothing_stored(runtime, client, line):
    headers = auth(runtime)
    refused(client.post(f"{API}/campaigns", json={"name": "X", "campaign_type": "telemarketing",
                                                 "line_of_business": line}, headers=headers), "line_of_business")
    refused(client.post(f"{API}/templates", json={**TEMPLATE, "line_of_business": line}, headers=headers),
            "line_of_business")
    assert (rows(runtime, orm.campaigns), rows(runtime, mail_templates)) == (0, 0)


def test_a_campaign_or_template_cannot_move_to_an_unknown_line(runtime, client):
    headers = auth(runtime)
    campaign_id = create_campaign(client, headers)
    url = f"{API}/campaigns/{campaign_id}"
    refused(client.patch(url, json={"line_of_business": "no_such_line"}, headers=headers), "line_of_business")
    assert client.get(url, headers=headers).get_json()["line_of_business"] == "retail"
    template = client.post(f"{API}/templates", json={**TEMPLATE, "line_of_business": "retail"}, headers=headers)
    assert template.status_code == 201, template.get_json()
    template_url = f"{API}/templates/{template.get_json()['template_id']}"
    refused(client.put(template_url, json={**TEMPLATE, "line_of_business": "no_such_line"}, headers=headers),
            "line_of_business")
    assert client.get(template_url, headers=headers).get_json()["line_of_business"] == "retail"
    assert client.patch(url, json={"line_of_business": "services"}, headers=headers).status_code == 200


def test_an_import_defaulting_to_an_unknown_line_is_refused(runtime, client):
    headers = auth(runtime)
    campaign_id = create_campaign(client, headers)
    data = {"file": (io.BytesIO(b"Firma;PLZ\nAcme;10115\n"), "list.csv", "text/csv"),
            "mapping": json.dumps({"Firma": "company_name", "PLZ": "postal_code"}),
            "default_line_of_business": "no_such_line"}
    refused(client.post(f"{API}/campaigns/{campaign_id}/imports", data=data, headers=headers,
                        content_type="multipart/form-data"), "default_line_of_business")
    assert rows(runtime, address_imports) == 0


def test_a_line_customers_defines_later_is_accepted_and_defining_it_again_changes_nothing(runtime, client):
    headers = auth(runtime)
    body = {"name": "Power deals", "campaign_type": "telemarketing", "line_of_business": "energy"}
    refused(client.post(f"{API}/campaigns", json=body, headers=headers), "line_of_business")
    define(runtime, "energy", "Energy")
    define(runtime, "energy", "Energy supply")
    assert client.post(f"{API}/campaigns", json=body, headers=headers).status_code == 201
    assert client.post(f"{API}/templates", json={**TEMPLATE, "line_of_business": "energy"},
                       headers=headers).status_code == 201
    with runtime.engine.connect() as conn:
        assert conn.execute(select(orm.lines_of_business).where(orm.lines_of_business.c.code == "energy")).all() \
            == [("energy", "Energy supply")]
