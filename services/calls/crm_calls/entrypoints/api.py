"""HTTP API under /api/calls: the customer replica, scoped to the caller's lines of business."""
from __future__ import annotations


from crm_shared.web import PageQuerySchema, ProblemError, current_principal, decode_cursor, page_of
from crm_shared.web.pagination import text
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from crm_calls.domain.model import LIFECYCLE_STATES, PARTY_KINDS

customers = Blueprint("customers", __name__, description="Customers as replicated from the customers service")


class CustomerQuerySchema(PageQuerySchema):
    lifecycle_state = fields.String(load_default=None, validate=validate.OneOf(LIFECYCLE_STATES))
    line_of_business = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    include_deactivated = fields.Boolean(load_default=False)


class CustomerSchema(Schema):
    party_id = fields.String()
    kind = fields.String(metadata={"enum": list(PARTY_KINDS)})
    display_name = fields.String()
    lifecycle_state = fields.String(metadata={"enum": list(LIFECYCLE_STATES)})
    customer_number = fields.String(allow_none=True)
    line_of_business = fields.String()
    postal_code = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    version = fields.Integer()
    updated_at = fields.DateTime()
    deactivated = fields.Boolean()


class CustomerPageSchema(Schema):
    items = fields.List(fields.Nested(CustomerSchema))
    next_cursor = fields.String(allow_none=True)


def _uow():
    return current_app.extensions["crm"]["uow"]()


@customers.route("/customers")
class CustomerList(MethodView):
    @customers.arguments(CustomerQuerySchema, location="query")
    @customers.response(200, CustomerPageSchema)
    def get(self, args):
        """Customers in the caller's lines of business, by display name (keyset pagination)."""
        principal = current_principal()
        lines = None if principal.sees_all_lines() else set(principal.lines_of_business)
        if args["line_of_business"] is not None:
            lines = {args["line_of_business"]} & lines if lines is not None else {args["line_of_business"]}
        after = decode_cursor(args["cursor"], (text, text))
        with _uow() as uow:
            rows = uow.customers.list(limit=args["limit"] + 1, after=tuple(after) if after else None,
                                      lifecycle_state=args["lifecycle_state"], lines_of_business=lines,
                                      include_deactivated=args["include_deactivated"])
        return page_of([row._asdict() for row in rows], args["limit"],
                       lambda item: [item["display_name"], item["party_id"]])


@customers.route("/customers/<uuid_str:party_id>")
class CustomerItem(MethodView):
    @customers.response(200, CustomerSchema)
    @customers.alt_response(404, description="Unknown, or not in the caller's lines of business")
    def get(self, party_id: str):
        """One customer of the replica (deactivated ones included)."""
        with _uow() as uow:
            row = uow.customers.get(party_id)
        if row is None or not current_principal().may_access(row.line_of_business):
            raise ProblemError(404, "Not Found", f"No customer {party_id} is visible to you.")
        return row._asdict()


def blueprints() -> list:
    from crm_calls.entrypoints import calls_api, execution_api, resources_api

    return [customers, *calls_api.blueprints(), *resources_api.blueprints(), *execution_api.blueprints()]
