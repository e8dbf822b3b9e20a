"""Request and response bodies of campaigns, their stages, failure codes, chains and participants."""
from __future__ import annotations

from decimal import Decimal

from crm_shared.web import PageQuerySchema
from crm_shared.web.fields import Day, DecimalString, Int32, Money
from marshmallow import Schema, fields, validate

from crm_campaigns.domain.campaign import CAMPAIGN_TYPES, STATUSES
from crm_campaigns.domain.participants import STATUSES as PARTICIPATION_STATUSES
from crm_campaigns.domain.stages import ACTIONS, CONDITION_VALUES, OUTCOMES

NAME = validate.Length(min=1, max=200)
TEXT = validate.Length(max=10_000)
LIST_ITEM = fields.String(validate=validate.Length(min=1, max=200))
RATE = validate.Range(min=0, max=1)


class CampaignFields(Schema):
    name = fields.String(validate=NAME)
    goal = fields.String(validate=TEXT)
    description = fields.String(validate=TEXT)
    campaign_type = fields.String(validate=validate.OneOf(CAMPAIGN_TYPES))
    line_of_business = fields.String(validate=validate.Length(min=1, max=100))
    owner = fields.String(validate=validate.Length(min=1, max=200))
    planned_start = Day(allow_none=True)
    planned_end = Day(allow_none=True)
    actual_start = Day(allow_none=True)
    actual_end = Day(allow_none=True)
    topics = fields.List(LIST_ITEM, validate=validate.Length(max=50), metadata={"description": "products or topics"})
    resources = fields.List(LIST_ITEM, validate=validate.Length(max=50),
                            metadata={"description": "people, rooms, material, channels the campaign uses"})
    expected_participants = Int32(allow_none=True, validate=validate.Range(min=0, max=100_000_000),
                                  metadata={"description": "defaults to the number of participants"})
    expected_conversion_rate = DecimalString(places=4, precision=6, validate=RATE,
                                             metadata={"description": "0..1"})  # NUMERIC(6, 4)
    value_per_conversion = Money(validate=validate.Range(min=0, max=10**11))
    currency = fields.String(validate=validate.Regexp(r"^[A-Z]{3}$"))


class CampaignCreateSchema(CampaignFields):
    name = fields.String(required=True, validate=NAME)
    campaign_type = fields.String(required=True, validate=validate.OneOf(CAMPAIGN_TYPES))
    line_of_business = fields.String(required=True, validate=validate.Length(min=1, max=100))


class CampaignPatchSchema(CampaignFields):
    version = Int32(load_default=None, metadata={"description": "the version you read (optimistic lock)"})


class CampaignSchema(CampaignFields):
    campaign_id = fields.String()
    status = fields.String(metadata={"enum": list(STATUSES)})
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class CampaignQuerySchema(PageQuerySchema):
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))


class CampaignPageSchema(Schema):
    items = fields.List(fields.Nested(CampaignSchema))
    next_cursor = fields.String(allow_none=True)


class ConditionSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(list(CONDITION_VALUES)))
    value = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64),
                          metadata={"description": "call outcome, mailing reaction or manual decision; "
                                                   "null matches any"})


class RuleSchema(Schema):
    when = fields.Nested(ConditionSchema, required=True)
    then = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    target_stage = fields.String(load_default=None, allow_none=True)
    failure_code = fields.String(load_default=None, allow_none=True)


class StageSchema(Schema):
    key = fields.String(required=True, validate=validate.Length(min=1, max=40))
    name = fields.String(required=True, validate=NAME)
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    expected_value = Money(load_default=Decimal("0"), metadata={"description": "what a participant here is worth"})
    probability = DecimalString(load_default=Decimal("0"), places=4, precision=5, validate=RATE,
                                metadata={"description": "0..1"})  # NUMERIC(5, 4)
    timeout_days = Int32(load_default=None, allow_none=True, validate=validate.Range(min=1, max=3650))
    call_window_days = Int32(load_default=14, validate=validate.Range(min=0, max=400))
    call_priority = Int32(load_default=0, validate=validate.Range(min=-10, max=10))
    script_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(equal=36))
    rules = fields.List(fields.Nested(RuleSchema), load_default=list, validate=validate.Length(max=50))


class StageGraphSchema(Schema):
    stages = fields.List(fields.Nested(StageSchema), required=True,
                         metadata={"description": "the first stage is where participants enter"})


class FailureCodeSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=40))
    description = fields.String(required=True, validate=validate.Length(min=1, max=500))


class FailureCodeListSchema(Schema):
    items = fields.List(fields.Nested(FailureCodeSchema))


class ChainSchema(Schema):
    trigger = fields.String(required=True, validate=validate.Length(min=1, max=50),
                            metadata={"description": "succeeded, failed or failed:<failure code>"})
    next_campaign_id = fields.UUID(required=True)


class ChainListSchema(Schema):
    chains = fields.List(fields.Nested(ChainSchema), required=True, validate=validate.Length(max=50))


class TransitionResultSchema(Schema):
    campaign_id = fields.String()
    status = fields.String()
    participants = fields.Integer(metadata={"description": "participants started (launch) or closed"})


class ParticipantQuerySchema(PageQuerySchema):
    status = fields.String(load_default=None, validate=validate.OneOf(PARTICIPATION_STATUSES))
    stage_key = fields.String(load_default=None, validate=validate.Length(min=1, max=40))


class ParticipantSchema(Schema):
    participation_id = fields.String()
    party_id = fields.String()
    display_name = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": list(PARTICIPATION_STATUSES)})
    stage_key = fields.String(allow_none=True)
    failure_code = fields.String(allow_none=True)
    source = fields.String()
    request_id = fields.String(allow_none=True)
    added_at = fields.DateTime()
    stage_entered_at = fields.DateTime(allow_none=True)
    timeout_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)


class ParticipantPageSchema(Schema):
    items = fields.List(fields.Nested(ParticipantSchema))
    next_cursor = fields.String(allow_none=True)


class AddParticipantsSchema(Schema):
    party_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(min=1, max=1000))


class AddedSchema(Schema):
    added = fields.Integer()
    already_in = fields.Integer()


class ExcludeSchema(Schema):
    reason = fields.String(load_default="no reason given", validate=validate.Length(min=1, max=150))


class DecisionSchema(Schema):
    decision = fields.String(required=True, validate=validate.Length(min=1, max=64))


class MovedSchema(Schema):
    moved = fields.Dict(keys=fields.String(), values=fields.Integer())
