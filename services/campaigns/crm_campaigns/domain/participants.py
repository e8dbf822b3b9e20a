"""Where a participant goes when a condition is met in its stage: pure decisions, applied in bulk by the
service layer."""
from __future__ import annotations

from dataclasses import dataclass

from crm_campaigns.domain.stages import StageGraph

STATUSES = ("selected", "active", "succeeded", "failed", "excluded")
OPEN_STATUSES = ("selected", "active")
SOURCES = ("criteria", "import", "manual", "chain")


@dataclass(frozen=True)
class Position:
    """The part of a participation a decision needs."""
    participation_id: str
    campaign_id: str
    party_id: str
    stage_key: str | None
    status: str
    request_id: str | None = None


@dataclass(frozen=True)
class Move:
    position: Position
    cause: str
    to_stage: str | None = None          # the next stage, or None when the participant finished
    result: str | None = None            # succeeded | failed when finished
    failure_code: str | None = None
    condition: tuple[str, str | None] | None = None  # (kind, value) that caused the move

    @property
    def finished(self) -> bool:
        return self.result is not None


def decide(graph: StageGraph, position: Position, kind: str, value: str | None, cause: str) -> Move | None:
    """The move a condition causes, or None when the participant is not waiting in a stage or the stage has no
    rule for the condition (an outcome the campaign does not react to leaves the participant where it is)."""
    if position.status != "active" or position.stage_key not in graph.keys():
        return None
    rule = graph.stage(position.stage_key).rule_for(kind, value)
    if rule is None:
        return None
    condition = (kind, value)
    if rule.then == "advance":
        return Move(position, cause, to_stage=rule.target_stage, condition=condition)
    if rule.then == "succeed":
        return Move(position, cause, result="succeeded", condition=condition)
    return Move(position, cause, result="failed", failure_code=rule.failure_code, condition=condition)


def chain_key(result: str, failure_code: str | None) -> list[str]:
    """The chain triggers a finished participant matches, most specific first: `failed:<code>`, then the result."""
    return ([f"failed:{failure_code}"] if failure_code else []) + [result]
