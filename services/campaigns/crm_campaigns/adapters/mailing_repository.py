"""Mailings, their recipients and reactions; the participants of a stage they are addressed to."""
from __future__ import annotations

from collections.abc import Iterable

from crm_shared.db import insert_ignoring_duplicates, supports_skip_locked
from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from crm_campaigns.adapters import orm
from crm_campaigns.adapters.mailing_tables import mailing_reactions, mailing_recipients, mailings
from crm_campaigns.domain.mailings import RECIPIENT_STATUSES

M, RC, RX = mailings.c, mailing_recipients.c, mailing_reactions.c
P, R = orm.participations.c, orm.party_replica.c
# Everything but the PDF, which only the document endpoint reads.
MAILING_COLUMNS = [c for c in mailings.c if c.name != "document"] + [M.document.isnot(None).label("has_document")]
PARTY_COLUMNS = (R.display_name, R.company_name, R.first_name, R.last_name, R.street, R.postal_code, R.city,
                 R.country, R.email, R.phone, R.customer_number, R.attributes, R.deactivated)
CHUNK = 2000


class MailingRepository:
    def __init__(self, session: Session):
        self.session = session

    # -- mailings ---------------------------------------------------------------------------------------------
    def add(self, row: dict) -> None:
        self.session.execute(insert(mailings).values(**row))

    def get(self, mailing_id: str, *, lock: bool = False) -> Row | None:
        query = select(*MAILING_COLUMNS).where(M.mailing_id == mailing_id)
        return self.session.execute(query.with_for_update(of=mailings) if lock else query).first()

    def document(self, mailing_id: str) -> bytes | None:
        return self.session.execute(select(M.document).where(M.mailing_id == mailing_id)).scalar()

    def update(self, mailing_id: str, values: dict) -> None:
        self.session.execute(update(mailings).where(M.mailing_id == mailing_id).values(**values))

    def refresh_counts(self, mailing_id: str) -> dict[str, int]:
        """Recounts the recipients by status and stores the figures on the mailing."""
        rows = self.session.execute(select(RC.status, func.count()).where(RC.mailing_id == mailing_id)
                                    .group_by(RC.status))
        counts = {status: 0 for status in RECIPIENT_STATUSES} | dict(rows.all())
        self.update(mailing_id, {"counts": counts})
        return counts

    # -- who gets it ------------------------------------------------------------------------------------------
    def stage_participants(self, campaign_id: str, stage_key: str) -> list[Row]:
        """Participations active in the stage, with their party's replica columns (None if not replicated)."""
        query = select(P.participation_id, P.party_id, *PARTY_COLUMNS) \
            .outerjoin(orm.party_replica, R.party_id == P.party_id) \
            .where(P.campaign_id == campaign_id, P.status == "active", P.stage_key == stage_key) \
            .order_by(P.participation_id)
        return list(self.session.execute(query))

    def still_in_stage(self, participation_ids: Iterable[str], stage_key: str) -> set[str]:
        ids = sorted(set(participation_ids))
        found: set[str] = set()
        for start in range(0, len(ids), CHUNK):
            found.update(self.session.execute(select(P.participation_id).where(
                P.participation_id.in_(ids[start:start + CHUNK]), P.status == "active", P.stage_key == stage_key))
                .scalars())
        return found

    # -- recipients -------------------------------------------------------------------------------------------
    def add_recipients(self, rows: list[dict]) -> None:
        for start in range(0, len(rows), CHUNK):
            self.session.execute(insert(mailing_recipients), rows[start:start + CHUNK])

    def retriable(self, mailing_id: str, *, after: str, limit: int | None, max_attempts: int) -> list[Row]:
        """The next recipients still to be tried, locked; rows another sender holds are passed over."""
        query = select(mailing_recipients).where(RC.mailing_id == mailing_id, RC.recipient_id > after,
                                                 _retriable(max_attempts)) \
            .order_by(RC.recipient_id).limit(limit) \
            .with_for_update(skip_locked=supports_skip_locked(self.session.bind))
        return list(self.session.execute(query))

    def count_retriable(self, mailing_id: str, max_attempts: int) -> int:
        query = select(func.count()).where(RC.mailing_id == mailing_id, _retriable(max_attempts))
        return self.session.execute(query).scalar_one()

    def write_results(self, results: list[dict]) -> None:
        """Each result: recipient_id, status, detail, attempts, sent_at."""
        if not results:
            return
        statement = update(mailing_recipients).where(RC.recipient_id == bindparam("rid")).values(
            status=bindparam("new_status"), detail=bindparam("new_detail"), attempts=bindparam("new_attempts"),
            sent_at=bindparam("new_sent_at"))
        self.session.connection().execute(statement, [
            {"rid": r["recipient_id"], "new_status": r["status"], "new_detail": r["detail"],
             "new_attempts": r["attempts"], "new_sent_at": r["sent_at"]} for r in results])

    def mark_bounced(self, recipient_id: str, detail: str) -> None:
        self.session.execute(update(mailing_recipients).where(RC.recipient_id == recipient_id)
                             .values(status="bounced", detail=detail))

    def recipient(self, recipient_id: str, *, lock: bool = False) -> Row | None:
        query = select(mailing_recipients).where(RC.recipient_id == recipient_id)
        return self.session.execute(query.with_for_update() if lock else query).first()

    def recipients_page(self, mailing_id: str, *, limit: int, after: str | None, status: str | None) -> list[Row]:
        query = select(mailing_recipients).where(RC.mailing_id == mailing_id).order_by(RC.recipient_id).limit(limit)
        if after is not None:
            query = query.where(RC.recipient_id > after)
        if status is not None:
            query = query.where(RC.status == status)
        return list(self.session.execute(query))

    # -- reactions --------------------------------------------------------------------------------------------
    def reaction(self, recipient_id: str, kind: str) -> Row | None:
        return self.session.execute(select(mailing_reactions).where(RX.recipient_id == recipient_id,
                                                                    RX.kind == kind)).first()

    def add_reactions(self, rows: list[dict]) -> int:
        """Stores the reactions not yet recorded (one per recipient and kind); returns how many were new."""
        if not rows:
            return 0
        statement = insert_ignoring_duplicates(mailing_reactions, self.session.bind.dialect.name)
        return sum(self.session.execute(statement.values(**row)).rowcount for row in rows)

    def reactions(self, recipient_id: str) -> list[Row]:
        return list(self.session.execute(select(mailing_reactions).where(RX.recipient_id == recipient_id)
                                         .order_by(RX.occurred_at, RX.kind)))


def _retriable(max_attempts: int):
    return or_(RC.status == "queued", and_(RC.status == "deferred", RC.attempts < max_attempts))
