"""Evaluation maths with plain numbers: ratios, expected value per stage, the balance of a stage, ROI."""
from __future__ import annotations

from decimal import Decimal

from crm_campaigns.domain.evaluation import (Activity, Evaluation, StageCounts, budget_for, failure_counts, funnel,
                                             ratio, stage_figures)
from crm_campaigns.domain.stages import Stage, StageGraph

GRAPH = StageGraph((Stage("call", "First call", "call", Decimal("100"), Decimal("0.5")),
                    Stage("offer", "Offer", "mailing", Decimal("500"), Decimal("0.4"))))


def evaluation(started=10, responded=4, contacted=7, succeeded=2, actual_cost="300", planned_cost="250",
               revenue="900") -> Evaluation:
    activity = Activity(participants=12, started=started, responded=responded, contacted=contacted,
                        succeeded=succeeded, failed=3, excluded=1)
    budget = budget_for(None, activity.participants, Decimal("0.1"), Decimal("500"), Decimal(planned_cost),
                        Decimal(actual_cost), Decimal(revenue))
    return Evaluation((), activity, budget, ())


def test_ratio_is_undefined_without_a_whole():
    assert ratio(3, 0) is None
    assert ratio(Decimal("5"), Decimal("0.00")) is None
    assert ratio(0, 4) == Decimal("0.0000")
    assert ratio(2, 3) == Decimal("0.6667")
    assert ratio(Decimal("100"), 3, Decimal("0.01")) == Decimal("33.33")


def test_a_stage_balances_when_everyone_who_entered_is_accounted_for():
    counts = StageCounts(entered=10, waiting=2, moved_on=4, succeeded=1, failed={"a": 2, "b": 1}, excluded=0)
    assert counts.failed_total == 3
    assert counts.accounted == 10 and counts.balanced
    assert not StageCounts(entered=10, waiting=2, moved_on=4).balanced


def test_expected_value_weights_the_waiting_participants_by_probability():
    [call, offer] = stage_figures(GRAPH, {"call": StageCounts(entered=5, waiting=3), None: StageCounts()})
    assert call.expected_value == Decimal("150.00")  # 3 × 100 × 0.5
    assert offer.counts == StageCounts() and offer.expected_value == Decimal("0.00")


def test_stage_figures_follow_the_graph_order():
    figures = stage_figures(GRAPH, {"offer": StageCounts(entered=1), "call": StageCounts(entered=4)})
    assert funnel(figures) == (("call", "First call", 4), ("offer", "Offer", 1))
    assert stage_figures(None, {"call": StageCounts(entered=1)}) == []


def test_rates_and_costs_per_contact_and_success():
    result = evaluation()
    assert result.response_rate == Decimal("0.4000")
    assert result.conversion_rate == Decimal("0.2000")
    assert result.cost_per_contact == Decimal("42.86")  # 300 / 7
    assert result.cost_per_success == Decimal("150.00")


def test_ratios_without_denominators_are_none():
    result = evaluation(started=0, responded=0, contacted=0, succeeded=0)
    assert (result.response_rate, result.conversion_rate, result.cost_per_contact, result.cost_per_success) == \
        (None, None, None, None)


def test_estimated_revenue_uses_the_participant_count_without_an_expected_number():
    budget = evaluation().budget
    assert budget.expected_participants == 12
    assert budget.estimated_revenue == Decimal("600.00")  # 12 × 0.1 × 500
    assert budget.estimated_roi == Decimal("1.4000")     # (600 − 250) / 250
    assert budget.actual_roi == Decimal("2.0000")        # (900 − 300) / 300


def test_an_expected_number_of_zero_is_kept():
    budget = budget_for(0, 50, Decimal("0.5"), Decimal("10"), Decimal("100"), Decimal("0"), Decimal("0"))
    assert budget.estimated_revenue == Decimal("0.00")
    assert budget.estimated_roi == Decimal("-1.0000")


def test_roi_is_none_without_cost():
    result = evaluation(actual_cost="0", planned_cost="0", revenue="900")
    assert result.budget.estimated_roi is None
    assert result.budget.actual_roi is None
    assert result.cost_per_contact == Decimal("0.00")  # no cost is a cost of zero per contact, not undefined


def test_a_loss_gives_a_negative_roi():
    assert evaluation(actual_cost="1000", revenue="250").budget.actual_roi == Decimal("-0.7500")


def test_failure_counts_list_every_defined_code():
    counted = failure_counts({"no_interest": "Not interested", "unreachable": "Not reached"},
                             {"unreachable": 3, "retired": 1})
    assert [(f.code, f.description, f.count) for f in counted] == [
        ("no_interest", "Not interested", 0), ("retired", "", 1), ("unreachable", "Not reached", 3)]
