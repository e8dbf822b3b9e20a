"""Address-list imports: the import and its file, its report rows written and read a chunk at a time, and the
look-ups that find, for a whole chunk of rows at once, the parties they may duplicate and the suppressions that
apply to them.

On PostgreSQL a chunk's keys travel as arrays (`= ANY(...)`, `unnest(...)`) and its report rows by COPY: a
statement with thousands of placeholders costs more to prepare than to run. SQLite gets plain IN lists."""
from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import (ARRAY, ColumnElement, String, and_, any_, bindparam, delete, func, insert, or_, select,
                        tuple_, update)
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from crm_campaigns.adapters import orm
from crm_campaigns.adapters.import_tables import address_imports, import_files, import_rows
from crm_campaigns.adapters.suppression_repository import applies_to

A, F, R = address_imports.c, import_files.c, import_rows.c
S, P = orm.suppressions.c, orm.party_replica.c
REPORT_COLUMNS = (R.row_number, R.outcome, R.reason, R.field, R.party_id)
MATCH_COLUMNS = (R.import_id, R.row_number, R.party_id, R.outcome, R.name_key, R.postal_key, R.phone_key,
                 R.email_key)
CANDIDATE_COLUMNS = (P.party_id, P.name_key, P.postal_key, P.phone_key, P.email_key)
ROW_COLUMNS = ("import_id", "row_number", "outcome", "reason", "field", "party_id", "joins_campaign", "name_key",
               "postal_key", "phone_key", "email_key", "suspect")
GLOBAL_CHANNEL = "all"
COPY_THRESHOLD = 200


class ImportRepository:
    def __init__(self, session: Session):
        self.session = session

    # -- the import and its file -----------------------------------------------------------------------------
    def add(self, values: dict, content: bytes) -> None:
        self.session.execute(insert(address_imports).values(**values))
        self.session.execute(insert(import_files).values(import_id=values["import_id"], content=content))

    def get(self, import_id: str, *, lock: bool = False) -> Row | None:
        query = select(address_imports).where(A.import_id == import_id)
        return self.session.execute(query.with_for_update() if lock else query).first()

    def of_campaign(self, campaign_id: str, *, limit: int, after: tuple | None) -> list[Row]:
        """Newest first."""
        query = select(address_imports).where(A.campaign_id == campaign_id) \
            .order_by(A.created_at.desc(), A.import_id.desc()).limit(limit)
        if after is not None:
            query = query.where(tuple_(A.created_at, A.import_id) < tuple_(*after))
        return list(self.session.execute(query))

    def content(self, import_id: str) -> bytes | None:
        return self.session.execute(select(F.content).where(F.import_id == import_id)).scalar()

    def update(self, import_id: str, values: dict) -> None:
        self.session.execute(update(address_imports).where(A.import_id == import_id).values(**values))

    def add_progress(self, import_id: str, counts: dict[str, int]) -> None:
        """Counts per outcome of one more chunk of rows."""
        self.session.execute(update(address_imports).where(A.import_id == import_id).values(
            processed_rows=A.processed_rows + sum(counts.values()), accepted=A.accepted + counts.get("accepted", 0),
            duplicates=A.duplicates + counts.get("duplicate", 0), rejected=A.rejected + counts.get("rejected", 0)))

    def finish(self, import_id: str, values: dict) -> None:
        """Ends the import (completed or failed): the file goes, and so do the suspects' data, now in events."""
        self.update(import_id, values)
        self.session.execute(delete(import_files).where(F.import_id == import_id))
        self.session.execute(update(import_rows).where(R.import_id == import_id, R.suspect.isnot(None))
                             .values(suspect=None))

    # -- report rows ------------------------------------------------------------------------------------------
    def add_rows(self, rows: list[dict]) -> None:
        if len(rows) >= COPY_THRESHOLD and self._postgresql:
            self._copy_rows(rows)
        elif rows:
            self.session.execute(insert(import_rows), rows)

    def _copy_rows(self, rows: list[dict]) -> None:
        raw = self.session.connection().connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY import_rows ({', '.join(ROW_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                suspect = row["suspect"]
                copy.write_row([*(row[c] for c in ROW_COLUMNS[:-1]),
                                json.dumps(suspect) if suspect is not None else None])

    def discard_rows(self, import_id: str) -> None:
        self.session.execute(delete(import_rows).where(R.import_id == import_id))

    def outcome_counts(self, import_id: str) -> dict[str, int]:
        query = select(R.outcome, func.count()).where(R.import_id == import_id).group_by(R.outcome)
        return dict(self.session.execute(query).all())

    def joining_rows(self, import_id: str, *, after: int, limit: int) -> list[Row]:
        """Rows whose party joins the campaign, in file order from row `after` on."""
        query = select(R.row_number, R.party_id, R.suspect) \
            .where(R.import_id == import_id, R.joins_campaign, R.row_number > after) \
            .order_by(R.row_number).limit(limit)
        return list(self.session.execute(query))

    def report(self, import_id: str, *, limit: int, after: int | None, outcome: str | None) -> list[dict]:
        query = select(*REPORT_COLUMNS).where(R.import_id == import_id).order_by(R.row_number).limit(limit)
        if after is not None:
            query = query.where(R.row_number > after)
        if outcome is not None:
            query = query.where(R.outcome == outcome)
        return [row._asdict() for row in self.session.execute(query)]

    # -- look-ups for a chunk of rows -------------------------------------------------------------------------
    def replica_candidates(self, pairs: set[tuple[str, str]]) -> list[Row]:
        """Replica parties sharing a (name key, postal key) pair with the rows."""
        if not pairs:
            return []
        query = select(*CANDIDATE_COLUMNS)
        return list(self.session.execute(self._sharing_pairs(query, P.name_key, P.postal_key, pairs)))

    def matching_rows(self, import_id: str, pairs: set[tuple[str, str]]) -> list[Row]:
        """Rows sharing a (name key, postal key) pair that name a party: earlier rows of this import, and accepted
        rows of completed imports (their suspects may not have reached the replica yet)."""
        if not pairs:
            return []
        query = select(*MATCH_COLUMNS).select_from(import_rows.join(address_imports)).where(
            R.party_id.isnot(None),
            or_(R.import_id == import_id, and_(A.status == "completed", R.outcome == "accepted")))
        return list(self.session.execute(self._sharing_pairs(query, R.name_key, R.postal_key, pairs)))

    def deactivated(self, party_ids: Iterable[str]) -> set[str]:
        ids = sorted(set(party_ids))
        if not ids:
            return set()
        query = select(P.party_id).where(self._one_of(P.party_id, ids), P.deactivated)
        return set(self.session.execute(query).scalars())

    def suppressions(self, campaign_id: str, *, party_ids: Iterable[str], phone_keys: Iterable[str],
                     email_keys: Iterable[str]) -> list[Row]:
        """Suppressions on every channel, global or for this campaign, of these parties or contacts."""
        ids, phones, emails = sorted(set(party_ids)), sorted(set(phone_keys)), sorted(set(email_keys))
        if not (ids or phones or emails):
            return []
        query = select(S.party_id, S.phone_key, S.email_key).where(
            applies_to(campaign_id, GLOBAL_CHANNEL),
            or_(self._one_of(S.party_id, ids), self._one_of(S.phone_key, phones), self._one_of(S.email_key, emails)))
        return list(self.session.execute(query))

    @property
    def _postgresql(self) -> bool:
        return self.session.bind.dialect.name == "postgresql"

    def _one_of(self, column, values: list[str]) -> ColumnElement[bool]:
        if self._postgresql:
            return column == any_(bindparam(None, values, type_=ARRAY(String)))
        return column.in_(values)

    def _sharing_pairs(self, query, name_column, postal_column, pairs: set[tuple[str, str]]):
        ordered = sorted(pairs)
        if not self._postgresql:
            return query.where(tuple_(name_column, postal_column).in_(ordered))
        wanted = func.unnest(bindparam(None, [n for n, _ in ordered], type_=ARRAY(String)),
                             bindparam(None, [p for _, p in ordered], type_=ARRAY(String))) \
            .table_valued("name_key", "postal_key").render_derived(name="wanted")
        return query.join(wanted, and_(name_column == wanted.c.name_key, postal_column == wanted.c.postal_key))
