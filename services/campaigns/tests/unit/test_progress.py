"""Moving participants with fakes: what each condition does to positions, history and events."""
from __future__ import annotations

from datetime import UTC, datetime

from fakes import FakeUnitOfWork

from crm_campaigns.domain.stages import Condition, Rule, Stage, StageGraph
from crm_campaigns.service_layer.progress import ConditionMet, add_participants, apply_conditions, exclude_party

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
GRAPH = StageGraph((
    Stage("call", "Call", "call", call_window_days=10, rules=(
        Rule(Condition("call_outcome", "interest_noted"), "advance", target_stage="visit"),
        Rule(Condition("call_outcome"), "fail", failure_code="no_interest"),
        Rule(Condition("manual", "skip"), "advance", target_stage="visit"))),
    Stage("visit", "Visit", "appointment", timeout_days=7, rules=(
        Rule(Condition("manual", "won"), "succeed"),
        Rule(Condition("timeout"), "fail", failure_code="stale"))),
))
REQUESTED = "crm.campaigns.campaign_call_requested.v1"
WITHDRAWN = "crm.campaigns.campaign_call_withdrawn.v1"
MOVED = "crm.campaigns.participant_moved.v1"


def active_campaign(uow, campaign_id="c1", parties=("p1",)):
    uow.campaigns.add_campaign(campaign_id, GRAPH)
    add_participants(uow, uow.campaigns.get(campaign_id), list(parties), "manual", NOW)
    return {p: uow.participations.by_party(campaign_id, p) for p in parties}


def test_joining_an_active_campaign_enters_the_first_stage_and_requests_a_call():
    uow = FakeUnitOfWork()
    row = active_campaign(uow)["p1"]
    assert (row["status"], row["stage_key"], row["request_id"]) == ("active", "call", f"{row['participation_id']}:call")
    request = next(e for e in uow.published if e.type == REQUESTED)
    assert request.data["window_start"] == "2026-11-22" and request.data["window_end"] == "2026-12-02"
    assert uow.types() == [MOVED, REQUESTED]


def test_a_draft_keeps_participants_selected_and_asks_for_nothing():
    uow = FakeUnitOfWork()
    uow.campaigns.add_campaign("c1", GRAPH, status="draft")
    add_participants(uow, uow.campaigns.get("c1"), ["p1", "p1", "p2"], "criteria", NOW)
    assert sorted(r["status"] for r in uow.participations.rows.values()) == ["selected", "selected"]
    assert uow.published == []


def test_the_call_outcome_of_the_current_request_advances_and_starts_the_time_out():
    uow = FakeUnitOfWork()
    row = active_campaign(uow)["p1"]
    uow.published.clear()
    done = apply_conditions(uow, [ConditionMet("call_outcome", "interest_noted", "call", request_id=row["request_id"])],
                            NOW)
    assert done.moved == {"entered:visit": 1}
    assert (row["stage_key"], row["request_id"], row["timeout_at"].day) == ("visit", None, 29)
    assert uow.types() == [MOVED]  # the call is over: nothing to withdraw
    assert uow.participations.history[-1]["condition_kind"] == "call_outcome"


def test_a_late_outcome_of_an_earlier_request_is_ignored():
    uow = FakeUnitOfWork()
    row = active_campaign(uow)["p1"]
    old_request = row["request_id"]
    apply_conditions(uow, [ConditionMet("manual", "skip", "m", participation_id=row["participation_id"])], NOW)
    done = apply_conditions(uow, [ConditionMet("call_outcome", "rejected", "late", request_id=old_request)], NOW)
    assert done.ignored == 1 and row["status"] == "active" and row["stage_key"] == "visit"


def test_leaving_a_call_stage_otherwise_withdraws_the_call():
    uow = FakeUnitOfWork()
    row = active_campaign(uow)["p1"]
    request_id = row["request_id"]
    uow.published.clear()
    apply_conditions(uow, [ConditionMet("manual", "skip", "m", participation_id=row["participation_id"])], NOW)
    assert uow.types() == [WITHDRAWN, MOVED]
    assert uow.published[0].data == {"request_id": request_id}


def test_a_catch_all_rule_fails_with_its_code_and_conditions_of_inactive_campaigns_are_ignored():
    uow = FakeUnitOfWork()
    rows = active_campaign(uow, parties=("p1", "p2"))
    apply_conditions(uow, [ConditionMet("call_outcome", "rejected", "x", request_id=rows["p1"]["request_id"])], NOW)
    assert (rows["p1"]["status"], rows["p1"]["failure_code"]) == ("failed", "no_interest")
    uow.campaigns.rows["c1"].status = "completed"
    done = apply_conditions(uow, [ConditionMet("call_outcome", "rejected", "x", request_id=rows["p2"]["request_id"])],
                            NOW)
    assert done.ignored == 1 and rows["p2"]["status"] == "active"


def test_two_conditions_for_one_participant_in_one_batch_apply_in_order():
    uow = FakeUnitOfWork()
    row = active_campaign(uow)["p1"]
    pid = row["participation_id"]
    done = apply_conditions(uow, [ConditionMet("manual", "skip", "a", participation_id=pid),
                                  ConditionMet("manual", "won", "b", participation_id=pid)], NOW)
    assert done.moved == {"entered:visit": 1, "succeeded": 1}
    assert row["status"] == "succeeded" and row["finished_at"] == NOW


def test_finishing_chains_into_the_follow_up_campaign():
    uow = FakeUnitOfWork()
    row = active_campaign(uow)["p1"]
    uow.campaigns.add_campaign("c2", GRAPH)
    uow.campaigns.chain_rows[("c1", "failed:no_interest")] = "c2"
    apply_conditions(uow, [ConditionMet("call_outcome", "rejected", "x", request_id=row["request_id"])], NOW)
    follow = uow.participations.by_party("c2", "p1")
    assert (follow["source"], follow["status"], follow["stage_key"]) == ("chain", "active", "call")


def test_deactivating_a_party_excludes_it_everywhere():
    uow = FakeUnitOfWork()
    row = active_campaign(uow)["p1"]
    uow.campaigns.add_campaign("c2", GRAPH, status="draft")
    add_participants(uow, uow.campaigns.get("c2"), ["p1"], "manual", NOW)
    uow.published.clear()
    assert exclude_party(uow, "p1", "deactivated", NOW) == 2
    assert row["status"] == "excluded" and uow.participations.by_party("c2", "p1")["status"] == "excluded"
    assert uow.types().count(WITHDRAWN) == 1
