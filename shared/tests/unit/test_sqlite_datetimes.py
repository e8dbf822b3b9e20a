"""On SQLite (embedded mode, tests) DateTime(timezone=True) behaves like PostgreSQL's timestamptz: stored as UTC,
read back UTC-aware. It came back naive, so APIs answered date-times without an offset."""
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import Column, DateTime, Integer, MetaData, Table, insert, select, text

from crm_shared.db import make_engine

metadata = MetaData()
things = Table("things", metadata, Column("id", Integer, primary_key=True),
               Column("at", DateTime(timezone=True)), Column("wall", DateTime()))
BERLIN_SUMMER = timezone(timedelta(hours=2))


def engine():
    created = make_engine("sqlite://")
    metadata.create_all(created)
    return created


def test_aware_values_come_back_aware_in_utc_and_naive_columns_stay_naive():
    db = engine()
    with db.begin() as conn:
        conn.execute(insert(things).values(id=1, at=datetime(2024, 5, 1, 12, 0, tzinfo=BERLIN_SUMMER),
                                           wall=datetime(2024, 5, 1, 12, 0)))
        at, wall = conn.execute(select(things.c.at, things.c.wall)).one()
        stored = conn.execute(text("SELECT at FROM things")).scalar()
    assert at == datetime(2024, 5, 1, 10, 0, tzinfo=UTC) and at.tzinfo is UTC
    assert at.isoformat() == "2024-05-01T10:00:00+00:00"
    assert stored.startswith("2024-05-01 10:00:00")  # UTC on disk, so text order is time order
    assert wall == datetime(2024, 5, 1, 12, 0) and wall.tzinfo is None


def test_comparisons_and_naive_input_are_taken_as_utc():
    db = engine()
    with db.begin() as conn:
        conn.execute(insert(things).values(id=1, at=datetime(2024, 5, 1, 10, 0)))  # naive: UTC
        conn.execute(insert(things).values(id=2, at=datetime(2024, 5, 1, 11, 50, tzinfo=BERLIN_SUMMER)))
        later = conn.execute(select(things.c.id).where(things.c.at > datetime(2024, 5, 1, 9, 45, tzinfo=UTC))
                             .order_by(things.c.at)).scalars().all()
        assert later == [2, 1]
        assert conn.execute(select(things.c.at).where(things.c.id == 1)).scalar().tzinfo is UTC
