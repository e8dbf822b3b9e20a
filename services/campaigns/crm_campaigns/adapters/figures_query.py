"""The SQL behind live figures and evaluations: counts from participations and stage history, sums of cost
items and attributed revenue, each grouped in the database so a campaign's size does not matter."""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from decimal import Decimal

from sqlalchemy import distinct, func, or_, select
from sqlalchemy.orm import Session

from crm_campaigns.adapters import orm
from crm_campaigns.domain.evaluation import (NO_CONTACT_CALL_OUTCOMES, NO_CONTACT_MAILING_REACTIONS,
                                             NO_RESPONSE_VALUES, RESPONSE_KINDS, ZERO, Activity, StageCounts)

H = orm.stage_history.c
P = orm.participations.c
C = orm.cost_items.c
R = orm.revenue_attributions.c


class FiguresQuery:
    def __init__(self, session: Session):
        self.session = session

    def stage_counts(self, campaign_id: str) -> dict[str | None, StageCounts]:
        """Per stage key; cost items and revenue without a stage are under None."""
        entered, moved_on = self.entries(campaign_id)
        finished = self.finished(campaign_id)
        waiting = self.waiting(campaign_id)
        costs = self.costs_by_stage(campaign_id)
        revenue = self.revenue_by_stage(campaign_id)
        keys = set(entered) | set(finished) | set(waiting) | set(costs) | set(revenue)
        return {key: _counts(key, entered, moved_on, finished, waiting, costs, revenue) for key in keys}

    def entries(self, campaign_id: str) -> tuple[Counter, Counter]:
        """Entries per stage, and per stage how many of those entries moved on to another stage: an entry's
        predecessor is the same participation's previous entry."""
        entry_rows = select(H.stage_key, func.lag(H.stage_key).over(partition_by=H.participation_id,
                                                                    order_by=H.history_id).label("from_stage")) \
            .where(H.campaign_id == campaign_id, H.result.is_(None)).subquery()
        entered = Counter(dict(self.session.execute(
            select(entry_rows.c.stage_key, func.count()).group_by(entry_rows.c.stage_key)).all()))
        moved_on = Counter(dict(self.session.execute(
            select(entry_rows.c.from_stage, func.count()).where(entry_rows.c.from_stage.isnot(None))
            .group_by(entry_rows.c.from_stage)).all()))
        return entered, moved_on

    def finished(self, campaign_id: str) -> dict[str, Counter]:
        """Per stage: results (`succeeded`, `excluded`, `failed:<code>`) of participations that ended there."""
        query = select(H.stage_key, H.result, H.failure_code, func.count()) \
            .where(H.campaign_id == campaign_id, H.result.isnot(None)).group_by(H.stage_key, H.result, H.failure_code)
        found: dict[str, Counter] = defaultdict(Counter)
        for stage_key, result, failure_code, count in self.session.execute(query):
            found[stage_key][f"failed:{failure_code or ''}" if result == "failed" else result] += count
        return found

    def waiting(self, campaign_id: str) -> dict[str, int]:
        query = select(P.stage_key, func.count()).where(P.campaign_id == campaign_id, P.status == "active") \
            .group_by(P.stage_key)
        return dict(self.session.execute(query).all())

    def costs_by_stage(self, campaign_id: str) -> dict[str | None, tuple[Decimal, Decimal]]:
        """(planned, actual) per stage key; an item without an actual amount adds nothing to the actual cost."""
        query = select(C.stage_key, func.coalesce(func.sum(C.planned_amount), 0),
                       func.coalesce(func.sum(C.actual_amount), 0)) \
            .where(C.campaign_id == campaign_id).group_by(C.stage_key)
        return {key: (_money(planned), _money(actual)) for key, planned, actual in self.session.execute(query)}

    def revenue_by_stage(self, campaign_id: str) -> dict[str | None, Decimal]:
        query = select(R.stage_key, func.coalesce(func.sum(R.amount), 0)).where(R.campaign_id == campaign_id) \
            .group_by(R.stage_key)
        return {key: _money(amount) for key, amount in self.session.execute(query)}

    def activity(self, campaign_id: str, started: int) -> Activity:
        statuses = dict(self.session.execute(select(P.status, func.count()).where(P.campaign_id == campaign_id)
                                             .group_by(P.status)).all())
        responded, contacted = self.session.execute(
            select(func.count(distinct(H.participation_id)).filter(_responded()),
                   func.count(distinct(H.participation_id)).filter(_contacted()))
            .where(H.campaign_id == campaign_id)).one()
        return Activity(participants=sum(statuses.values()), started=started, responded=responded,
                        contacted=contacted, succeeded=statuses.get("succeeded", 0),
                        failed=statuses.get("failed", 0), excluded=statuses.get("excluded", 0))

    def failure_counts(self, campaign_id: str) -> dict[str, int]:
        query = select(P.failure_code, func.count()).where(P.campaign_id == campaign_id, P.status == "failed",
                                                           P.failure_code.isnot(None)).group_by(P.failure_code)
        return dict(self.session.execute(query).all())

    def campaigns_to_evaluate(self, finished_since: datetime) -> list[str]:
        """Active campaigns, and those completed or cancelled since the moment given (a finished campaign
        cannot be changed any more, so its `updated_at` is when it finished)."""
        c = orm.campaigns.c
        query = select(c.campaign_id).where(or_(
            c.status == "active",
            c.status.in_(("completed", "cancelled")) & (c.updated_at >= finished_since))).order_by(c.campaign_id)
        return list(self.session.execute(query).scalars())


def _responded():
    return H.condition_kind.in_(RESPONSE_KINDS) & func.coalesce(H.condition_value, "").notin_(NO_RESPONSE_VALUES)


def _contacted():
    value = func.coalesce(H.condition_value, "")
    return ((H.condition_kind == "call_outcome") & value.notin_(NO_CONTACT_CALL_OUTCOMES)) \
        | ((H.condition_kind == "mailing_reaction") & value.notin_(NO_CONTACT_MAILING_REACTIONS))


def _counts(key, entered: Counter, moved_on: Counter, finished: dict[str, Counter], waiting: dict[str, int],
            costs: dict, revenue: dict) -> StageCounts:
    results = finished.get(key, Counter())
    failed = {name[len("failed:"):]: n for name, n in results.items() if name.startswith("failed:")}
    planned, actual = costs.get(key, (ZERO, ZERO))
    return StageCounts(entered=entered.get(key, 0), waiting=waiting.get(key, 0), moved_on=moved_on.get(key, 0),
                       succeeded=results.get("succeeded", 0), failed=failed, excluded=results.get("excluded", 0),
                       planned_cost=planned, actual_cost=actual, revenue=revenue.get(key, ZERO))


def _money(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))
