"""A campaign's live figures and evaluation as read inside a unit of work, and the `campaign_evaluated` event
reporting consumes. No access check here: campaigns.finish() publishes through it, the HTTP use cases in
service_layer/evaluation.py check the caller first."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from crm_shared.events import CloudEvent, new_event

from crm_campaigns.domain import events
from crm_campaigns.domain.evaluation import (ZERO, Evaluation, StageCounts, StageFigures, budget_for,
                                             failure_counts, funnel, stage_figures)


def figures(uow, campaign) -> dict:
    """Per stage in graph order, the campaign-level money (no stage, or a stage no longer in the graph) and
    totals."""
    graph = uow.campaigns.graph(campaign.campaign_id)
    counts = uow.figures.stage_counts(campaign.campaign_id)
    stages = stage_figures(graph, counts)
    keys = set(graph.keys()) if graph else set()
    off_graph = [c for key, c in counts.items() if key not in keys]
    items = [r._asdict() for r in uow.budget.cost_items(campaign.campaign_id) if r.stage_key not in keys]
    return {"campaign_id": campaign.campaign_id, "currency": campaign.currency,
            "stages": [_stage_body(f) for f in stages],
            "campaign_level": {**_money(off_graph), "cost_items": items},
            "totals": _totals(stages, list(counts.values()))}


def evaluate(uow, campaign) -> Evaluation:
    campaign_id = campaign.campaign_id
    counts = uow.figures.stage_counts(campaign_id)
    stages = stage_figures(uow.campaigns.graph(campaign_id), counts)
    activity = uow.figures.activity(campaign_id, stages[0].counts.entered if stages else 0)
    money = _money(list(counts.values()))
    budget = budget_for(campaign.expected_participants, activity.participants, campaign.expected_conversion_rate,
                        campaign.value_per_conversion, money["planned_cost"], money["actual_cost"], money["revenue"])
    descriptions = {r.code: r.description for r in uow.campaigns.failure_codes(campaign_id)}
    return Evaluation(funnel(stages), activity, budget,
                      failure_counts(descriptions, uow.figures.failure_counts(campaign_id)))


def evaluation_body(campaign, evaluation: Evaluation) -> dict:
    activity, budget = evaluation.activity, evaluation.budget
    return {"campaign_id": campaign.campaign_id, "name": campaign.name, "campaign_type": campaign.campaign_type,
            "line_of_business": campaign.line_of_business, "status": campaign.status, "currency": campaign.currency,
            "funnel": [{"stage_key": key, "name": name, "entered": entered}
                       for key, name, entered in evaluation.funnel],
            "participants": activity.participants, "started": activity.started, "responded": activity.responded,
            "contacted": activity.contacted, "succeeded": activity.succeeded, "failed": activity.failed,
            "excluded": activity.excluded,
            "response_rate": evaluation.response_rate, "conversion_rate": evaluation.conversion_rate,
            "cost_per_contact": evaluation.cost_per_contact, "cost_per_success": evaluation.cost_per_success,
            "planned_cost": budget.planned_cost, "actual_cost": budget.actual_cost,
            "estimated_revenue": budget.estimated_revenue, "actual_revenue": budget.actual_revenue,
            "estimated_roi": budget.estimated_roi, "actual_roi": budget.actual_roi,
            "failure_codes": [{"code": f.code, "description": f.description, "count": f.count}
                              for f in evaluation.failure_codes]}


def evaluated_event(campaign, evaluation: Evaluation, at: datetime) -> CloudEvent:
    data = {**_plain(evaluation_body(campaign, evaluation)), "evaluated_at": at.isoformat()}
    return new_event(events.CAMPAIGN_EVALUATED, events.SOURCE, campaign.campaign_id, data)


def publish_evaluation(uow, campaign_id: str, at: datetime) -> None:
    """Adds the campaign's evaluation, as it stands in this transaction, to the events the unit of work commits."""
    campaign = uow.campaigns.get(campaign_id)
    uow.publish(evaluated_event(campaign, evaluate(uow, campaign), at))


def _stage_body(f: StageFigures) -> dict:
    c = f.counts
    return {"stage_key": f.stage.key, "name": f.stage.name, "action": f.stage.action, "entered": c.entered,
            "waiting": c.waiting, "moved_on": c.moved_on, "succeeded": c.succeeded, "failed": c.failed_total,
            "failed_by_code": dict(sorted(c.failed.items())), "excluded": c.excluded,
            "expected_value": f.expected_value, "planned_cost": c.planned_cost, "actual_cost": c.actual_cost,
            "revenue": c.revenue}


def _money(counts: list[StageCounts]) -> dict:
    return {"planned_cost": sum((c.planned_cost for c in counts), ZERO),
            "actual_cost": sum((c.actual_cost for c in counts), ZERO),
            "revenue": sum((c.revenue for c in counts), ZERO)}


def _totals(stages: list[StageFigures], counts: list[StageCounts]) -> dict:
    return {"waiting": sum(f.counts.waiting for f in stages), "succeeded": sum(f.counts.succeeded for f in stages),
            "failed": sum(f.counts.failed_total for f in stages), "excluded": sum(f.counts.excluded for f in stages),
            "expected_value": sum((f.expected_value for f in stages), ZERO), **_money(counts)}


def _plain(value):
    """Decimals as strings, so no consumer reads money through a float."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
