"""Custom attributes an administrator defines (company_size, information_source, ...), and their values."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from crm_customers.domain.errors import InvalidAttributeValue

MAX_TEXT_LENGTH = 1000


class AttributeType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    BOOLEAN = "boolean"
    CHOICE = "choice"


@dataclass(frozen=True)
class AttributeDefinition:
    name: str
    type: AttributeType
    choices: tuple[str, ...] = ()

    def __post_init__(self):
        if (self.type == AttributeType.CHOICE) != bool(self.choices):
            raise InvalidAttributeValue("choices are required for type choice and only for it", "choices")
        if len(set(self.choices)) != len(self.choices):
            raise InvalidAttributeValue("choices must be unique", "choices")

    def validate(self, value: Any) -> Any:
        """The value as stored (dates as ISO strings, so they compare and index as text); raises if it does not fit."""
        check = _CHECKS[self.type]
        stored = check(self, value)
        if stored is _INVALID:
            raise InvalidAttributeValue(f"{self.name} must be a {self.type.value}"
                                        + (f" (one of {', '.join(self.choices)})" if self.choices else ""),
                                        f"attributes.{self.name}")
        return stored


_INVALID = object()


def _text(_definition, value):
    return value if isinstance(value, str) and len(value) <= MAX_TEXT_LENGTH and "\x00" not in value else _INVALID


def _number(_definition, value):
    # bool is an int in Python, but true is not a number to a user. An integer too large for a float (searches
    # compare numbers as floats) is refused like infinity; math.isfinite would raise OverflowError on it.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return _INVALID
    try:
        return value if math.isfinite(float(value)) else _INVALID
    except OverflowError:
        return _INVALID


def _date(_definition, value):
    if not isinstance(value, str):
        return _INVALID
    try:
        return date.fromisoformat(value).isoformat() if len(value) == 10 else _INVALID
    except ValueError:
        return _INVALID


def _boolean(_definition, value):
    return value if isinstance(value, bool) else _INVALID


def _choice(definition, value):
    return value if isinstance(value, str) and value in definition.choices else _INVALID


_CHECKS = {
    AttributeType.TEXT: _text,
    AttributeType.NUMBER: _number,
    AttributeType.DATE: _date,
    AttributeType.BOOLEAN: _boolean,
    AttributeType.CHOICE: _choice,
}


def validate_values(definitions: dict[str, AttributeDefinition], values: dict[str, Any]) -> dict[str, Any]:
    """Every value checked against its definition; a name nobody defined is refused, not silently kept.
    None passes through: it means "remove the value" and is allowed for any defined attribute."""
    validated = {}
    for name, value in values.items():
        definition = definitions.get(name)
        if definition is None:
            raise InvalidAttributeValue(f"no attribute named {name!r} is defined", f"attributes.{name}")
        validated[name] = None if value is None else definition.validate(value)
    return validated


def values_that_fit(definitions: dict[str, AttributeDefinition],
                    values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """For data no user typed (an imported list): the values that fit their definitions, and for each other
    one the reason it does not, so one odd column costs that value and not the whole record."""
    kept, refused = {}, {}
    for name, value in values.items():
        try:
            kept.update(validate_values(definitions, {name: value}))
        except InvalidAttributeValue as exc:
            refused[name] = exc.message
    return kept, refused
