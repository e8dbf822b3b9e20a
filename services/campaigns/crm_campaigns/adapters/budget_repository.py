"""A campaign's money: cost items (planned and actual) and the revenue attributed to it, plus the few reads of
participations and their history that attribution needs."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from crm_shared.db import dialect_insert
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from crm_campaigns.adapters import orm

C = orm.cost_items.c
R = orm.revenue_attributions.c
P = orm.participations.c
H = orm.stage_history.c


class BudgetRepository:
    def __init__(self, session: Session):
        self.session = session

    # -- cost items ---------------------------------------------------------------------------------------
    def cost_items(self, campaign_id: str) -> list[Row]:
        query = select(orm.cost_items).where(C.campaign_id == campaign_id).order_by(C.name, C.cost_item_id)
        return list(self.session.execute(query))

    def cost_item(self, campaign_id: str, cost_item_id: str, *, lock: bool = False) -> Row | None:
        query = select(orm.cost_items).where(C.campaign_id == campaign_id, C.cost_item_id == cost_item_id)
        return self.session.execute(query.with_for_update() if lock else query).first()

    def count_cost_items(self, campaign_id: str) -> int:
        return self.session.execute(select(func.count()).where(C.campaign_id == campaign_id)).scalar_one()

    def add_cost_item(self, values: dict) -> None:
        self.session.execute(insert(orm.cost_items).values(**values))

    def update_cost_item(self, cost_item_id: str, values: dict) -> None:
        self.session.execute(update(orm.cost_items).where(C.cost_item_id == cost_item_id).values(**values))

    def delete_cost_item(self, cost_item_id: str) -> None:
        self.session.execute(delete(orm.cost_items).where(C.cost_item_id == cost_item_id))

    # -- revenue ------------------------------------------------------------------------------------------
    def add_revenue(self, values: dict) -> bool:
        """False when the order or deal is already attributed (to this or any campaign)."""
        statement = dialect_insert(orm.revenue_attributions, self.session.bind.dialect.name) \
            .values(**values).on_conflict_do_nothing(index_elements=["kind", "reference"]) \
            .returning(R.attribution_id)
        return self.session.execute(statement).first() is not None

    def revenue_page(self, campaign_id: str, *, limit: int, after: tuple[date, str] | None) -> list[dict]:
        query = select(orm.revenue_attributions).where(R.campaign_id == campaign_id) \
            .order_by(R.occurred_on, R.attribution_id).limit(limit)
        if after is not None:
            query = query.where((R.occurred_on > after[0])
                                | ((R.occurred_on == after[0]) & (R.attribution_id > after[1])))
        return [row._asdict() for row in self.session.execute(query)]

    # -- what attribution reads -------------------------------------------------------------------------------
    def entered_on(self, participation_id: str) -> date | None:
        """The day the participation first entered a stage (None while it is only selected)."""
        first = self.session.execute(select(func.min(H.at)).where(H.participation_id == participation_id,
                                                                  H.result.is_(None))).scalar_one()
        return _as_utc(first).date() if first is not None else None

    def latest_success(self, party_id: str, first_day: date, last_day: date) -> Row | None:
        """The party's participation that most recently ended `succeeded` between the two days (inclusive)."""
        query = select(orm.participations).where(
            P.party_id == party_id, P.status == "succeeded",
            P.finished_at >= _start_of(first_day), P.finished_at < _start_of(last_day + timedelta(days=1))) \
            .order_by(P.finished_at.desc(), P.participation_id).limit(1)
        return self.session.execute(query).first()


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were written in UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
