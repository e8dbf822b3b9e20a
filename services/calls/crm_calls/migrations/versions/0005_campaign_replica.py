"""campaign_replica: each campaign's line of business (crm.campaigns.campaign_defined), deciding who may manage
the campaign's call scripts

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaign_replica",
        sa.Column("campaign_id", sa.String(64), primary_key=True),
        sa.Column("line_of_business", sa.String, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("campaign_replica")
