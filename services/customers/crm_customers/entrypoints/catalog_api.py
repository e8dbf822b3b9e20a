"""Reference data an administrator manages: custom attribute definitions and lines of business."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from crm_shared.web import current_principal, idempotent, require_role

from crm_customers.domain import commands
from crm_customers.domain.attributes import AttributeType
from crm_customers.entrypoints import schemas
from crm_customers.entrypoints.dependencies import new_uow
from crm_customers.service_layer import handlers, queries

blp = Blueprint("catalog", __name__, url_prefix="", description="Attribute definitions and lines of business")


@blp.route("/attributes")
class Attributes(MethodView):
    @blp.response(200, schemas.AttributeDefinitionListSchema)
    def get(self):
        """The custom attributes parties can carry."""
        return {"items": queries.list_attribute_definitions(new_uow())}

    @idempotent
    @require_role("admin")
    @blp.arguments(schemas.AttributeDefinitionSchema)
    @blp.response(201, schemas.AttributeDefinitionSchema)
    def post(self, body):
        """Define a typed custom attribute (admin only)."""
        return handlers.define_attribute(commands.DefineAttribute(
            actor=current_principal(), name=body["name"], type=AttributeType(body["type"]),
            choices=tuple(body["choices"])), new_uow()), 201


@blp.route("/lines-of-business")
class LinesOfBusiness(MethodView):
    @blp.response(200, schemas.LineOfBusinessListSchema)
    def get(self):
        """The lines of business a party can belong to."""
        return {"items": queries.list_lines_of_business(new_uow())}

    @idempotent
    @require_role("admin")
    @blp.arguments(schemas.LineOfBusinessSchema)
    @blp.response(201, schemas.LineOfBusinessSchema)
    def post(self, body):
        """Add a line of business (admin only)."""
        return handlers.add_line_of_business(commands.AddLineOfBusiness(
            actor=current_principal(), code=body["code"], label=body["label"]), new_uow()), 201
