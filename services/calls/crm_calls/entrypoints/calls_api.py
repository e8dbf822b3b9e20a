"""HTTP API of calls: listing them, call requests with their interference decisions, outcomes, contacts
made elsewhere, and each customer's cycle."""
from __future__ import annotations

from crm_shared.web import ProblemError, current_principal, decode_cursor, idempotent, page_of, require_role
from crm_shared.web.pagination import text
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from crm_calls.domain.calls import Outcome
from crm_calls.domain.commands import RequestCall
from crm_calls.domain.errors import NotFound
from crm_calls.domain.interference import REFUSED
from crm_calls.domain.policy import DayWindow
from crm_calls.entrypoints import calls_schemas as s
from crm_calls.service_layer import calls as use_cases
from crm_calls.service_layer.contacts import RecordContact, cycle_of, record_contact
from crm_calls.service_layer.outcomes import RecordOutcome, record_outcome
from crm_shared.web.paths import path_uuid

calls = Blueprint("calls", __name__, description="Calls: requests, interference decisions, outcomes, cycles")
REQUESTERS = ("planner", "supervisor", "marketing")
CALLERS = ("agent", "supervisor", "planner", "sales")


def _uow():
    return current_app.extensions["crm"]["uow"]()


def _lines():
    principal = current_principal()
    return None if principal.sees_all_lines() else set(principal.lines_of_business)


def _after(cursor) -> str | None:
    after = decode_cursor(cursor, (text,))
    return after[0] if after else None


@calls.route("/calls")
class CallList(MethodView):
    @calls.arguments(s.CallQuerySchema, location="query")
    @calls.response(200, s.CallPageSchema)
    def get(self, args):
        """Calls in the caller's lines of business, filtered (keyset pagination by call id)."""
        limit, after = args.pop("limit"), _after(args.pop("cursor"))
        if args.get("party_id"):
            args["party_id"] = str(args["party_id"])
        with _uow() as uow:
            found = uow.planning.list_calls(limit=limit + 1, after=after, lines_of_business=_lines(), **args)
        return page_of(found, limit, lambda call: [call.call_id])


@calls.route("/calls/<uuid_str:call_id>")
class CallItem(MethodView):
    @calls.response(200, s.CallSchema)
    @calls.alt_response(404, description="Unknown, or not in the caller's lines of business")
    def get(self, call_id: str):
        """One call, with its outcome and the script version it was made with."""
        with _uow() as uow:
            call = uow.planning.get_call(path_uuid(call_id, "call_id"))
        if call is None or not current_principal().may_access(call.line_of_business):
            raise NotFound(f"no call {call_id} is visible to you")
        return call


@calls.route("/calls/<uuid_str:call_id>/outcome")
class CallOutcome(MethodView):
    @idempotent
    @calls.arguments(s.OutcomeSchema)
    @calls.response(200, s.OutcomeResultSchema)
    @calls.alt_response(403, description="Not the agent the call is assigned to")
    @calls.alt_response(404, description="Unknown call")
    @calls.alt_response(409, description="The call is already closed")
    @calls.alt_response(422, description="An outcome that breaks a rule (unknown reason, missing answer)")
    @require_role(*CALLERS)
    def post(self, body, call_id: str):
        """Records what happened; not reached is retried at another time of day up to the attempt limit.
        The answer proposes the next step, and schedules it when it is a callback or a next contact."""
        uow = _uow()
        outcome = Outcome(recorded_at=uow.clock.now(), **body)
        cmd = RecordOutcome(path_uuid(call_id, "call_id"), outcome, current_principal())
        call, next_step = record_outcome(uow, cmd)
        return {"call": call, "next_step": next_step}


@calls.route("/call-requests")
class CallRequests(MethodView):
    @idempotent
    @calls.arguments(s.CallRequestSchema)
    @calls.response(201, s.RequestResultSchema)
    @calls.alt_response(200, schema=s.RequestResultSchema, description="The same request_id was handled before")
    @calls.alt_response(409, description="Refused: it collides with the party's calls and nothing fits")
    @calls.alt_response(422, description="Unknown party, or a request that breaks a rule")
    @require_role(*REQUESTERS)
    def post(self, body):
        """Asks for a call (the `campaign_call_requested.v1` contract, also for telemarketing, service and
        follow-up calls). The decision (accepted, took_over, shifted, overflow or refused) is recorded and
        published either way."""
        cmd = RequestCall(request_id=body["request_id"], party_id=str(body["party_id"]),
                          call_type=body["call_type"], window=DayWindow(body["window_start"], body["window_end"]),
                          campaign_id=body["campaign_id"], priority=body["priority"], script_id=body["script_id"])
        with _uow() as uow:
            party = uow.customers.get(cmd.party_id)
        if party is None or not current_principal().may_access(party.line_of_business):
            raise ProblemError(422, "Unprocessable Entity", f"party {cmd.party_id} is not known to you",
                               [{"field": "party_id", "message": "unknown party"}])
        [result] = use_cases.request_calls(_uow(), [cmd])
        if result.decision == REFUSED:
            raise ProblemError(409, "Conflict", result.reason)
        return _result(result), 200 if result.decision == "duplicate" else 201


@calls.route("/call-requests/<request_id>")
class CallRequestItem(MethodView):
    @calls.response(204)
    @calls.alt_response(404, description="No open call for this request")
    @require_role(*REQUESTERS)
    def delete(self, request_id: str):
        """Withdraws a requested call that is still open (a participant left the campaign, say)."""
        principal = current_principal()
        if not use_cases.withdraw_requests(_uow(), [request_id], "withdrawn by " + principal.subject, _lines()):
            raise NotFound(f"no open call for request {request_id} is visible to you")
        return None


@calls.route("/interference-decisions")
class Decisions(MethodView):
    @calls.arguments(s.DecisionQuerySchema, location="query")
    @calls.response(200, s.DecisionPageSchema)
    def get(self, args):
        """Every interference decision with its reason, oldest id first (keyset pagination)."""
        limit, after = args.pop("limit"), _after(args.pop("cursor"))
        if args.get("party_id"):
            args["party_id"] = str(args["party_id"])
        with _uow() as uow:
            rows = uow.planning.list_decisions(limit=limit + 1, after=after, lines_of_business=_lines(), **args)
        items = [row._asdict() for row in rows]
        return page_of(items, limit, lambda item: [item["decision_id"]])


@calls.route("/contacts")
class Contacts(MethodView):
    @idempotent
    @calls.arguments(s.ContactSchema)
    @calls.response(201, s.CallSchema)
    @calls.alt_response(404, description="Unknown customer")
    @require_role(*CALLERS)
    def post(self, body):
        """Records a contact made outside a planned call (a visit, a service call); it counts for the cycle."""
        cmd = RecordContact(str(body["party_id"]), body["kind"], body["contacted_on"], body["notes"],
                            current_principal())
        return record_contact(_uow(), cmd)


@calls.route("/customers/<uuid_str:party_id>/cycle")
class Cycle(MethodView):
    @calls.response(200, s.CycleSchema)
    @calls.alt_response(404, description="Unknown customer")
    def get(self, party_id: str):
        """The customer's contact policy, last contact, planned calls and whether the cycle is satisfied."""
        return cycle_of(_uow(), path_uuid(party_id, "party_id"), current_principal())


def _result(result) -> dict:
    return {"request_id": result.request_id, "decision": result.decision, "reason": result.reason,
            "call": result.call}


def blueprints() -> list:
    return [calls]
