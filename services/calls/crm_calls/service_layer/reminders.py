"""Reminders of next contacts and callbacks that are due: one event per call, sent once."""
from __future__ import annotations

from datetime import datetime

from crm_shared.events import new_event
from sqlalchemy import select, update

from crm_calls.adapters import orm
from crm_calls.domain import events
from crm_calls.domain.calls import OPEN_STATUSES
from crm_calls.service_layer.planner import call_data


def send_due_reminders(uow, now: datetime | None = None, limit: int = 500) -> int:
    """Marks due reminders sent and publishes `next_contact_due` in the same transaction (outbox), so a
    crash between the two cannot lose or repeat one. Rows are claimed with SKIP LOCKED on PostgreSQL."""
    now = now or uow.clock.now()
    table = orm.calls
    with uow:
        query = select(table).where(table.c.remind_at <= now, table.c.reminded_at.is_(None),
                                    table.c.status.in_(OPEN_STATUSES)).order_by(table.c.remind_at).limit(limit)
        if uow.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = uow.session.execute(query).all()
        if not rows:
            return 0
        uow.session.execute(update(table).where(table.c.call_id.in_([r.call_id for r in rows]))
                            .values(reminded_at=now))
        for row in rows:
            call = uow.planning.get_call(row.call_id)
            due = events.Published(events.NEXT_CONTACT_DUE, row.party_id,
                                   {**call_data(call), "remind_at": row.remind_at.isoformat()})
            uow.publish(new_event(due.type, events.SOURCE, due.subject, due.data))
        uow.commit()
    return len(rows)
