"""Call scripts, the answers recorded against them, and the rejection-reason catalogue. Pure, no I/O.

A script is what an agent reads during a call: steps, each a prompt with optional questions. Scripts are
versioned: a change is a new version and old versions stay as they were, so a call keeps the script it was
made with. Steps are stored as JSON, so the rules here work on plain lists and dicts:

    [{"prompt": str, "questions": [{"id": str, "text": str, "kind": "text"|"yes_no"|"number"|"choice",
                                    "choices": [str, ...] (kind choice only), "required": bool}]}]
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crm_calls.domain.calls import CALL_TYPES
from crm_calls.domain.errors import Conflict, InvalidInput

QUESTION_KINDS = ("text", "yes_no", "number", "choice")
QUESTION_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
REASON_CODE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
CAMPAIGN_ID = re.compile(r"^[^\x00-\x20\x7f]([^\x00-\x1f\x7f]{0,62}[^\x00-\x20\x7f])?$")
MAX_NAME = 200
MAX_STEPS = 50
MAX_QUESTIONS = 50  # per step
MAX_PROMPT = 2000
MAX_QUESTION_TEXT = 500
MAX_CHOICES = 50
MAX_CHOICE = 200
MAX_LABEL = 200
MAX_TEXT_ANSWER = 4000


def _text(value: Any, field: str, max_length: int, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be a string", field)
    if not value.strip():
        raise InvalidInput(f"{what} must not be blank", field)
    if len(value) > max_length:
        raise InvalidInput(f"{what} must be at most {max_length} characters", field)
    if "\x00" in value:
        raise InvalidInput(f"{what} must not contain NUL characters", field)
    return value


# -- scripts --------------------------------------------------------------------------------------------
def validate_target(call_type: str | None, campaign_id: str | None) -> tuple[str | None, str | None]:
    """A script is for exactly one thing: a call type, or one campaign's calls."""
    if (call_type is None) == (campaign_id is None):
        raise InvalidInput("a script is for either a call_type or a campaign_id, exactly one of them", "call_type")
    if call_type is not None and call_type not in CALL_TYPES:
        raise InvalidInput(f"call_type must be one of {', '.join(CALL_TYPES)}", "call_type")
    if campaign_id is not None and (not isinstance(campaign_id, str) or not CAMPAIGN_ID.fullmatch(campaign_id)):
        raise InvalidInput("campaign_id must be 1 to 64 characters, without control characters or surrounding "
                           "spaces", "campaign_id")
    return call_type, campaign_id


def validate_name(name: Any) -> str:
    return _text(name, "name", MAX_NAME, "name").strip()


def validate_steps(steps: Any) -> list[dict[str, Any]]:
    """The steps in their stored form (defaults filled in), or InvalidInput naming the first bad field."""
    if not isinstance(steps, list) or isinstance(steps, str):
        raise InvalidInput("steps must be a list", "steps")
    if not steps:
        raise InvalidInput("a script needs at least one step", "steps")
    if len(steps) > MAX_STEPS:
        raise InvalidInput(f"a script has at most {MAX_STEPS} steps", "steps")
    seen: set[str] = set()
    return [_step(step, f"steps.{i}", seen) for i, step in enumerate(steps)]


def _step(step: Any, field: str, seen: set[str]) -> dict[str, Any]:
    if not isinstance(step, Mapping):
        raise InvalidInput("a step must be an object", field)
    unknown = sorted(set(step) - {"prompt", "questions"})
    if unknown:
        raise InvalidInput(f"unknown field {unknown[0]!r}", f"{field}.{unknown[0]}")
    prompt = _text(step.get("prompt"), f"{field}.prompt", MAX_PROMPT, "prompt")
    questions = step.get("questions", [])
    if not isinstance(questions, list):
        raise InvalidInput("questions must be a list", f"{field}.questions")
    if len(questions) > MAX_QUESTIONS:
        raise InvalidInput(f"a step has at most {MAX_QUESTIONS} questions", f"{field}.questions")
    return {"prompt": prompt,
            "questions": [_question(q, f"{field}.questions.{j}", seen) for j, q in enumerate(questions)]}


def _question(question: Any, field: str, seen: set[str]) -> dict[str, Any]:
    if not isinstance(question, Mapping):
        raise InvalidInput("a question must be an object", field)
    unknown = sorted(set(question) - {"id", "text", "kind", "choices", "required"})
    if unknown:
        raise InvalidInput(f"unknown field {unknown[0]!r}", f"{field}.{unknown[0]}")
    question_id = question.get("id")
    if not isinstance(question_id, str) or not QUESTION_ID.fullmatch(question_id):
        raise InvalidInput("a question id is a lowercase letter, then up to 63 lowercase letters, digits or '_'",
                           f"{field}.id")
    if question_id in seen:
        raise InvalidInput(f"question id {question_id!r} is used twice in this script", f"{field}.id")
    seen.add(question_id)
    text = _text(question.get("text"), f"{field}.text", MAX_QUESTION_TEXT, "text")
    kind = question.get("kind")
    if kind not in QUESTION_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(QUESTION_KINDS)}", f"{field}.kind")
    required = question.get("required", False)
    if not isinstance(required, bool):
        raise InvalidInput("required must be true or false", f"{field}.required")
    stored = {"id": question_id, "text": text, "kind": kind, "required": required}
    choices = question.get("choices")
    if kind != "choice":
        if choices is not None:
            raise InvalidInput("only a question of kind choice has choices", f"{field}.choices")
        return stored
    if not isinstance(choices, list) or not choices:
        raise InvalidInput("a question of kind choice needs a non-empty list of choices", f"{field}.choices")
    if len(choices) > MAX_CHOICES:
        raise InvalidInput(f"at most {MAX_CHOICES} choices", f"{field}.choices")
    for k, choice in enumerate(choices):
        _text(choice, f"{field}.choices.{k}", MAX_CHOICE, "a choice")
    if len(set(choices)) != len(choices):
        raise InvalidInput("choices must be different from each other", f"{field}.choices")
    return {**stored, "choices": list(choices)}


def questions_of(steps: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [q for step in steps for q in step.get("questions", ())]


def validate_answers(steps: Sequence[Mapping[str, Any]], answers: Mapping[str, Any] | None) -> dict[str, Any]:
    """The answers recorded for a call made with a script whose steps are `steps`.

    Refuses (InvalidInput naming `answers.<id>`) an answer to a question the script does not have, a missing
    answer to a required question, and an answer of the wrong type: yes_no takes true/false, number a finite
    number, choice one of the question's choices, text a string. `null` counts as not answered. Returns the
    answers given, without the `null`s.
    """
    if answers is None:
        answers = {}
    if not isinstance(answers, Mapping):
        raise InvalidInput("answers must be an object keyed by question id", "answers")
    questions = {q["id"]: q for q in questions_of(steps)}
    unknown = sorted(str(key) for key in answers if key not in questions)
    if unknown:
        raise InvalidInput(f"the script has no question {unknown[0]!r}", f"answers.{unknown[0]}")
    accepted: dict[str, Any] = {}
    for question_id, question in questions.items():
        value = answers.get(question_id)
        field = f"answers.{question_id}"
        if value is None or (question["kind"] == "text" and isinstance(value, str) and not value.strip()):
            if question.get("required", False):
                raise InvalidInput(f"question {question_id!r} must be answered", field)
            continue
        accepted[question_id] = _answer(question, value, field)
    return accepted


def _answer(question: Mapping[str, Any], value: Any, field: str) -> Any:
    kind = question["kind"]
    if kind == "yes_no":
        if not isinstance(value, bool):
            raise InvalidInput("the answer must be true or false", field)
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) or \
                (isinstance(value, float) and not math.isfinite(value)):
            raise InvalidInput("the answer must be a number", field)
    elif kind == "choice":
        if not isinstance(value, str) or value not in question.get("choices", ()):
            raise InvalidInput(f"the answer must be one of {', '.join(question.get('choices', ()))}", field)
    else:
        if not isinstance(value, str):
            raise InvalidInput("the answer must be text", field)
        if len(value) > MAX_TEXT_ANSWER:
            raise InvalidInput(f"the answer must be at most {MAX_TEXT_ANSWER} characters", field)
        if "\x00" in value:
            raise InvalidInput("the answer must not contain NUL characters", field)
    return value


@dataclass(frozen=True)
class ScriptVersion:
    """One stored version of a script."""
    script_id: str
    version: int
    name: str
    call_type: str | None
    campaign_id: str | None
    steps: list[dict[str, Any]]
    predefined: bool
    created_at: datetime
    created_by: str | None = None


@dataclass(frozen=True)
class ScriptChoice:
    """A candidate for `choose_script`: the latest version of a script, and when the script was first made."""
    script_id: str
    version: int
    call_type: str | None
    campaign_id: str | None
    first_created_at: datetime


def choose_script(candidates: Iterable[ScriptChoice], call_type: str,
                  campaign_id: str | None) -> ScriptChoice | None:
    """The script a call uses: the campaign's own script if it has one, else the script for the call type.
    Among several for the same thing, the most recently created script (then the greatest id) wins."""
    candidates = list(candidates)

    def newest(matching: list[ScriptChoice]) -> ScriptChoice | None:
        return max(matching, key=lambda c: (c.first_created_at, c.script_id)) if matching else None

    if campaign_id is not None:
        own = newest([c for c in candidates if c.campaign_id == campaign_id])
        if own is not None:
            return own
    return newest([c for c in candidates if c.campaign_id is None and c.call_type == call_type])


def next_version(current: ScriptVersion, name: Any, steps: Any, actor: str | None,
                 now: datetime) -> ScriptVersion:
    """A new version with new name and steps; what the script is for stays the same."""
    return ScriptVersion(script_id=current.script_id, version=current.version + 1, name=validate_name(name),
                         call_type=current.call_type, campaign_id=current.campaign_id,
                         steps=validate_steps(steps), predefined=current.predefined, created_at=now,
                         created_by=actor)


def new_script(script_id: str, name: Any, call_type: str | None, campaign_id: str | None, steps: Any,
               actor: str | None, now: datetime) -> ScriptVersion:
    name = validate_name(name)
    call_type, campaign_id = validate_target(call_type, campaign_id)
    return ScriptVersion(script_id=script_id, version=1, name=name, call_type=call_type, campaign_id=campaign_id,
                         steps=validate_steps(steps), predefined=False, created_at=now, created_by=actor)


def check_deletable(script: ScriptVersion, used_by_calls: bool) -> None:
    if script.predefined:
        raise Conflict("a predefined script cannot be deleted; give it a new version instead", "script_id")
    if used_by_calls:
        raise Conflict("calls refer to this script, so it is kept; give it a new version instead", "script_id")


# -- rejection reasons ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class RejectionReason:
    """Why a customer turned a call down. Never deleted (calls refer to the code); inactive ones are hidden
    from new outcomes."""
    code: str
    label: str
    active: bool = True

    def __post_init__(self):
        if not isinstance(self.code, str) or not REASON_CODE.fullmatch(self.code):
            raise InvalidInput("code is a lowercase letter, then 1 to 63 lowercase letters, digits or '_'", "code")
        object.__setattr__(self, "label", _text(self.label, "label", MAX_LABEL, "label").strip())
        if not isinstance(self.active, bool):
            raise InvalidInput("active must be true or false", "active")

    def changed(self, label: str | None = None, active: bool | None = None) -> RejectionReason:
        return RejectionReason(self.code, self.label if label is None else label,
                               self.active if active is None else active)
