"""lines of business: the replica of customers' list (crm.customers.line_of_business_defined.v1), seeded with the
three lines customers' first migration creates, so a fresh installation knows them before customers' events
arrive (customers' migration 0002 publishes every line that existed before the event, for an existing one).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08 01:20:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SEEDED_LINES = [("retail", "Retail"), ("wholesale", "Wholesale"), ("services", "Services")]  # customers' 0001


def upgrade() -> None:
    lines = op.create_table(
        "lines_of_business",
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.bulk_insert(lines, [{"code": code, "label": label} for code, label in SEEDED_LINES])


def downgrade() -> None:
    op.drop_table("lines_of_business")
