"""Tables of the calls service: the party replica, staff and territories, the calls and their decisions,
scripts and the rejection catalogue, plus the messaging tables."""
from crm_shared.db import JsonDocument
from crm_shared.messaging_tables import add_messaging_tables
from sqlalchemy import (Boolean, Column, Date, DateTime, Index, Integer, MetaData, String, Table, false, text,
                        true)

metadata = MetaData()

messaging = add_messaging_tables(metadata)

customer_replica = Table(
    "customer_replica",
    metadata,
    Column("party_id", String(36), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("display_name", String, nullable=False),
    Column("lifecycle_state", String(16), nullable=False),
    Column("customer_number", String, nullable=True),
    Column("line_of_business", String, nullable=False),
    Column("postal_code", String, nullable=True),
    Column("city", String, nullable=True),
    Column("phone", String, nullable=True),
    Column("email", String, nullable=True),
    Column("segment", String, nullable=False, server_default="default"),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("deactivated", Boolean, nullable=False, server_default=false()),
    Column("customer_since", Date, nullable=True),
)
Index("ix_customer_replica_name", customer_replica.c.display_name, customer_replica.c.party_id)
Index("ix_customer_replica_lob_name", customer_replica.c.line_of_business, customer_replica.c.display_name,
      customer_replica.c.party_id)

contact_link_replica = Table(
    "contact_link_replica",
    metadata,
    Column("link_id", String(36), primary_key=True),
    Column("person_id", String(36), nullable=False, index=True),
    Column("company_id", String(36), nullable=False, index=True),
    Column("role", String, nullable=True),
    Column("position", String, nullable=True),
    Column("unlinked", Boolean, nullable=False, server_default=false()),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# The line of business of each campaign (crm.campaigns.campaign_defined): who may manage its call scripts.
campaign_replica = Table(
    "campaign_replica",
    metadata,
    Column("campaign_id", String(64), primary_key=True),
    Column("line_of_business", String, nullable=False),
    Column("version", Integer, nullable=False),
)

# -- planning rules and policies ----------------------------------------------------------------------
planning_rules = Table(
    "planning_rules",
    metadata,
    Column("rules_id", Integer, primary_key=True),
    Column("gap_days", Integer, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("horizon_days", Integer, nullable=False),
    Column("version", Integer, nullable=False),
)

contact_policies = Table(
    "contact_policies",
    metadata,
    Column("segment", String(64), primary_key=True),
    Column("min_contacts", Integer, nullable=False),
    Column("min_spacing_days", Integer, nullable=False),
    Column("version", Integer, nullable=False),
)

# -- staff and territories ----------------------------------------------------------------------------
agents = Table(
    "agents",
    metadata,
    Column("agent_id", String(36), primary_key=True),
    Column("name", String, nullable=False),
    Column("role", String(32), nullable=False),
    Column("user_subject", String, nullable=True, unique=True),
    Column("daily_capacity", Integer, nullable=False),
    Column("working_hours", JsonDocument, nullable=False),
    Column("active", Boolean, nullable=False, server_default=true()),
    Column("version", Integer, nullable=False),
)

agent_absences = Table(
    "agent_absences",
    metadata,
    Column("absence_id", String(36), primary_key=True),
    Column("agent_id", String(36), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("first_day", Date, nullable=False),
    Column("last_day", Date, nullable=False),
    Column("note", String, nullable=True),
)

agent_targets = Table(
    "agent_targets",
    metadata,
    Column("agent_id", String(36), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("calls_made", Integer, nullable=False),
    Column("customers_reached", Integer, nullable=False),
    Column("appointments_booked", Integer, nullable=False),
)

role_quotas = Table(
    "role_quotas",
    metadata,
    Column("role", String(32), primary_key=True),
    Column("calls_made", Integer, nullable=False),
    Column("customers_reached", Integer, nullable=False),
    Column("appointments_booked", Integer, nullable=False),
)

territories = Table(
    "territories",
    metadata,
    Column("territory_id", String(36), primary_key=True),
    Column("name", String, nullable=False, unique=True),
    Column("line_of_business", String, nullable=True),
    Column("postal_ranges", JsonDocument, nullable=False),
    Column("regions", JsonDocument, nullable=False),
    Column("agent_id", String(36), nullable=False),
    Column("substitute_agent_id", String(36), nullable=True),
    Column("member_agent_ids", JsonDocument, nullable=False),
    Column("version", Integer, nullable=False),
)

agent_day_loads = Table(
    "agent_day_loads",
    metadata,
    Column("agent_id", String(36), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("booked", Integer, nullable=False),
)

# -- calls ----------------------------------------------------------------------------------------------
calls = Table(
    "calls",
    metadata,
    Column("call_id", String(36), primary_key=True),
    Column("party_id", String(36), nullable=False),
    Column("call_type", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("line_of_business", String, nullable=False),
    Column("territory_id", String(36), nullable=True),
    Column("agent_id", String(36), nullable=True),
    Column("window_start", Date, nullable=False),
    Column("window_end", Date, nullable=False),
    Column("due_on", Date, nullable=True),
    Column("slot", String(10), nullable=False, server_default="morning"),
    Column("priority", Integer, nullable=False, server_default="0"),
    Column("campaign_id", String(64), nullable=True),
    Column("request_id", String(100), nullable=True),  # unique per line of business (ux_calls_line_request)
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("outcome", String(24), nullable=True),
    Column("rejection_reason", String(64), nullable=True),
    Column("outcome_details", JsonDocument, nullable=True),
    Column("script_id", String(36), nullable=True),
    Column("script_version", Integer, nullable=True),
    Column("completed_on", Date, nullable=True),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("closed_by", String, nullable=True),
    Column("cancel_reason", String, nullable=True),
    Column("parent_call_id", String(36), nullable=True),
    Column("remind_at", DateTime(timezone=True), nullable=True),
    Column("reminded_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
)
Index("ix_calls_party_status", calls.c.party_id, calls.c.status)
Index("ix_calls_agent_due", calls.c.agent_id, calls.c.due_on)
Index("ix_calls_status_due", calls.c.status, calls.c.due_on)
Index("ix_calls_campaign", calls.c.campaign_id)
Index("ix_calls_territory_status", calls.c.territory_id, calls.c.status)
Index("ux_calls_line_request", calls.c.line_of_business, calls.c.request_id, unique=True)
Index("ix_calls_remind_due", calls.c.remind_at, postgresql_where=text("reminded_at IS NULL AND remind_at IS NOT NULL"),
      sqlite_where=text("reminded_at IS NULL AND remind_at IS NOT NULL"))

interference_decisions = Table(
    "interference_decisions",
    metadata,
    Column("decision_id", String(36), primary_key=True),
    Column("party_id", String(36), nullable=False, index=True),
    Column("call_id", String(36), nullable=True),
    Column("request_id", String(100), nullable=True),
    Column("call_type", String(16), nullable=False),
    Column("decision", String(16), nullable=False),
    Column("reason", String, nullable=False),
    Column("affected_call_ids", JsonDocument, nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
)

# -- execution -----------------------------------------------------------------------------------------
call_scripts = Table(
    "call_scripts",
    metadata,
    Column("script_id", String(36), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("name", String, nullable=False),
    Column("call_type", String(16), nullable=True),
    Column("campaign_id", String(64), nullable=True),
    Column("steps", JsonDocument, nullable=False),
    Column("predefined", Boolean, nullable=False, server_default=false()),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String, nullable=True),
)

rejection_reasons = Table(
    "rejection_reasons",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("label", String, nullable=False),
    Column("active", Boolean, nullable=False, server_default=true()),
)
