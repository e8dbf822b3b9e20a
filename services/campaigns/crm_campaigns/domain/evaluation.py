"""How a campaign is judged: live figures per stage, the funnel, response and conversion rates, cost per contact
and per success, estimated against actual ROI. Pure arithmetic on counts and sums the database delivers
(adapters/figures_query.py); every ratio without a denominator is None, never a division error."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from crm_campaigns.domain.campaign import Budget
from crm_campaigns.domain.stages import Stage, StageGraph

CENT = Decimal("0.01")
RATE = Decimal("0.0001")
ZERO = Decimal("0.00")

# A participant responded when a call reached them, they reacted to a mailing or someone decided for them.
RESPONSE_KINDS = ("call_outcome", "mailing_reaction", "manual")
NO_RESPONSE_VALUES = ("not_reached", "request_refused", "sent", "bounced")
# A contact is a call that reached the party, or a mailing that arrived: sent, or any reaction but a bounce
# (a reply or click proves delivery even when no `sent` was recorded).
NO_CONTACT_CALL_OUTCOMES = ("not_reached", "request_refused")
NO_CONTACT_MAILING_REACTIONS = ("bounced",)


def ratio(part: Decimal | int, whole: Decimal | int, places: Decimal = RATE) -> Decimal | None:
    """part / whole, or None when there is no whole to divide by."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(places)


@dataclass(frozen=True)
class StageCounts:
    """One stage's participants and money as stored; `failed` is by failure code."""
    entered: int = 0
    waiting: int = 0
    moved_on: int = 0
    succeeded: int = 0
    failed: Mapping[str, int] = field(default_factory=dict)
    excluded: int = 0
    planned_cost: Decimal = ZERO
    actual_cost: Decimal = ZERO
    revenue: Decimal = ZERO

    @property
    def failed_total(self) -> int:
        return sum(self.failed.values())

    @property
    def accounted(self) -> int:
        """Where everyone who entered the stage is now: still there, further on, or finished in it."""
        return self.waiting + self.moved_on + self.succeeded + self.failed_total + self.excluded

    @property
    def balanced(self) -> bool:
        return self.entered == self.accounted


@dataclass(frozen=True)
class StageFigures:
    stage: Stage
    counts: StageCounts

    @property
    def expected_value(self) -> Decimal:
        """What the participants still waiting here are worth, weighted by the stage's probability."""
        return (self.counts.waiting * self.stage.expected_value * self.stage.probability).quantize(CENT)


def stage_figures(graph: StageGraph | None, counts: Mapping[str | None, StageCounts]) -> list[StageFigures]:
    """The stages in graph order, each with its counts (zeros when nothing happened there yet)."""
    if graph is None:
        return []
    return [StageFigures(stage, counts.get(stage.key, StageCounts())) for stage in graph.stages]


@dataclass(frozen=True)
class Activity:
    """How many participants got how far."""
    participants: int  # every participation, the default for the expected number
    started: int       # entered the first stage
    responded: int
    contacted: int
    succeeded: int
    failed: int
    excluded: int


@dataclass(frozen=True)
class FailureCount:
    code: str
    description: str
    count: int


@dataclass(frozen=True)
class Evaluation:
    funnel: tuple[tuple[str, str, int], ...]  # (stage key, stage name, entered) in graph order
    activity: Activity
    budget: Budget
    failure_codes: tuple[FailureCount, ...]

    @property
    def response_rate(self) -> Decimal | None:
        return ratio(self.activity.responded, self.activity.started)

    @property
    def conversion_rate(self) -> Decimal | None:
        return ratio(self.activity.succeeded, self.activity.started)

    @property
    def cost_per_contact(self) -> Decimal | None:
        return ratio(self.budget.actual_cost, self.activity.contacted, CENT)

    @property
    def cost_per_success(self) -> Decimal | None:
        return ratio(self.budget.actual_cost, self.activity.succeeded, CENT)


def budget_for(expected_participants: int | None, participants: int, expected_conversion_rate: Decimal,
               value_per_conversion: Decimal, planned_cost: Decimal, actual_cost: Decimal,
               actual_revenue: Decimal) -> Budget:
    """Without an expected number of participants the estimate uses the participants the campaign has."""
    expected = participants if expected_participants is None else expected_participants
    return Budget(planned_cost=Decimal(planned_cost), actual_cost=Decimal(actual_cost),
                  expected_participants=expected, expected_conversion_rate=Decimal(expected_conversion_rate),
                  value_per_conversion=Decimal(value_per_conversion), actual_revenue=Decimal(actual_revenue))


def funnel(figures: list[StageFigures]) -> tuple[tuple[str, str, int], ...]:
    return tuple((f.stage.key, f.stage.name, f.counts.entered) for f in figures)


def failure_counts(descriptions: Mapping[str, str], counts: Mapping[str, int]) -> tuple[FailureCount, ...]:
    """Every code the campaign defines, even unused ones, plus codes counted but no longer defined."""
    codes = sorted(set(descriptions) | set(counts))
    return tuple(FailureCount(code, descriptions.get(code, ""), counts.get(code, 0)) for code in codes)
