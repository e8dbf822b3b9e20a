"""Embedded mode: all five services in one process, for trying the CRM out with one command.

Each service keeps its own SQLite file and talks to the others only over an in-process bus (kombu's
memory transport), exactly as it would over RabbitMQ; a small path-routing gateway stands in for nginx.
Not for production and not what the tests use to prove delivery: see docs/architecture.md.
"""
from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
import threading
import time
from pathlib import Path

from werkzeug.serving import run_simple
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

from crm_shared.auth import mint_token
from crm_shared.config import Settings
from crm_shared.logs import configure_logging

SERVICES = {"customers": "crm_customers", "calls": "crm_calls", "campaigns": "crm_campaigns",
            "service-desk": "crm_service_desk", "reporting": "crm_reporting"}
ROOT = Path(__file__).resolve().parents[2]
log = logging.getLogger("embedded")


class Gateway:
    """Routes /api/<service>/... to that service's app and /health/<service>/... to its health checks."""

    def __init__(self, apps: dict):
        self.apps = apps

    def __call__(self, environ, start_response):
        parts = environ.get("PATH_INFO", "/").split("/")
        if len(parts) > 2 and parts[1] == "api" and parts[2] in self.apps:
            return self.apps[parts[2]](environ, start_response)
        if len(parts) > 3 and parts[1] == "health" and parts[2] in self.apps:
            environ = {**environ, "PATH_INFO": "/health/" + "/".join(parts[3:])}
            return self.apps[parts[2]](environ, start_response)
        return self.index(environ, start_response)

    def index(self, environ, start_response):
        body = {"services": {name: {"api": f"/api/{name}/", "docs": f"/api/{name}/docs",
                                    "openapi": f"/api/{name}/openapi.json", "ready": f"/health/{name}/ready"}
                             for name in self.apps}}
        status = 200 if Request(environ).path == "/" else 404
        return Response(json.dumps(body, indent=2), status=status, mimetype="application/json")(
            environ, start_response)


# No Celery worker runs in embedded mode: campaigns processes uploads and sends mailings inside the request.
# These settings are passed to the service's bootstrap; the process environment is left as it is.
EMBEDDED_SETTINGS = {"campaigns": {"imports_inline": True, "mailings_inline": True}}


def start_services(data_dir: Path, stop: threading.Event) -> dict:
    data_dir.mkdir(parents=True, exist_ok=True)
    apps = {}
    for name, package in SERVICES.items():
        bootstrap = importlib.import_module(f"{package}.bootstrap")
        settings = bootstrap.settings_from_env(database_url=f"sqlite:///{data_dir / name}.sqlite3",
                                               amqp_url="memory://", retry_delays_ms=(200, 1000),
                                               **EMBEDDED_SETTINGS.get(name, {}))
        runtime = bootstrap.build_runtime(settings)
        runtime.migrate()
        consumer = runtime.build_consumer()
        if consumer is not None:
            consumer.declare()
            threading.Thread(target=consumer.run_forever, args=(stop,), daemon=True, name=f"{name}-consumer").start()
        threading.Thread(target=runtime.build_relay().run_forever, args=(stop,), daemon=True,
                         name=f"{name}-relay").start()
        apps[name] = runtime.create_app()
    return apps


DEMO_PARTIES = [
    {"kind": "company", "company_name": "Acme Tools Ltd", "line_of_business": "retail",
     "primary_address": {"street": "1 High Street", "postal_code": "10115", "city": "Berlin", "country": "DE"},
     "phones": [{"kind": "office", "number": "+49 30 1234567"}],
     "emails": [{"kind": "office", "address": "info@acme.example"}]},
    {"kind": "company", "company_name": "Nordic Wholesale AB", "line_of_business": "wholesale",
     "primary_address": {"street": "Kungsgatan 5", "postal_code": "11143", "city": "Stockholm", "country": "SE"}},
    {"kind": "person", "first_name": "Ada", "last_name": "Novak", "line_of_business": "retail",
     "emails": [{"kind": "work", "address": "ada.novak@acme.example"}]},
    {"kind": "company", "company_name": "Berger Bakery GmbH", "line_of_business": "retail",
     "primary_address": {"street": "Marienplatz 8", "postal_code": "80331", "city": "Munich", "country": "DE"},
     "phones": [{"kind": "office", "number": "+49 89 7654321"}]},
]


WORKING_WEEK = {day: ["08:00", "16:30"] for day in ("mon", "tue", "wed", "thu", "fri")}


def _load_demo_call_centre(client, headers) -> None:
    """Two agents and one territory for every postal code, so customers get their call cycle at once."""
    agents = []
    for name, subject in (("Erika Muster", "demo-agent"), ("Sam Stand-in", None)):
        response = client.post("/api/calls/agents", headers=headers, json={
            "name": name, "role": "call_centre", "daily_capacity": 25, "working_hours": WORKING_WEEK,
            "user_subject": subject})
        if response.status_code != 201:
            log.warning("demo agent refused: %s %s", response.status_code, response.get_data(as_text=True))
            return
        agents.append(response.json["agent_id"])
    response = client.post("/api/calls/territories", headers=headers, json={
        "name": "Everywhere", "postal_ranges": [["00000", "99999"]], "agent_id": agents[0],
        "substitute_agent_id": agents[1]})
    if response.status_code != 201:
        log.warning("demo territory refused: %s %s", response.status_code, response.get_data(as_text=True))


DEMO_CAMPAIGN = {"name": "Spring kitchen offer", "campaign_type": "telemarketing", "line_of_business": "retail",
                 "goal": "Book appointments with retail customers", "topics": ["kitchen range 2025"]}
DEMO_FAILURE_CODES = {"not_interested": "Said no on the phone", "unreachable": "Could not be reached"}
DEMO_STAGES = [
    {"key": "first_call", "name": "First call", "action": "call", "expected_value": "100", "probability": "0.5",
     "call_window_days": 21,
     "rules": [{"when": {"kind": "call_outcome", "value": "reached"}, "then": "advance", "target_stage": "close"},
               {"when": {"kind": "call_outcome", "value": "interest_noted"}, "then": "advance",
                "target_stage": "close"},
               {"when": {"kind": "call_outcome", "value": "rejected"}, "then": "fail",
                "failure_code": "not_interested"},
               {"when": {"kind": "call_outcome"}, "then": "fail", "failure_code": "unreachable"}]},
    {"key": "close", "name": "Closing call", "action": "call", "expected_value": "2500", "probability": "0.3",
     "call_window_days": 45,
     "rules": [{"when": {"kind": "call_outcome", "value": "appointment_booked"}, "then": "succeed"},
               {"when": {"kind": "manual", "value": "won"}, "then": "succeed"},
               {"when": {"kind": "call_outcome"}, "then": "fail", "failure_code": "not_interested"}]},
]
REPLICA_WAIT_SECONDS = 30.0


def _accepted(response, status: int, what: str) -> bool:
    if response.status_code != status:
        log.warning("%s refused: %s %s", what, response.status_code, response.get_data(as_text=True))
    return response.status_code == status


def _add_when_replicated(client, headers, campaign_id: str, party_ids: list[str]) -> bool:
    """The parties reach the campaigns replica over the bus a moment after customers registered them."""
    deadline = time.monotonic() + REPLICA_WAIT_SECONDS
    while True:
        response = client.post(f"/api/campaigns/campaigns/{campaign_id}/participants", headers=headers,
                               json={"party_ids": party_ids})
        waiting = response.status_code == 422 and "unknown parties" in (response.json or {}).get("detail", "")
        if not waiting or time.monotonic() > deadline:
            return _accepted(response, 200, "demo participants")
        time.sleep(0.2)


def _load_demo_campaign(client, headers, party_ids: list[str]) -> None:
    """A launched two-call campaign (first call, then a closing call) for the retail parties: their first
    campaign calls go to the calls service at once."""
    response = client.post("/api/campaigns/campaigns", json=DEMO_CAMPAIGN, headers=headers)
    if not _accepted(response, 201, "demo campaign"):
        return
    url = f"/api/campaigns/campaigns/{response.json['campaign_id']}"
    for code, description in DEMO_FAILURE_CODES.items():
        client.post(f"{url}/failure-codes", json={"code": code, "description": description}, headers=headers)
    if not _accepted(client.put(f"{url}/stages", json={"stages": DEMO_STAGES}, headers=headers), 200,
                     "demo campaign stages"):
        return
    if party_ids and _add_when_replicated(client, headers, response.json["campaign_id"], party_ids):
        _accepted(client.post(f"{url}/launch", headers=headers), 200, "demo campaign launch")


def load_demo_data(gateway: Gateway, token: str) -> None:
    client = Client(gateway)
    headers = {"Authorization": f"Bearer {token}"}
    existing = client.get("/api/customers/parties?limit=1", headers=headers)
    if existing.status_code != 200 or existing.json["items"]:
        return
    _load_demo_call_centre(client, headers)
    created = []
    for party in DEMO_PARTIES:
        response = client.post("/api/customers/parties", json=party, headers=headers)
        if response.status_code != 201:
            log.warning("demo party refused: %s %s", response.status_code, response.get_data(as_text=True))
            continue
        created.append(response.json)
    companies = [p for p in created if p["kind"] == "company"]
    if companies:
        client.post(f"/api/customers/parties/{companies[0]['party_id']}/lifecycle", json={"state": "customer"},
                    headers=headers)
    persons = [p for p in created if p["kind"] == "person"]
    if companies and persons:
        client.post(f"/api/customers/parties/{persons[0]['party_id']}/contacts",
                    json={"company_id": companies[0]["party_id"], "role": "buyer", "position": "Head of purchasing"},
                    headers=headers)
    _load_demo_campaign(client, headers, [p["party_id"] for p in created if p["line_of_business"] == "retail"])


RS256_NOTICE = ("RS256 mode (JWT_JWKS_URL is set): tokens come from your identity provider, so no admin token is "
                "printed and no demo data is loaded (it is loaded through the API, with a token).")


def admin_token() -> str | None:
    """A 7-day admin token for the demo, or None where this process cannot sign one the services accept."""
    settings = Settings.from_env("customers").jwt
    if settings.jwks_url or not settings.secret:
        return None
    return mint_token(settings, "demo-admin", ["admin"], ["*"], ttl_seconds=7 * 86400)


def prepare(data_dir: Path, stop: threading.Event, *, demo_data: bool = True) -> tuple[Gateway, str | None]:
    """Starts the services and loads the demo data; the gateway and the admin token (None in RS256 mode)."""
    gateway = Gateway(start_services(data_dir, stop))
    token = admin_token()
    if token is None:
        print(RS256_NOTICE, file=sys.stderr)
    elif demo_data:
        load_demo_data(gateway, token)
    return gateway, token


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "embedded")
    parser.add_argument("--no-demo-data", action="store_true")
    args = parser.parse_args(argv)
    configure_logging("embedded", "WARNING")
    stop = threading.Event()
    gateway, token = prepare(args.data_dir, stop, demo_data=not args.no_demo_data)
    print(f"CRM running on http://127.0.0.1:{args.port}/  (data in {args.data_dir})", file=sys.stderr)
    print(f"API docs: http://127.0.0.1:{args.port}/api/customers/docs  (and /api/<service>/docs)", file=sys.stderr)
    if token:
        print(f"Admin token (7 days):\n{token}", file=sys.stderr)
    try:
        run_simple("127.0.0.1", args.port, gateway, threaded=True, use_reloader=False)
    finally:
        stop.set()
    return 0


if __name__ == "__main__":
    sys.exit(main())
