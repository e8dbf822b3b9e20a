"""Request and response bodies of address-list imports."""
from __future__ import annotations

from decimal import Decimal

from crm_shared.web import PageQuerySchema
from crm_shared.web.inputs import JsonText
from crm_shared.web.fields import DecimalString
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from crm_campaigns.domain.import_outcomes import OUTCOMES
from crm_campaigns.service_layer.imports import STATUSES

MAPPING_HELP = ('JSON object {"file column": target}; a target is kind, company_name, first_name, last_name, street, '
                "postal_code, city, country, phone, email, line_of_business, attribute:<name> or ignore")


class JsonObject(JsonText):
    """A form field holding a JSON object as text (multipart forms carry only text and files)."""

    def __init__(self, **kwargs):
        super().__init__(expect=dict, **kwargs,
                         expected='must be a JSON object, e.g. {"Firma": "company_name", "PLZ": "postal_code"}')


class ImportUploadSchema(Schema):
    """The parts of the multipart/form-data upload."""
    file = Upload(required=True, metadata={"description": "the address list, CSV or XLSX"})
    mapping = JsonObject(required=True, metadata={"type": "string", "description": MAPPING_HELP})
    default_line_of_business = fields.String(
        load_default=None, validate=validate.Length(min=1, max=40),
        metadata={"description": "for rows without one; the campaign's by default"})


PROGRESS = DecimalString(places=4, allow_none=True, metadata={"description": "0..1; null until counted"})


class ImportSchema(Schema):
    import_id = fields.String()
    campaign_id = fields.String()
    filename = fields.String()
    file_format = fields.String(metadata={"enum": ["csv", "xlsx"]})
    mapping = fields.Dict(keys=fields.String(), values=fields.String())
    default_line_of_business = fields.String()
    status = fields.String(metadata={"enum": list(STATUSES)})
    total_rows = fields.Integer(allow_none=True, metadata={"description": "known once the file has been counted"})
    processed_rows = fields.Integer()
    progress = fields.Method("fraction_done", allow_none=True, metadata=PROGRESS.metadata)
    accepted = fields.Integer()
    duplicates = fields.Integer()
    rejected = fields.Integer()
    error = fields.String(allow_none=True, metadata={"description": "why a failed import failed"})
    created_by = fields.String()
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)

    def fraction_done(self, item) -> str | None:
        total, done = _value(item, "total_rows"), _value(item, "processed_rows")
        if _value(item, "status") == "completed":
            fraction = Decimal(1)
        else:
            fraction = Decimal(done) / Decimal(total) if total else None
        return PROGRESS.serialize("progress", {"progress": fraction})


def _value(item, name: str):
    return item[name] if isinstance(item, dict) else getattr(item, name)


class ImportPageSchema(Schema):
    items = fields.List(fields.Nested(ImportSchema))
    next_cursor = fields.String(allow_none=True)


class ImportRowQuerySchema(PageQuerySchema):
    outcome = fields.String(load_default=None, validate=validate.OneOf(OUTCOMES))


class ImportRowSchema(Schema):
    row_number = fields.Integer(metadata={"description": "as the spreadsheet shows it (the header is row 1)"})
    outcome = fields.String(metadata={"enum": list(OUTCOMES)})
    reason = fields.String(allow_none=True)
    field = fields.String(allow_none=True, metadata={"description": "the target the reason is about"})
    party_id = fields.String(allow_none=True,
                             metadata={"description": "the new suspect (accepted) or the party matched (duplicate)"})


class ImportRowPageSchema(Schema):
    items = fields.List(fields.Nested(ImportRowSchema))
    next_cursor = fields.String(allow_none=True)
