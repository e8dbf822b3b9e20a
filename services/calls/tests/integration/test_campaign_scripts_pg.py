"""A campaign's call scripts belong to the campaign's line of business, which calls learns from campaigns'
`campaign_defined` events: a manager of one line neither creates, reads, revises nor deletes the scripts of
another line's campaign (nor of a campaign calls does not know); scripts for call types serve every line."""
from __future__ import annotations

import uuid

import pytest
from planning_fixtures import migrated_runtime
from crm_shared.auth import Principal, mint_token
from crm_shared.events import new_event
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from crm_calls.adapters import orm
from crm_calls.domain import events
from crm_calls.domain.errors import InvalidInput, NotFound
from crm_calls.service_layer import execution
from crm_calls.service_layer.handlers import HANDLERS
from crm_calls.service_layer.unit_of_work import CallsUnitOfWork

API = "/api/calls"
STEPS = [{"prompt": "Greet", "questions": []}]
RETAIL_MANAGER = Principal("rita", frozenset({"supervisor"}), frozenset({"retail"}))


@pytest.fixture(scope="module")
def runtime(postgres_url, amqp_url):
    with migrated_runtime(postgres_url, amqp_url, "calls_campaign_scripts") as runtime:
        yield runtime


@pytest.fixture(scope="module")
def client(runtime):
    return runtime.create_app().test_client()


@pytest.fixture(scope="module")
def uow(runtime):
    sessions = sessionmaker(runtime.engine, expire_on_commit=False)
    return lambda: CallsUnitOfWork(sessions, runtime.messaging.outbox, "calls")


def headers(runtime, lines, roles=("supervisor",), sub="sam") -> dict:
    return {"Authorization": "Bearer " + mint_token(runtime.settings.jwt, sub, list(roles), list(lines))}


def defined(runtime, campaign_id: str, line: str, version: int = 1) -> None:
    """campaigns' event, handled as the consumer handles it."""
    event = new_event(events.CAMPAIGN_DEFINED, "crm.campaigns", campaign_id, {
        "campaign_id": campaign_id, "name": "Spring", "campaign_type": "telemarketing", "line_of_business": line,
        "owner": "marketer", "planned_start": None, "planned_end": None, "status": "draft", "version": version})
    with Session(runtime.engine) as session:
        HANDLERS[events.CAMPAIGN_DEFINED](session, [event])
        session.commit()


def scripts_stored(runtime) -> int:
    with runtime.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(orm.call_scripts))


def replicated(runtime, campaign_id: str):
    with runtime.engine.connect() as conn:
        return conn.execute(select(orm.campaign_replica.c.line_of_business, orm.campaign_replica.c.version)
                            .where(orm.campaign_replica.c.campaign_id == campaign_id)).one()


def test_the_replica_keeps_the_newest_line_of_each_campaign(runtime):
    campaign_id = str(uuid.uuid4())
    defined(runtime, campaign_id, "retail", version=1)
    defined(runtime, campaign_id, "wholesale", version=3)
    defined(runtime, campaign_id, "retail", version=2)  # late and stale
    assert tuple(replicated(runtime, campaign_id)) == ("wholesale", 3)


def test_a_manager_of_one_line_cannot_create_a_script_for_another_lines_campaign(runtime, client):
    wholesale, retail, unknown = (str(uuid.uuid4()) for _ in range(3))
    defined(runtime, wholesale, "wholesale")
    defined(runtime, retail, "retail")
    before = scripts_stored(runtime)
    retailer = headers(runtime, ["retail"])
    for campaign_id in (wholesale, unknown):
        response = client.post(f"{API}/scripts", json={"name": "Theirs", "campaign_id": campaign_id, "steps": STEPS},
                               headers=retailer)
        assert response.status_code == 422 and response.mimetype == "application/problem+json", response.get_json()
        assert [e["field"] for e in response.get_json()["errors"]] == ["campaign_id"]
    assert scripts_stored(runtime) == before
    own = client.post(f"{API}/scripts", json={"name": "Ours", "campaign_id": retail, "steps": STEPS}, headers=retailer)
    assert own.status_code == 201, own.get_json()


def test_another_lines_campaign_script_looks_missing(runtime, client):
    wholesale = str(uuid.uuid4())
    defined(runtime, wholesale, "wholesale")
    admin = headers(runtime, ["*"], roles=("admin",))
    created = client.post(f"{API}/scripts", json={"name": "Wholesale only", "campaign_id": wholesale,
                                                  "steps": STEPS}, headers=admin)
    assert created.status_code == 201, created.get_json()
    url = f"{API}/scripts/{created.get_json()['script_id']}"
    retailer = headers(runtime, ["retail"])

    for response in (client.get(url, headers=retailer), client.get(f"{url}/versions/1", headers=retailer),
                     client.put(url, json={"name": "Mine now", "steps": STEPS}, headers=retailer),
                     client.delete(url, headers=retailer)):
        assert response.status_code == 404 and response.mimetype == "application/problem+json", response.get_json()
    listed = client.get(f"{API}/scripts", query_string={"limit": 200}, headers=retailer).get_json()["items"]
    assert created.get_json()["script_id"] not in {s["script_id"] for s in listed}
    assert any(s["call_type"] == "maintenance" for s in listed)  # the scripts for call types serve every line
    assert client.get(url, headers=headers(runtime, ["wholesale"])).status_code == 200
    assert client.get(url, headers=admin).get_json()["version"] == 1


def test_the_service_layer_applies_the_rule_to_every_use_case(runtime, uow):
    wholesale, retail = str(uuid.uuid4()), str(uuid.uuid4())
    defined(runtime, wholesale, "wholesale")
    defined(runtime, retail, "retail")
    everyone = Principal("admin", frozenset({"admin"}), frozenset({"*"}))
    theirs = execution.create_script(uow(), everyone, name="Theirs", call_type=None, campaign_id=wholesale,
                                     steps=STEPS)
    with pytest.raises(InvalidInput) as refused:
        execution.create_script(uow(), RETAIL_MANAGER, name="X", call_type=None, campaign_id=wholesale, steps=STEPS)
    assert refused.value.field == "campaign_id"
    for attempt in (lambda: execution.get_script(uow(), RETAIL_MANAGER, theirs.script_id),
                    lambda: execution.get_script(uow(), RETAIL_MANAGER, theirs.script_id, 1),
                    lambda: execution.revise_script(uow(), RETAIL_MANAGER, theirs.script_id, name="X", steps=STEPS),
                    lambda: execution.delete_script(uow(), RETAIL_MANAGER, theirs.script_id)):
        with pytest.raises(NotFound):
            attempt()
    listed = execution.list_scripts(uow(), RETAIL_MANAGER, limit=500, after=None, call_type=None,
                                    campaign_id=wholesale)
    assert listed == []
    mine = execution.create_script(uow(), RETAIL_MANAGER, name="Mine", call_type=None, campaign_id=retail,
                                   steps=STEPS)
    assert execution.revise_script(uow(), RETAIL_MANAGER, mine.script_id, name="Mine 2", steps=STEPS).version == 2
    assert execution.get_script(uow(), everyone, theirs.script_id).name == "Theirs"
