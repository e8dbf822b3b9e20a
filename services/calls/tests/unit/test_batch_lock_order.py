"""A consumer batch keeps the lock order of every writer: all its parties (sorted), then all the agents their
planning may book (sorted), before any planning; the use cases then only take locks the batch already holds."""
from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from calls_factories import event, party_event
from crm_shared.config import Settings
from planning_fixtures import add_team
from sqlalchemy.orm import Session

from crm_calls.adapters.planning_repository import PlanningRepository
from crm_calls.bootstrap import build_runtime
from crm_calls.domain import events
from crm_calls.service_layer.handlers import HANDLERS


@pytest.fixture
def runtime(tmp_path):
    runtime = build_runtime(Settings.from_env("calls", database_url=f"sqlite:///{tmp_path}/calls.db",
                                              amqp_url="memory://"))
    runtime.migrate()
    yield runtime
    runtime.engine.dispose()


def test_a_batch_locks_all_its_parties_then_all_its_agents_each_sorted(runtime, monkeypatch):
    add_team(runtime.engine, members=2)
    add_team(runtime.engine, members=1)
    customers = sorted((str(uuid.uuid4()) for _ in range(4)), reverse=True)  # the batch comes in reverse order
    snapshot = {"lifecycle_state": "customer", "customer_number": "C-1", "attributes": {},
                "primary_address": {"postal_code": "10115", "city": "Berlin"}}
    for party_id in customers:  # known before the batch, so their rows can be locked
        apply(runtime, [party_event("registered", party_id=party_id, version=1, **snapshot)])
    day = date.today() + timedelta(days=20)
    batch = [party_event("updated", party_id=p, version=2, **snapshot) for p in customers[:3]] + [
        event(events.CAMPAIGN_CALL_REQUESTED, {"request_id": f"r-{uuid.uuid4()}", "party_id": customers[3],
                                               "campaign_id": "c1", "window_start": day.isoformat(),
                                               "window_end": (day + timedelta(days=10)).isoformat()})]
    taken = []
    lock_parties, lock_agents = PlanningRepository.lock_parties, PlanningRepository.lock_agents

    def record_parties(self, party_ids):
        ids = sorted(set(party_ids))
        taken.append(("parties", ids))
        return lock_parties(self, ids)

    def record_agents(self, agent_ids):
        ids = sorted(set(agent_ids))
        taken.append(("agents", ids))
        return lock_agents(self, ids)

    monkeypatch.setattr(PlanningRepository, "lock_parties", record_parties)
    monkeypatch.setattr(PlanningRepository, "lock_agents", record_agents)
    apply(runtime, batch)

    assert taken[0] == ("parties", sorted(customers)), taken[0]
    assert taken[1][0] == "agents"
    first_agents = set(taken[1][1])
    for kind, ids in taken[2:]:  # later locks are ones the batch already holds: no new lock out of order
        assert set(ids) <= (set(customers) if kind == "parties" else first_agents), (kind, ids)


def apply(runtime, batch):
    """As the consumer hands a batch to the handler: one run, one transaction."""
    with Session(runtime.engine) as session, session.begin():
        handler = HANDLERS[batch[0].type]
        assert all(HANDLERS[e.type] is handler for e in batch)
        handler(session, batch)
