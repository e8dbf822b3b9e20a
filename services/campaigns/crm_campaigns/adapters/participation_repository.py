"""Participations and their stage history, read and written in bulk: a campaign moves thousands at a time."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from crm_shared.db import dialect_insert
from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from crm_campaigns.adapters import orm
from crm_campaigns.domain.participants import OPEN_STATUSES, Position

P = orm.participations.c
POSITION_COLUMNS = (P.participation_id, P.campaign_id, P.party_id, P.stage_key, P.status, P.request_id)
CHUNK = 5000
POSITION_TYPES = (("status", "text"), ("stage_key", "text"), ("request_id", "text"), ("failure_code", "text"),
                  ("timeout_at", "timestamptz"), ("stage_entered_at", "timestamptz"), ("finished_at", "timestamptz"))
POSITION_FIELDS = tuple(name for name, _ in POSITION_TYPES)


class ParticipationRepository:
    def __init__(self, session: Session):
        self.session = session

    def insert_new(self, rows: list[dict]) -> list[dict]:
        """Inserts the rows whose party is not yet in the campaign; returns those inserted."""
        inserted: list[dict] = []
        statement = (dialect_insert(orm.participations, self.session.bind.dialect.name)
                     .on_conflict_do_nothing(index_elements=["campaign_id", "party_id"])
                     .returning(P.participation_id))
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start:start + CHUNK]
            ids = set(self.session.execute(statement, chunk).scalars()) if len(chunk) > 1 else \
                set(self.session.execute(statement.values(**chunk[0])).scalars())
            inserted.extend(r for r in chunk if r["participation_id"] in ids)
        return inserted

    def positions(self, participation_ids: Iterable[str], *, lock: bool = True) -> list[Position]:
        return self._positions(P.participation_id, participation_ids, lock)

    def positions_by_request(self, request_ids: Iterable[str], *, lock: bool = True) -> list[Position]:
        return self._positions(P.request_id, request_ids, lock)

    def _positions(self, column, keys: Iterable[str], lock: bool) -> list[Position]:
        keys, found = sorted(set(keys)), []
        for start in range(0, len(keys), CHUNK):
            query = select(*POSITION_COLUMNS).where(column.in_(keys[start:start + CHUNK])) \
                .order_by(P.participation_id)
            found.extend(Position(*row) for row in self.session.execute(query.with_for_update() if lock else query))
        return found

    def open_positions(self, campaign_id: str, status: str | None = None) -> list[Position]:
        statuses = (status,) if status else OPEN_STATUSES
        query = select(*POSITION_COLUMNS).where(P.campaign_id == campaign_id, P.status.in_(statuses)) \
            .order_by(P.participation_id).with_for_update()
        return [Position(*row) for row in self.session.execute(query)]

    def open_positions_of_party(self, party_id: str) -> list[Position]:
        query = select(*POSITION_COLUMNS).where(P.party_id == party_id, P.status.in_(OPEN_STATUSES)) \
            .order_by(P.participation_id).with_for_update()
        return [Position(*row) for row in self.session.execute(query)]

    def party_ids(self, campaign_id: str) -> set[str]:
        return set(self.session.execute(select(P.party_id).where(P.campaign_id == campaign_id)).scalars())

    def get(self, campaign_id: str, party_id: str) -> Row | None:
        return self.session.execute(select(orm.participations).where(P.campaign_id == campaign_id,
                                                                      P.party_id == party_id)).first()

    def page(self, campaign_id: str, *, limit: int, after: str | None, status: str | None,
             stage_key: str | None) -> list[dict]:
        query = select(orm.participations, orm.party_replica.c.display_name) \
            .outerjoin(orm.party_replica, orm.party_replica.c.party_id == P.party_id) \
            .where(P.campaign_id == campaign_id).order_by(P.participation_id).limit(limit)
        if after is not None:
            query = query.where(P.participation_id > after)
        if status is not None:
            query = query.where(P.status == status)
        if stage_key is not None:
            query = query.where(P.stage_key == stage_key)
        return [row._asdict() for row in self.session.execute(query)]

    def due_timeouts(self, now: datetime, limit: int) -> list[str]:
        query = select(P.participation_id).where(P.status == "active", P.timeout_at <= now) \
            .order_by(P.timeout_at).limit(limit)
        return list(self.session.execute(query).scalars())

    def write_positions(self, changes: list[dict]) -> None:
        """Each change: participation_id plus status, stage_key, request_id, failure_code, timeout_at,
        stage_entered_at, finished_at (the whole new position, so one statement serves every kind of move)."""
        latest = list({c["participation_id"]: c for c in changes}.values())  # a later move in the batch wins
        if not latest:
            return
        if self.session.bind.dialect.name == "postgresql":
            for start in range(0, len(latest), CHUNK):
                self._write_positions_unnest(latest[start:start + CHUNK])
            return
        statement = update(orm.participations).where(P.participation_id == bindparam("pid")).values(
            {name: bindparam(f"new_{name}") for name in POSITION_FIELDS})
        rows = [{"pid": c["participation_id"], **{f"new_{name}": c[name] for name in POSITION_FIELDS}}
                for c in latest]
        self.session.connection().execute(statement, rows)

    def _write_positions_unnest(self, changes: list[dict]) -> None:
        """One UPDATE ... FROM unnest(arrays) per chunk instead of a statement per participation."""
        params = {"pid": [c["participation_id"] for c in changes],
                  **{name: [c[name] for c in changes] for name in POSITION_FIELDS}}
        casts = ", ".join(f"CAST(:{name} AS {sql_type}[])" for name, sql_type in
                          (("pid", "text"), *POSITION_TYPES))
        assignments = ", ".join(f"{name} = v.{name}" for name in POSITION_FIELDS)
        self.session.execute(text(
            f"UPDATE participations AS p SET {assignments} FROM unnest({casts}) "
            f"AS v(pid, {', '.join(POSITION_FIELDS)}) WHERE p.participation_id = v.pid"), params)

    def add_history(self, rows: list[dict]) -> None:
        if rows:
            self.session.execute(insert(orm.stage_history), rows)

    def stage_counts(self, campaign_id: str) -> list[Row]:
        """(stage_key, status, failure_code, count) of the participations now in the campaign."""
        query = select(P.stage_key, P.status, P.failure_code, func.count()).where(P.campaign_id == campaign_id) \
            .group_by(P.stage_key, P.status, P.failure_code)
        return list(self.session.execute(query))

    def entered_counts(self, campaign_id: str) -> dict[str, int]:
        h = orm.stage_history.c
        query = select(h.stage_key, func.count()).where(h.campaign_id == campaign_id, h.result.is_(None)) \
            .group_by(h.stage_key)
        return dict(self.session.execute(query).all())
