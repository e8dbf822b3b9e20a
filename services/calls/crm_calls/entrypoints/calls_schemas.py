"""Request and response schemas of the calls API."""
from __future__ import annotations

from crm_shared.web import PageQuerySchema
from crm_shared.web.fields import Day, Instant, Int32
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from crm_calls.domain.calls import CALL_TYPES, INTERESTS, OUTCOMES, REQUESTABLE_TYPES, SLOTS, STATUSES

ID = validate.Length(min=1, max=100)
CAMPAIGN_ID = validate.Length(min=1, max=64)


class CallSchema(Schema):
    call_id = fields.String()
    party_id = fields.String()
    call_type = fields.String(metadata={"enum": list(CALL_TYPES)})
    status = fields.String(metadata={"enum": list(STATUSES)})
    line_of_business = fields.String()
    territory_id = fields.String(allow_none=True)
    agent_id = fields.String(allow_none=True)
    window_start = fields.Date(attribute="window.start")
    window_end = fields.Date(attribute="window.end")
    due_on = fields.Date(allow_none=True)
    slot = fields.String(metadata={"enum": list(SLOTS)})
    priority = fields.Integer()
    campaign_id = fields.String(allow_none=True)
    request_id = fields.String(allow_none=True)
    attempts = fields.Integer()
    outcome = fields.String(allow_none=True)
    rejection_reason = fields.String(allow_none=True)
    outcome_details = fields.Dict(allow_none=True)
    script_id = fields.String(allow_none=True)
    script_version = Int32(allow_none=True)
    completed_on = fields.Date(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    closed_by = fields.String(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    parent_call_id = fields.String(allow_none=True)
    remind_at = fields.DateTime(allow_none=True)
    version = fields.Integer()


class CallPageSchema(Schema):
    items = fields.List(fields.Nested(CallSchema))
    next_cursor = fields.String(allow_none=True)


class CallQuerySchema(PageQuerySchema):
    party_id = fields.UUID(load_default=None)
    agent_id = fields.String(load_default=None, validate=ID)
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    call_type = fields.String(load_default=None, validate=validate.OneOf(CALL_TYPES))
    campaign_id = fields.String(load_default=None, validate=ID)
    due_from = Day(load_default=None)
    due_to = Day(load_default=None)

    @validates_schema
    def _period(self, data, **_):
        if data.get("due_from") and data.get("due_to") and data["due_to"] < data["due_from"]:
            raise ValidationError("due_to is before due_from", "due_to")


class CallRequestSchema(Schema):
    request_id = fields.String(required=True, validate=ID)
    party_id = fields.UUID(required=True)
    call_type = fields.String(required=True, validate=validate.OneOf(REQUESTABLE_TYPES))
    campaign_id = fields.String(load_default=None, validate=CAMPAIGN_ID)
    window_start = Day(required=True)
    window_end = Day(required=True)
    priority = Int32(load_default=0, validate=validate.Range(-10, 10))
    script_id = fields.String(load_default=None, validate=validate.Length(min=1, max=36))

    @validates_schema
    def _window(self, data, **_):
        if data.get("window_start") and data.get("window_end") and data["window_end"] < data["window_start"]:
            raise ValidationError("the window ends before it starts", "window_end")


class DecisionSchema(Schema):
    decision_id = fields.String()
    party_id = fields.String()
    call_id = fields.String(allow_none=True)
    request_id = fields.String(allow_none=True)
    call_type = fields.String()
    decision = fields.String(metadata={"enum": ["accepted", "took_over", "shifted", "refused", "overflow"]})
    reason = fields.String()
    affected_call_ids = fields.List(fields.String())
    decided_at = fields.DateTime()


class RequestResultSchema(Schema):
    request_id = fields.String()
    decision = fields.String()
    reason = fields.String()
    call = fields.Nested(CallSchema, allow_none=True)


class DecisionQuerySchema(PageQuerySchema):
    party_id = fields.UUID(load_default=None)
    request_id = fields.String(load_default=None, validate=ID)
    decision = fields.String(load_default=None, validate=validate.OneOf(
        ["accepted", "took_over", "shifted", "refused", "overflow"]))


class DecisionPageSchema(Schema):
    items = fields.List(fields.Nested(DecisionSchema))
    next_cursor = fields.String(allow_none=True)


class OutcomeSchema(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    rejection_reason = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    callback_at = Instant(load_default=None)
    appointment_at = Instant(load_default=None)
    interest = fields.String(load_default=None, validate=validate.OneOf(INTERESTS))
    notes = fields.String(load_default=None, validate=validate.Length(max=4000))
    answers = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=64)), load_default=dict)
    next_contact_on = Day(load_default=None)


class OutcomeResultSchema(Schema):
    call = fields.Nested(CallSchema)
    next_step = fields.Dict()


class ContactSchema(Schema):
    party_id = fields.UUID(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["visit", "service"]))
    contacted_on = Day(required=True)
    notes = fields.String(load_default=None, validate=validate.Length(max=4000))


class CycleSchema(Schema):
    party_id = fields.String()
    segment = fields.String()
    min_contacts = fields.Integer()
    min_spacing_days = fields.Integer()
    last_contact_on = fields.Date(allow_none=True)
    planned = fields.List(fields.Nested(CallSchema))
    planned_in_horizon = fields.Integer()
    satisfied = fields.Boolean()
    short_window = fields.Dict(keys=fields.String(), values=fields.Date(), allow_none=True, metadata={
        "description": "The first rolling 12 months (start, end) short of min_contacts; null when satisfied"})
