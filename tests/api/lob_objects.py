"""Objects of one line of business in every service, created through the gateway with an admin token: the
targets of the line-of-business matrix (tests/api/test_lob_matrix.py)."""
from __future__ import annotations

import io
import json
import time
import uuid
from datetime import date, timedelta

import requests
from e2e_stack import auth

ADMIN = {"roles": ("admin",), "lines": ("*",), "subject": "lob-matrix-admin"}

# What a path (or query) parameter refers to: a kind of object of `lob_objects.build`, or a fixed value for
# parameters that name no object of a line, by (service, parameter name).
LINE_KINDS = {"party", "person", "link", "call", "request", "territory", "script", "campaign", "suppression",
              "cost_item", "import", "template", "mailing", "recipient"}
NO_LINE_KINDS = {"agent", "absence"}  # agents serve every line; what they see of a line is checked in bodies
VALUES = {"month": "2026-01", "role": "call_centre", "segment": "default", "version": "1", "code": "no_interest",
          "token": "not-a-signed-token", "day": date.today().isoformat()}
PATH_KINDS = {
    ("customers", "party_id"): "party", ("customers", "link_id"): "link",
    ("calls", "party_id"): "party", ("calls", "call_id"): "call", ("calls", "request_id"): "request",
    ("calls", "agent_id"): "agent", ("calls", "absence_id"): "absence", ("calls", "territory_id"): "territory",
    ("calls", "script_id"): "script", ("calls", "campaign_id"): "campaign",
    ("campaigns", "campaign_id"): "campaign", ("campaigns", "party_id"): "party",
    ("campaigns", "suppression_id"): "suppression", ("campaigns", "cost_item_id"): "cost_item",
    ("campaigns", "import_id"): "import", ("campaigns", "template_id"): "template",
    ("campaigns", "mailing_id"): "mailing", ("campaigns", "recipient_id"): "recipient",
    ("calls", "month"): "=month", ("calls", "role"): "=role", ("calls", "segment"): "=segment",
    ("calls", "version"): "=version", ("calls", "code"): "=code", ("campaigns", "token"): "=token",
}


class Builder:
    def __init__(self, gateway: str, line: str):
        self.gateway, self.line = gateway, line
        self.http = requests.Session()
        self.http.headers.update(auth(**ADMIN))

    def call(self, method: str, path: str, expect=(200, 201, 202, 204), **kwargs):
        response = self.http.request(method, f"{self.gateway}{path}", timeout=30, **kwargs)
        assert response.status_code in expect, f"{method} {path}: {response.status_code} {response.text[:500]}"
        return response.json() if response.content and "json" in response.headers.get("Content-Type", "") else None

    def eventually(self, fetch, what: str, timeout: float = 60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (result := fetch()) is not None:
                return result
            time.sleep(0.2)
        raise AssertionError(f"{self.line}: {what} did not appear in time")


def build(gateway: str, line: str) -> dict[str, str]:
    """{kind: id} of one line's objects; `kind` names what a path parameter refers to."""
    b = Builder(gateway, line)
    tag = f"{line}-{uuid.uuid4().hex[:6]}"
    ids: dict[str, str] = {"line": line}
    address = {"street": "Hauptstr. 1", "postal_code": "80331", "city": "Munich", "country": "DE"}
    company = b.call("POST", "/api/customers/parties", json={
        "kind": "company", "company_name": f"Matrix {tag} GmbH", "line_of_business": line,
        "primary_address": address, "emails": [{"address": f"{tag}@example.com"}]})
    ids["party"] = company["party_id"]
    person = b.call("POST", "/api/customers/parties", json={
        "kind": "person", "first_name": "Mia", "last_name": f"Matrix {tag}", "line_of_business": line,
        "primary_address": address})
    ids["person"] = person["party_id"]
    link = b.call("POST", f"/api/customers/parties/{ids['person']}/contacts",
                  json={"company_id": ids["party"], "role": "buyer"})
    ids["link"] = link["id"]
    for state in ("prospect", "customer"):
        b.call("POST", f"/api/customers/parties/{ids['party']}/lifecycle", json={"state": state})

    campaign = b.call("POST", "/api/campaigns/campaigns", json={
        "name": f"Campaign {tag}", "campaign_type": "email", "line_of_business": line})
    ids["campaign"] = campaign["campaign_id"]

    # calls: the customer's replica and planned cycle calls, an agent with an absence, a territory, a request
    b.eventually(lambda: b.call("GET", f"/api/calls/customers/{ids['party']}", expect=(200, 404)) and
                 (b.http.get(f"{gateway}/api/calls/customers/{ids['party']}", timeout=30).json()
                  .get("lifecycle_state") == "customer") or None, "the calls replica")
    agent = b.call("POST", "/api/calls/agents", json={
        "name": f"Agent {tag}", "role": "call_centre", "daily_capacity": 10, "user_subject": f"agent-{tag}",
        "working_hours": {d: ["08:00", "16:00"] for d in ("mon", "tue", "wed", "thu", "fri")}})
    ids["agent"] = agent["agent_id"]
    ids["agent_subject"] = f"agent-{tag}"
    first = date.today() + timedelta(days=30)
    absence = b.call("POST", f"/api/calls/agents/{ids['agent']}/absences", json={
        "kind": "holiday", "first_day": first.isoformat(), "last_day": (first + timedelta(days=2)).isoformat()})
    ids["absence"] = absence["absence_id"]
    territory = b.call("POST", "/api/calls/territories", json={
        "name": f"Territory {tag}", "line_of_business": line, "postal_ranges": [["80000", "80999"]],
        "agent_id": ids["agent"]})
    ids["territory"] = territory["territory_id"]
    ids["request"] = str(uuid.uuid4())
    b.call("POST", "/api/calls/call-requests", json={
        "request_id": ids["request"], "party_id": ids["party"], "call_type": "campaign",
        "campaign_id": ids["campaign"],
        "window_start": (date.today() + timedelta(days=3)).isoformat(),
        "window_end": (date.today() + timedelta(days=20)).isoformat()})

    def a_call():
        items = b.call("GET", "/api/calls/calls", params={"party_id": ids["party"]})["items"]
        return items[0]["call_id"] if items else None
    ids["call"] = b.eventually(a_call, "a planned call")

    # campaigns: a campaign with a stage, a cost item, a participant, a template, a mailing, an import
    script = b.call("POST", "/api/calls/scripts", json={
        "name": f"Script {tag}", "campaign_id": ids["campaign"],
        "steps": [{"prompt": "Good morning, do you have a minute?"}]})
    ids["script"] = script["script_id"]
    b.call("PUT", f"/api/campaigns/campaigns/{ids['campaign']}/stages", json={"stages": [
        {"key": "letter", "name": "Letter", "action": "mailing"}]})
    cost = b.call("POST", f"/api/campaigns/campaigns/{ids['campaign']}/cost-items",
                  json={"name": "Print", "planned_amount": "100.00"})
    ids["cost_item"] = cost["cost_item_id"]
    b.eventually(lambda: b.call("GET", "/api/campaigns/parties", params={"line_of_business": line})
                 ["items"] or None, "the campaigns replica")
    b.call("POST", f"/api/campaigns/campaigns/{ids['campaign']}/participants", json={"party_ids": [ids["party"]]})
    suppression = b.call("POST", "/api/campaigns/suppressions", json={
        "party_id": ids["person"], "channel": "email", "reason": "asked not to be mailed"})
    ids["suppression"] = suppression["suppression_id"]
    template = b.call("POST", "/api/campaigns/templates", json={
        "name": f"Template {tag}", "channel": "email", "subject": "Hello", "body": "Dear {{ company_name }}",
        "line_of_business": line})
    ids["template"] = template["template_id"]
    b.call("POST", f"/api/campaigns/campaigns/{ids['campaign']}/launch")
    mailing = b.call("POST", f"/api/campaigns/campaigns/{ids['campaign']}/mailings",
                     json={"stage_key": "letter", "template_id": ids["template"]})
    ids["mailing"] = mailing["mailing_id"]
    recipients = b.call("GET", f"/api/campaigns/mailings/{ids['mailing']}/recipients")["items"]
    assert recipients, f"{line}: the mailing has no recipients"
    ids["recipient"] = recipients[0]["recipient_id"]
    upload = b.call("POST", f"/api/campaigns/campaigns/{ids['campaign']}/imports", files={
        "file": ("list.csv", io.BytesIO(f"company,postal\nImported {tag} AG,80331\n".encode()), "text/csv")},
        data={"mapping": json.dumps({"company": "company_name", "postal": "postal_code"})})
    ids["import"] = upload["import_id"]
    return ids
