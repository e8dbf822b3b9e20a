"""Money and rates are decimal strings, in the OpenAPI document and on the wire (crm_shared.web.fields.Money and
DecimalString); input that is not such a string, or that the NUMERIC columns cannot hold, is refused with a
problem naming the field. Days, instants and integers the database or the date arithmetic cannot take are
refused by the schemas the same way. On PostgreSQL, where too large a number failed in the database."""
from __future__ import annotations

import re
import uuid

import pytest
from campaigns_fixtures import THREE_STAGES, add_parties, auth, create_campaign, design_campaign
from sqlalchemy import func, select

from crm_campaigns.adapters import orm

API = "/api/campaigns"
PROBLEM = "application/problem+json"
MONEY = {"planned_amount", "actual_amount", "amount", "value_per_conversion", "expected_value", "planned_cost",
         "actual_cost", "revenue", "estimated_revenue", "actual_revenue", "cost_per_contact", "cost_per_success"}
RATES = {"expected_conversion_rate", "probability", "response_rate", "conversion_rate", "estimated_roi",
         "actual_roi"}


def rows(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def assert_refused(response, field: str, status: int = 422) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    assert field in [e.get("field") for e in response.get_json().get("errors") or []], response.get_json()


def decimal_properties(spec: dict) -> dict[tuple[str, str], dict]:
    """(schema, property) -> property of every component schema property named like money or a rate."""
    return {(name, prop): value for name, schema in spec["components"]["schemas"].items()
            for prop, value in (schema.get("properties") or {}).items() if prop in MONEY | RATES}


def test_the_openapi_document_gives_money_and_rates_as_decimal_strings(client):
    found = decimal_properties(client.get(f"{API}/openapi.json").get_json())
    assert {prop for _, prop in found} == MONEY | RATES  # every one of them is in some schema
    for (schema, prop), value in found.items():
        assert (value["type"], value["format"]) == ("string", "decimal"), (schema, prop, value)
        assert value["x-decimal-places"] == (2 if prop in MONEY else 4), (schema, prop)
        assert re.fullmatch(value["pattern"], value["example"]), (schema, prop)
    cost_item = found[("CostItemCreate", "planned_amount")]
    assert cost_item["pattern"] == r"^[0-9]{1,12}(\.[0-9]{1,2})?$"  # NUMERIC(14, 2), not negative
    assert found[("Stage", "expected_value")]["pattern"] == r"^-?[0-9]{1,12}(\.[0-9]{1,2})?$"


def test_responses_send_money_and_rates_as_strings_matching_the_document(runtime, client):
    headers = auth(runtime)
    spec = client.get(f"{API}/openapi.json").get_json()
    patterns = {prop: value["pattern"] for (schema, prop), value in decimal_properties(spec).items()
                if schema in ("Campaign", "Stage", "CostItem", "Figures", "StageFigures", "Totals")}
    campaign_id = create_campaign(client, headers, value_per_conversion="2000", expected_conversion_rate="0.1")
    design_campaign(client, headers, campaign_id)
    item = client.post(f"{API}/campaigns/{campaign_id}/cost-items", headers=headers,
                       json={"name": "Print", "planned_amount": "99.9", "actual_amount": "12"}).get_json()
    campaign = client.get(f"{API}/campaigns/{campaign_id}", headers=headers).get_json()
    stage = client.get(f"{API}/campaigns/{campaign_id}/stages", headers=headers).get_json()["stages"][0]
    totals = client.get(f"{API}/campaigns/{campaign_id}/figures", headers=headers).get_json()["totals"]
    sent = {"value_per_conversion": campaign["value_per_conversion"],
            "expected_conversion_rate": campaign["expected_conversion_rate"],
            "expected_value": stage["expected_value"], "probability": stage["probability"],
            "planned_amount": item["planned_amount"], "actual_amount": item["actual_amount"],
            "planned_cost": totals["planned_cost"], "actual_cost": totals["actual_cost"]}
    assert sent == {"value_per_conversion": "2000.00", "expected_conversion_rate": "0.1000",
                    "expected_value": "100.00", "probability": "0.5000", "planned_amount": "99.90",
                    "actual_amount": "12.00", "planned_cost": "99.90", "actual_cost": "12.00"}
    for prop, value in sent.items():
        assert re.fullmatch(patterns[prop], value), (prop, value, patterns[prop])


@pytest.mark.parametrize("value", [100, 99.5, "1e3", "NaN", "Infinity", "-Infinity", "12.345", "1,00", " 12", "",
                                   "+5", "0x10", "1000000000000", "9" * 100, True, None])
def test_an_amount_that_is_not_a_decimal_string_the_column_holds_is_refused(runtime, client, value):
    headers = auth(runtime)
    campaign_id = create_campaign(client, headers)
    response = client.post(f"{API}/campaigns/{campaign_id}/cost-items", headers=headers,
                           json={"name": "Print", "planned_amount": value})
    assert_refused(response, "planned_amount")
    assert rows(runtime.engine, orm.cost_items) == 0


@pytest.mark.parametrize("stage, field", [
    ({"expected_value": "1000000000000"}, "stages.0.expected_value"),  # 13 digits: NUMERIC(14, 2) overflows
    ({"expected_value": "-99999999999999999999"}, "stages.0.expected_value"),
    ({"expected_value": "10.005"}, "stages.0.expected_value"),          # would be rounded away
    ({"expected_value": 100}, "stages.0.expected_value"),
    ({"probability": "0.12345"}, "stages.0.probability"),
    ({"probability": 0.5}, "stages.0.probability"),
    ({"probability": "10"}, "stages.0.probability"),                    # NUMERIC(5, 4)
])
def test_stage_money_and_probability_beyond_their_columns_are_refused(runtime, client, stage, field):
    headers = auth(runtime)
    campaign_id = create_campaign(client, headers)
    stages = [{**THREE_STAGES[0], "rules": [], **stage}]
    assert_refused(client.put(f"{API}/campaigns/{campaign_id}/stages", json={"stages": stages}, headers=headers),
                   field)
    assert rows(runtime.engine, orm.stages) == 0


def test_campaign_rates_and_values_beyond_their_columns_are_refused(runtime, client):
    headers = auth(runtime)
    base = {"name": "Big", "campaign_type": "telemarketing", "line_of_business": "retail"}
    for extra, field in (({"expected_conversion_rate": "0.00001"}, "expected_conversion_rate"),
                         ({"expected_conversion_rate": 0.5}, "expected_conversion_rate"),
                         ({"value_per_conversion": "1000000000000"}, "value_per_conversion"),
                         ({"value_per_conversion": "-1"}, "value_per_conversion")):
        assert_refused(client.post(f"{API}/campaigns", json={**base, **extra}, headers=headers), field)
    assert rows(runtime.engine, orm.campaigns) == 0


def test_days_instants_and_versions_outside_their_ranges_are_refused(runtime, client):
    headers = auth(runtime)
    base = {"name": "Far", "campaign_type": "telemarketing", "line_of_business": "retail"}
    for extra, field in (({"planned_start": "0001-01-01"}, "planned_start"),
                         ({"planned_end": "9999-12-31"}, "planned_end")):
        assert_refused(client.post(f"{API}/campaigns", json={**base, **extra}, headers=headers), field)
    campaign_id = create_campaign(client, headers)
    for version in (2 ** 31, -(2 ** 63), 10 ** 30):
        assert_refused(client.patch(f"{API}/campaigns/{campaign_id}", json={"name": "X", "version": version},
                                    headers=headers), "version")
    design_campaign(client, headers, campaign_id)
    item = client.post(f"{API}/campaigns/{campaign_id}/cost-items", headers=headers,
                       json={"name": "Print", "planned_amount": "10"}).get_json()
    url = f"{API}/campaigns/{campaign_id}/cost-items/{item['cost_item_id']}"
    assert_refused(client.patch(url, json={"name": "Y", "version": 2 ** 31}, headers=headers), "version")
    assert_refused(client.delete(url, query_string={"version": 2 ** 40}, headers=headers), "version")
    criteria = {"criteria": {"last_contact_before": "9999-12-31"}, "dry_run": True}
    assert_refused(client.post(f"{API}/campaigns/{campaign_id}/selections", json=criteria, headers=headers),
                   "criteria.last_contact_before")
    assert_refused(client.get(f"{API}/parties", query_string={"last_contact_after": "0001-01-01"},
                              headers=headers), "last_contact_after")
    party_id = add_parties(runtime.engine)[0]
    revenue = {"party_id": party_id, "kind": "order", "reference": f"SO-{uuid.uuid4().hex[:6]}", "amount": "5",
               "occurred_on": "9999-12-31"}
    assert_refused(client.post(f"{API}/campaigns/{campaign_id}/revenue", json=revenue, headers=headers),
                   "occurred_on")
    template = {"name": "Mail", "channel": "email", "subject": "Hi", "body": "Hello", "line_of_business": "retail"}
    created = client.post(f"{API}/templates", json=template, headers=headers)
    assert created.status_code == 201, created.get_json()
    assert_refused(client.put(f"{API}/templates/{created.get_json()['template_id']}",
                              json={**template, "version": 2 ** 31}, headers=headers), "version")
    with runtime.engine.connect() as conn:
        assert conn.execute(select(orm.campaigns.c.name)).scalars().all() == ["Spring offer"]  # no PATCH passed
        assert conn.execute(select(orm.cost_items.c.name)).scalars().all() == ["Print"]
    assert rows(runtime.engine, orm.revenue_attributions) == 0


def _numbers(node, path="") -> list[str]:
    """Paths of every `type: number` in an OpenAPI document (non-integers must be decimal strings)."""
    if isinstance(node, dict):
        found = [path] if node.get("type") == "number" else []
        return found + [p for key, value in node.items() for p in _numbers(value, f"{path}/{key}")]
    if isinstance(node, list):
        return [p for index, value in enumerate(node) for p in _numbers(value, f"{path}/{index}")]
    return []


def test_no_number_in_the_document_is_a_binary_float(client):
    spec = client.get(f"{API}/openapi.json").get_json()
    assert _numbers(spec) == []
    progress = spec["components"]["schemas"]["Import"]["properties"]["progress"]
    assert (progress["type"], progress["format"], progress["nullable"]) == ("string", "decimal", True)
