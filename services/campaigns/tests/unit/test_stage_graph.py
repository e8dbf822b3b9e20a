"""The stage graph's rules: what a campaign may be designed as, and where a condition leads."""
from __future__ import annotations

from decimal import Decimal

import pytest

from crm_campaigns.domain.errors import InvalidInput
from crm_campaigns.domain.participants import Position, chain_key, decide
from crm_campaigns.domain.stages import Condition, Rule, Stage, StageGraph

CODES = {"no_interest", "timeout"}


def advance(kind, value, target):
    return Rule(Condition(kind, value), "advance", target_stage=target)


def fail(kind, value, code="no_interest"):
    return Rule(Condition(kind, value), "fail", failure_code=code)


def stage(key, *rules, action="call", **fields):
    return Stage(key=key, name=key.title(), action=action, rules=tuple(rules), **fields)


def graph(*stages):
    return StageGraph(tuple(stages))


def test_a_linear_graph_is_valid():
    g = graph(stage("a", advance("call_outcome", "reached", "b")), stage("b", Rule(Condition("manual"), "succeed")))
    assert g.validate(CODES) is g


@pytest.mark.parametrize("stages, message, field", [
    ((), "at least one stage", "stages"),
    ((stage("a", advance("call_outcome", "reached", "b")), stage("b", advance("manual", "x", "a"))),
     "cycle: a → b → a", "stages"),
    ((stage("a", advance("call_outcome", "reached", "a")),), "cycle: a → a", "stages.0.rules.0.target_stage"),
    ((stage("a"), stage("b")), "not reachable from the first stage: b", "stages"),
    ((stage("a"), stage("a")), "unique", "stages"),
    ((stage("a", probability=Decimal("1.5")),), "between 0 and 1", "stages.0.probability"),
    ((stage("a", probability=Decimal("-0.1")),), "between 0 and 1", "stages.0.probability"),
    ((stage("a", expected_value=Decimal("-1")),), "not be negative", "stages.0.expected_value"),
    ((stage("a", action="fax"),), "action must be one of", "stages.0.action"),
    ((stage("bad key"),), "stage key", "stages.0.key"),
    ((stage("a", advance("call_outcome", "reached", "zzz")),), "unknown target stage", "stages.0.rules.0.target_stage"),
    ((stage("a", fail("call_outcome", "rejected", "unknown")),), "unknown failure code",
     "stages.0.rules.0.failure_code"),
    ((stage("a", Rule(Condition("call_outcome", "exploded"), "succeed")),), "value must be one of",
     "stages.0.rules.0.when.value"),
    ((stage("a", Rule(Condition("telepathy"), "succeed")),), "condition kind", "stages.0.rules.0.when.kind"),
    ((stage("a", Rule(Condition("manual"), "dance")),), "then must be one of", "stages.0.rules.0.then"),
    ((stage("a", Rule(Condition("manual"), "succeed"), Rule(Condition("manual"), "succeed")),), "same condition",
     "stages.0.rules.1.when"),
    ((stage("a", timeout_days=3),), "timeout rule", "stages.0.timeout_days"),
    ((stage("a", fail("timeout", None, "timeout")),), "timeout rule", "stages.0.timeout_days"),
    ((stage("a", Rule(Condition("manual"), "succeed", failure_code="no_interest")),), "only a fail rule",
     "stages.0.rules.0.failure_code"),
    ((stage("a", Rule(Condition("manual"), "succeed", target_stage="a")),), "only an advance rule",
     "stages.0.rules.0.target_stage"),
])
def test_invalid_graphs_are_refused_naming_the_field(stages, message, field):
    with pytest.raises(InvalidInput) as refused:
        graph(*stages).validate(CODES)
    assert message in refused.value.message
    assert refused.value.field == field


def test_an_exact_rule_wins_over_a_catch_all():
    s = stage("a", fail("call_outcome", None, "timeout"), advance("call_outcome", "interest_noted", "b"))
    g = graph(s, stage("b"))
    position = Position("p", "c", "party", "a", "active", "p:a")
    assert decide(g, position, "call_outcome", "interest_noted", "x").to_stage == "b"
    caught = decide(g, position, "call_outcome", "rejected", "x")
    assert (caught.result, caught.failure_code, caught.condition) == ("failed", "timeout", ("call_outcome", "rejected"))


def test_conditions_without_a_rule_or_for_finished_participants_move_nothing():
    g = graph(stage("a", Rule(Condition("manual", "won"), "succeed")))
    assert decide(g, Position("p", "c", "x", "a", "active"), "manual", "lost", "x") is None
    assert decide(g, Position("p", "c", "x", "a", "failed"), "manual", "won", "x") is None
    assert decide(g, Position("p", "c", "x", None, "selected"), "manual", "won", "x") is None
    assert decide(g, Position("p", "c", "x", "a", "active"), "manual", "won", "x").result == "succeeded"


def test_chain_triggers_go_from_the_failure_code_to_the_result():
    assert chain_key("failed", "no_interest") == ["failed:no_interest", "failed"]
    assert chain_key("succeeded", None) == ["succeeded"]
