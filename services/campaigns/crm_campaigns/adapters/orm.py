"""Tables of the campaigns service: campaigns with their stages, failure codes, chains and budget; the party
replica target selection reads; participations and their history; the suppression list; plus messaging."""
from crm_shared.db import JsonDocument
from crm_shared.messaging_tables import add_messaging_tables
from sqlalchemy import (BigInteger, Boolean, Column, Date, DateTime, ForeignKey, Index, Integer, MetaData, Numeric,
                        String, Table, Text, false, text)

metadata = MetaData()
messaging = add_messaging_tables(metadata)
MONEY = Numeric(14, 2)

campaigns = Table(
    "campaigns",
    metadata,
    Column("campaign_id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("goal", Text, nullable=False, server_default=""),
    Column("description", Text, nullable=False, server_default=""),
    Column("campaign_type", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("line_of_business", String(100), nullable=False),
    Column("owner", String(200), nullable=False),
    Column("planned_start", Date, nullable=True),
    Column("planned_end", Date, nullable=True),
    Column("actual_start", Date, nullable=True),
    Column("actual_end", Date, nullable=True),
    Column("topics", JsonDocument, nullable=False),
    Column("resources", JsonDocument, nullable=False),
    Column("expected_participants", Integer, nullable=True),
    Column("expected_conversion_rate", Numeric(6, 4), nullable=False, server_default="0"),
    Column("value_per_conversion", MONEY, nullable=False, server_default="0"),
    Column("currency", String(3), nullable=False, server_default="EUR"),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
Index("ix_campaigns_name", campaigns.c.name, campaigns.c.campaign_id)

stages = Table(
    "stages",
    metadata,
    Column("campaign_id", String(36), ForeignKey("campaigns.campaign_id", ondelete="CASCADE"), primary_key=True),
    Column("stage_key", String(40), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("action", String(16), nullable=False),
    Column("expected_value", MONEY, nullable=False),
    Column("probability", Numeric(5, 4), nullable=False),
    Column("timeout_days", Integer, nullable=True),
    Column("call_window_days", Integer, nullable=False),
    Column("call_priority", Integer, nullable=False),
    Column("script_id", String(36), nullable=True),
    Column("rules", JsonDocument, nullable=False),
)

failure_codes = Table(
    "failure_codes",
    metadata,
    Column("campaign_id", String(36), ForeignKey("campaigns.campaign_id", ondelete="CASCADE"), primary_key=True),
    Column("code", String(40), primary_key=True),
    Column("description", String(500), nullable=False),
)

campaign_chains = Table(
    "campaign_chains",
    metadata,
    Column("campaign_id", String(36), ForeignKey("campaigns.campaign_id", ondelete="CASCADE"), primary_key=True),
    Column("trigger", String(50), primary_key=True),  # succeeded | failed | failed:<code>
    Column("next_campaign_id", String(36), ForeignKey("campaigns.campaign_id"), nullable=False),
)

cost_items = Table(
    "cost_items",
    metadata,
    Column("cost_item_id", String(36), primary_key=True),
    Column("campaign_id", String(36), ForeignKey("campaigns.campaign_id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("stage_key", String(40), nullable=True),
    Column("name", String(200), nullable=False),
    Column("planned_amount", MONEY, nullable=False),
    Column("actual_amount", MONEY, nullable=True),
    Column("version", Integer, nullable=False),
)

revenue_attributions = Table(
    "revenue_attributions",
    metadata,
    Column("attribution_id", String(36), primary_key=True),
    Column("campaign_id", String(36), ForeignKey("campaigns.campaign_id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("party_id", String(36), nullable=False),
    Column("stage_key", String(40), nullable=True),
    Column("kind", String(16), nullable=False),       # order | deal
    Column("reference", String(100), nullable=False),  # the order's or deal's id in its own service
    Column("amount", MONEY, nullable=False),
    Column("occurred_on", Date, nullable=False),
    Column("source", String(16), nullable=False),      # api | event
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)
Index("uq_revenue_reference", revenue_attributions.c.kind, revenue_attributions.c.reference, unique=True)

party_replica = Table(
    "party_replica",
    metadata,
    Column("party_id", String(36), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("display_name", String(400), nullable=False),
    Column("company_name", String(200), nullable=True),
    Column("first_name", String(200), nullable=True),
    Column("last_name", String(200), nullable=True),
    Column("lifecycle_state", String(16), nullable=False),
    Column("customer_number", String(64), nullable=True),
    Column("line_of_business", String(100), nullable=False),
    Column("street", String(200), nullable=True),
    Column("postal_code", String(20), nullable=True),
    Column("city", String(100), nullable=True),
    Column("country", String(60), nullable=True),
    Column("phone", String(60), nullable=True),
    Column("email", String(320), nullable=True),
    Column("segment", String(64), nullable=True),
    Column("attributes", JsonDocument, nullable=False),
    Column("name_key", String(400), nullable=False),
    Column("postal_key", String(20), nullable=True),
    Column("phone_key", String(40), nullable=True),
    Column("email_key", String(320), nullable=True),
    Column("last_contact_on", Date, nullable=True),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("deactivated", Boolean, nullable=False, server_default=false()),
)
Index("ix_party_replica_dedupe", party_replica.c.name_key, party_replica.c.postal_key)
Index("ix_party_replica_email", party_replica.c.email_key)
Index("ix_party_replica_phone", party_replica.c.phone_key)

attribute_definitions = Table(
    "attribute_definitions",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("type", String(16), nullable=False),
    Column("choices", JsonDocument, nullable=False),
)

# The lines of business customers defined (line_of_business_defined): what a campaign, template or import names.
lines_of_business = Table(
    "lines_of_business",
    metadata,
    Column("code", String(100), primary_key=True),
    Column("label", String(200), nullable=False),
)

participations = Table(
    "participations",
    metadata,
    Column("participation_id", String(36), primary_key=True),
    Column("campaign_id", String(36), ForeignKey("campaigns.campaign_id", ondelete="CASCADE"), nullable=False),
    Column("party_id", String(36), nullable=False),
    Column("status", String(16), nullable=False),
    Column("stage_key", String(40), nullable=True),
    Column("failure_code", String(40), nullable=True),
    Column("source", String(16), nullable=False),
    Column("request_id", String(100), nullable=True),
    Column("timeout_at", DateTime(timezone=True), nullable=True),
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("stage_entered_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("note", String(500), nullable=True),
)
Index("uq_participations_party", participations.c.campaign_id, participations.c.party_id, unique=True)
Index("ix_participations_party", participations.c.party_id)
Index("ix_participations_stage", participations.c.campaign_id, participations.c.status, participations.c.stage_key)
Index("uq_participations_request", participations.c.request_id, unique=True,
      postgresql_where=participations.c.request_id.isnot(None))
Index("ix_participations_timeout", participations.c.timeout_at,
      postgresql_where=text("status = 'active' AND timeout_at IS NOT NULL"))

stage_history = Table(
    "stage_history",
    metadata,
    Column("history_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("participation_id", String(36), nullable=False, index=True),
    Column("campaign_id", String(36), nullable=False),
    Column("stage_key", String(40), nullable=False),    # the stage entered, or left when `result` is set
    Column("result", String(16), nullable=True),          # null: entered; succeeded | failed | excluded: finished
    Column("failure_code", String(40), nullable=True),
    Column("cause", String(200), nullable=False),
    Column("condition_kind", String(20), nullable=True),  # what caused the move; null: launch, addition, exclusion
    Column("condition_value", String(64), nullable=True),
    Column("at", DateTime(timezone=True), nullable=False),
)
Index("ix_stage_history_funnel", stage_history.c.campaign_id, stage_history.c.stage_key, stage_history.c.result)

suppressions = Table(
    "suppressions",
    metadata,
    Column("suppression_id", String(36), primary_key=True),
    Column("party_id", String(36), nullable=True, index=True),
    Column("email_key", String(320), nullable=True, index=True),
    Column("phone_key", String(40), nullable=True, index=True),
    Column("campaign_id", String(36), nullable=True),  # null: every campaign
    Column("channel", String(16), nullable=False),     # all | email | mail | phone
    Column("reason", String(500), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

from crm_campaigns.adapters import import_tables  # noqa: E402,F401  (address imports, on this metadata)
from crm_campaigns.adapters import mailing_tables  # noqa: E402,F401  (mailings, on this metadata)
