"""Publish every line of business that exists, once: `line_of_business_defined` was introduced after lines were
seeded (0001) and added by administrators, so other services keeping the list (campaigns) learn those too.

The events go through the outbox like every other one; a consumer stores a line idempotently by its code, so
a line it already knew (campaigns seeds the three of 0001 itself) changes nothing.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-08
"""
import sqlalchemy as sa
from alembic import op

from crm_shared.events import new_event
from crm_shared.messaging_tables import add_messaging_tables
from crm_shared.outbox import write_events

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

EVENT_TYPE = "crm.customers.line_of_business_defined.v1"  # as domain/events.py LineOfBusinessDefined writes it
SOURCE = "crm.customers"


def upgrade() -> None:
    connection = op.get_bind()
    lines = sa.table("lines_of_business", sa.column("code", sa.String), sa.column("label", sa.String))
    existing = connection.execute(sa.select(lines.c.code, lines.c.label).order_by(lines.c.code)).all()
    outbox = add_messaging_tables(sa.MetaData()).outbox
    write_events(connection, outbox, "customers",
                 [new_event(EVENT_TYPE, SOURCE, code, {"code": code, "label": label}) for code, label in existing])


def downgrade() -> None:
    """Published events cannot be taken back; nothing to undo in the schema."""
