"""address imports: the import with its progress, the uploaded file, the row-by-row report

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 10:12:00.000000
"""
import sqlalchemy as sa
from alembic import op
from crm_shared.db import JsonDocument

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "address_imports",
        sa.Column("import_id", sa.String(length=36), nullable=False),
        sa.Column("campaign_id", sa.String(length=36), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("file_format", sa.String(length=8), nullable=False),
        sa.Column("mapping", JsonDocument, nullable=False),
        sa.Column("default_line_of_business", sa.String(length=100), nullable=False),
        sa.Column("creator_lines", JsonDocument, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=True),
        sa.Column("processed_rows", sa.Integer(), server_default="0", nullable=False),
        sa.Column("accepted", sa.Integer(), server_default="0", nullable=False),
        sa.Column("duplicates", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rejected", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.campaign_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("import_id"),
    )
    op.create_index("ix_address_imports_campaign", "address_imports", ["campaign_id", "created_at"], unique=False)
    op.create_table(
        "import_files",
        sa.Column("import_id", sa.String(length=36), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["address_imports.import_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("import_id"),
    )
    op.create_table(
        "import_rows",
        sa.Column("import_id", sa.String(length=36), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("field", sa.String(length=120), nullable=True),
        sa.Column("party_id", sa.String(length=36), nullable=True),
        sa.Column("joins_campaign", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("name_key", sa.String(length=400), nullable=True),
        sa.Column("postal_key", sa.String(length=20), nullable=True),
        sa.Column("phone_key", sa.String(length=40), nullable=True),
        sa.Column("email_key", sa.String(length=320), nullable=True),
        sa.Column("suspect", JsonDocument, nullable=True),
        sa.ForeignKeyConstraint(["import_id"], ["address_imports.import_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("import_id", "row_number"),
    )
    op.create_index("ix_import_rows_outcome", "import_rows", ["import_id", "outcome", "row_number"], unique=False)
    op.create_index("ix_import_rows_dedupe", "import_rows", ["name_key", "postal_key"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_import_rows_dedupe", table_name="import_rows")
    op.drop_index("ix_import_rows_outcome", table_name="import_rows")
    op.drop_table("import_rows")
    op.drop_table("import_files")
    op.drop_index("ix_address_imports_campaign", table_name="address_imports")
    op.drop_table("address_imports")
