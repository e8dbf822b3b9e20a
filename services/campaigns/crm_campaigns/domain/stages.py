"""A campaign's stages: a directed acyclic graph whose rules say where a participant goes when a condition
(a call outcome, a mailing reaction, a manual decision, a time-out) is met in its current stage."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from crm_campaigns.domain.errors import InvalidInput

ACTIONS = ("call", "mailing", "appointment", "task")
CALL_OUTCOMES = ("reached", "not_reached", "rejected", "callback_requested", "appointment_booked",
                 "interest_noted", "request_refused")
MAILING_REACTIONS = ("sent", "bounced", "opened", "clicked", "replied", "unsubscribed")
CONDITION_VALUES = {"call_outcome": CALL_OUTCOMES, "mailing_reaction": MAILING_REACTIONS, "manual": None,
                    "timeout": ()}
OUTCOMES = ("advance", "succeed", "fail")
MAX_STAGES = 50
MAX_KEY = 40


@dataclass(frozen=True)
class Condition:
    kind: str
    value: str | None = None  # None matches any value of the kind

    def matches(self, kind: str, value: str | None) -> bool:
        return self.kind == kind and (self.value is None or self.value == value)


@dataclass(frozen=True)
class Rule:
    when: Condition
    then: str
    target_stage: str | None = None
    failure_code: str | None = None


@dataclass(frozen=True)
class Stage:
    key: str
    name: str
    action: str
    expected_value: Decimal = Decimal(0)
    probability: Decimal = Decimal(0)
    timeout_days: int | None = None
    call_window_days: int = 14
    call_priority: int = 0
    script_id: str | None = None
    rules: tuple[Rule, ...] = ()

    def rule_for(self, kind: str, value: str | None) -> Rule | None:
        """An exact rule wins over a catch-all one of the same kind."""
        exact = next((r for r in self.rules if r.when.value is not None and r.when.matches(kind, value)), None)
        return exact or next((r for r in self.rules if r.when.value is None and r.when.matches(kind, value)), None)


@dataclass(frozen=True)
class StageGraph:
    stages: tuple[Stage, ...]

    @property
    def entry(self) -> Stage:
        return self.stages[0]

    def stage(self, key: str) -> Stage:
        return next(s for s in self.stages if s.key == key)

    def keys(self) -> list[str]:
        return [s.key for s in self.stages]

    def validate(self, failure_codes: set[str]) -> StageGraph:
        if not self.stages:
            raise InvalidInput("a campaign needs at least one stage", "stages")
        if len(self.stages) > MAX_STAGES:
            raise InvalidInput(f"a campaign has at most {MAX_STAGES} stages", "stages")
        keys = self.keys()
        if len(set(keys)) != len(keys):
            raise InvalidInput("stage keys must be unique", "stages")
        for index, stage in enumerate(self.stages):
            _validate_stage(stage, f"stages.{index}", set(keys), failure_codes)
        self._reject_cycles()
        self._reject_unreachable()
        return self

    def successors(self, key: str) -> list[str]:
        return [r.target_stage for r in self.stage(key).rules if r.then == "advance"]

    def _reject_cycles(self) -> None:
        state: dict[str, str] = {}

        def visit(key: str, path: list[str]) -> None:
            state[key] = "open"
            for nxt in self.successors(key):
                if state.get(nxt) == "open":
                    cycle = " → ".join(path[path.index(nxt):] + [nxt])
                    raise InvalidInput(f"the stage graph has a cycle: {cycle}", "stages")
                if nxt not in state:
                    visit(nxt, path + [nxt])
            state[key] = "done"

        for key in self.keys():
            if key not in state:
                visit(key, [key])

    def _reject_unreachable(self) -> None:
        seen, todo = set(), [self.entry.key]
        while todo:
            key = todo.pop()
            if key not in seen:
                seen.add(key)
                todo.extend(self.successors(key))
        missing = [k for k in self.keys() if k not in seen]
        if missing:
            raise InvalidInput(f"stages not reachable from the first stage: {', '.join(missing)}", "stages")


def _validate_stage(stage: Stage, field: str, keys: set[str], failure_codes: set[str]) -> None:
    if not stage.key or len(stage.key) > MAX_KEY or not stage.key.replace("_", "").replace("-", "").isalnum():
        raise InvalidInput(f"stage key must be 1-{MAX_KEY} letters, digits, '-' or '_'", f"{field}.key")
    if stage.action not in ACTIONS:
        raise InvalidInput(f"action must be one of {', '.join(ACTIONS)}", f"{field}.action")
    if not Decimal(0) <= stage.probability <= Decimal(1):
        raise InvalidInput("probability must be between 0 and 1", f"{field}.probability")
    if stage.expected_value < 0:
        raise InvalidInput("expected value must not be negative", f"{field}.expected_value")
    has_timeout_rule = any(r.when.kind == "timeout" for r in stage.rules)
    if (stage.timeout_days is not None) != has_timeout_rule:
        raise InvalidInput("a stage with timeout_days needs a timeout rule, and a timeout rule needs timeout_days",
                           f"{field}.timeout_days")
    seen: set[Condition] = set()
    for index, rule in enumerate(stage.rules):
        _validate_rule(rule, f"{field}.rules.{index}", stage.key, keys, failure_codes)
        if rule.when in seen:
            raise InvalidInput("two rules of a stage have the same condition", f"{field}.rules.{index}.when")
        seen.add(rule.when)


def _validate_rule(rule: Rule, field: str, own_key: str, keys: set[str], failure_codes: set[str]) -> None:
    allowed = CONDITION_VALUES.get(rule.when.kind, ())
    if rule.when.kind not in CONDITION_VALUES:
        raise InvalidInput(f"condition kind must be one of {', '.join(CONDITION_VALUES)}", f"{field}.when.kind")
    if allowed is not None and rule.when.value is not None and rule.when.value not in allowed:
        choices = ", ".join(allowed) or "none"
        raise InvalidInput(f"{rule.when.kind} value must be one of: {choices}", f"{field}.when.value")
    if rule.then not in OUTCOMES:
        raise InvalidInput(f"then must be one of {', '.join(OUTCOMES)}", f"{field}.then")
    if rule.then == "advance":
        if rule.target_stage not in keys:
            raise InvalidInput(f"unknown target stage {rule.target_stage!r}", f"{field}.target_stage")
        if rule.target_stage == own_key:
            raise InvalidInput(f"the stage graph has a cycle: {own_key} → {own_key}", f"{field}.target_stage")
    elif rule.target_stage is not None:
        raise InvalidInput("only an advance rule has a target stage", f"{field}.target_stage")
    if rule.then == "fail" and rule.failure_code not in failure_codes:
        raise InvalidInput(f"unknown failure code {rule.failure_code!r}: define it for the campaign first",
                           f"{field}.failure_code")
    if rule.then != "fail" and rule.failure_code is not None:
        raise InvalidInput("only a fail rule has a failure code", f"{field}.failure_code")
