"""Use cases of the campaign itself: describe it, design its stages, failure codes and chains, run it."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

from crm_shared.auth import Principal
from crm_shared.events import new_event

from crm_campaigns.domain import events
from crm_campaigns.domain.campaign import check_dates, check_failure_code, check_transition
from crm_campaigns.domain.errors import Conflict, InvalidInput, NotFound, check_version
from crm_campaigns.domain.stages import StageGraph
from crm_campaigns.service_layer import progress
from crm_campaigns.service_layer.evaluation_events import publish_evaluation

LAUNCH_CHUNK = 5000
EDITABLE_WHEN_ACTIVE = {"name", "goal", "description", "planned_end", "actual_end", "topics", "resources", "owner",
                        "expected_participants", "expected_conversion_rate", "value_per_conversion"}


def now() -> datetime:
    return datetime.now(UTC)


def visible_campaign(uow, actor: Principal, campaign_id: str, *, lock: bool = False):
    row = uow.campaigns.get(campaign_id, lock=lock)
    if row is None or not actor.may_access(row.line_of_business):
        raise NotFound(f"no campaign {campaign_id} is visible to you")
    return row


def require_known_line(uow, code: str, field: str = "line_of_business") -> None:
    """A line of business customers has defined: campaigns keeps their list (`line_of_business_defined`, seeded
    with customers' three initial lines), so the check needs no call to customers."""
    if not uow.replica.line_exists(code):
        raise InvalidInput(f"no line of business {code!r} is known; the customers service defines them", field)


def create_campaign(uow, actor: Principal, values: dict) -> dict:
    if not actor.may_access(values["line_of_business"]):
        raise InvalidInput("you may not create campaigns for that line of business", "line_of_business")
    check_dates(values.get("planned_start"), values.get("planned_end"), "planned")
    at = now()
    row = {"campaign_id": str(uuid.uuid4()), "status": "draft", "owner": values.get("owner") or actor.subject,
           "topics": [], "resources": [], "version": 1, "created_at": at, "updated_at": at, **values}
    with uow:
        require_known_line(uow, values["line_of_business"])
        uow.campaigns.add(row)
        publish_defined(uow, uow.campaigns.get(row["campaign_id"]))
        uow.commit()
    return row


def update_campaign(uow, actor: Principal, campaign_id: str, changes: dict, expected_version: int | None,
                    if_match: int | None = None):
    with uow:
        row = visible_campaign(uow, actor, campaign_id, lock=True)
        check_version("campaign", row.version, if_match, expected_version)
        if row.status in ("completed", "cancelled"):
            raise Conflict(f"a {row.status} campaign cannot be changed")
        if row.status == "active" and set(changes) - EDITABLE_WHEN_ACTIVE:
            fields = ", ".join(sorted(set(changes) - EDITABLE_WHEN_ACTIVE))
            raise Conflict(f"an active campaign cannot change: {fields}")
        if "line_of_business" in changes and not actor.may_access(changes["line_of_business"]):
            raise InvalidInput("you may not move campaigns to that line of business", "line_of_business")
        if "line_of_business" in changes and changes["line_of_business"] != row.line_of_business:
            require_known_line(uow, changes["line_of_business"])
        merged = {**row._asdict(), **changes}
        check_dates(merged["planned_start"], merged["planned_end"], "planned")
        check_dates(merged["actual_start"], merged["actual_end"], "actual")
        if changes and any(merged[k] != getattr(row, k) for k in changes):
            uow.campaigns.update(campaign_id, {**changes, "version": row.version + 1, "updated_at": now()})
            updated = uow.campaigns.get(campaign_id)
            if any(campaign_summary(updated)[k] != v for k, v in campaign_summary(row).items()):
                publish_defined(uow, updated)
            uow.commit()
        return uow.campaigns.get(campaign_id)


def replace_stages(uow, actor: Principal, campaign_id: str, graph: StageGraph) -> StageGraph:
    with uow:
        row = visible_campaign(uow, actor, campaign_id, lock=True)
        if row.status != "draft":
            raise Conflict("stages can only be changed while the campaign is a draft")
        graph.validate({r.code for r in uow.campaigns.failure_codes(campaign_id)})
        uow.campaigns.replace_graph(campaign_id, graph)
        uow.campaigns.update(campaign_id, {"version": row.version + 1, "updated_at": now()})
        uow.commit()
    return graph


def add_failure_code(uow, actor: Principal, campaign_id: str, code: str, description: str) -> None:
    check_failure_code(code)
    with uow:
        visible_campaign(uow, actor, campaign_id, lock=True)
        if any(r.code == code for r in uow.campaigns.failure_codes(campaign_id)):
            raise Conflict(f"failure code {code!r} already exists", "code")
        uow.campaigns.add_failure_code(campaign_id, code, description)
        uow.commit()


def replace_chains(uow, actor: Principal, campaign_id: str, chains: list[dict]) -> list[dict]:
    with uow:
        visible_campaign(uow, actor, campaign_id, lock=True)
        codes = {r.code for r in uow.campaigns.failure_codes(campaign_id)}
        triggers = [c["trigger"] for c in chains]
        if len(set(triggers)) != len(triggers):
            raise InvalidInput("each trigger may appear once", "chains")
        for index, chain in enumerate(chains):
            _check_chain(uow, actor, campaign_id, chain, codes, f"chains.{index}")
        uow.campaigns.replace_chains(campaign_id, chains)
        uow.commit()
    return chains


def _check_chain(uow, actor: Principal, campaign_id: str, chain: dict, codes: set[str], field: str) -> None:
    trigger, target = chain["trigger"], chain["next_campaign_id"]
    if trigger not in ("succeeded", "failed") and not (trigger.startswith("failed:") and trigger[7:] in codes):
        raise InvalidInput("trigger must be succeeded, failed or failed:<a failure code of the campaign>",
                           f"{field}.trigger")
    if target == campaign_id or campaign_id in uow.campaigns.chain_targets_reaching(target):
        raise InvalidInput("the chain would lead back to this campaign", f"{field}.next_campaign_id")
    next_campaign = uow.campaigns.get(target)
    if next_campaign is None or not actor.may_access(next_campaign.line_of_business):
        raise InvalidInput(f"no campaign {target} is visible to you", f"{field}.next_campaign_id")
    if next_campaign.status in ("completed", "cancelled"):
        raise InvalidInput(f"campaign {target} is {next_campaign.status}", f"{field}.next_campaign_id")


def launch(uow, actor: Principal, campaign_id: str) -> int:
    """Activates the campaign and puts its selected participants into the first stage."""
    with uow:
        row = visible_campaign(uow, actor, campaign_id, lock=True)
        check_transition(row.status, "active")
        graph = uow.campaigns.graph(campaign_id)
        if graph is None:
            raise Conflict("define the campaign's stages before launching it", "stages")
        at = now()
        positions = uow.participations.open_positions(campaign_id, "selected")
        for start in range(0, len(positions), LAUNCH_CHUNK):  # bounded memory: events go out chunk by chunk
            work = progress.Progress()
            progress.start(work, graph, positions[start:start + LAUNCH_CHUNK], at, "campaign launched")
            work.flush(uow)
        uow.campaigns.update(campaign_id, {"status": "active", "actual_start": row.actual_start or at.date(),
                                           "version": row.version + 1, "updated_at": at})
        uow.publish(new_event(events.CAMPAIGN_LAUNCHED, events.SOURCE, campaign_id,
                              {**campaign_summary(row), "status": "active", "participants": len(positions)}))
        uow.commit()
    return len(positions)


def finish(uow, actor: Principal, campaign_id: str, status: str) -> int:
    """Completes or cancels the campaign; participants still open leave it (status `excluded`)."""
    with uow:
        row = visible_campaign(uow, actor, campaign_id, lock=True)
        check_transition(row.status, status)
        at = now()
        closed = progress.close_open(uow, campaign_id, f"campaign {status}", at)
        uow.campaigns.update(campaign_id, {"status": status, "actual_end": row.actual_end or at.date(),
                                           "version": row.version + 1, "updated_at": at})
        kind = events.CAMPAIGN_COMPLETED if status == "completed" else events.CAMPAIGN_CANCELLED
        uow.publish(new_event(kind, events.SOURCE, campaign_id,
                              {**campaign_summary(row), "status": status, "participants_closed": closed}))
        publish_evaluation(uow, campaign_id, at)
        uow.commit()
    return closed


def publish_defined(uow, row) -> None:
    """`campaign_defined`: a campaign was created, or its name, type, line of business, owner or planned dates
    changed, so other services (calls, for the campaign's call scripts) know its line before it is launched."""
    uow.publish(new_event(events.CAMPAIGN_DEFINED, events.SOURCE, row.campaign_id,
                          {**campaign_summary(row), "status": row.status, "version": row.version}))


def campaign_summary(row) -> dict:
    return {"campaign_id": row.campaign_id, "name": row.name, "campaign_type": row.campaign_type,
            "line_of_business": row.line_of_business, "owner": row.owner,
            "planned_start": _iso(row.planned_start), "planned_end": _iso(row.planned_end)}


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None
