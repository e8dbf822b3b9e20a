"""Pure rules of call scripts, answers and rejection reasons: no database, no app."""
from __future__ import annotations

import copy
import importlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from crm_calls.domain.errors import Conflict, InvalidInput
from crm_calls.domain.scripts import (RejectionReason, ScriptChoice, check_deletable, choose_script, new_script,
                                      next_version, validate_answers, validate_steps, validate_target)

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
STEPS = [
    {"prompt": "Greet the customer.", "questions": []},
    {"prompt": "Ask about the offer.", "questions": [
        {"id": "interested", "text": "Interested?", "kind": "yes_no", "required": True},
        {"id": "budget", "text": "Budget", "kind": "number"},
        {"id": "size", "text": "Company size", "kind": "choice", "choices": ["small", "large"], "required": True},
        {"id": "notes", "text": "Notes", "kind": "text", "required": False},
    ]},
]


def _with(path: str, value, steps=None):
    """STEPS with the value at a dotted path replaced (or removed when value is ...)."""
    steps = copy.deepcopy(steps if steps is not None else STEPS)
    *parents, last = path.split(".")
    node = steps
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key = int(last) if isinstance(node, list) else last
    if value is ...:
        del node[key]
    else:
        node[key] = value
    return steps


def _refused(error: pytest.ExceptionInfo, field: str) -> None:
    assert error.value.field == field, (error.value.field, error.value.message)


# -- steps ------------------------------------------------------------------------------------------------
def test_valid_steps_get_their_defaults_filled_in():
    stored = validate_steps(STEPS)
    questions = stored[1]["questions"]
    assert [q["required"] for q in questions] == [True, False, True, False]
    assert "choices" not in questions[0] and questions[2]["choices"] == ["small", "large"]
    assert validate_steps([{"prompt": "Only a prompt"}]) == [{"prompt": "Only a prompt", "questions": []}]


@pytest.mark.parametrize("steps, field", [
    ([], "steps"),
    (None, "steps"),
    ("a step", "steps"),
    ([{"prompt": "x"}] * 51, "steps"),
    (["not an object"], "steps.0"),
    ([{"questions": []}], "steps.0.prompt"),
    ([{"prompt": "   "}], "steps.0.prompt"),
    ([{"prompt": "x" * 2001}], "steps.0.prompt"),
    ([{"prompt": "a\x00b"}], "steps.0.prompt"),
    ([{"prompt": "x", "colour": "red"}], "steps.0.colour"),
    ([{"prompt": "x", "questions": "none"}], "steps.0.questions"),
    ([{"prompt": "x", "questions": [{"id": f"q{i}", "text": "t", "kind": "text"} for i in range(51)]}],
     "steps.0.questions"),
    (_with("1.questions.0.id", "Interested"), "steps.1.questions.0.id"),
    (_with("1.questions.0.id", "1st"), "steps.1.questions.0.id"),
    (_with("1.questions.0.id", "a" * 65), "steps.1.questions.0.id"),
    (_with("1.questions.0.id", "ok\n"), "steps.1.questions.0.id"),
    (_with("1.questions.0.id", ...), "steps.1.questions.0.id"),
    (_with("1.questions.1.id", "interested"), "steps.1.questions.1.id"),
    (_with("1.questions.0.text", ""), "steps.1.questions.0.text"),
    (_with("1.questions.0.text", 5), "steps.1.questions.0.text"),
    (_with("1.questions.0.kind", "date"), "steps.1.questions.0.kind"),
    (_with("1.questions.0.kind", ...), "steps.1.questions.0.kind"),
    (_with("1.questions.0.required", "yes"), "steps.1.questions.0.required"),
    (_with("1.questions.0.choices", ["a", "b"]), "steps.1.questions.0.choices"),
    (_with("1.questions.0.choices", []), "steps.1.questions.0.choices"),
    (_with("1.questions.2.choices", ...), "steps.1.questions.2.choices"),
    (_with("1.questions.2.choices", []), "steps.1.questions.2.choices"),
    (_with("1.questions.2.choices", "small"), "steps.1.questions.2.choices"),
    (_with("1.questions.2.choices", ["small", "small"]), "steps.1.questions.2.choices"),
    (_with("1.questions.2.choices", ["small", " "]), "steps.1.questions.2.choices.1"),
    (_with("1.questions.2.choices", ["small", 3]), "steps.1.questions.2.choices.1"),
    (_with("1.questions.2.choices", [str(i) for i in range(51)]), "steps.1.questions.2.choices"),
    (_with("1.questions.3.hint", "x"), "steps.1.questions.3.hint"),
])
def test_bad_steps_are_refused_naming_the_field(steps, field):
    with pytest.raises(InvalidInput) as error:
        validate_steps(steps)
    _refused(error, field)


def test_question_ids_must_be_unique_across_steps_not_just_within_one():
    steps = STEPS + [{"prompt": "Again", "questions": [{"id": "budget", "text": "Budget again", "kind": "text"}]}]
    with pytest.raises(InvalidInput) as error:
        validate_steps(steps)
    _refused(error, "steps.2.questions.0.id")


# -- target, name, versions ---------------------------------------------------------------------------------
@pytest.mark.parametrize("call_type, campaign_id, field", [
    (None, None, "call_type"),
    ("campaign", "spring-2025", "call_type"),
    ("cold_call", None, "call_type"),
    (None, "", "campaign_id"),
    (None, " spring", "campaign_id"),
    (None, "x" * 65, "campaign_id"),
    (None, "a\x00b", "campaign_id"),
])
def test_a_script_is_for_exactly_one_call_type_or_campaign(call_type, campaign_id, field):
    with pytest.raises(InvalidInput) as error:
        validate_target(call_type, campaign_id)
    _refused(error, field)


def test_targets_that_are_fine():
    assert validate_target("maintenance", None) == ("maintenance", None)
    assert validate_target(None, "Spring campaign 2025") == (None, "Spring campaign 2025")


@pytest.mark.parametrize("name", ["", "   ", None, 7, "x" * 201, "a\x00"])
def test_a_script_needs_a_name(name):
    with pytest.raises(InvalidInput) as error:
        new_script("s1", name, "service", None, STEPS, "alice", NOW)
    _refused(error, "name")


def test_new_script_starts_at_version_one_and_a_revision_keeps_the_target():
    script = new_script("s1", "  Spring offer ", None, "spring", STEPS, "alice", NOW)
    assert (script.version, script.name, script.campaign_id, script.call_type, script.predefined) == \
        (1, "Spring offer", "spring", None, False)
    later = NOW + timedelta(days=1)
    revised = next_version(script, "Spring offer v2", [{"prompt": "Shorter"}], "bob", later)
    assert (revised.script_id, revised.version, revised.campaign_id, revised.created_by, revised.created_at) == \
        ("s1", 2, "spring", "bob", later)
    assert script.steps == validate_steps(STEPS)  # the old version is a different, unchanged object
    with pytest.raises(InvalidInput) as error:
        next_version(script, "Broken", [], "bob", later)
    _refused(error, "steps")


def test_predefined_and_used_scripts_are_not_deleted():
    script = new_script("s1", "Mine", "service", None, STEPS, "alice", NOW)
    check_deletable(script, used_by_calls=False)
    with pytest.raises(Conflict):
        check_deletable(script, used_by_calls=True)
    with pytest.raises(Conflict):
        check_deletable(replace(script, predefined=True), used_by_calls=False)


# -- choosing the script of a call --------------------------------------------------------------------------
def _choice(script_id, call_type=None, campaign_id=None, days=0, version=1):
    return ScriptChoice(script_id, version, call_type, campaign_id, NOW + timedelta(days=days))


def test_the_campaigns_own_script_wins_over_the_call_types():
    candidates = [_choice("type", call_type="campaign"), _choice("own", campaign_id="spring", days=-5),
                  _choice("other", campaign_id="autumn", days=3)]
    assert choose_script(candidates, "campaign", "spring").script_id == "own"
    assert choose_script(candidates, "campaign", "winter").script_id == "type"
    assert choose_script(candidates, "campaign", None).script_id == "type"
    assert choose_script(candidates, "service", "winter") is None


def test_among_several_the_most_recently_created_script_wins():
    candidates = [_choice("old", call_type="service", days=-10, version=7), _choice("new", call_type="service"),
                  _choice("older-campaign", campaign_id="spring", days=-3),
                  _choice("newer-campaign", campaign_id="spring", days=-1)]
    assert choose_script(candidates, "service", None).script_id == "new"
    assert choose_script(candidates, "telemarketing", "spring").script_id == "newer-campaign"


# -- answers ------------------------------------------------------------------------------------------------
def test_good_answers_come_back_without_the_nulls():
    answers = {"interested": False, "budget": 2500.5, "size": "large", "notes": None}
    assert validate_answers(STEPS, answers) == {"interested": False, "budget": 2500.5, "size": "large"}
    assert validate_answers(STEPS, {"interested": True, "size": "small", "budget": 0, "notes": "call in May"}) \
        == {"interested": True, "size": "small", "budget": 0, "notes": "call in May"}
    assert validate_answers([{"prompt": "Hi", "questions": []}], None) == {}
    assert validate_answers([{"prompt": "Hi", "questions": []}], {}) == {}


@pytest.mark.parametrize("answers, field", [
    ({"interested": True, "size": "small", "colour": "red"}, "answers.colour"),
    ({"size": "small"}, "answers.interested"),
    ({"interested": None, "size": "small"}, "answers.interested"),
    ({"interested": True}, "answers.size"),
    ({"interested": "yes", "size": "small"}, "answers.interested"),
    ({"interested": 1, "size": "small"}, "answers.interested"),
    ({"interested": True, "size": "small", "budget": "1000"}, "answers.budget"),
    ({"interested": True, "size": "small", "budget": True}, "answers.budget"),
    ({"interested": True, "size": "small", "budget": float("nan")}, "answers.budget"),
    ({"interested": True, "size": "small", "budget": float("inf")}, "answers.budget"),
    ({"interested": True, "size": "medium"}, "answers.size"),
    ({"interested": True, "size": ["small"]}, "answers.size"),
    ({"interested": True, "size": "small", "notes": 42}, "answers.notes"),
    ({"interested": True, "size": "small", "notes": "x" * 4001}, "answers.notes"),
    ({"interested": True, "size": "small", "notes": "a\x00"}, "answers.notes"),
    (["interested"], "answers"),
    ("yes", "answers"),
])
def test_bad_answers_are_refused_naming_the_question(answers, field):
    with pytest.raises(InvalidInput) as error:
        validate_answers(validate_steps(STEPS), answers)
    _refused(error, field)


def test_a_blank_text_answer_does_not_answer_a_required_text_question():
    steps = [{"prompt": "p", "questions": [{"id": "why", "text": "Why?", "kind": "text", "required": True}]}]
    with pytest.raises(InvalidInput) as error:
        validate_answers(steps, {"why": "   "})
    _refused(error, "answers.why")
    assert validate_answers(steps, {"why": "price"}) == {"why": "price"}


def test_answers_work_on_the_stored_form_of_the_seeded_scripts():
    seeded = importlib.import_module("crm_calls.migrations.versions.0002_call_planning").PREDEFINED_SCRIPTS
    for call_type, _name, steps in seeded:
        assert validate_steps(steps) == steps, call_type
    maintenance = next(steps for call_type, _, steps in seeded if call_type == "maintenance")
    assert validate_answers(maintenance, {"satisfaction": 4}) == {"satisfaction": 4}
    with pytest.raises(InvalidInput) as error:
        validate_answers(maintenance, {"open_issues": "none"})
    _refused(error, "answers.satisfaction")


# -- rejection reasons -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("code, label, field", [
    ("x", "One letter", "code"),
    ("No_Interest", "Caps", "code"),
    ("1st", "Digit first", "code"),
    ("no-interest", "Dash", "code"),
    ("a" * 65, "Long", "code"),
    ("too_long\n", "Newline", "code"),
    ("price", "", "label"),
    ("price", "  ", "label"),
    ("price", "x" * 201, "label"),
    ("price", None, "label"),
])
def test_bad_reasons_are_refused(code, label, field):
    with pytest.raises(InvalidInput) as error:
        RejectionReason(code, label)
    _refused(error, field)


def test_a_reason_can_be_relabelled_and_deactivated():
    reason = RejectionReason("too_expensive", " Too expensive ")
    assert reason.label == "Too expensive" and reason.active
    assert reason.changed(active=False) == RejectionReason("too_expensive", "Too expensive", False)
    assert reason.changed(label="Price").label == "Price"
    with pytest.raises(InvalidInput):
        reason.changed(label="")
