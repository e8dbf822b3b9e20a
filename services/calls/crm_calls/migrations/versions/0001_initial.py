"""messaging tables, customer replica and contact link replica

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op
from crm_shared.messaging_tables import create_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables(op)
    op.create_table(
        "customer_replica",
        sa.Column("party_id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("display_name", sa.String, nullable=False),
        sa.Column("lifecycle_state", sa.String(16), nullable=False),
        sa.Column("customer_number", sa.String, nullable=True),
        sa.Column("line_of_business", sa.String, nullable=False),
        sa.Column("postal_code", sa.String, nullable=True),
        sa.Column("city", sa.String, nullable=True),
        sa.Column("phone", sa.String, nullable=True),
        sa.Column("email", sa.String, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deactivated", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_customer_replica_name", "customer_replica", ["display_name", "party_id"])
    op.create_index("ix_customer_replica_lob_name", "customer_replica",
                    ["line_of_business", "display_name", "party_id"])
    op.create_table(
        "contact_link_replica",
        sa.Column("link_id", sa.String(36), primary_key=True),
        sa.Column("person_id", sa.String(36), nullable=False),
        sa.Column("company_id", sa.String(36), nullable=False),
        sa.Column("role", sa.String, nullable=True),
        sa.Column("position", sa.String, nullable=True),
        sa.Column("unlinked", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_contact_link_replica_person_id", "contact_link_replica", ["person_id"])
    op.create_index("ix_contact_link_replica_company_id", "contact_link_replica", ["company_id"])


def downgrade() -> None:
    op.drop_table("contact_link_replica")
    op.drop_table("customer_replica")
    op.drop_table("idempotency_keys")
    op.drop_table("inbox")
    op.drop_table("outbox")
