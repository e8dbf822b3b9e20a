"""Target selection criteria over the party replica: which parties a campaign should reach.

Every criterion given must hold (they are combined with AND); inside one criterion the listed values are
alternatives (lifecycle states, kinds, lines, segments, postal ranges). Inactive parties are never selected.

Contact dates: `last_contact_before` also matches parties never contacted ("no contact since"), so it finds the
parties due for attention; `never_contacted=false` leaves those out. `last_contact_after` needs a contact.
Attribute criteria are typed by the attribute definitions (`with_attribute_types`) before a query is built;
`ne` and the comparisons match parties that have a value, `not_exists` those without one.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from crm_campaigns.domain.errors import InvalidInput
from crm_campaigns.domain.normalise import postal_key

LIFECYCLE_STATES = ("suspect", "prospect", "customer")
KINDS = ("company", "person")
OPERATORS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "exists", "not_exists")
ATTRIBUTE_TYPES = ("text", "number", "date", "boolean", "choice")
PRESENCE_OPERATORS = ("exists", "not_exists")
OPERATORS_BY_TYPE = {
    "text": OPERATORS,
    "number": OPERATORS,
    "date": OPERATORS,
    "boolean": ("eq", "ne", *PRESENCE_OPERATORS),
    "choice": ("eq", "ne", "in", *PRESENCE_OPERATORS),
}
MAX_POSTAL_RANGES = 100
MAX_VALUES = 200
MAX_ATTRIBUTE_CRITERIA = 20
MAX_TEXT = 1000


@dataclass(frozen=True)
class AttributeDefinition:
    """The replica's copy of an attribute the customers service defined."""
    name: str
    type: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class AttributeCriterion:
    name: str
    op: str
    value: Any = None
    type: str | None = None  # set by Criteria.with_attribute_types; the value is then of that type


@dataclass(frozen=True)
class Criteria:
    lifecycle_states: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    lines_of_business: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    postal_ranges: tuple[tuple[str, str], ...] = ()  # normalised postal keys, (from, to) inclusive
    attributes: tuple[AttributeCriterion, ...] = field(default=())
    last_contact_before: date | None = None
    last_contact_after: date | None = None
    never_contacted: bool | None = None

    def __post_init__(self):
        _check_subset(self.lifecycle_states, LIFECYCLE_STATES, "lifecycle_states")
        _check_subset(self.kinds, KINDS, "kinds")
        _check_names(self.lines_of_business, "lines_of_business")
        _check_names(self.segments, "segments")
        _check_postal_ranges(self.postal_ranges)
        _check_attributes(self.attributes)
        _check_contact(self.last_contact_before, self.last_contact_after, self.never_contacted)
        if not self.given():
            raise InvalidInput("give at least one criterion", "criteria")

    def given(self) -> list[str]:
        """The names of the criteria that restrict the selection."""
        values = {"lifecycle_states": self.lifecycle_states, "kinds": self.kinds,
                  "lines_of_business": self.lines_of_business, "segments": self.segments,
                  "postal_ranges": self.postal_ranges, "attributes": self.attributes,
                  "last_contact_before": self.last_contact_before, "last_contact_after": self.last_contact_after,
                  "never_contacted": self.never_contacted}
        return [name for name, value in values.items() if value not in ((), None)]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Criteria:
        """Criteria from a request body (lists, ISO date strings); raises InvalidInput naming the field."""
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise InvalidInput(f"unknown criterion: {unknown[0]}", unknown[0])
        return cls(
            lifecycle_states=_strings(data.get("lifecycle_states"), "lifecycle_states"),
            kinds=_strings(data.get("kinds"), "kinds"),
            lines_of_business=_strings(data.get("lines_of_business"), "lines_of_business"),
            segments=_strings(data.get("segments"), "segments"),
            postal_ranges=_postal_ranges(data.get("postal_ranges")),
            attributes=_attribute_criteria(data.get("attributes")),
            last_contact_before=_date(data.get("last_contact_before"), "last_contact_before"),
            last_contact_after=_date(data.get("last_contact_after"), "last_contact_after"),
            never_contacted=_optional_bool(data.get("never_contacted"), "never_contacted"),
        )

    def with_attribute_types(self, definitions: Mapping[str, AttributeDefinition]) -> Criteria:
        """The same criteria with each attribute value checked against, and converted to, its defined type."""
        typed = tuple(_typed(criterion, definitions.get(criterion.name), f"attributes.{index}")
                      for index, criterion in enumerate(self.attributes))
        return replace(self, attributes=typed)

    def lines_outside(self, allowed: set[str] | None) -> list[str]:
        """Lines of business named by the criteria that the caller may not see."""
        return [] if allowed is None else [line for line in self.lines_of_business if line not in allowed]


# -- structural checks ----------------------------------------------------------------------------------------

def _check_subset(values: tuple[str, ...], allowed: tuple[str, ...], name: str) -> None:
    _check_count(values, name)
    wrong = [v for v in values if v not in allowed]
    if wrong:
        raise InvalidInput(f"{name}: {wrong[0]!r} is not one of {', '.join(allowed)}", name)


def _check_names(values: tuple[str, ...], name: str) -> None:
    _check_count(values, name)
    if any(not isinstance(v, str) or not v.strip() or len(v) > 100 or "\x00" in v for v in values):
        raise InvalidInput(f"{name}: each value is a non-empty text of at most 100 characters", name)


def _check_count(values: tuple, name: str) -> None:
    if len(values) > MAX_VALUES:
        raise InvalidInput(f"{name}: at most {MAX_VALUES} values", name)


def _check_postal_ranges(ranges: tuple[tuple[str, str], ...]) -> None:
    if len(ranges) > MAX_POSTAL_RANGES:
        raise InvalidInput(f"at most {MAX_POSTAL_RANGES} postal code ranges", "postal_ranges")
    for index, (low, high) in enumerate(ranges):
        if not low or not high:
            raise InvalidInput("a postal code range needs a from and a to code", f"postal_ranges.{index}")
        if low > high:
            raise InvalidInput(f"the range starts after it ends ({low} > {high})", f"postal_ranges.{index}")


def _check_attributes(criteria: tuple[AttributeCriterion, ...]) -> None:
    if len(criteria) > MAX_ATTRIBUTE_CRITERIA:
        raise InvalidInput(f"at most {MAX_ATTRIBUTE_CRITERIA} attribute criteria", "attributes")
    for index, criterion in enumerate(criteria):
        where = f"attributes.{index}"
        if not isinstance(criterion.name, str) or not criterion.name or len(criterion.name) > 100:
            raise InvalidInput("an attribute criterion needs the attribute's name", f"{where}.name")
        if criterion.op not in OPERATORS:
            raise InvalidInput(f"op must be one of {', '.join(OPERATORS)}", f"{where}.op")
        if criterion.op in PRESENCE_OPERATORS and criterion.value is not None:
            raise InvalidInput(f"{criterion.op} takes no value", f"{where}.value")
        if criterion.op not in PRESENCE_OPERATORS and criterion.value is None:
            raise InvalidInput(f"{criterion.op} needs a value", f"{where}.value")
        if criterion.op == "in" and (not isinstance(criterion.value, (list, tuple)) or not criterion.value
                                     or len(criterion.value) > MAX_VALUES):
            raise InvalidInput(f"in takes a list of 1 to {MAX_VALUES} values", f"{where}.value")


def _check_contact(before: date | None, after: date | None, never: bool | None) -> None:
    if before is not None and after is not None and after >= before:
        raise InvalidInput("last_contact_after must be earlier than last_contact_before", "last_contact_after")
    if never and after is not None:
        raise InvalidInput("a party never contacted has no contact after a date", "never_contacted")


# -- parsing --------------------------------------------------------------------------------------------------

def _strings(values: Any, name: str) -> tuple[str, ...]:
    if values is None:
        return ()
    if not isinstance(values, (list, tuple)) or not all(isinstance(v, str) for v in values):
        raise InvalidInput(f"{name} must be a list of texts", name)
    return tuple(dict.fromkeys(v.strip() for v in values))


def _postal_ranges(values: Any) -> tuple[tuple[str, str], ...]:
    if values is None:
        return ()
    if not isinstance(values, (list, tuple)):
        raise InvalidInput("postal_ranges must be a list of [from, to] pairs", "postal_ranges")
    ranges = []
    for index, pair in enumerate(values):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2 or not all(isinstance(c, str) for c in pair):
            raise InvalidInput("a postal code range is a [from, to] pair of codes", f"postal_ranges.{index}")
        if any(len(code) > 20 or "\x00" in code for code in pair):
            raise InvalidInput("a postal code has at most 20 characters", f"postal_ranges.{index}")
        ranges.append((postal_key(pair[0]), postal_key(pair[1])))
    return tuple(ranges)


def _attribute_criteria(values: Any) -> tuple[AttributeCriterion, ...]:
    if values is None:
        return ()
    if not isinstance(values, (list, tuple)):
        raise InvalidInput("attributes must be a list of {name, op, value}", "attributes")
    criteria = []
    for index, item in enumerate(values):
        if isinstance(item, AttributeCriterion):
            criteria.append(item)
            continue
        if not isinstance(item, Mapping) or set(item) - {"name", "op", "value"}:
            raise InvalidInput("an attribute criterion is {name, op, value}", f"attributes.{index}")
        value = item.get("value")
        criteria.append(AttributeCriterion(item.get("name"), item.get("op"),
                                           tuple(value) if isinstance(value, list) else value))
    return tuple(criteria)


def _date(value: Any, name: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        if isinstance(value, str) and len(value) == 10:
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise InvalidInput(f"{name} must be a date (YYYY-MM-DD)", name)


def _optional_bool(value: Any, name: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise InvalidInput(f"{name} must be true or false", name)


# -- attribute types ------------------------------------------------------------------------------------------

def _typed(criterion: AttributeCriterion, definition: AttributeDefinition | None, where: str) -> AttributeCriterion:
    if definition is None:
        raise InvalidInput(f"no attribute named {criterion.name!r} is defined", f"{where}.name")
    if criterion.op not in OPERATORS_BY_TYPE[definition.type]:
        raise InvalidInput(f"a {definition.type} attribute takes the operators "
                           f"{', '.join(OPERATORS_BY_TYPE[definition.type])}", f"{where}.op")
    if criterion.op in PRESENCE_OPERATORS:
        return replace(criterion, type=definition.type)
    if criterion.op == "in":
        value: Any = tuple(dict.fromkeys(_typed_value(v, definition, f"{where}.value") for v in criterion.value))
    else:
        value = _typed_value(criterion.value, definition, f"{where}.value")
    return replace(criterion, value=value, type=definition.type)


def _typed_value(value: Any, definition: AttributeDefinition, where: str) -> Any:
    converted = _CONVERSIONS[definition.type](value, definition)
    if converted is None:
        choices = f" (one of {', '.join(definition.choices)})" if definition.type == "choice" else ""
        raise InvalidInput(f"{definition.name} is a {definition.type} attribute: {value!r} does not fit{choices}",
                           where)
    return converted


def _text(value: Any, _definition) -> str | None:
    return value if isinstance(value, str) and len(value) <= MAX_TEXT and "\x00" not in value else None


def _number(value: Any, _definition) -> Decimal | None:
    # true is an int to Python but not a number to a user
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return Decimal(str(value))


def _date_value(value: Any, _definition) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        return None


def _boolean(value: Any, _definition) -> bool | None:
    return value if isinstance(value, bool) else None


def _choice(value: Any, definition: AttributeDefinition) -> str | None:
    return value if isinstance(value, str) and value in definition.choices else None


_CONVERSIONS = {"text": _text, "number": _number, "date": _date_value, "boolean": _boolean, "choice": _choice}


def definitions_from_rows(rows: Iterable[Any]) -> dict[str, AttributeDefinition]:
    """Replica rows (name, type, choices) as definitions; a type this service does not know is skipped."""
    return {r.name: AttributeDefinition(r.name, r.type, tuple(r.choices or ()))
            for r in rows if r.type in ATTRIBUTE_TYPES}
