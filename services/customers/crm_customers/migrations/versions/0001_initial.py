"""Parties, contact links, attribute definitions, lines of business, customer numbers, messaging tables.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""
import sqlalchemy as sa
from alembic import op

from crm_shared.db import JsonDocument
from crm_shared.messaging_tables import create_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SEEDED_LINES = [("retail", "Retail"), ("wholesale", "Wholesale"), ("services", "Services")]
NameKey = sa.String(401).with_variant(sa.String(401, collation="C"), "postgresql")


def _now():
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    create_messaging_tables(op)
    _create_reference_tables()
    _create_parties(postgres)
    _create_contact_links()
    _create_customer_numbering(postgres)


def _create_reference_tables() -> None:
    lines = op.create_table(
        "lines_of_business",
        sa.Column("code", sa.String(40), primary_key=True),
        sa.Column("label", sa.String(200), nullable=False),
        _now(),
    )
    op.bulk_insert(lines, [{"code": code, "label": label} for code, label in SEEDED_LINES])
    op.create_table(
        "attribute_definitions",
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("choices", JsonDocument, nullable=False),
        _now(),
    )


def _create_parties(postgres: bool) -> None:
    op.create_table(
        "parties",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("company_name", sa.String(200)),
        sa.Column("first_name", sa.String(200)),
        sa.Column("last_name", sa.String(200)),
        sa.Column("display_name", sa.String(401), nullable=False),
        sa.Column("name_key", NameKey, nullable=False),
        sa.Column("lifecycle_state", sa.String(16), nullable=False),
        sa.Column("customer_number", sa.String(32), unique=True),
        sa.Column("line_of_business", sa.String(40), sa.ForeignKey("lines_of_business.code"), nullable=False),
        sa.Column("primary_postal_code", sa.String(20)),
        sa.Column("addresses", JsonDocument, nullable=False),
        sa.Column("phones", JsonDocument, nullable=False),
        sa.Column("emails", JsonDocument, nullable=False),
        sa.Column("attributes", JsonDocument, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_parties_name", "parties", ["name_key", "id"])
    op.create_index("ix_parties_lob_name", "parties", ["line_of_business", "name_key", "id"])
    op.create_index("ix_parties_state_name", "parties", ["lifecycle_state", "name_key", "id"])
    op.create_index("ix_parties_lob_state_name", "parties", ["line_of_business", "lifecycle_state", "name_key", "id"])
    op.create_index("ix_parties_created", "parties", ["created_at", "id"])
    op.create_index("ix_parties_lob_created", "parties", ["line_of_business", "created_at", "id"])
    op.create_index("ix_parties_postal_code", "parties", ["primary_postal_code"])
    if postgres:
        op.create_index("ix_parties_attributes", "parties", ["attributes"], postgresql_using="gin",
                        postgresql_ops={"attributes": "jsonb_path_ops"})


def _create_contact_links() -> None:
    op.create_table(
        "contact_links",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("person_id", sa.Uuid, sa.ForeignKey("parties.id"), nullable=False),
        sa.Column("company_id", sa.Uuid, sa.ForeignKey("parties.id"), nullable=False),
        sa.Column("role", sa.String(100), nullable=False),
        sa.Column("position", sa.String(200)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("person_id", "company_id", "role", name="uq_contact_links_person_company_role"),
    )
    op.create_index("ix_contact_links_company", "contact_links", ["company_id"])


def _create_customer_numbering(postgres: bool) -> None:
    if postgres:
        op.execute("CREATE SEQUENCE customer_number_seq")
        return
    # SQLite has no sequences; a one-row counter updated in the numbering transaction serves the demo mode.
    counter = op.create_table(
        "customer_number_counter",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(counter, [{"id": 1, "value": 0}])


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in ("contact_links", "parties", "attribute_definitions", "lines_of_business",
                  "idempotency_keys", "inbox", "outbox"):
        op.drop_table(table)
    if postgres:
        op.execute("DROP SEQUENCE customer_number_seq")
    else:
        op.drop_table("customer_number_counter")
