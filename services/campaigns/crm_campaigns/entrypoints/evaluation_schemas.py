"""Response bodies of live figures and evaluations (money and ratios as decimal strings; undefined ratios null).

Sums and products may exceed what one money column holds, so they are sent without a digit limit."""
from __future__ import annotations

from crm_shared.web.fields import DecimalString, Money
from marshmallow import Schema, fields, validate

from crm_campaigns.entrypoints.budget_schemas import CostItemSchema


def decimal(**options) -> DecimalString:
    """Money: 2 decimals (`"1400.00"`)."""
    return Money(precision=None, **options)


def ratio(**options) -> DecimalString:
    """Rates and returns on investment: 4 decimals (`"0.1429"`)."""
    return DecimalString(places=4, **options)


class StageFiguresSchema(Schema):
    stage_key = fields.String()
    name = fields.String()
    action = fields.String()
    entered = fields.Integer(metadata={"description": "participants who entered the stage"})
    waiting = fields.Integer(metadata={"description": "participants in the stage now"})
    moved_on = fields.Integer(metadata={"description": "participants who went on to another stage"})
    succeeded = fields.Integer()
    failed = fields.Integer()
    failed_by_code = fields.Dict(keys=fields.String(), values=fields.Integer())
    excluded = fields.Integer()
    expected_value = decimal(metadata={"description": "waiting × the stage's expected value × probability"})
    planned_cost = decimal()
    actual_cost = decimal()
    revenue = decimal()


class CampaignLevelSchema(Schema):
    planned_cost = decimal()
    actual_cost = decimal()
    revenue = decimal()
    cost_items = fields.List(fields.Nested(CostItemSchema), metadata={"description": "cost items without a stage"})


class TotalsSchema(Schema):
    waiting = fields.Integer()
    succeeded = fields.Integer()
    failed = fields.Integer()
    excluded = fields.Integer()
    expected_value = decimal()
    planned_cost = decimal()
    actual_cost = decimal()
    revenue = decimal()


class FiguresSchema(Schema):
    campaign_id = fields.String()
    currency = fields.String()
    stages = fields.List(fields.Nested(StageFiguresSchema),
                         metadata={"description": "entered = waiting + moved_on + succeeded + failed + excluded"})
    campaign_level = fields.Nested(CampaignLevelSchema)
    totals = fields.Nested(TotalsSchema)


class FunnelStepSchema(Schema):
    stage_key = fields.String()
    name = fields.String()
    entered = fields.Integer()


class FailureCountSchema(Schema):
    code = fields.String()
    description = fields.String()
    count = fields.Integer()


class EvaluationSchema(Schema):
    campaign_id = fields.String()
    name = fields.String()
    campaign_type = fields.String()
    line_of_business = fields.String()
    status = fields.String()
    currency = fields.String()
    funnel = fields.List(fields.Nested(FunnelStepSchema))
    participants = fields.Integer(metadata={"description": "every participant, selected ones included"})
    started = fields.Integer(metadata={"description": "entered the first stage"})
    responded = fields.Integer()
    contacted = fields.Integer()
    succeeded = fields.Integer()
    failed = fields.Integer()
    excluded = fields.Integer()
    response_rate = ratio(allow_none=True, metadata={"description": "responded / started"})
    conversion_rate = ratio(allow_none=True, metadata={"description": "succeeded / started"})
    cost_per_contact = decimal(allow_none=True)
    cost_per_success = decimal(allow_none=True)
    planned_cost = decimal()
    actual_cost = decimal()
    estimated_revenue = decimal(metadata={"description": "expected participants × conversion rate × value"})
    actual_revenue = decimal(metadata={"description": "orders and won deals attributed to the campaign"})
    estimated_roi = ratio(allow_none=True, metadata={"description": "(estimated revenue − planned) / planned"})
    actual_roi = ratio(allow_none=True, metadata={"description": "(actual revenue − actual cost) / actual cost"})
    failure_codes = fields.List(fields.Nested(FailureCountSchema))


class PublishedEvaluationSchema(EvaluationSchema):
    evaluated_at = fields.DateTime()


class ComparisonQuerySchema(Schema):
    campaign_id = fields.List(fields.UUID(), required=True, validate=validate.Length(min=2, max=20),
                              metadata={"description": "repeat the parameter: 2 to 20 campaigns"})


class ComparisonSchema(Schema):
    items = fields.List(fields.Nested(EvaluationSchema))
