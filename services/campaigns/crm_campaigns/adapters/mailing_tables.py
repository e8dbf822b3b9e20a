"""Tables of mailings: templates, mailings to a stage's participants, one row per recipient, and the reactions
recorded per recipient (at most one of each kind)."""
from __future__ import annotations

from crm_shared.db import JsonDocument
from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Table, Text

from crm_campaigns.adapters import orm

mail_templates = Table(
    "mail_templates",
    orm.metadata,
    Column("template_id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("channel", String(16), nullable=False),      # email | letter | fax
    Column("subject", String(200), nullable=True),
    Column("body", Text, nullable=False),
    Column("html", Boolean, nullable=False),
    Column("line_of_business", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("ix_mail_templates_name", mail_templates.c.name, mail_templates.c.template_id)

mailings = Table(
    "mailings",
    orm.metadata,
    Column("mailing_id", String(36), primary_key=True),
    Column("campaign_id", String(36), ForeignKey("campaigns.campaign_id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("stage_key", String(40), nullable=False),
    Column("template_id", String(36), ForeignKey("mail_templates.template_id"), nullable=False, index=True),
    Column("channel", String(16), nullable=False),
    Column("status", String(16), nullable=False),        # draft | sending | sent | failed
    Column("counts", JsonDocument, nullable=False),      # recipients by status
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Column("document", LargeBinary, nullable=True),      # the letters PDF
)

mailing_recipients = Table(
    "mailing_recipients",
    orm.metadata,
    Column("recipient_id", String(36), primary_key=True),  # also in the Message-ID and the unsubscribe link
    Column("mailing_id", String(36), ForeignKey("mailings.mailing_id", ondelete="CASCADE"), nullable=False),
    Column("participation_id", String(36), nullable=False),
    Column("party_id", String(36), nullable=False),
    Column("address", Text, nullable=False),               # the e-mail address, or the postal lines
    Column("status", String(16), nullable=False),          # queued | sent | bounced | deferred | skipped
    Column("detail", String(500), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True),
)
Index("uq_mailing_recipients_participation", mailing_recipients.c.mailing_id, mailing_recipients.c.participation_id,
      unique=True)
Index("ix_mailing_recipients_status", mailing_recipients.c.mailing_id, mailing_recipients.c.status,
      mailing_recipients.c.recipient_id)

mailing_reactions = Table(
    "mailing_reactions",
    orm.metadata,
    Column("reaction_id", String(36), primary_key=True),
    Column("recipient_id", String(36), ForeignKey("mailing_recipients.recipient_id", ondelete="CASCADE"),
           nullable=False),
    Column("kind", String(16), nullable=False),            # bounced | opened | clicked | replied | unsubscribed
    Column("detail", String(1000), nullable=False),        # the clicked URL, the bounce reply, ...
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)
Index("uq_mailing_reactions_kind", mailing_reactions.c.recipient_id, mailing_reactions.c.kind, unique=True)
