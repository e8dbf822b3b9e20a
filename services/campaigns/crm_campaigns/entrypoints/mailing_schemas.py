"""Request and response bodies of mail templates, mailings, their recipients and reactions."""
from __future__ import annotations

from crm_shared.web import PageQuerySchema
from crm_shared.web.fields import Instant, Int32
from marshmallow import Schema, fields, validate

from crm_campaigns.domain.mailings import MAILING_STATUSES, REACTION_KINDS, RECIPIENT_STATUSES
from crm_campaigns.domain.templates import CHANNELS

NAME = validate.Length(min=1, max=200)
LINE = validate.Length(min=1, max=100)


class TemplateCreateSchema(Schema):
    name = fields.String(required=True, validate=NAME)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    subject = fields.String(load_default=None, allow_none=True,
                            metadata={"description": "one line; required for e-mail, optional for letters and faxes"})
    body = fields.String(required=True, metadata={"description": "text with {{ placeholders }}"})
    html = fields.Boolean(load_default=False, metadata={"description": "an HTML e-mail (values are escaped)"})
    line_of_business = fields.String(required=True, validate=LINE)


class TemplatePutSchema(TemplateCreateSchema):
    version = Int32(load_default=None, metadata={"description": "the version you read (optimistic lock)"})


class TemplateSchema(TemplateCreateSchema):
    template_id = fields.String()
    version = fields.Integer()
    created_by = fields.String()
    created_at = fields.DateTime()


class TemplateQuerySchema(PageQuerySchema):
    channel = fields.String(load_default=None, validate=validate.OneOf(CHANNELS))


class TemplatePageSchema(Schema):
    items = fields.List(fields.Nested(TemplateSchema))
    next_cursor = fields.String(allow_none=True)


class MailingCreateSchema(Schema):
    stage_key = fields.String(required=True, validate=validate.Length(min=1, max=40))
    template_id = fields.UUID(required=True)
    channel = fields.String(load_default=None, validate=validate.OneOf(CHANNELS),
                            metadata={"description": "when given, must be the template's channel"})


class MailingSchema(Schema):
    mailing_id = fields.String()
    campaign_id = fields.String()
    stage_key = fields.String()
    template_id = fields.String()
    channel = fields.String(metadata={"enum": list(CHANNELS)})
    status = fields.String(metadata={"enum": list(MAILING_STATUSES)})
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "recipients by status"})
    created_by = fields.String()
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    has_document = fields.Boolean(metadata={"description": "the letters PDF is ready (GET …/document.pdf)"})


class RecipientQuerySchema(PageQuerySchema):
    status = fields.String(load_default=None, validate=validate.OneOf(RECIPIENT_STATUSES))


class RecipientSchema(Schema):
    recipient_id = fields.String()
    participation_id = fields.String()
    party_id = fields.String()
    address = fields.String(metadata={"description": "the e-mail address, or the postal lines"})
    status = fields.String(metadata={"enum": list(RECIPIENT_STATUSES)})
    detail = fields.String(metadata={"description": "why it was skipped, the server's reply to a bounce, ..."})
    attempts = fields.Integer()
    sent_at = fields.DateTime(allow_none=True)


class RecipientPageSchema(Schema):
    items = fields.List(fields.Nested(RecipientSchema))
    next_cursor = fields.String(allow_none=True)


class ReactionCreateSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(REACTION_KINDS))
    detail = fields.String(load_default="", validate=validate.Length(max=1000),
                           metadata={"description": "the clicked URL, the bounce code, ..."})
    occurred_at = Instant(load_default=None, metadata={"description": "with a time zone; now if left out"})
    all_channels = fields.Boolean(load_default=False,
                                  metadata={"description": "unsubscribed: from every channel, not only this one"})


class ReactionSchema(Schema):
    reaction_id = fields.String()
    recipient_id = fields.String()
    kind = fields.String(metadata={"enum": list(REACTION_KINDS)})
    detail = fields.String()
    occurred_at = fields.DateTime()
    recorded_at = fields.DateTime()


class ReactionListSchema(Schema):
    items = fields.List(fields.Nested(ReactionSchema))


class UnsubscribeQuerySchema(Schema):
    all_channels = fields.Boolean(load_default=False)


class UnsubscribedSchema(Schema):
    unsubscribed = fields.Boolean()
    channel = fields.String(metadata={"description": "email, mail or all"})
