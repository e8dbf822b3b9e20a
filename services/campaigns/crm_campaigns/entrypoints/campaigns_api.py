"""HTTP API of campaigns: description, stage graph, failure codes, chains, launch and finish, participants."""
from __future__ import annotations

from crm_shared.web import current_principal, decode_cursor, idempotent, page_of, path_uuid, require_role
from crm_shared.web.pagination import text
from crm_shared.web.preconditions import ETAG, IfMatchSchema, etag, if_match_version
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from crm_campaigns.adapters.campaign_repository import rule_to_dict
from crm_campaigns.domain.stages import Condition, Rule, Stage, StageGraph
from crm_campaigns.entrypoints import campaign_schemas as s
from crm_campaigns.service_layer import campaigns as use_cases
from crm_campaigns.service_layer import participants

campaigns = Blueprint("campaigns", __name__, description="Campaigns: description, stages, chains, participants")
EDITORS = ("marketing",)


def uow():
    return current_app.extensions["crm"]["uow"]()


def lines() -> set[str] | None:
    principal = current_principal()
    return None if principal.sees_all_lines() else set(principal.lines_of_business)


def version_etag(found) -> dict:
    """`ETag: "<version>"` of a versioned row (a Row or a dict)."""
    return etag(found["version"] if isinstance(found, dict) else found.version)


def cursor_after(cursor: str | None, length: int) -> list | None:
    """A cursor of `length` text values (a sort key and an id, say)."""
    return decode_cursor(cursor, (text,) * length)


@campaigns.route("/campaigns")
class CampaignList(MethodView):
    @campaigns.arguments(s.CampaignQuerySchema, location="query")
    @campaigns.response(200, s.CampaignPageSchema)
    def get(self, args):
        """Campaigns in the caller's lines of business, by name (keyset pagination)."""
        after = cursor_after(args["cursor"], 2)
        with uow() as work:
            rows = work.campaigns.list(limit=args["limit"] + 1, after=tuple(after) if after else None,
                                       status=args["status"], lines=lines())
        return page_of([r._asdict() for r in rows], args["limit"], lambda c: [c["name"], c["campaign_id"]])

    @idempotent
    @require_role(*EDITORS)
    @campaigns.arguments(s.CampaignCreateSchema)
    @campaigns.response(201, s.CampaignSchema, headers=ETAG)
    def post(self, body):
        """Describes a new campaign (a draft); the ETag is its version."""
        campaign = use_cases.create_campaign(uow(), current_principal(), body)
        return campaign, 201, version_etag(campaign)


@campaigns.route("/campaigns/<uuid_str:campaign_id>")
class CampaignItem(MethodView):
    @campaigns.response(200, s.CampaignSchema, headers=ETAG)
    def get(self, campaign_id: str):
        """One campaign; the ETag is its version."""
        with uow() as work:
            campaign = use_cases.visible_campaign(work, current_principal(), path_uuid(campaign_id, "campaign_id"))
        return campaign, 200, version_etag(campaign)

    @require_role(*EDITORS)
    @campaigns.arguments(s.CampaignPatchSchema)
    @campaigns.arguments(IfMatchSchema, location="headers")
    @campaigns.response(200, s.CampaignSchema, headers=ETAG)
    @campaigns.alt_response(412, description="If-Match names another version than the stored one")
    def patch(self, body, headers, campaign_id: str):
        """Changes the description; an active campaign keeps its type, line of business and start. Send
        `If-Match: "<version>"` to be refused (412) if it changed meanwhile (the body's `version`, 409, is
        deprecated)."""
        version = body.pop("version")
        campaign = use_cases.update_campaign(uow(), current_principal(), path_uuid(campaign_id, "campaign_id"),
                                             body, version, if_match=if_match_version(headers))
        return campaign, 200, version_etag(campaign)


@campaigns.route("/campaigns/<uuid_str:campaign_id>/stages")
class CampaignStages(MethodView):
    @campaigns.response(200, s.StageGraphSchema)
    def get(self, campaign_id: str):
        """The stage graph (empty until defined)."""
        with uow() as work:
            use_cases.visible_campaign(work, current_principal(), path_uuid(campaign_id, "campaign_id"))
            graph = work.campaigns.graph(campaign_id)
        return {"stages": [stage_body(st) for st in graph.stages] if graph else []}

    @require_role(*EDITORS)
    @campaigns.arguments(s.StageGraphSchema)
    @campaigns.response(200, s.StageGraphSchema)
    def put(self, body, campaign_id: str):
        """Replaces the whole graph of a draft campaign; a cycle, a probability outside 0..1, an unknown target
        stage or failure code is refused with 422 and nothing is stored."""
        graph = StageGraph(tuple(stage_from_body(st) for st in body["stages"]))
        use_cases.replace_stages(uow(), current_principal(), path_uuid(campaign_id, "campaign_id"), graph)
        return {"stages": [stage_body(st) for st in graph.stages]}


@campaigns.route("/campaigns/<uuid_str:campaign_id>/failure-codes")
class FailureCodes(MethodView):
    @campaigns.response(200, s.FailureCodeListSchema)
    def get(self, campaign_id: str):
        """The campaign's failure codes: why participants dropped out."""
        with uow() as work:
            use_cases.visible_campaign(work, current_principal(), path_uuid(campaign_id, "campaign_id"))
            return {"items": [r._asdict() for r in work.campaigns.failure_codes(campaign_id)]}

    @idempotent
    @require_role(*EDITORS)
    @campaigns.arguments(s.FailureCodeSchema)
    @campaigns.response(201, s.FailureCodeSchema)
    def post(self, body, campaign_id: str):
        """Defines a failure code (409 if it exists)."""
        use_cases.add_failure_code(uow(), current_principal(), path_uuid(campaign_id, "campaign_id"), body["code"],
                                   body["description"])
        return body


@campaigns.route("/campaigns/<uuid_str:campaign_id>/chains")
class Chains(MethodView):
    @campaigns.response(200, s.ChainListSchema)
    def get(self, campaign_id: str):
        """Follow-up campaigns participants enter when they finish."""
        with uow() as work:
            use_cases.visible_campaign(work, current_principal(), path_uuid(campaign_id, "campaign_id"))
            return {"chains": [r._asdict() for r in work.campaigns.chains(campaign_id)]}

    @require_role(*EDITORS)
    @campaigns.arguments(s.ChainListSchema)
    @campaigns.response(200, s.ChainListSchema)
    def put(self, body, campaign_id: str):
        """Replaces the chains; a chain leading back to this campaign is refused."""
        chains = [{"trigger": c["trigger"], "next_campaign_id": str(c["next_campaign_id"])} for c in body["chains"]]
        return {"chains": use_cases.replace_chains(uow(), current_principal(), path_uuid(campaign_id, "campaign_id"),
                                                   chains)}


def _transition(name: str, status: str, summary: str):
    @idempotent
    @require_role(*EDITORS)
    @campaigns.response(200, s.TransitionResultSchema)
    def post(self, campaign_id: str):
        campaign_id = path_uuid(campaign_id, "campaign_id")
        if status == "active":
            count = use_cases.launch(uow(), current_principal(), campaign_id)
        else:
            count = use_cases.finish(uow(), current_principal(), campaign_id, status)
        return {"campaign_id": campaign_id, "status": status, "participants": count}

    post.__doc__ = summary
    campaigns.route(f"/campaigns/<uuid_str:campaign_id>/{name}", endpoint=f"campaign_{name}")(
        type(f"Campaign{name.title()}", (MethodView,), {"post": post}))


_transition("launch", "active", "Activates a draft: its selected participants enter the first stage.")
_transition("complete", "completed", "Ends an active campaign; open participants leave it (excluded).")
_transition("cancel", "cancelled", "Cancels a draft or active campaign; open calls are withdrawn.")


@campaigns.route("/campaigns/<uuid_str:campaign_id>/participants")
class Participants(MethodView):
    @campaigns.arguments(s.ParticipantQuerySchema, location="query")
    @campaigns.response(200, s.ParticipantPageSchema)
    def get(self, args, campaign_id: str):
        """Participants with their stage and status (keyset pagination by participation id)."""
        after = cursor_after(args["cursor"], 1)
        with uow() as work:
            use_cases.visible_campaign(work, current_principal(), path_uuid(campaign_id, "campaign_id"))
            rows = work.participations.page(campaign_id, limit=args["limit"] + 1, after=after[0] if after else None,
                                            status=args["status"], stage_key=args["stage_key"])
        return page_of(rows, args["limit"], lambda p: [p["participation_id"]])

    @idempotent
    @require_role(*EDITORS)
    @campaigns.arguments(s.AddParticipantsSchema)
    @campaigns.response(200, s.AddedSchema)
    def post(self, body, campaign_id: str):
        """Adds parties by hand (they enter the first stage at once if the campaign is active)."""
        return participants.add_manually(uow(), current_principal(), path_uuid(campaign_id, "campaign_id"),
                                         [str(p) for p in body["party_ids"]])


@campaigns.route("/campaigns/<uuid_str:campaign_id>/participants/<uuid_str:party_id>")
class Participant(MethodView):
    @require_role(*EDITORS)
    @campaigns.arguments(s.ExcludeSchema, location="query")
    @campaigns.response(204)
    def delete(self, args, campaign_id: str, party_id: str):
        """Takes the party out of the campaign (status `excluded`); an open campaign call is withdrawn."""
        participants.exclude(uow(), current_principal(), path_uuid(campaign_id, "campaign_id"),
                             path_uuid(party_id, "party_id"), args["reason"])


@campaigns.route("/campaigns/<uuid_str:campaign_id>/participants/<uuid_str:party_id>/decisions")
class Decisions(MethodView):
    @idempotent
    @require_role(*EDITORS, "sales", "agent")
    @campaigns.arguments(s.DecisionSchema)
    @campaigns.response(200, s.MovedSchema)
    def post(self, body, campaign_id: str, party_id: str):
        """A manual decision for the participant's current stage; 422 when the stage has no rule for it."""
        done = participants.decide(uow(), current_principal(), path_uuid(campaign_id, "campaign_id"),
                                   path_uuid(party_id, "party_id"), body["decision"])
        return {"moved": dict(done.moved)}


def stage_from_body(body: dict) -> Stage:
    rules = tuple(Rule(when=Condition(r["when"]["kind"], r["when"]["value"]), then=r["then"],
                       target_stage=r["target_stage"], failure_code=r["failure_code"]) for r in body["rules"])
    return Stage(key=body["key"], name=body["name"], action=body["action"], expected_value=body["expected_value"],
                 probability=body["probability"], timeout_days=body["timeout_days"],
                 call_window_days=body["call_window_days"], call_priority=body["call_priority"],
                 script_id=body["script_id"], rules=rules)


def stage_body(stage: Stage) -> dict:
    return {"key": stage.key, "name": stage.name, "action": stage.action, "expected_value": stage.expected_value,
            "probability": stage.probability, "timeout_days": stage.timeout_days,
            "call_window_days": stage.call_window_days, "call_priority": stage.call_priority,
            "script_id": stage.script_id, "rules": [rule_to_dict(r) for r in stage.rules]}
