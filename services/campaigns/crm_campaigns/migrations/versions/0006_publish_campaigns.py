"""Publish `campaign_defined` once for every campaign that exists: the event was introduced after campaigns were
created, and calls learns from it which line of business a campaign's call scripts belong to.

Written to the outbox like every other event; calls keeps the newest version per campaign, so a campaign it
already knew changes nothing.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08 01:40:00.000000
"""
import sqlalchemy as sa
from alembic import op
from crm_shared.events import new_event
from crm_shared.messaging_tables import add_messaging_tables
from crm_shared.outbox import write_events

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

EVENT_TYPE = "crm.campaigns.campaign_defined.v1"  # as service_layer/campaigns.py publish_defined writes it
SOURCE = "crm.campaigns"
COLUMNS = ("campaign_id", "name", "campaign_type", "line_of_business", "owner", "planned_start", "planned_end",
           "status", "version")


def upgrade() -> None:
    connection = op.get_bind()
    campaigns = sa.table("campaigns", *(sa.column(name) for name in COLUMNS))
    rows = connection.execute(sa.select(*campaigns.c).order_by(campaigns.c.campaign_id)).mappings().all()
    outbox = add_messaging_tables(sa.MetaData()).outbox
    write_events(connection, outbox, "campaigns", [new_event(EVENT_TYPE, SOURCE, row["campaign_id"], {
        **{name: row[name] for name in COLUMNS}, "planned_start": _iso(row["planned_start"]),
        "planned_end": _iso(row["planned_end"])}) for row in rows])


def _iso(value):
    """A date (PostgreSQL) or its text already (SQLite, the columns being read untyped here)."""
    return value.isoformat() if hasattr(value, "isoformat") else value


def downgrade() -> None:
    """Published events cannot be taken back; nothing to undo in the schema."""
