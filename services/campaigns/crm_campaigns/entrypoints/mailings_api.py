"""HTTP API of mailings: templates, mailings to a stage's participants, their recipients and reactions, the
letters PDF, and the public unsubscribe link (the one route reached without a token)."""
from __future__ import annotations

from crm_shared.web import ProblemError, current_principal, idempotent, page_of, path_uuid, require_role
from crm_shared.web.app import public
from crm_shared.web.preconditions import ETAG, IfMatchSchema, if_match_version
from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from kombu.exceptions import OperationalError

from crm_campaigns.domain.errors import NotFound
from crm_campaigns.entrypoints import mailing_config
from crm_campaigns.entrypoints import mailing_schemas as s
from crm_campaigns.entrypoints.campaigns_api import cursor_after, lines, version_etag
from crm_campaigns.service_layer import mail_templates, mailing_reactions, mailings as use_cases

mailings = Blueprint("mailings", __name__, description="Mailings: templates, sending, recipients, reactions")
EDITORS = ("marketing",)


def uow():
    return current_app.extensions["crm"]["uow"]()


def settings():
    return current_app.extensions["crm"]["settings"]


# -- templates ---------------------------------------------------------------------------------------------------
@mailings.route("/templates")
class TemplateList(MethodView):
    @mailings.arguments(s.TemplateQuerySchema, location="query")
    @mailings.response(200, s.TemplatePageSchema)
    def get(self, args):
        """Templates of the caller's lines of business, by name (keyset pagination)."""
        after = cursor_after(args["cursor"], 2)
        with uow() as work:
            rows = work.templates.list(limit=args["limit"] + 1, after=tuple(after) if after else None,
                                       channel=args["channel"], lines=lines())
        return page_of([r._asdict() for r in rows], args["limit"], lambda t: [t["name"], t["template_id"]])

    @idempotent
    @require_role(*EDITORS)
    @mailings.arguments(s.TemplateCreateSchema)
    @mailings.response(201, s.TemplateSchema, headers=ETAG)
    def post(self, body):
        """A template; an unknown placeholder, a missing e-mail subject or HTML in a letter is refused (422)."""
        template = mail_templates.create_template(uow(), current_principal(), body)
        return template, 201, version_etag(template)


@mailings.route("/templates/<uuid_str:template_id>")
class TemplateItem(MethodView):
    @mailings.response(200, s.TemplateSchema, headers=ETAG)
    def get(self, template_id: str):
        """One template; the ETag is its version."""
        with uow() as work:
            template = mail_templates.visible_template(work, current_principal(),
                                                       path_uuid(template_id, "template_id"))
        return template, 200, version_etag(template)

    @require_role(*EDITORS)
    @mailings.arguments(s.TemplatePutSchema)
    @mailings.arguments(IfMatchSchema, location="headers")
    @mailings.response(200, s.TemplateSchema, headers=ETAG)
    @mailings.alt_response(412, description="If-Match names another version than the stored one")
    def put(self, body, headers, template_id: str):
        """Replaces the template's texts (its channel stays); 409 while a mailing using it is being sent.
        `If-Match: "<version>"` answers 412 when it changed meanwhile (the body's `version`, 409, is deprecated)."""
        version = body.pop("version")
        template = mail_templates.update_template(uow(), current_principal(), path_uuid(template_id, "template_id"),
                                                  body, version, if_match=if_match_version(headers))
        return template, 200, version_etag(template)


# -- mailings ----------------------------------------------------------------------------------------------------
@mailings.route("/campaigns/<uuid_str:campaign_id>/mailings")
class CampaignMailings(MethodView):
    @idempotent
    @require_role(*EDITORS)
    @mailings.arguments(s.MailingCreateSchema)
    @mailings.response(201, s.MailingSchema)
    def post(self, body, campaign_id: str):
        """A draft mailing to the participants now waiting in a mailing stage; those without an address or
        suppressed for the channel are listed as skipped."""
        return use_cases.create_mailing(uow(), current_principal(), path_uuid(campaign_id, "campaign_id"),
                                        body["stage_key"], str(body["template_id"]), body["channel"],
                                        settings().mailing_home_country)


@mailings.route("/mailings/<uuid_str:mailing_id>")
class MailingItem(MethodView):
    @mailings.response(200, s.MailingSchema)
    def get(self, mailing_id: str):
        """The mailing with its recipients counted by status."""
        with uow() as work:
            return use_cases.visible_mailing(work, current_principal(), path_uuid(mailing_id, "mailing_id"))


@mailings.route("/mailings/<uuid_str:mailing_id>/send")
class MailingSend(MethodView):
    @idempotent
    @require_role(*EDITORS)
    @mailings.response(202, s.MailingSchema)
    def post(self, mailing_id: str):
        """Starts sending (asking again resumes: deferred recipients are tried again); 409 once it is done."""
        mailing_id = path_uuid(mailing_id, "mailing_id")
        mailing = use_cases.request_send(uow(), current_principal(), mailing_id)
        if settings().mailings_inline:
            mailing_config.run_send(current_app.extensions["crm"]["uow"], settings(), mailing_id)
            with uow() as work:
                return work.mailings.get(mailing_id)
        _queue(mailing_id)
        return mailing


def _queue(mailing_id: str) -> None:
    from crm_campaigns.entrypoints import tasks  # the Celery app, only where a task is queued

    try:
        tasks.send_mailing.delay(mailing_id)
    except (OperationalError, OSError) as error:
        raise ProblemError(503, "Service Unavailable",
                           "The mailing could not be queued; ask again to send it.") from error


@mailings.route("/mailings/<uuid_str:mailing_id>/recipients")
class MailingRecipients(MethodView):
    @mailings.arguments(s.RecipientQuerySchema, location="query")
    @mailings.response(200, s.RecipientPageSchema)
    def get(self, args, mailing_id: str):
        """The recipients with their status (keyset pagination by recipient id)."""
        after = cursor_after(args["cursor"], 1)
        with uow() as work:
            use_cases.visible_mailing(work, current_principal(), path_uuid(mailing_id, "mailing_id"))
            rows = work.mailings.recipients_page(mailing_id, limit=args["limit"] + 1,
                                                 after=after[0] if after else None, status=args["status"])
        return page_of([r._asdict() for r in rows], args["limit"], lambda r: [r["recipient_id"]])


@mailings.route("/mailings/<uuid_str:mailing_id>/document.pdf")
class MailingDocument(MethodView):
    @mailings.doc(responses={"200": {"description": "the letters, one per page set",
                                     "content": {"application/pdf": {}}}})
    def get(self, mailing_id: str):
        """The printable letters of a letter or fax mailing (404 for e-mail, and before they are printed)."""
        with uow() as work:
            mailing = use_cases.visible_mailing(work, current_principal(), path_uuid(mailing_id, "mailing_id"))
            if mailing.channel == "email":
                raise NotFound("an e-mail mailing has no printable document")
            document = work.mailings.document(mailing_id)
        if document is None:
            raise NotFound("the letters are not printed yet: send the mailing first")
        return Response(document, mimetype="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="mailing-{mailing_id}.pdf"'})


# -- reactions ---------------------------------------------------------------------------------------------------
@mailings.route("/mailings/<uuid_str:mailing_id>/recipients/<uuid_str:recipient_id>/reactions")
class RecipientReactions(MethodView):
    @mailings.response(200, s.ReactionListSchema)
    def get(self, mailing_id: str, recipient_id: str):
        """What the recipient did: bounced, opened, clicked, replied, unsubscribed (each at most once)."""
        with uow() as work:
            use_cases.visible_mailing(work, current_principal(), path_uuid(mailing_id, "mailing_id"))
            recipient = work.mailings.recipient(path_uuid(recipient_id, "recipient_id"))
            if recipient is None or recipient.mailing_id != mailing_id:
                raise NotFound(f"the mailing has no recipient {recipient_id}")
            return {"items": [r._asdict() for r in work.mailings.reactions(recipient_id)]}

    @idempotent
    @require_role(*EDITORS)
    @mailings.arguments(s.ReactionCreateSchema)
    @mailings.response(201, s.ReactionSchema)
    @mailings.alt_response(200, schema=s.ReactionSchema, description="recorded before; nothing changed")
    def post(self, body, mailing_id: str, recipient_id: str):
        """Records a reaction (the mail provider's webhook, or by hand) and moves the participant by its stage's
        `mailing_reaction` rules; `unsubscribed` also suppresses the party for the channel (or all)."""
        reaction, recorded = mailing_reactions.record_reaction(
            uow(), current_principal(), path_uuid(mailing_id, "mailing_id"), path_uuid(recipient_id, "recipient_id"),
            body["kind"], body["detail"], body["occurred_at"], everything=body["all_channels"])
        return reaction, 201 if recorded else 200


# -- the recipient's own link ------------------------------------------------------------------------------------
CONFIRM_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Unsubscribe</title></head>
<body><h1>Unsubscribe</h1><p>Do you want to stop receiving these mails?</p>
<form method="post"><button type="submit">Unsubscribe from this channel</button></form>
<form method="post" action="?all_channels=true"><button type="submit">Unsubscribe from all our mail</button></form>
</body></html>
"""
DONE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Unsubscribed</title></head>
<body><h1>You are unsubscribed</h1><p>You will not receive these mails any more.</p></body></html>
"""


@mailings.route("/unsubscribe/<token>")
@public
class Unsubscribe(MethodView):
    @mailings.doc(security=[])
    def get(self, token: str):
        """A page asking the recipient to confirm. Opening the link never unsubscribes by itself, because mail
        scanners follow every link in a mail; the page's button (or a mail client's one-click) POSTs."""
        links = mailing_config.unsubscribe_links(settings())
        recipient_id = links.recipient_of(token)
        with uow() as work:
            if recipient_id is None or work.mailings.recipient(recipient_id) is None:
                raise NotFound("this unsubscribe link is not valid")
        return Response(CONFIRM_PAGE, mimetype="text/html")

    @mailings.doc(security=[])
    @mailings.arguments(s.UnsubscribeQuerySchema, location="query")
    @mailings.response(200, s.UnsubscribedSchema)
    def post(self, args, token: str):
        """One-click unsubscribe (RFC 8058): suppresses the party for this mailing's channel, or every channel."""
        channel = mailing_reactions.unsubscribe(uow(), mailing_config.unsubscribe_links(settings()), token,
                                                everything=args["all_channels"])
        if request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html":
            return Response(DONE_PAGE, mimetype="text/html")
        return {"unsubscribed": True, "channel": channel}
