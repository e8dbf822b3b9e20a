"""mailings: templates, mailings, their recipients and the reactions recorded per recipient

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 14:05:00.000000
"""
import sqlalchemy as sa
from alembic import op
from crm_shared.db import JsonDocument

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_templates",
        sa.Column("template_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("html", sa.Boolean(), nullable=False),
        sa.Column("line_of_business", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("template_id"),
    )
    op.create_index("ix_mail_templates_name", "mail_templates", ["name", "template_id"])
    op.create_table(
        "mailings",
        sa.Column("mailing_id", sa.String(length=36), nullable=False),
        sa.Column("campaign_id", sa.String(length=36), nullable=False),
        sa.Column("stage_key", sa.String(length=40), nullable=False),
        sa.Column("template_id", sa.String(length=36), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("counts", JsonDocument, nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("document", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.campaign_id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["template_id"], ["mail_templates.template_id"]),
        sa.PrimaryKeyConstraint("mailing_id"),
    )
    op.create_index("ix_mailings_campaign_id", "mailings", ["campaign_id"])
    op.create_index("ix_mailings_template_id", "mailings", ["template_id"])
    op.create_table(
        "mailing_recipients",
        sa.Column("recipient_id", sa.String(length=36), nullable=False),
        sa.Column("mailing_id", sa.String(length=36), nullable=False),
        sa.Column("participation_id", sa.String(length=36), nullable=False),
        sa.Column("party_id", sa.String(length=36), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["mailing_id"], ["mailings.mailing_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("recipient_id"),
    )
    op.create_index("uq_mailing_recipients_participation", "mailing_recipients", ["mailing_id", "participation_id"],
                    unique=True)
    op.create_index("ix_mailing_recipients_status", "mailing_recipients", ["mailing_id", "status", "recipient_id"])
    op.create_table(
        "mailing_reactions",
        sa.Column("reaction_id", sa.String(length=36), nullable=False),
        sa.Column("recipient_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=1000), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["recipient_id"], ["mailing_recipients.recipient_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("reaction_id"),
    )
    op.create_index("uq_mailing_reactions_kind", "mailing_reactions", ["recipient_id", "kind"], unique=True)


def downgrade() -> None:
    op.drop_table("mailing_reactions")
    op.drop_table("mailing_recipients")
    op.drop_table("mailings")
    op.drop_table("mail_templates")
