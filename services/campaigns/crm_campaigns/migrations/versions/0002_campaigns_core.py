"""campaigns core: campaigns, stages, failure codes, chains, budget, party replica, participations, suppressions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 09:26:38.075300
"""
import sqlalchemy as sa
from alembic import op
from crm_shared.db import JsonDocument

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ACTIVE_WITH_TIMEOUT = sa.text("status = 'active' AND timeout_at IS NOT NULL")
WITH_REQUEST = sa.text("request_id IS NOT NULL")


def upgrade() -> None:
    op.create_table('attribute_definitions',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('choices', JsonDocument, nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('campaigns',
    sa.Column('campaign_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('goal', sa.Text(), server_default='', nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('campaign_type', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('line_of_business', sa.String(length=100), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=False),
    sa.Column('planned_start', sa.Date(), nullable=True),
    sa.Column('planned_end', sa.Date(), nullable=True),
    sa.Column('actual_start', sa.Date(), nullable=True),
    sa.Column('actual_end', sa.Date(), nullable=True),
    sa.Column('topics', JsonDocument, nullable=False),
    sa.Column('resources', JsonDocument, nullable=False),
    sa.Column('expected_participants', sa.Integer(), nullable=True),
    sa.Column('expected_conversion_rate', sa.Numeric(precision=6, scale=4), server_default='0', nullable=False),
    sa.Column('value_per_conversion', sa.Numeric(precision=14, scale=2), server_default='0', nullable=False),
    sa.Column('currency', sa.String(length=3), server_default='EUR', nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('campaign_id')
    )
    op.create_index('ix_campaigns_name', 'campaigns', ['name', 'campaign_id'], unique=False)
    op.create_table('party_replica',
    sa.Column('party_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('display_name', sa.String(length=400), nullable=False),
    sa.Column('company_name', sa.String(length=200), nullable=True),
    sa.Column('first_name', sa.String(length=200), nullable=True),
    sa.Column('last_name', sa.String(length=200), nullable=True),
    sa.Column('lifecycle_state', sa.String(length=16), nullable=False),
    sa.Column('customer_number', sa.String(length=64), nullable=True),
    sa.Column('line_of_business', sa.String(length=100), nullable=False),
    sa.Column('street', sa.String(length=200), nullable=True),
    sa.Column('postal_code', sa.String(length=20), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('country', sa.String(length=60), nullable=True),
    sa.Column('phone', sa.String(length=60), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('segment', sa.String(length=64), nullable=True),
    sa.Column('attributes', JsonDocument, nullable=False),
    sa.Column('name_key', sa.String(length=400), nullable=False),
    sa.Column('postal_key', sa.String(length=20), nullable=True),
    sa.Column('phone_key', sa.String(length=40), nullable=True),
    sa.Column('email_key', sa.String(length=320), nullable=True),
    sa.Column('last_contact_on', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deactivated', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.PrimaryKeyConstraint('party_id')
    )
    op.create_index('ix_party_replica_dedupe', 'party_replica', ['name_key', 'postal_key'], unique=False)
    op.create_index('ix_party_replica_email', 'party_replica', ['email_key'], unique=False)
    op.create_index('ix_party_replica_phone', 'party_replica', ['phone_key'], unique=False)
    op.create_table('stage_history',
    sa.Column('history_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('participation_id', sa.String(length=36), nullable=False),
    sa.Column('campaign_id', sa.String(length=36), nullable=False),
    sa.Column('stage_key', sa.String(length=40), nullable=False),
    sa.Column('result', sa.String(length=16), nullable=True),
    sa.Column('failure_code', sa.String(length=40), nullable=True),
    sa.Column('cause', sa.String(length=200), nullable=False),
    sa.Column('condition_kind', sa.String(length=20), nullable=True),
    sa.Column('condition_value', sa.String(length=64), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('history_id')
    )
    op.create_index('ix_stage_history_funnel', 'stage_history', ['campaign_id', 'stage_key', 'result'], unique=False)
    op.create_index(op.f('ix_stage_history_participation_id'), 'stage_history', ['participation_id'], unique=False)
    op.create_table('suppressions',
    sa.Column('suppression_id', sa.String(length=36), nullable=False),
    sa.Column('party_id', sa.String(length=36), nullable=True),
    sa.Column('email_key', sa.String(length=320), nullable=True),
    sa.Column('phone_key', sa.String(length=40), nullable=True),
    sa.Column('campaign_id', sa.String(length=36), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('suppression_id')
    )
    op.create_index(op.f('ix_suppressions_email_key'), 'suppressions', ['email_key'], unique=False)
    op.create_index(op.f('ix_suppressions_party_id'), 'suppressions', ['party_id'], unique=False)
    op.create_index(op.f('ix_suppressions_phone_key'), 'suppressions', ['phone_key'], unique=False)
    op.create_table('campaign_chains',
    sa.Column('campaign_id', sa.String(length=36), nullable=False),
    sa.Column('trigger', sa.String(length=50), nullable=False),
    sa.Column('next_campaign_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.campaign_id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['next_campaign_id'], ['campaigns.campaign_id'], ),
    sa.PrimaryKeyConstraint('campaign_id', 'trigger')
    )
    op.create_table('cost_items',
    sa.Column('cost_item_id', sa.String(length=36), nullable=False),
    sa.Column('campaign_id', sa.String(length=36), nullable=False),
    sa.Column('stage_key', sa.String(length=40), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('planned_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('actual_amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.campaign_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('cost_item_id')
    )
    op.create_index(op.f('ix_cost_items_campaign_id'), 'cost_items', ['campaign_id'], unique=False)
    op.create_table('failure_codes',
    sa.Column('campaign_id', sa.String(length=36), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.campaign_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', 'code')
    )
    op.create_table('participations',
    sa.Column('participation_id', sa.String(length=36), nullable=False),
    sa.Column('campaign_id', sa.String(length=36), nullable=False),
    sa.Column('party_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('stage_key', sa.String(length=40), nullable=True),
    sa.Column('failure_code', sa.String(length=40), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('request_id', sa.String(length=100), nullable=True),
    sa.Column('timeout_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stage_entered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.campaign_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('participation_id')
    )
    op.create_index('ix_participations_party', 'participations', ['party_id'], unique=False)
    op.create_index('ix_participations_stage', 'participations', ['campaign_id', 'status', 'stage_key'], unique=False)
    op.create_index('ix_participations_timeout', 'participations', ['timeout_at'],
                    postgresql_where=ACTIVE_WITH_TIMEOUT)
    op.create_index('uq_participations_party', 'participations', ['campaign_id', 'party_id'], unique=True)
    op.create_index('uq_participations_request', 'participations', ['request_id'], unique=True,
                    postgresql_where=WITH_REQUEST)
    op.create_table('revenue_attributions',
    sa.Column('attribution_id', sa.String(length=36), nullable=False),
    sa.Column('campaign_id', sa.String(length=36), nullable=False),
    sa.Column('party_id', sa.String(length=36), nullable=False),
    sa.Column('stage_key', sa.String(length=40), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.campaign_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('attribution_id')
    )
    op.create_index(op.f('ix_revenue_attributions_campaign_id'), 'revenue_attributions', ['campaign_id'], unique=False)
    op.create_index('uq_revenue_reference', 'revenue_attributions', ['kind', 'reference'], unique=True)
    op.create_table('stages',
    sa.Column('campaign_id', sa.String(length=36), nullable=False),
    sa.Column('stage_key', sa.String(length=40), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('expected_value', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('probability', sa.Numeric(precision=5, scale=4), nullable=False),
    sa.Column('timeout_days', sa.Integer(), nullable=True),
    sa.Column('call_window_days', sa.Integer(), nullable=False),
    sa.Column('call_priority', sa.Integer(), nullable=False),
    sa.Column('script_id', sa.String(length=36), nullable=True),
    sa.Column('rules', JsonDocument, nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.campaign_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', 'stage_key')
    )


def downgrade() -> None:
    op.drop_table('stages')
    op.drop_index('uq_revenue_reference', table_name='revenue_attributions')
    op.drop_index(op.f('ix_revenue_attributions_campaign_id'), table_name='revenue_attributions')
    op.drop_table('revenue_attributions')
    op.drop_index('uq_participations_request', table_name='participations', postgresql_where=WITH_REQUEST)
    op.drop_index('uq_participations_party', table_name='participations')
    op.drop_index('ix_participations_timeout', table_name='participations', postgresql_where=ACTIVE_WITH_TIMEOUT)
    op.drop_index('ix_participations_party', table_name='participations')
    op.drop_index('ix_participations_stage', table_name='participations')
    op.drop_table('participations')
    op.drop_table('failure_codes')
    op.drop_index(op.f('ix_cost_items_campaign_id'), table_name='cost_items')
    op.drop_table('cost_items')
    op.drop_table('campaign_chains')
    op.drop_index(op.f('ix_suppressions_phone_key'), table_name='suppressions')
    op.drop_index(op.f('ix_suppressions_party_id'), table_name='suppressions')
    op.drop_index(op.f('ix_suppressions_email_key'), table_name='suppressions')
    op.drop_table('suppressions')
    op.drop_index(op.f('ix_stage_history_participation_id'), table_name='stage_history')
    op.drop_index('ix_stage_history_funnel', table_name='stage_history')
    op.drop_table('stage_history')
    op.drop_index('ix_party_replica_phone', table_name='party_replica')
    op.drop_index('ix_party_replica_email', table_name='party_replica')
    op.drop_index('ix_party_replica_dedupe', table_name='party_replica')
    op.drop_table('party_replica')
    op.drop_index('ix_campaigns_name', table_name='campaigns')
    op.drop_table('campaigns')
    op.drop_table('attribute_definitions')
