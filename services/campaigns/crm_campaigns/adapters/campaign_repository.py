"""Campaigns with their stage graph, failure codes and chains."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from crm_campaigns.adapters import orm
from crm_campaigns.domain.stages import Condition, Rule, Stage, StageGraph


class CampaignRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, values: dict) -> None:
        self.session.execute(insert(orm.campaigns).values(**values))

    def get(self, campaign_id: str, *, lock: bool = False) -> Row | None:
        query = select(orm.campaigns).where(orm.campaigns.c.campaign_id == campaign_id)
        return self.session.execute(query.with_for_update() if lock else query).first()

    def list(self, *, limit: int, after: tuple | None, status: str | None, lines: set[str] | None) -> list[Row]:
        c = orm.campaigns.c
        query = select(orm.campaigns).order_by(c.name, c.campaign_id).limit(limit)
        if after is not None:
            query = query.where((c.name > after[0]) | ((c.name == after[0]) & (c.campaign_id > after[1])))
        if status is not None:
            query = query.where(c.status == status)
        if lines is not None:
            query = query.where(c.line_of_business.in_(lines))
        return list(self.session.execute(query))

    def update(self, campaign_id: str, values: dict) -> None:
        self.session.execute(update(orm.campaigns).where(orm.campaigns.c.campaign_id == campaign_id).values(**values))

    # -- stages -------------------------------------------------------------------------------------------
    def graph(self, campaign_id: str) -> StageGraph | None:
        rows = self.session.execute(select(orm.stages).where(orm.stages.c.campaign_id == campaign_id)
                                    .order_by(orm.stages.c.position)).all()
        return StageGraph(tuple(stage_from_row(r) for r in rows)) if rows else None

    def graphs(self, campaign_ids: set[str]) -> dict[str, StageGraph]:
        rows = self.session.execute(select(orm.stages).where(orm.stages.c.campaign_id.in_(campaign_ids))
                                    .order_by(orm.stages.c.campaign_id, orm.stages.c.position)).all()
        found: dict[str, list[Stage]] = {}
        for row in rows:
            found.setdefault(row.campaign_id, []).append(stage_from_row(row))
        return {cid: StageGraph(tuple(s)) for cid, s in found.items()}

    def replace_graph(self, campaign_id: str, graph: StageGraph) -> None:
        self.session.execute(delete(orm.stages).where(orm.stages.c.campaign_id == campaign_id))
        self.session.execute(insert(orm.stages), [stage_to_row(campaign_id, i, s) for i, s in enumerate(graph.stages)])

    # -- failure codes and chains ---------------------------------------------------------------------------
    def failure_codes(self, campaign_id: str) -> list[Row]:
        return list(self.session.execute(select(orm.failure_codes).where(orm.failure_codes.c.campaign_id == campaign_id)
                                         .order_by(orm.failure_codes.c.code)))

    def add_failure_code(self, campaign_id: str, code: str, description: str) -> None:
        self.session.execute(insert(orm.failure_codes).values(campaign_id=campaign_id, code=code,
                                                              description=description))

    def chains(self, campaign_id: str) -> list[Row]:
        return list(self.session.execute(select(orm.campaign_chains)
                                         .where(orm.campaign_chains.c.campaign_id == campaign_id)
                                         .order_by(orm.campaign_chains.c.trigger)))

    def chain_map(self, campaign_ids: set[str]) -> dict[tuple[str, str], str]:
        rows = self.session.execute(select(orm.campaign_chains)
                                    .where(orm.campaign_chains.c.campaign_id.in_(campaign_ids)))
        return {(r.campaign_id, r.trigger): r.next_campaign_id for r in rows}

    def replace_chains(self, campaign_id: str, chains: list[dict]) -> None:
        self.session.execute(delete(orm.campaign_chains).where(orm.campaign_chains.c.campaign_id == campaign_id))
        if chains:
            self.session.execute(insert(orm.campaign_chains), [{"campaign_id": campaign_id, **c} for c in chains])

    def chain_targets_reaching(self, start: str) -> set[str]:
        """Every campaign a participant of `start` can be chained into, directly or not."""
        seen, todo = set(), [start]
        while todo:
            current = todo.pop()
            for row in self.chains(current):
                if row.next_campaign_id not in seen:
                    seen.add(row.next_campaign_id)
                    todo.append(row.next_campaign_id)
        return seen


def stage_from_row(row: Row) -> Stage:
    rules = tuple(Rule(when=Condition(r["when"]["kind"], r["when"].get("value")), then=r["then"],
                       target_stage=r.get("target_stage"), failure_code=r.get("failure_code")) for r in row.rules)
    return Stage(key=row.stage_key, name=row.name, action=row.action, expected_value=Decimal(row.expected_value),
                 probability=Decimal(row.probability), timeout_days=row.timeout_days,
                 call_window_days=row.call_window_days, call_priority=row.call_priority, script_id=row.script_id,
                 rules=rules)


def stage_to_row(campaign_id: str, position: int, stage: Stage) -> dict:
    return {"campaign_id": campaign_id, "stage_key": stage.key, "position": position, "name": stage.name,
            "action": stage.action, "expected_value": stage.expected_value, "probability": stage.probability,
            "timeout_days": stage.timeout_days, "call_window_days": stage.call_window_days,
            "call_priority": stage.call_priority, "script_id": stage.script_id,
            "rules": [rule_to_dict(r) for r in stage.rules]}


def rule_to_dict(rule: Rule) -> dict:
    return {"when": {"kind": rule.when.kind, "value": rule.when.value}, "then": rule.then,
            "target_stage": rule.target_stage, "failure_code": rule.failure_code}
