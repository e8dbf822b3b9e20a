"""Use cases of mail templates: a template is checked when it is saved, so a mailing cannot fail on it later."""
from __future__ import annotations

import uuid

from crm_shared.auth import Principal

from crm_campaigns.domain.errors import Conflict, InvalidInput, NotFound, check_version
from crm_campaigns.domain.templates import Template, parse_template
from crm_campaigns.service_layer.campaigns import now, require_known_line


def create_template(uow, actor: Principal, values: dict) -> dict:
    """values: name, channel, subject, body, html, line_of_business."""
    _check_line(actor, values["line_of_business"])
    with uow:
        require_known_line(uow, values["line_of_business"])
        template = _parsed(uow, values)
        row = {"template_id": str(uuid.uuid4()), "name": values["name"], "channel": template.channel,
               "subject": template.subject, "body": template.body, "html": template.html,
               "line_of_business": values["line_of_business"], "version": 1, "created_by": actor.subject[:200],
               "created_at": now()}
        uow.templates.add(row)
        uow.commit()
    return row


def update_template(uow, actor: Principal, template_id: str, values: dict, expected_version: int | None,
                    if_match: int | None = None):
    """Replaces name, subject, body, html and line of business; the channel stays what it was."""
    _check_line(actor, values["line_of_business"])
    with uow:
        row = visible_template(uow, actor, template_id, lock=True)
        check_version("template", row.version, if_match, expected_version)
        if values["channel"] != row.channel:
            raise Conflict("a template's channel cannot change; create a new template", "channel")
        if uow.templates.used_by_mailing(template_id, ("sending",)):
            # Its recipients would get different texts depending on when their batch went out.
            raise Conflict("a mailing using this template is being sent; change it when that is done")
        if values["line_of_business"] != row.line_of_business:
            require_known_line(uow, values["line_of_business"])
        template = _parsed(uow, values)
        uow.templates.update(template_id, {"name": values["name"], "subject": template.subject,
                                           "body": template.body, "html": template.html,
                                           "line_of_business": values["line_of_business"],
                                           "version": row.version + 1})
        uow.commit()
        return uow.templates.get(template_id)


def visible_template(uow, actor: Principal, template_id: str, *, lock: bool = False):
    row = uow.templates.get(template_id, lock=lock)
    if row is None or not actor.may_access(row.line_of_business):
        raise NotFound(f"no template {template_id} is visible to you")
    return row


def template_of(row) -> Template:
    """The stored template, checked when it was saved."""
    return Template(channel=row.channel, subject=row.subject, body=row.body, html=row.html)


def _parsed(uow, values: dict) -> Template:
    known = set(uow.replica.attribute_types())
    return parse_template(values["channel"], values.get("subject"), values["body"], values.get("html", False), known)


def _check_line(actor: Principal, line_of_business: str) -> None:
    if not actor.may_access(line_of_business):
        raise InvalidInput("you may not keep templates for that line of business", "line_of_business")
