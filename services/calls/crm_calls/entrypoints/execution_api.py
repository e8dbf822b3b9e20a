"""HTTP API of call execution under /api/calls: call scripts and their versions, the rejection-reason
catalogue, an agent's work queue and the rejection analysis. The schemas refuse malformed input; the rules
(one target per script, unique question ids, choices only for choice questions, ...) are the domain's."""
from __future__ import annotations

import re

from crm_shared.web import current_principal, decode_cursor, idempotent, page_of, require_role
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from crm_calls.domain.calls import CALL_TYPES, SLOTS, STATUSES
from crm_calls.domain.errors import NotFound
from crm_calls.domain.model import LIFECYCLE_STATES
from crm_calls.domain.scripts import (CAMPAIGN_ID, MAX_CHOICE, MAX_CHOICES, MAX_LABEL, MAX_NAME, MAX_PROMPT,
                                      MAX_QUESTION_TEXT, MAX_QUESTIONS, MAX_STEPS, QUESTION_ID, QUESTION_KINDS,
                                      REASON_CODE)
from crm_calls.service_layer import execution
from crm_shared.web.fields import INT32_MAX, Day, DecimalString, Int32
from crm_shared.web.pagination import text
from crm_shared.web.paths import path_uuid

MANAGERS = execution.MANAGING_ROLES

scripts_blp = Blueprint("scripts", __name__, description="Call scripts: what agents read and ask, versioned")
reasons_blp = Blueprint("rejection-reasons", __name__, description="The catalogue of reasons for a rejection")
queue_blp = Blueprint("work-queue", __name__, description="An agent's calls for a day, with customer and script")
analysis_blp = Blueprint("rejection-analysis", __name__, description="Why customers say no: rejections grouped")


def _uow():
    return current_app.extensions["crm"]["uow"]()


def _full_match(pattern: re.Pattern, message: str):
    def check(value: str) -> None:
        if not pattern.fullmatch(value):
            raise ValidationError(message)
    return check



class StrictBoolean(fields.Boolean):
    """In a JSON body only true and false (marshmallow's Boolean also takes "yes", 1, "on", ...)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError("Not a valid boolean: use true or false.")
        return value


CAMPAIGN = _full_match(CAMPAIGN_ID, "1 to 64 characters, no control characters or surrounding spaces")


# -- schemas --------------------------------------------------------------------------------------------
class QuestionSchema(Schema):
    id = fields.String(required=True, validate=_full_match(QUESTION_ID, "a lowercase letter, then up to 63 "
                                                                        "lowercase letters, digits or _"),
                       metadata={"description": "unique within the script; answers are keyed by it"})
    text = fields.String(required=True, validate=validate.Length(min=1, max=MAX_QUESTION_TEXT))
    kind = fields.String(required=True, validate=validate.OneOf(QUESTION_KINDS))
    choices = fields.List(fields.String(validate=validate.Length(min=1, max=MAX_CHOICE)),
                          validate=validate.Length(min=1, max=MAX_CHOICES),
                          metadata={"description": "required for kind choice, not allowed otherwise"})
    required = StrictBoolean(load_default=False)


class StepSchema(Schema):
    prompt = fields.String(required=True, validate=validate.Length(min=1, max=MAX_PROMPT))
    questions = fields.List(fields.Nested(QuestionSchema), load_default=list,
                            validate=validate.Length(max=MAX_QUESTIONS))


def _steps(**kwargs) -> fields.List:
    return fields.List(fields.Nested(StepSchema), validate=validate.Length(min=1, max=MAX_STEPS), **kwargs)


class ScriptCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=MAX_NAME))
    call_type = fields.String(load_default=None, validate=validate.OneOf(CALL_TYPES),
                              metadata={"description": "give call_type or campaign_id, not both"})
    campaign_id = fields.String(load_default=None, validate=CAMPAIGN)
    steps = _steps(required=True)


class ScriptReviseSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=MAX_NAME))
    steps = _steps(required=True)


class ScriptSchema(Schema):
    script_id = fields.String()
    version = fields.Integer()
    name = fields.String()
    call_type = fields.String(allow_none=True, metadata={"enum": list(CALL_TYPES)})
    campaign_id = fields.String(allow_none=True)
    steps = fields.List(fields.Nested(StepSchema))
    predefined = fields.Boolean()
    created_at = fields.DateTime()
    created_by = fields.String(allow_none=True)


class ScriptPageSchema(Schema):
    items = fields.List(fields.Nested(ScriptSchema))
    next_cursor = fields.String(allow_none=True)


class ScriptQuerySchema(Schema):
    limit = Int32(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None, validate=validate.Length(max=1000))
    call_type = fields.String(load_default=None, validate=validate.OneOf(CALL_TYPES))
    campaign_id = fields.String(load_default=None, validate=CAMPAIGN)


class ReasonSchema(Schema):
    code = fields.String(required=True, validate=_full_match(REASON_CODE, "a lowercase letter, then 1 to 63 "
                                                                          "lowercase letters, digits or _"))
    label = fields.String(required=True, validate=validate.Length(min=1, max=MAX_LABEL))
    active = fields.Boolean(dump_only=True)


class ReasonListSchema(Schema):
    items = fields.List(fields.Nested(ReasonSchema))


class ReasonQuerySchema(Schema):
    include_inactive = fields.Boolean(load_default=False)


class ReasonPatchSchema(Schema):
    label = fields.String(validate=validate.Length(min=1, max=MAX_LABEL))
    active = StrictBoolean(metadata={"description": "false hides the reason from new outcomes"})

    @validates_schema
    def something_to_change(self, data, **_):
        if not data:
            raise ValidationError("give label, active or both", "label")


class WorkQueueQuerySchema(Schema):
    day = Day(load_default=None, metadata={"description": "YYYY-MM-DD; default today"})


class WindowSchema(Schema):
    start = fields.Date()
    end = fields.Date()


class QueueCustomerSchema(Schema):
    party_id = fields.String()
    display_name = fields.String()
    customer_number = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    postal_code = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    lifecycle_state = fields.String(metadata={"enum": list(LIFECYCLE_STATES)})


class QueueScriptSchema(Schema):
    script_id = fields.String()
    version = fields.Integer()
    name = fields.String()
    steps = fields.List(fields.Nested(StepSchema))


class QueueItemSchema(Schema):
    call_id = fields.String()
    party_id = fields.String()
    call_type = fields.String(metadata={"enum": list(CALL_TYPES)})
    status = fields.String(metadata={"enum": list(STATUSES)})
    line_of_business = fields.String()
    due_on = fields.Date(allow_none=True)
    slot = fields.String(metadata={"enum": list(SLOTS)})
    window = fields.Nested(WindowSchema)
    priority = fields.Integer()
    campaign_id = fields.String(allow_none=True)
    attempts = fields.Integer()
    remind_at = fields.DateTime(allow_none=True)
    reminder_only = fields.Boolean(metadata={"description": "in the queue only because its reminder is due"})
    customer = fields.Nested(QueueCustomerSchema, allow_none=True,
                             metadata={"description": "null while the party has not reached the replica"})
    script = fields.Nested(QueueScriptSchema, allow_none=True)


class WorkQueueSchema(Schema):
    agent_id = fields.String()
    day = fields.Date()
    items = fields.List(fields.Nested(QueueItemSchema))


class AnalysisQuerySchema(Schema):
    group_by = fields.String(load_default="reason", validate=validate.OneOf(execution.GROUPINGS))
    from_ = Day(required=True, data_key="from",
                metadata={"description": "first day (UTC) of the period, YYYY-MM-DD"})
    to = Day(required=True, metadata={"description": "last day (UTC), inclusive"})
    campaign_id = fields.String(load_default=None, validate=CAMPAIGN)
    agent_id = fields.UUID(load_default=None)

    @validates_schema
    def period_in_order(self, data, **_):
        if "from_" in data and "to" in data and data["from_"] > data["to"]:
            raise ValidationError("from is after to", "to")


class AnalysisRowSchema(Schema):
    key = fields.String(allow_none=True, metadata={"description": "reason code, campaign id, agent id or YYYY-MM; "
                                                                 "null for rejections without one"})
    label = fields.String(allow_none=True, metadata={"description": "the reason's label or the agent's name"})
    count = fields.Integer()
    share = DecimalString(places=4, metadata={"description": "part of all rejections in the period, 0..1"})


class AnalysisSchema(Schema):
    group_by = fields.String()
    from_ = fields.Date(data_key="from", attribute="first_day")
    to = fields.Date(attribute="last_day")
    rejected = fields.Integer(metadata={"description": "calls closed in the period with outcome rejected"})
    outcomes_recorded = fields.Integer(metadata={"description": "calls closed in the period with any outcome"})
    rejection_rate = DecimalString(places=4, allow_none=True, metadata={"description": "rejected / outcomes_recorded"})
    items = fields.List(fields.Nested(AnalysisRowSchema))


# -- scripts ----------------------------------------------------------------------------------------------
@scripts_blp.route("/scripts")
class Scripts(MethodView):
    @scripts_blp.arguments(ScriptQuerySchema, location="query")
    @scripts_blp.response(200, ScriptPageSchema)
    def get(self, args):
        """The latest version of every script, by name (keyset pagination); filter by call_type or campaign_id."""
        after = decode_cursor(args["cursor"], (text, text))
        found = execution.list_scripts(_uow(), current_principal(), limit=args["limit"] + 1,
                                       after=tuple(after) if after else None, call_type=args["call_type"],
                                       campaign_id=args["campaign_id"])
        return page_of(found, args["limit"], lambda s: [s.name, s.script_id])

    @idempotent
    @scripts_blp.arguments(ScriptCreateSchema)
    @scripts_blp.response(201, ScriptSchema)
    @scripts_blp.alt_response(403, description="Needs the supervisor, planner or admin role")
    @scripts_blp.alt_response(422, description="Malformed, or breaks a script rule")
    @require_role(*MANAGERS)
    def post(self, body):
        """Add a script for a call type or for one campaign's calls; it starts at version 1."""
        script = execution.create_script(_uow(), current_principal(), **body)
        return script, 201, {"Location": f"/api/calls/scripts/{script.script_id}"}


@scripts_blp.route("/scripts/<uuid_str:script_id>")
class ScriptItem(MethodView):
    @scripts_blp.response(200, ScriptSchema)
    @scripts_blp.alt_response(404, description="No such script")
    def get(self, script_id: str):
        """The latest version of a script."""
        return execution.get_script(_uow(), current_principal(), path_uuid(script_id, "script_id"))

    @scripts_blp.arguments(ScriptReviseSchema)
    @scripts_blp.response(200, ScriptSchema)
    @scripts_blp.alt_response(403, description="Needs the supervisor, planner or admin role")
    @scripts_blp.alt_response(404, description="No such script")
    @scripts_blp.alt_response(409, description="Revised by someone else at the same moment")
    @scripts_blp.alt_response(422, description="Malformed, or breaks a script rule")
    @require_role(*MANAGERS)
    def put(self, body, script_id: str):
        """Give a script new name and steps: this adds the next version and keeps the earlier ones unchanged.
        What the script is for (call_type or campaign_id) stays; predefined scripts are versioned the same way."""
        return execution.revise_script(_uow(), current_principal(), path_uuid(script_id, "script_id"), **body)

    @scripts_blp.response(204)
    @scripts_blp.alt_response(403, description="Needs the supervisor, planner or admin role")
    @scripts_blp.alt_response(404, description="No such script")
    @scripts_blp.alt_response(409, description="A predefined script, or one that calls refer to")
    @require_role(*MANAGERS)
    def delete(self, script_id: str):
        """Delete a script with all its versions. Predefined scripts and scripts calls were made with are kept."""
        execution.delete_script(_uow(), current_principal(), path_uuid(script_id, "script_id"))
        return None


@scripts_blp.route(f"/scripts/<uuid_str:script_id>/versions/<int(max={INT32_MAX}):version>")  # the column's range
class ScriptVersionItem(MethodView):
    @scripts_blp.response(200, ScriptSchema)
    @scripts_blp.alt_response(404, description="No such script or version")
    def get(self, script_id: str, version: int):
        """One version of a script, as it was when calls were made with it."""
        return execution.get_script(_uow(), current_principal(), path_uuid(script_id, "script_id"), version)


# -- rejection reasons ------------------------------------------------------------------------------------
@reasons_blp.route("/rejection-reasons")
class Reasons(MethodView):
    @reasons_blp.arguments(ReasonQuerySchema, location="query")
    @reasons_blp.response(200, ReasonListSchema)
    def get(self, args):
        """The reasons an outcome `rejected` can give, by code; inactive ones only with include_inactive."""
        return {"items": execution.list_reasons(_uow(), include_inactive=args["include_inactive"])}

    @idempotent
    @reasons_blp.arguments(ReasonSchema)
    @reasons_blp.response(201, ReasonSchema)
    @reasons_blp.alt_response(403, description="Needs the supervisor, planner or admin role")
    @reasons_blp.alt_response(409, description="The code is taken")
    @require_role(*MANAGERS)
    def post(self, body):
        """Add a reason (active). Reasons are never deleted, since calls refer to them; deactivate instead."""
        reason = execution.add_reason(_uow(), **body)
        return reason, 201, {"Location": f"/api/calls/rejection-reasons/{reason.code}"}


@reasons_blp.route("/rejection-reasons/<code>")
class ReasonItem(MethodView):
    @reasons_blp.arguments(ReasonPatchSchema)
    @reasons_blp.response(200, ReasonSchema)
    @reasons_blp.alt_response(403, description="Needs the supervisor, planner or admin role")
    @reasons_blp.alt_response(404, description="No such reason")
    @require_role(*MANAGERS)
    def patch(self, body, code: str):
        """Relabel a reason, or deactivate (hide from new outcomes) or reactivate it."""
        if not REASON_CODE.fullmatch(code):
            raise NotFound(f"no rejection reason {code!r}", "code")
        return execution.change_reason(_uow(), code, **body)


# -- work queue -------------------------------------------------------------------------------------------
@queue_blp.route("/agents/<uuid_str:agent_id>/work-queue")
class WorkQueue(MethodView):
    @queue_blp.arguments(WorkQueueQuerySchema, location="query")
    @queue_blp.response(200, WorkQueueSchema)
    @queue_blp.alt_response(403, description="An agent asking for someone else's queue, or a role without access")
    @queue_blp.alt_response(404, description="No such agent")
    def get(self, args, agent_id: str):
        """The agent's scheduled calls due on `day` (default today, UTC) plus follow-ups whose reminder time
        has passed, in the caller's lines of business: by priority (highest first), then window end, then
        call id; each with the customer's details and the script to use. Agents (role agent) see only their
        own queue; supervisors, planners and admins any."""
        return execution.work_queue(_uow(), current_principal(), path_uuid(agent_id, "agent_id"), args["day"])


# -- analysis ---------------------------------------------------------------------------------------------
@analysis_blp.route("/analysis/rejections")
class RejectionAnalysis(MethodView):
    @analysis_blp.arguments(AnalysisQuerySchema, location="query")
    @analysis_blp.response(200, AnalysisSchema)
    @analysis_blp.alt_response(403, description="Needs the supervisor, planner or admin role")
    @require_role(*MANAGERS)
    def get(self, args):
        """Rejected calls closed from `from` to `to` (UTC days, inclusive) grouped by reason, campaign, agent
        or month, in the caller's lines of business, with each group's share of the rejections and the number
        of calls closed with any outcome in the same period (for the rejection rate)."""
        agent_id = str(args["agent_id"]) if args["agent_id"] else None
        return execution.rejection_analysis(_uow(), current_principal(), group_by=args["group_by"],
                                            first_day=args["from_"], last_day=args["to"],
                                            campaign_id=args["campaign_id"], agent_id=agent_id)


def blueprints() -> list:
    return [scripts_blp, reasons_blp, queue_blp, analysis_blp]
