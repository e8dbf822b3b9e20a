"""Request and response schemas of the resource-planning API; they are also its OpenAPI description.

Malformed input (wrong types, unknown fields, out-of-range numbers, bad HH:MM) is refused here with
`location: json|query|headers`; rules that need the domain or the database (an absence ending before it
starts, a postal range mixing code lengths, an unknown agent) are refused by the service layer.
"""
from __future__ import annotations

import re

from crm_shared.web import PageQuerySchema
from crm_shared.web.fields import Day, DecimalString, Int32, Month
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from crm_calls.adapters.resources_repository import hours_document
from crm_calls.domain.errors import InvalidInput
from crm_calls.domain.resources import ABSENCE_KINDS, AGENT_ROLES, WEEKDAYS, parse_working_hours

HOUR = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
MAX_FIGURE = 1_000_000


class Text(fields.String):
    """A string PostgreSQL can store: NUL is refused here rather than failing in the database."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ValidationError("must not contain NUL characters")
        return text


class StrictBoolean(fields.Boolean):
    """JSON true or false only (marshmallow would also take "yes", 1, "on")."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class WorkingHours(fields.Field):
    """`{"mon": ["08:00", "16:30"], ...}`; a weekday left out is a day off. Every problem is reported on the
    field itself (unknown weekday, not HH:MM, a day that ends before it starts), checked by the domain's parser."""

    def __init__(self, **kwargs):
        super().__init__(metadata={
            "type": "object", "description": "weekday (mon..sun) to [start, end] as HH:MM; a weekday left out "
                                             "is a day off",
            "additionalProperties": {"type": "array", "items": {"type": "string", "pattern": HOUR},
                                     "minItems": 2, "maxItems": 2},
            "example": {"mon": ["08:00", "16:30"], "fri": ["08:00", "12:00"]}}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise ValidationError("expected an object of weekday: [start, end]")
        for day, span in value.items():
            if day not in WEEKDAYS:
                raise ValidationError(f"unknown weekday {day!r}; use {', '.join(WEEKDAYS)}")
            if not (isinstance(span, list) and len(span) == 2
                    and all(isinstance(v, str) and re.match(HOUR, v) for v in span)):
                raise ValidationError(f"{day}: give [start, end] as HH:MM")
        try:
            parse_working_hours(value)
        except InvalidInput as error:
            raise ValidationError(error.message) from None
        return {day: list(span) for day, span in value.items()}


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("must not be blank")


def Name(**kwargs) -> fields.String:  # noqa: N802 - reads like a field type in the schemas below
    return Text(validate=[validate.Length(min=1, max=200), _not_blank], **kwargs)


def Figure(**kwargs) -> Int32:  # noqa: N802
    return Int32(strict=True, validate=validate.Range(min=0, max=MAX_FIGURE), **kwargs)


class ProblemSchema(Schema):
    """application/problem+json (RFC 9457)."""
    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.List(fields.Dict(), metadata={"description": "{location, field, message} per problem"})
    instance = fields.String()


class IfMatchSchema(Schema):
    if_match = Text(data_key="If-Match", load_default=None,
                    validate=validate.Regexp(r'^(W/)?"[0-9]{1,9}"$', error='expected "<version>"'))


# -- agents --------------------------------------------------------------------------------------------------
class AgentCreateSchema(Schema):
    name = Name(required=True)
    role = Text(required=True, validate=validate.OneOf(AGENT_ROLES))
    daily_capacity = Int32(required=True, strict=True, validate=validate.Range(min=0, max=1000),
                           metadata={"description": "calls a day on a working day"})
    working_hours = WorkingHours(required=True)
    user_subject = Text(load_default=None, allow_none=True, validate=validate.Length(min=1, max=255),
                        metadata={"description": "the JWT `sub` of the person, so they can read their own figures"})
    active = StrictBoolean(load_default=True)


class AgentPatchSchema(Schema):
    name = Name()
    role = Text(validate=validate.OneOf(AGENT_ROLES))
    daily_capacity = Int32(strict=True, validate=validate.Range(min=0, max=1000))
    working_hours = WorkingHours()
    user_subject = Text(allow_none=True, validate=validate.Length(min=1, max=255))
    active = StrictBoolean()

    @validates_schema
    def something_to_change(self, data, **_):
        if not data:
            raise ValidationError("give at least one field to change", "_schema")


class AgentSchema(Schema):
    agent_id = fields.String()
    name = fields.String()
    role = fields.String(metadata={"enum": list(AGENT_ROLES)})
    daily_capacity = fields.Integer()
    working_hours = fields.Function(lambda agent: hours_document(agent.working_hours),
                                    metadata={"type": "object", "example": {"mon": ["08:00", "16:30"]}})
    user_subject = fields.String(allow_none=True)
    active = fields.Boolean()
    version = fields.Integer()


class AgentQuerySchema(PageQuerySchema):
    role = Text(load_default=None, validate=validate.OneOf(AGENT_ROLES))
    active = fields.Boolean(load_default=None, allow_none=True)


class AgentPageSchema(Schema):
    items = fields.List(fields.Nested(AgentSchema))
    next_cursor = fields.String(allow_none=True)


# -- absences ------------------------------------------------------------------------------------------------
class AbsenceCreateSchema(Schema):
    kind = Text(required=True, validate=validate.OneOf(ABSENCE_KINDS))
    first_day = Day(required=True)
    last_day = Day(required=True)
    note = Text(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class AbsenceSchema(Schema):
    absence_id = fields.String()
    agent_id = fields.String()
    kind = fields.String(metadata={"enum": list(ABSENCE_KINDS)})
    first_day = fields.Date()
    last_day = fields.Date()
    note = fields.String(allow_none=True)


class ReplanCountsSchema(Schema):
    moved_same_day = fields.Integer(metadata={"description": "to a colleague on the same day"})
    moved_other_day = fields.Integer(metadata={"description": "to another day of the call's window"})
    overflow = fields.Integer(metadata={"description": "no room anywhere: the call waits as overflow"})


class AbsenceCreatedSchema(AbsenceSchema):
    replanned = fields.Nested(ReplanCountsSchema)


class AbsenceListSchema(Schema):
    items = fields.List(fields.Nested(AbsenceSchema))


# -- targets, quotas, performance ----------------------------------------------------------------------------
class FiguresSchema(Schema):
    calls_made = Figure(required=True)
    customers_reached = Figure(required=True)
    appointments_booked = Figure(required=True)


class TargetSchema(FiguresSchema):
    month = fields.String(dump_only=True)


class TargetListSchema(Schema):
    items = fields.List(fields.Nested(TargetSchema))


class QuotaSchema(FiguresSchema):
    role = fields.String(dump_only=True, metadata={"enum": list(AGENT_ROLES)})


class QuotaListSchema(Schema):
    items = fields.List(fields.Nested(QuotaSchema))


class PerformanceQuerySchema(Schema):
    month = Month(required=True)


class FigureSchema(Schema):
    target = fields.Integer(allow_none=True)
    actual = fields.Integer()
    ratio = DecimalString(places=3, allow_none=True, metadata={"description": "actual / target; null without a "
                                                                          "target"})


class PerformanceSchema(Schema):
    agent_id = fields.String()
    month = fields.String()
    target_source = fields.String(allow_none=True, metadata={"enum": ["agent", "role"],
                                                             "description": "the agent's own target, else "
                                                                            "its role's quota"})
    figures = fields.Dict(keys=fields.String(), values=fields.Nested(FigureSchema),
                          metadata={"description": "calls_made, customers_reached, appointments_booked"})


# -- territories ---------------------------------------------------------------------------------------------
class TerritoryInSchema(Schema):
    name = Name(required=True)
    line_of_business = Text(load_default=None, allow_none=True, validate=validate.Length(min=1, max=100),
                            metadata={"description": "null: every line of business"})
    postal_ranges = fields.List(fields.List(Text(validate=validate.Length(min=1, max=20)),
                                            validate=validate.Length(equal=2)),
                                load_default=list, validate=validate.Length(max=1000),
                                metadata={"description": "[[from, to], ...], inclusive, same code length"})
    regions = fields.List(Text(validate=[validate.Length(min=1, max=100), _not_blank]), load_default=list,
                          validate=validate.Length(max=1000), metadata={"description": "city names"})
    agent_id = fields.UUID(required=True, metadata={"description": "the responsible agent"})
    member_agent_ids = fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=100),
                                   metadata={"description": "the rest of the team; each customer gets a stable "
                                                            "responsible agent among agent_id and these"})
    substitute_agent_id = fields.UUID(load_default=None, allow_none=True,
                                      metadata={"description": "takes calls when the team has no room"})


class TerritorySchema(Schema):
    territory_id = fields.String()
    name = fields.String()
    line_of_business = fields.String(allow_none=True)
    postal_ranges = fields.List(fields.List(fields.String()))
    regions = fields.List(fields.String())
    agent_id = fields.String()
    member_agent_ids = fields.List(fields.String())
    substitute_agent_id = fields.String(allow_none=True)
    version = fields.Integer()


class TerritoryChangedSchema(TerritorySchema):
    replanned = fields.Nested(ReplanCountsSchema, allow_none=True,
                              metadata={"description": "set when the agents changed and open calls moved"})


class TerritoryQuerySchema(PageQuerySchema):
    agent_id = fields.UUID(load_default=None, metadata={"description": "responsible, team member or substitute"})


class TerritoryPageSchema(Schema):
    items = fields.List(fields.Nested(TerritorySchema))
    next_cursor = fields.String(allow_none=True)


# -- contact policies and planning rules ---------------------------------------------------------------------
class ContactPolicyInSchema(Schema):
    min_contacts = Int32(required=True, strict=True, metadata={"description": "1..52 a year"})
    min_spacing_days = Int32(required=True, strict=True, metadata={"description": "0..364 // min_contacts"})


class ContactPolicySchema(Schema):
    segment = fields.String()
    min_contacts = fields.Integer()
    min_spacing_days = fields.Integer()
    max_interval = fields.Integer(metadata={"description": "the longest gap between two contacts, in days"})
    version = fields.Integer()


class ContactPolicyListSchema(Schema):
    items = fields.List(fields.Nested(ContactPolicySchema))


class PlanningRulesInSchema(Schema):
    gap_days = Int32(required=True, strict=True, metadata={"description": "0..90"})
    max_attempts = Int32(required=True, strict=True, metadata={"description": "1..10"})
    horizon_days = Int32(required=True, strict=True, metadata={"description": "30..730"})


class PlanningRulesSchema(PlanningRulesInSchema):
    version = fields.Integer(dump_only=True)
