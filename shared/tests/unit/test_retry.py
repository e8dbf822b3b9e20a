"""A transaction that loses a deadlock runs again, a bounded number of times; other errors pass through."""
from __future__ import annotations

import psycopg.errors
import pytest
from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.exc import OperationalError

from crm_shared.consumer import EventConsumer, batch_handler
from crm_shared.events import CloudEvent
from crm_shared.messaging_tables import add_messaging_tables
from crm_shared.retry import is_transient, retry_transient


def deadlock() -> OperationalError:
    return OperationalError("UPDATE agents ...", {}, psycopg.errors.DeadlockDetected("deadlock detected"))


def test_deadlocks_and_serialization_failures_are_transient_other_errors_are_not():
    assert is_transient(deadlock())
    assert is_transient(OperationalError("x", {}, psycopg.errors.SerializationFailure("could not serialize")))
    assert not is_transient(OperationalError("x", {}, psycopg.errors.UniqueViolation("duplicate key")))
    assert not is_transient(ValueError("no"))


def test_retry_runs_again_after_a_deadlock_and_gives_up_after_the_bound():
    runs = []

    def flaky():
        runs.append(1)
        if len(runs) < 3:
            raise deadlock()
        return "done"

    assert retry_transient(flaky, pause=0) == "done" and len(runs) == 3
    runs.clear()
    with pytest.raises(OperationalError):
        retry_transient(lambda: runs.append(1) or (_ for _ in ()).throw(deadlock()), attempts=2, pause=0)
    assert len(runs) == 2
    with pytest.raises(KeyError):  # not transient: no second run
        retry_transient(lambda: runs.append(1) or {}["x"], pause=0)
    assert len(runs) == 3


def test_a_consumer_batch_that_loses_a_deadlock_is_applied_again_in_a_new_transaction(tmp_path):
    metadata = MetaData()
    tables = add_messaging_tables(metadata)
    engine = create_engine(f"sqlite:///{tmp_path}/c.db")
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE seen (event_id TEXT)"))
    attempts = []

    @batch_handler
    def handler(session, batch):
        session.execute(text("INSERT INTO seen VALUES (:id)"), [{"id": e.id} for e in batch])
        attempts.append(len(batch))
        if len(attempts) == 1:
            raise deadlock()

    consumer = EventConsumer(url="memory://", engine=engine, inbox=tables.inbox, queue="q", subscriptions=(),
                             handlers={"crm.test.happened.v1": handler})
    events = [CloudEvent(type="crm.test.happened.v1", source="crm.test", subject="s", data={}) for _ in range(3)]
    consumer._apply([(None, e) for e in events])
    assert attempts == [3, 3]  # the whole batch once more, not one by one and not to a retry queue
    with engine.connect() as conn:
        assert sorted(conn.execute(text("SELECT event_id FROM seen")).scalars()) == sorted(e.id for e in events)
        assert conn.execute(text("SELECT count(*) FROM inbox")).scalar() == 3
