"""Request and response schemas; they are also the OpenAPI description. Input is refused here when it is
malformed or out of range; rules that need the database (known line of business, attribute types) are
checked by the service layer."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from crm_shared.web import PageQuerySchema
from crm_shared.web.inputs import Text

from crm_customers.domain.attributes import AttributeType
from crm_customers.domain.lifecycle import INITIAL_STATES, LifecycleState
from crm_customers.domain.model import MAX_NAME_LENGTH, Address, Email, PartyKind, Phone

LINE_CODE = validate.Regexp(r"^[a-z][a-z0-9_-]{0,39}$", error="lowercase letters, digits, _ or -, at most 40")
ATTRIBUTE_NAME = validate.Regexp(r"^[a-z][a-z0-9_]{0,62}$", error="lowercase letters, digits and _, at most 63")
ATTRIBUTE_FILTER = validate.Regexp(r"^[a-z][a-z0-9_]{0,62}:.{1,200}$", error="expected name:value")
CUSTOMER_NUMBER = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$", error="letters, digits and -, at most 32")
PHONE_NUMBER = validate.Regexp(r"^\+?[0-9][0-9 ()/.-]{2,29}$", error="not a phone number")
ADDRESS_KINDS = ("postal", "billing", "delivery", "visiting")
PHONE_KINDS = ("work", "office", "mobile", "home", "fax", "other")
SORTS = ("name", "-name", "created_at", "-created_at", "customer_number", "-customer_number")


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("must not be blank")


def Name(**kwargs) -> fields.String:  # noqa: N802 - reads like a field type in the schemas below
    return Text(validate=[validate.Length(min=1, max=MAX_NAME_LENGTH), _not_blank], **kwargs)


class AddressSchema(Schema):
    street = Text(required=True, validate=[validate.Length(min=1, max=200), _not_blank])
    postal_code = Text(required=True, validate=[validate.Length(min=1, max=20), _not_blank])
    city = Text(required=True, validate=[validate.Length(min=1, max=100), _not_blank])
    country = Text(required=True, validate=validate.Regexp(r"^[A-Z]{2}$", error="ISO 3166 alpha-2"))
    kind = Text(load_default="postal", validate=validate.OneOf(ADDRESS_KINDS))
    primary = fields.Boolean(load_default=False)

    @post_load
    def make(self, data, **_):
        return Address(**data)


class PhoneSchema(Schema):
    kind = Text(load_default="work", validate=validate.OneOf(PHONE_KINDS))
    number = Text(required=True, validate=PHONE_NUMBER)

    @post_load
    def make(self, data, **_):
        return Phone(**data)


class EmailSchema(Schema):
    kind = Text(load_default="work", validate=validate.OneOf(("work", "office", "private", "other")))
    address = fields.Email(required=True, validate=validate.Length(max=254))

    @post_load
    def make(self, data, **_):
        return Email(**data)


def _contact_details() -> dict:
    return dict(
        addresses=fields.List(fields.Nested(AddressSchema), validate=validate.Length(max=20)),
        phones=fields.List(fields.Nested(PhoneSchema), validate=validate.Length(max=20)),
        emails=fields.List(fields.Nested(EmailSchema), validate=validate.Length(max=20)),
        attributes=fields.Dict(keys=Text(validate=ATTRIBUTE_NAME), values=fields.Raw(allow_none=True),
                               metadata={"description": "values typed by the attribute definitions"}),
    )


class PartyCreateSchema(Schema.from_dict(_contact_details())):
    kind = Text(required=True, validate=validate.OneOf([k.value for k in PartyKind]))
    company_name = Name(metadata={"description": "required for a company"})
    first_name = Name()
    last_name = Name(metadata={"description": "required for a person"})
    line_of_business = Text(required=True, validate=LINE_CODE)
    lifecycle_state = Text(load_default=LifecycleState.SUSPECT.value,
                                    validate=validate.OneOf(sorted(s.value for s in INITIAL_STATES)))
    customer_number = Text(validate=CUSTOMER_NUMBER,
                                    metadata={"description": "admin only: a number kept from a legacy system"})
    primary_address = fields.Nested(AddressSchema, metadata={"description": "shorthand for a one-entry addresses"})

    @validates_schema
    def one_way_to_give_addresses(self, data, **_):
        if "primary_address" in data and "addresses" in data:
            raise ValidationError("give addresses or primary_address, not both", "primary_address")


class PartyPatchSchema(Schema.from_dict(_contact_details())):
    company_name = Name()
    first_name = Name(allow_none=True)
    last_name = Name()
    line_of_business = Text(validate=LINE_CODE)


class IfMatchSchema(Schema):
    if_match = Text(data_key="If-Match", load_default=None,
                             validate=validate.Regexp(r'^(W/)?"[0-9]{1,9}"$', error='expected "<version>"'))


class LifecycleChangeSchema(Schema):
    state = Text(required=True, validate=validate.OneOf([s.value for s in LifecycleState]))


class PartySchema(Schema):
    id = fields.UUID(data_key="party_id")
    kind = Text()
    display_name = Text()
    company_name = Text(attribute="names.company_name", allow_none=True)
    first_name = Text(attribute="names.first_name", allow_none=True)
    last_name = Text(attribute="names.last_name", allow_none=True)
    lifecycle_state = Text()
    customer_number = Text(allow_none=True)
    line_of_business = Text()
    addresses = fields.List(fields.Nested(AddressSchema))
    primary_address = fields.Nested(AddressSchema, allow_none=True)
    phones = fields.List(fields.Nested(PhoneSchema))
    emails = fields.List(fields.Nested(EmailSchema))
    attributes = fields.Dict()
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class PartyPageSchema(Schema):
    items = fields.List(fields.Nested(PartySchema))
    next_cursor = Text(allow_none=True)


class PartyQuerySchema(PageQuerySchema):
    name = Text(validate=validate.Length(min=1, max=MAX_NAME_LENGTH),
                         metadata={"description": "case-insensitive prefix of the display name"})
    lifecycle_state = Text(validate=validate.OneOf([s.value for s in LifecycleState]))
    kind = Text(validate=validate.OneOf([k.value for k in PartyKind]))
    line_of_business = Text(validate=LINE_CODE)
    postal_code_from = Text(validate=validate.Length(min=1, max=20))
    postal_code_to = Text(validate=validate.Length(min=1, max=20))
    attribute = fields.List(Text(validate=ATTRIBUTE_FILTER), validate=validate.Length(max=10),
                            metadata={"description": "name:value, equality; repeatable"})
    attribute_min = fields.List(Text(validate=ATTRIBUTE_FILTER), validate=validate.Length(max=10),
                                metadata={"description": "name:value, lower bound for number and date attributes"})
    attribute_max = fields.List(Text(validate=ATTRIBUTE_FILTER), validate=validate.Length(max=10),
                                metadata={"description": "name:value, upper bound for number and date attributes"})
    sort = Text(load_default="name", validate=validate.OneOf(SORTS),
                         metadata={"description": "customer_number lists only parties that have one"})


class ContactLinkCreateSchema(Schema):
    company_id = fields.UUID(required=True)
    role = Text(required=True, validate=[validate.Length(min=1, max=100), _not_blank])
    position = Text(allow_none=True, load_default=None, validate=validate.Length(max=200))


class ContactLinkSchema(Schema):
    id = fields.UUID()
    person_id = fields.UUID()
    company_id = fields.UUID()
    role = Text()
    position = Text(allow_none=True)
    created_at = fields.DateTime()


class ContactLinkListSchema(Schema):
    items = fields.List(fields.Nested(ContactLinkSchema))


class AttributeDefinitionSchema(Schema):
    name = Text(required=True, validate=ATTRIBUTE_NAME)
    type = Text(required=True, validate=validate.OneOf([t.value for t in AttributeType]))
    choices = fields.List(Text(validate=[validate.Length(min=1, max=100), _not_blank]),
                          load_default=list, validate=validate.Length(max=100),
                          metadata={"description": "required for type choice, empty otherwise"})


class AttributeDefinitionListSchema(Schema):
    items = fields.List(fields.Nested(AttributeDefinitionSchema))


class LineOfBusinessSchema(Schema):
    code = Text(required=True, validate=LINE_CODE)
    label = Text(required=True, validate=[validate.Length(min=1, max=200), _not_blank])


class LineOfBusinessListSchema(Schema):
    items = fields.List(fields.Nested(LineOfBusinessSchema))
