"""Request and response bodies of target selection, the suppression list and the party replica."""
from __future__ import annotations

from crm_shared.web import PageQuerySchema
from crm_shared.web.fields import Day
from marshmallow import Schema, ValidationError, fields, validate

from crm_campaigns.adapters.suppression_repository import CHANNELS
from crm_campaigns.domain.criteria import (KINDS, LIFECYCLE_STATES, MAX_ATTRIBUTE_CRITERIA, MAX_POSTAL_RANGES,
                                           MAX_VALUES, OPERATORS)



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


CODE = Text(validate=validate.Length(min=1, max=100))
POSTAL_CODE = Text(validate=validate.Length(min=1, max=20))
MANY = validate.Length(max=MAX_VALUES)


class AttributeCriterionSchema(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=100))
    op = fields.String(required=True, validate=validate.OneOf(OPERATORS))
    value = fields.Raw(load_default=None, allow_none=True,
                       metadata={"description": "typed by the attribute's definition; a list for `in`; "
                                                "none for `exists` and `not_exists`"})


class CriteriaSchema(Schema):
    lifecycle_states = fields.List(fields.String(validate=validate.OneOf(LIFECYCLE_STATES)), validate=MANY)
    kinds = fields.List(fields.String(validate=validate.OneOf(KINDS)), validate=MANY)
    lines_of_business = fields.List(CODE, validate=MANY)
    segments = fields.List(CODE, validate=MANY)
    postal_ranges = fields.List(fields.List(POSTAL_CODE, validate=validate.Length(equal=2)),
                                validate=validate.Length(max=MAX_POSTAL_RANGES),
                                metadata={"description": "[from, to] postal codes, inclusive, compared normalised"})
    attributes = fields.List(fields.Nested(AttributeCriterionSchema),
                             validate=validate.Length(max=MAX_ATTRIBUTE_CRITERIA))
    last_contact_before = Day(metadata={"description": "last contact before this day, or never"})
    last_contact_after = Day(metadata={"description": "last contact after this day"})
    never_contacted = StrictBoolean()


class SelectionSchema(Schema):
    criteria = fields.Nested(CriteriaSchema, required=True, metadata={"description": "all must hold"})
    dry_run = StrictBoolean(load_default=False, metadata={"description": "only count, add nobody"})


class SelectionResultSchema(Schema):
    matched = fields.Integer(metadata={"description": "parties matching, in your lines of business"})
    added = fields.Integer()
    already_in = fields.Integer()
    suppressed = fields.Integer()
    dry_run = fields.Boolean()


class SuppressionCreateSchema(Schema):
    party_id = fields.UUID(load_default=None, allow_none=True)
    email = Text(load_default=None, allow_none=True, validate=validate.Length(min=1, max=320))
    phone = Text(load_default=None, allow_none=True, validate=validate.Length(min=1, max=60))
    campaign_id = fields.UUID(load_default=None, allow_none=True, metadata={"description": "none: every campaign"})
    channel = fields.String(load_default="all", validate=validate.OneOf(CHANNELS))
    reason = Text(required=True, validate=validate.Length(min=1, max=500))


class SuppressionSchema(Schema):
    suppression_id = fields.String()
    party_id = fields.String(allow_none=True)
    email_key = fields.String(allow_none=True)
    phone_key = fields.String(allow_none=True)
    campaign_id = fields.String(allow_none=True)
    channel = fields.String(metadata={"enum": list(CHANNELS)})
    reason = fields.String()
    created_by = fields.String()
    created_at = fields.DateTime()
    participations_ended = fields.Integer(metadata={"description": "on creation: open participations ended"})


class SuppressionQuerySchema(PageQuerySchema):
    party_id = fields.UUID(load_default=None)
    email = Text(load_default=None, validate=validate.Length(min=1, max=320))
    campaign_id = fields.UUID(load_default=None)


class SuppressionPageSchema(Schema):
    items = fields.List(fields.Nested(SuppressionSchema))
    next_cursor = fields.String(allow_none=True)


class PartyQuerySchema(PageQuerySchema):
    lifecycle_state = fields.List(fields.String(validate=validate.OneOf(LIFECYCLE_STATES)), load_default=None)
    kind = fields.List(fields.String(validate=validate.OneOf(KINDS)), load_default=None)
    line_of_business = fields.List(CODE, load_default=None)
    segment = fields.List(CODE, load_default=None)
    postal_from = Text(load_default=None, validate=validate.Length(min=1, max=20))
    postal_to = Text(load_default=None, validate=validate.Length(min=1, max=20))
    last_contact_before = Day(load_default=None)
    last_contact_after = Day(load_default=None)
    never_contacted = fields.Boolean(load_default=None)


class PartySchema(Schema):
    party_id = fields.String()
    kind = fields.String()
    display_name = fields.String()
    lifecycle_state = fields.String()
    customer_number = fields.String(allow_none=True)
    line_of_business = fields.String()
    postal_code = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    country = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    segment = fields.String(allow_none=True)
    attributes = fields.Dict()
    last_contact_on = fields.Date(allow_none=True)


class PartyPageSchema(Schema):
    items = fields.List(fields.Nested(PartySchema))
    next_cursor = fields.String(allow_none=True)
