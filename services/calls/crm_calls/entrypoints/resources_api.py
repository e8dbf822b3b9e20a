"""HTTP API of resource planning under /api/calls: agents and absences, monthly targets, role quotas and
performance, territories, contact policies and planning rules.

Reading needs any valid token; changing needs `planner` (admin passes every role check). Performance is
readable by the agent it belongs to (their `user_subject` is the token's `sub`), a supervisor or a planner.
Agents, territories, contact policies and the planning rules carry a version: `ETag: "<version>"`, and an
optional `If-Match` on changes answers 412 when it does not match.
"""
from __future__ import annotations

from dataclasses import asdict

from crm_shared.web import ProblemError, current_principal, decode_cursor, idempotent, page_of, require_role
from crm_shared.web.errors import PROBLEM, problem_response
from crm_shared.web.pagination import text
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from crm_calls.entrypoints import resources_schemas as s
from crm_calls.service_layer import resources as use_cases
from crm_calls.service_layer.resources import VersionMismatch
from crm_shared.web.fields import Month, path_value
from crm_shared.web.paths import path_uuid

PLANNER = "planner"

agents = Blueprint("agents", __name__, description="Agents, their absences, monthly targets and performance")
territories = Blueprint("territories", __name__, description="Territories: who is responsible for which customers")
rules = Blueprint("planning_rules", __name__,
                  description="Role quotas, contact policies per segment and the planning rules")


def _uow():
    return current_app.extensions["crm"]["uow"]()



def _month(value: str) -> str:
    return path_value(Month(), value, "month", status=422)


def _after(cursor: str | None) -> tuple[str, str] | None:
    after = decode_cursor(cursor, (text, text))
    return tuple(after) if after else None


def _version(headers: dict) -> int | None:
    value = headers["if_match"]
    return None if value is None else int(value.removeprefix("W/").strip('"'))


def _etag(version: int) -> dict:
    return {"ETag": f'"{version}"'}


def _problems(blueprint: Blueprint, *answers: tuple[int, str]):
    """Documents problem+json answers of an endpoint."""
    def decorator(view):
        for status, description in reversed(answers):
            view = blueprint.alt_response(status, schema=s.ProblemSchema, content_type=PROBLEM,
                                          description=description)(view)
        return view
    return decorator


def _precondition_failed(error: VersionMismatch):
    return problem_response(412, "Precondition Failed", error.message,
                            [{"location": "headers", "field": "If-Match", "message": error.message}])


for _blueprint in (agents, territories, rules):
    _blueprint.register_error_handler(VersionMismatch, _precondition_failed)

FORBIDDEN = (403, "Needs the planner role")
TERRITORY_FORBIDDEN = (403, "Needs the planner role; a territory for all lines needs a planner of all lines")
INVALID = (422, "Malformed input, or input that breaks a planning rule")
NO_AGENT = (404, "No such agent")
BAD_ID = (400, "A malformed id or cursor")
STALE = (412, "If-Match names another version than the stored one")
ETAG = {"ETag": {"description": 'the version, as "<n>"', "schema": {"type": "string"}}}


# -- agents --------------------------------------------------------------------------------------------------
@agents.route("/agents")
class Agents(MethodView):
    @agents.arguments(s.AgentQuerySchema, location="query")
    @agents.response(200, s.AgentPageSchema)
    @_problems(agents, BAD_ID)
    def get(self, args):
        """Agents by name, optionally only one role or only (in)active ones (keyset pagination)."""
        found = use_cases.list_agents(_uow(), limit=args["limit"] + 1, after=_after(args["cursor"]),
                                      role=args["role"], active=args["active"])
        return page_of(found, args["limit"], lambda agent: [agent.name, agent.agent_id])

    @idempotent
    @require_role(PLANNER)
    @agents.arguments(s.AgentCreateSchema)
    @agents.response(201, s.AgentSchema, headers=ETAG)
    @_problems(agents, FORBIDDEN, (409, "Another agent already has this user_subject"), INVALID)
    def post(self, body):
        """Add an agent: role, daily capacity and weekly working hours. Idempotency-Key."""
        agent = use_cases.register_agent(_uow(), **body)
        return agent, 201, _etag(agent.version)


@agents.route("/agents/<uuid_str:agent_id>")
class AgentItem(MethodView):
    @agents.response(200, s.AgentSchema, headers=ETAG)
    @_problems(agents, BAD_ID, NO_AGENT)
    def get(self, agent_id: str):
        """One agent; the ETag is its version."""
        agent = use_cases.get_agent(_uow(), path_uuid(agent_id, "agent_id"))
        return agent, 200, _etag(agent.version)

    @require_role(PLANNER)
    @agents.arguments(s.AgentPatchSchema)
    @agents.arguments(s.IfMatchSchema, location="headers")
    @agents.response(200, s.AgentSchema, headers=ETAG)
    @_problems(agents, BAD_ID, FORBIDDEN, NO_AGENT, (409, "Another agent already has this user_subject"), STALE,
               INVALID)
    def patch(self, body, headers, agent_id: str):
        """Change name, role, capacity, working hours, user_subject or active.

        Calls already planned stay where they are, also when the capacity drops or the agent is deactivated."""
        agent = use_cases.update_agent(_uow(), path_uuid(agent_id, "agent_id"), body, _version(headers))
        return agent, 200, _etag(agent.version)


@agents.route("/agents/<uuid_str:agent_id>/absences")
class Absences(MethodView):
    @agents.response(200, s.AbsenceListSchema)
    @_problems(agents, BAD_ID, NO_AGENT)
    def get(self, agent_id: str):
        """The agent's absences by first day."""
        return {"items": use_cases.list_absences(_uow(), path_uuid(agent_id, "agent_id"))}

    @idempotent
    @require_role(PLANNER)
    @agents.arguments(s.AbsenceCreateSchema)
    @agents.response(201, s.AbsenceCreatedSchema)
    @_problems(agents, BAD_ID, FORBIDDEN, NO_AGENT, INVALID)
    def post(self, body, agent_id: str):
        """Enter an absence; the agent's calls on those days move at once.

        In the same transaction, the agent's open calls on those days move to a colleague of the same
        territory (team or substitute) on the same day, else to another free day of the call's window, else to
        overflow. `replanned` counts them; each move publishes call_rescheduled or call_overflowed.
        Idempotency-Key."""
        absence, counts = use_cases.add_absence(_uow(), path_uuid(agent_id, "agent_id"), **body)
        return {**asdict(absence), "replanned": counts}, 201


@agents.route("/agents/<uuid_str:agent_id>/absences/<uuid_str:absence_id>")
class AbsenceItem(MethodView):
    @require_role(PLANNER)
    @agents.response(204)
    @_problems(agents, BAD_ID, FORBIDDEN, (404, "No such absence of this agent"))
    def delete(self, agent_id: str, absence_id: str):
        """Remove an absence. Calls moved away when it was entered are not moved back."""
        use_cases.remove_absence(_uow(), path_uuid(agent_id, "agent_id"), path_uuid(absence_id, "absence_id"))
        return "", 204


@agents.route("/agents/<uuid_str:agent_id>/targets")
class Targets(MethodView):
    @agents.response(200, s.TargetListSchema)
    @_problems(agents, BAD_ID, NO_AGENT)
    def get(self, agent_id: str):
        """The agent's monthly targets by month."""
        return {"items": use_cases.list_targets(_uow(), path_uuid(agent_id, "agent_id"))}


@agents.route("/agents/<uuid_str:agent_id>/targets/<month>")
class TargetItem(MethodView):
    @require_role(PLANNER)
    @agents.arguments(s.FiguresSchema)
    @agents.response(200, s.TargetSchema)
    @_problems(agents, BAD_ID, FORBIDDEN, NO_AGENT, (422, "Malformed month (YYYY-MM) or figures"))
    def put(self, body, agent_id: str, month: str):
        """Set the agent's target for a month (YYYY-MM); it overrides the role's quota for that month."""
        return use_cases.set_target(_uow(), path_uuid(agent_id, "agent_id"), _month(month), body)


@agents.route("/agents/<uuid_str:agent_id>/performance")
class Performance(MethodView):
    @agents.arguments(s.PerformanceQuerySchema, location="query")
    @agents.response(200, s.PerformanceSchema)
    @_problems(agents, BAD_ID, (403, "Neither the agent, a supervisor nor a planner"), NO_AGENT,
               (422, "Missing or malformed month"))
    def get(self, args, agent_id: str):
        """Target against actual for a month: the agent, a supervisor or a planner.

        - calls_made: the agent's calls closed in the month (UTC) as completed or failed; an unanswered
          attempt that leaves the call open for a retry counts once the call closes;
        - customers_reached: distinct parties among those completed;
        - appointments_booked: those completed with the outcome appointment_booked.

        The target is the agent's own for the month, else its role's quota (`target_source`);
        ratio = actual / target, null without a target (or a target of 0)."""
        return use_cases.agent_performance(_uow(), path_uuid(agent_id, "agent_id"), args["month"], current_principal())


# -- territories ---------------------------------------------------------------------------------------------
def _territory_fields(body: dict) -> dict:
    substitute = body["substitute_agent_id"]
    return {"name": body["name"], "line_of_business": body["line_of_business"],
            "postal_ranges": [tuple(r) for r in body["postal_ranges"]], "regions": body["regions"],
            "agent_id": str(body["agent_id"]), "member_agent_ids": [str(a) for a in body["member_agent_ids"]],
            "substitute_agent_id": str(substitute) if substitute else None}


@territories.route("/territories")
class Territories(MethodView):
    @territories.arguments(s.TerritoryQuerySchema, location="query")
    @territories.response(200, s.TerritoryPageSchema)
    @_problems(territories, BAD_ID)
    def get(self, args):
        """Territories by name; `agent_id` lists those the agent works in (responsible, team or substitute)."""
        agent_id = str(args["agent_id"]) if args["agent_id"] else None
        found = use_cases.list_territories(_uow(), current_principal(), limit=args["limit"] + 1,
                                           after=_after(args["cursor"]), agent_id=agent_id)
        return page_of(found, args["limit"], lambda territory: [territory.name, territory.territory_id])

    @idempotent
    @require_role(PLANNER)
    @territories.arguments(s.TerritoryInSchema)
    @territories.response(201, s.TerritorySchema, headers=ETAG)
    @_problems(territories, FORBIDDEN, (409, "The name is taken"),
               (422, "Malformed input, an unknown agent or a line of business the planner may not manage"))
    def post(self, body):
        """Add a territory.

        Postal code ranges and/or regions (cities), optionally for one line of business, with a responsible
        agent, optional team members and an optional substitute. It applies to calls planned from now on.
        Idempotency-Key."""
        territory = use_cases.create_territory(_uow(), current_principal(), **_territory_fields(body))
        return territory, 201, _etag(territory.version)


@territories.route("/territories/<uuid_str:territory_id>")
class TerritoryItem(MethodView):
    @territories.response(200, s.TerritorySchema, headers=ETAG)
    @_problems(territories, BAD_ID, (404, "No such territory"))
    def get(self, territory_id: str):
        """One territory; the ETag is its version."""
        territory = use_cases.get_territory(_uow(), current_principal(), path_uuid(territory_id, "territory_id"))
        return territory, 200, _etag(territory.version)

    @require_role(PLANNER)
    @territories.arguments(s.TerritoryInSchema)
    @territories.arguments(s.IfMatchSchema, location="headers")
    @territories.response(200, s.TerritoryChangedSchema, headers=ETAG)
    @_problems(territories, BAD_ID, TERRITORY_FORBIDDEN, (404, "No such territory"), (409, "The name is taken"), STALE,
               (422, "Malformed input or an unknown agent"))
    def put(self, body, headers, territory_id: str):
        """Replace a territory; when its agents change, its open calls follow.

        When the responsible agent, the team or the substitute changes, each open call of the territory that
        is not with the customer's responsible agent (a stable pick from the team) moves in the same
        transaction, if that agent changed or the call's agent left the territory. `replanned` counts them
        (null when the agents did not change)."""
        territory, counts = use_cases.replace_territory(_uow(), current_principal(),
                                                        path_uuid(territory_id, "territory_id"),
                                                        _territory_fields(body), _version(headers))
        return {**asdict(territory), "replanned": counts}, 200, _etag(territory.version)

    @require_role(PLANNER)
    @territories.response(204)
    @_problems(territories, BAD_ID, TERRITORY_FORBIDDEN, (404, "No such territory"), (409, "It still has open calls"))
    def delete(self, territory_id: str):
        """Delete a territory that has no open calls (give it to another agent first otherwise)."""
        use_cases.delete_territory(_uow(), current_principal(), path_uuid(territory_id, "territory_id"))
        return "", 204


# -- role quotas, contact policies, planning rules ------------------------------------------------------------
@rules.route("/role-quotas")
class RoleQuotas(MethodView):
    @rules.response(200, s.QuotaListSchema)
    def get(self):
        """The monthly quantity criteria of every sales role that has one."""
        return {"items": use_cases.list_role_quotas(_uow())}


@rules.route("/role-quotas/<role>")
class RoleQuotaItem(MethodView):
    @rules.response(200, s.QuotaSchema)
    @_problems(rules, (404, "No quota set for this role"), (422, "Unknown role"))
    def get(self, role: str):
        """The monthly quantity criteria of one role: what an agent without an own target is measured against."""
        return use_cases.get_role_quota(_uow(), role)

    @require_role(PLANNER)
    @rules.arguments(s.FiguresSchema)
    @rules.response(200, s.QuotaSchema)
    @_problems(rules, FORBIDDEN, (422, "Unknown role or malformed figures"))
    def put(self, body, role: str):
        """Set the monthly quantity criteria of a role."""
        return use_cases.set_role_quota(_uow(), role, body)


@rules.route("/contact-policies")
class ContactPolicies(MethodView):
    @rules.response(200, s.ContactPolicyListSchema)
    def get(self):
        """How often customers of each segment must be contacted; `default` applies to unknown segments."""
        return {"items": use_cases.list_contact_policies(_uow())}


@rules.route("/contact-policies/<segment>")
class ContactPolicyItem(MethodView):
    @require_role(PLANNER)
    @rules.arguments(s.ContactPolicyInSchema)
    @rules.arguments(s.IfMatchSchema, location="headers")
    @rules.response(200, s.ContactPolicySchema, headers=ETAG)
    @_problems(rules, FORBIDDEN, STALE, (422, "Out of range for the policy"))
    def put(self, body, headers, segment: str):
        """Create or change a segment's contact policy.

        At least `min_contacts` contacts in any 12 months, at least `min_spacing_days` apart. Calls already
        planned stay; planning from now on uses the new policy. `If-Match: "0"` creates only."""
        if not 1 <= len(segment) <= 64 or not segment.strip():
            raise ProblemError(422, "Unprocessable Entity", "A segment is 1 to 64 characters.",
                               [{"location": "path", "field": "segment", "message": "1 to 64 characters"}])
        policy = use_cases.set_contact_policy(_uow(), segment, **body, expected_version=_version(headers))
        return policy, 200, _etag(policy.version)


@rules.route("/planning-rules")
class PlanningRulesItem(MethodView):
    @rules.response(200, s.PlanningRulesSchema, headers=ETAG)
    def get(self):
        """Gap between a customer's calls, attempts per call and the planning horizon; the ETag is the version."""
        found, version = use_cases.get_planning_rules(_uow())
        return {**asdict(found), "version": version}, 200, _etag(version)

    @require_role(PLANNER)
    @rules.arguments(s.PlanningRulesInSchema)
    @rules.arguments(s.IfMatchSchema, location="headers")
    @rules.response(200, s.PlanningRulesSchema, headers=ETAG)
    @_problems(rules, FORBIDDEN, STALE, (422, "Out of range"))
    def put(self, body, headers):
        """Change the planning rules (gap_days 0..90, max_attempts 1..10, horizon_days 30..730)."""
        found, version = use_cases.set_planning_rules(_uow(), **body, expected_version=_version(headers))
        return {**asdict(found), "version": version}, 200, _etag(version)


def blueprints() -> list:
    return [agents, territories, rules]
