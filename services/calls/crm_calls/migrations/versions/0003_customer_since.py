"""customer_since on the replica: the day a party (last) became an active customer, where its cycle starts

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("customer_replica", sa.Column("customer_since", sa.Date, nullable=True))
    # Customers before this revision: the last change we saw is the earliest day we know they were customers.
    day = "date(updated_at)" if op.get_bind().dialect.name == "sqlite" else "CAST(updated_at AS DATE)"
    op.execute(f"UPDATE customer_replica SET customer_since = {day} "
               "WHERE lifecycle_state = 'customer' AND NOT deactivated")


def downgrade() -> None:
    op.drop_column("customer_replica", "customer_since")
