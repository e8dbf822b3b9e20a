"""Request and response bodies of cost items and attributed revenue (money as decimal strings, crm_shared's
Money: NUMERIC(14, 2) like the columns)."""
from __future__ import annotations

from crm_shared.web.fields import Day, Int32, Money
from marshmallow import Schema, fields, validate

from crm_campaigns.domain.attribution import KINDS, MAX_REFERENCE

NAME = validate.Length(min=1, max=200)
STAGE_KEY = validate.Length(min=1, max=40)
AMOUNT = validate.Range(min=0, max=10**11)
POSITIVE = validate.Range(min=0, min_inclusive=False, max=10**11)


class CostItemCreateSchema(Schema):
    name = fields.String(required=True, validate=NAME)
    planned_amount = Money(required=True, validate=AMOUNT)
    actual_amount = Money(load_default=None, allow_none=True, validate=AMOUNT,
                          metadata={"description": "null until the invoice is in"})
    stage_key = fields.String(load_default=None, allow_none=True, validate=STAGE_KEY,
                              metadata={"description": "a stage of the campaign; null: the whole campaign"})


class CostItemPatchSchema(Schema):
    name = fields.String(validate=NAME)
    planned_amount = Money(validate=AMOUNT)
    actual_amount = Money(allow_none=True, validate=AMOUNT)
    stage_key = fields.String(allow_none=True, validate=STAGE_KEY)
    version = Int32(load_default=None, metadata={"description": "the version you read (optimistic lock)"})


class VersionQuerySchema(Schema):
    version = Int32(load_default=None, metadata={"description": "the version you read (optimistic lock)"})


class CostItemSchema(Schema):
    cost_item_id = fields.String()
    campaign_id = fields.String()
    stage_key = fields.String(allow_none=True)
    name = fields.String()
    planned_amount = Money()
    actual_amount = Money(allow_none=True)
    version = fields.Integer()


class CostItemListSchema(Schema):
    items = fields.List(fields.Nested(CostItemSchema))


class RevenueCreateSchema(Schema):
    party_id = fields.UUID(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    reference = fields.String(required=True, validate=validate.Length(min=1, max=MAX_REFERENCE),
                              metadata={"description": "the order's or deal's id in its own service"})
    amount = Money(required=True, validate=POSITIVE)
    occurred_on = Day(required=True, metadata={"description": "the day of the order, or the deal was won"})
    stage_key = fields.String(load_default=None, allow_none=True, validate=STAGE_KEY,
                              metadata={"description": "defaults to the participant's current or last stage"})


class RevenueSchema(Schema):
    attribution_id = fields.String()
    campaign_id = fields.String()
    party_id = fields.String()
    stage_key = fields.String(allow_none=True)
    kind = fields.String(metadata={"enum": list(KINDS)})
    reference = fields.String()
    amount = Money()
    occurred_on = fields.Date()
    source = fields.String(metadata={"enum": ["api", "event"]})
    recorded_at = fields.DateTime()


class RevenuePageSchema(Schema):
    items = fields.List(fields.Nested(RevenueSchema))
    next_cursor = fields.String(allow_none=True)
