"""A bulk write of events goes through COPY on PostgreSQL and keeps every row, in order."""
from __future__ import annotations

from sqlalchemy import MetaData, select

from crm_shared.db import make_engine
from crm_shared.events import CloudEvent
from crm_shared.messaging_tables import add_messaging_tables
from crm_shared.outbox import COPY_THRESHOLD, write_events


def test_many_events_are_copied_in_order(fresh_database):
    engine = make_engine(fresh_database("outbox_copy"))
    metadata = MetaData()
    tables = add_messaging_tables(metadata)
    metadata.create_all(engine)
    events = [CloudEvent(type="crm.test.thing_happened.v1", source="crm.test", subject=str(i), data={"n": i})
              for i in range(COPY_THRESHOLD * 3)]
    with engine.begin() as conn:
        write_events(conn, tables.outbox, "test", events)
        single = CloudEvent(type="crm.test.thing_happened.v1", source="crm.test", subject="one", data={"n": -1})
        write_events(conn, tables.outbox, "test", [single])  # below the threshold: a plain INSERT
    with engine.connect() as conn:
        rows = conn.execute(select(tables.outbox).order_by(tables.outbox.c.position)).all()
    engine.dispose()
    assert [r.event_id for r in rows[:-1]] == [e.id for e in events]
    assert [CloudEvent.from_json(r.body).data["n"] for r in rows] == list(range(len(events))) + [-1]
    assert {r.exchange for r in rows} == {"crm.test"} and rows[0].created_at is not None
