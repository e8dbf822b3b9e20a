"""call planning: rules, policies, agents, territories, calls, decisions, scripts, rejection reasons

Revision ID: 0002
Revises: 0001
"""
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from crm_shared.db import JsonDocument

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

REJECTION_REASONS = [
    ("no_interest", "No interest"), ("no_budget", "No budget"), ("has_supplier", "Already has a supplier"),
    ("bad_timing", "Bad timing, try later"), ("do_not_call", "Asked not to be called again"),
    ("wrong_person", "Not the right contact person"), ("other", "Other"),
]
GREETING = [{"prompt": "Greet the customer by name and introduce yourself and the company.", "questions": []}]
PREDEFINED_SCRIPTS = [
    ("maintenance", "Maintenance call", GREETING + [
        {"prompt": "Ask how satisfied the customer is with our products and service.",
         "questions": [{"id": "satisfaction", "text": "Satisfaction (1-5)", "kind": "number", "required": True},
                       {"id": "open_issues", "text": "Any open issues?", "kind": "text", "required": False}]},
        {"prompt": "Ask whether anything changed: contact persons, address, needs.",
         "questions": [{"id": "changes", "text": "Changes to record", "kind": "text", "required": False}]}]),
    ("campaign", "Campaign call", GREETING + [
        {"prompt": "Present the campaign's offer.",
         "questions": [{"id": "interested", "text": "Interested?", "kind": "yes_no", "required": True}]}]),
    ("telemarketing", "Telemarketing call", GREETING + [
        {"prompt": "Qualify the contact: needs, size, decision maker.",
         "questions": [{"id": "decision_maker", "text": "Talking to the decision maker?", "kind": "yes_no",
                        "required": True},
                       {"id": "needs", "text": "Needs", "kind": "text", "required": False}]}]),
    ("follow_up", "Follow-up call", GREETING + [{"prompt": "Follow up on the agreed topic.", "questions": []}]),
    ("service", "Service call", GREETING + [
        {"prompt": "Check the customer's service request is resolved.",
         "questions": [{"id": "resolved", "text": "Resolved?", "kind": "yes_no", "required": True}]}]),
]


def upgrade() -> None:
    op.add_column("customer_replica", sa.Column("segment", sa.String, nullable=False, server_default="default"))
    rules = op.create_table(
        "planning_rules",
        sa.Column("rules_id", sa.Integer, primary_key=True),
        sa.Column("gap_days", sa.Integer, nullable=False),
        sa.Column("max_attempts", sa.Integer, nullable=False),
        sa.Column("horizon_days", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    policies = op.create_table(
        "contact_policies",
        sa.Column("segment", sa.String(64), primary_key=True),
        sa.Column("min_contacts", sa.Integer, nullable=False),
        sa.Column("min_spacing_days", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "agents",
        sa.Column("agent_id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("user_subject", sa.String, nullable=True, unique=True),
        sa.Column("daily_capacity", sa.Integer, nullable=False),
        sa.Column("working_hours", JsonDocument, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "agent_absences",
        sa.Column("absence_id", sa.String(36), primary_key=True),
        sa.Column("agent_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("first_day", sa.Date, nullable=False),
        sa.Column("last_day", sa.Date, nullable=False),
        sa.Column("note", sa.String, nullable=True),
    )
    op.create_index("ix_agent_absences_agent_id", "agent_absences", ["agent_id"])
    op.create_table(
        "agent_targets",
        sa.Column("agent_id", sa.String(36), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("calls_made", sa.Integer, nullable=False),
        sa.Column("customers_reached", sa.Integer, nullable=False),
        sa.Column("appointments_booked", sa.Integer, nullable=False),
    )
    op.create_table(
        "role_quotas",
        sa.Column("role", sa.String(32), primary_key=True),
        sa.Column("calls_made", sa.Integer, nullable=False),
        sa.Column("customers_reached", sa.Integer, nullable=False),
        sa.Column("appointments_booked", sa.Integer, nullable=False),
    )
    op.create_table(
        "territories",
        sa.Column("territory_id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String, nullable=False, unique=True),
        sa.Column("line_of_business", sa.String, nullable=True),
        sa.Column("postal_ranges", JsonDocument, nullable=False),
        sa.Column("regions", JsonDocument, nullable=False),
        sa.Column("agent_id", sa.String(36), nullable=False),
        sa.Column("substitute_agent_id", sa.String(36), nullable=True),
        sa.Column("member_agent_ids", JsonDocument, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "agent_day_loads",
        sa.Column("agent_id", sa.String(36), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("booked", sa.Integer, nullable=False),
    )
    _create_calls()
    op.create_table(
        "interference_decisions",
        sa.Column("decision_id", sa.String(36), primary_key=True),
        sa.Column("party_id", sa.String(36), nullable=False),
        sa.Column("call_id", sa.String(36), nullable=True),
        sa.Column("request_id", sa.String(100), nullable=True),
        sa.Column("call_type", sa.String(16), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("reason", sa.String, nullable=False),
        sa.Column("affected_call_ids", JsonDocument, nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_interference_decisions_party_id", "interference_decisions", ["party_id"])
    scripts = op.create_table(
        "call_scripts",
        sa.Column("script_id", sa.String(36), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("call_type", sa.String(16), nullable=True),
        sa.Column("campaign_id", sa.String(64), nullable=True),
        sa.Column("steps", JsonDocument, nullable=False),
        sa.Column("predefined", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String, nullable=True),
    )
    reasons = op.create_table(
        "rejection_reasons",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("label", sa.String, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    )
    _seed(rules, policies, scripts, reasons)


def _create_calls() -> None:
    op.create_table(
        "calls",
        sa.Column("call_id", sa.String(36), primary_key=True),
        sa.Column("party_id", sa.String(36), nullable=False),
        sa.Column("call_type", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("line_of_business", sa.String, nullable=False),
        sa.Column("territory_id", sa.String(36), nullable=True),
        sa.Column("agent_id", sa.String(36), nullable=True),
        sa.Column("window_start", sa.Date, nullable=False),
        sa.Column("window_end", sa.Date, nullable=False),
        sa.Column("due_on", sa.Date, nullable=True),
        sa.Column("slot", sa.String(10), nullable=False, server_default="morning"),
        sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
        sa.Column("campaign_id", sa.String(64), nullable=True),
        sa.Column("request_id", sa.String(100), nullable=True, unique=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("outcome", sa.String(24), nullable=True),
        sa.Column("rejection_reason", sa.String(64), nullable=True),
        sa.Column("outcome_details", JsonDocument, nullable=True),
        sa.Column("script_id", sa.String(36), nullable=True),
        sa.Column("script_version", sa.Integer, nullable=True),
        sa.Column("completed_on", sa.Date, nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String, nullable=True),
        sa.Column("cancel_reason", sa.String, nullable=True),
        sa.Column("parent_call_id", sa.String(36), nullable=True),
        sa.Column("remind_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_calls_party_status", "calls", ["party_id", "status"])
    op.create_index("ix_calls_agent_due", "calls", ["agent_id", "due_on"])
    op.create_index("ix_calls_status_due", "calls", ["status", "due_on"])
    op.create_index("ix_calls_campaign", "calls", ["campaign_id"])
    op.create_index("ix_calls_territory_status", "calls", ["territory_id", "status"])
    pending = sa.text("reminded_at IS NULL AND remind_at IS NOT NULL")
    op.create_index("ix_calls_remind_due", "calls", ["remind_at"], postgresql_where=pending, sqlite_where=pending)


def _seed(rules, policies, scripts, reasons) -> None:
    op.bulk_insert(rules, [{"rules_id": 1, "gap_days": 14, "max_attempts": 3, "horizon_days": 365, "version": 1}])
    op.bulk_insert(policies, [
        {"segment": "default", "min_contacts": 2, "min_spacing_days": 90, "version": 1},
        {"segment": "key_account", "min_contacts": 4, "min_spacing_days": 45, "version": 1},
    ])
    op.bulk_insert(reasons, [{"code": code, "label": label, "active": True} for code, label in REJECTION_REASONS])
    now = datetime.now(UTC)
    op.bulk_insert(scripts, [
        {"script_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"crm-calls-script:{call_type}")), "version": 1,
         "name": name, "call_type": call_type, "campaign_id": None, "steps": steps, "predefined": True,
         "created_at": now, "created_by": None}
        for call_type, name, steps in PREDEFINED_SCRIPTS
    ])


def downgrade() -> None:
    for table in ("rejection_reasons", "call_scripts", "interference_decisions", "calls", "agent_day_loads",
                  "territories", "role_quotas", "agent_targets", "agent_absences", "agents", "contact_policies",
                  "planning_rules"):
        op.drop_table(table)
    op.drop_column("customer_replica", "segment")
