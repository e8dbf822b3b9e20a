"""/parties/<id>/contacts: which companies a person works for, and which people work for a company."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from crm_shared.web import current_principal, idempotent

from crm_customers.domain import commands
from crm_customers.entrypoints import schemas
from crm_customers.entrypoints.dependencies import new_uow
from crm_customers.service_layer import handlers, queries

blp = Blueprint("contacts", __name__, url_prefix="/parties", description="Contact persons of companies")


@blp.route("/<uuid:party_id>/contacts")
class Contacts(MethodView):
    @blp.response(200, schemas.ContactLinkListSchema)
    def get(self, party_id):
        """Links of this party in both directions (a person's companies, a company's contact persons)."""
        return {"items": queries.contacts_of(party_id, current_principal(), new_uow())}

    @idempotent
    @blp.arguments(schemas.ContactLinkCreateSchema)
    @blp.response(201, schemas.ContactLinkSchema)
    def post(self, body, party_id):
        """Link this person to a company in a role (one link per person, company and role)."""
        return handlers.link_contact(commands.LinkContact(
            actor=current_principal(), person_id=party_id, company_id=body["company_id"], role=body["role"],
            position=body["position"]), new_uow()), 201


@blp.route("/<uuid:party_id>/contacts/<uuid:link_id>", methods=["DELETE"])
@blp.response(204)
def unlink(party_id, link_id):
    """Remove a contact link (from either side)."""
    handlers.unlink_contact(commands.UnlinkContact(actor=current_principal(), party_id=party_id, link_id=link_id),
                            new_uow())
