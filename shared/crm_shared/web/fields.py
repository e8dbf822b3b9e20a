"""Marshmallow fields every service's schemas share, so that a value the schema accepts is one the database
column holds and the code's arithmetic can work with, and so that the OpenAPI document says what is sent.

- `Int32`: an integer a PostgreSQL `integer` column holds (-2**31 .. 2**31-1), narrower bounds if given.
- `Day`, `Instant`: a calendar day or an instant with a UTC offset from 1900 to 2999. Python's dates end in
  year 9999, so a day near it overflows as soon as days are added; PostgreSQL refuses year 0.
- `Month`: `YYYY-MM` from 1900-01 to 2999-12, kept as that string.
- `DecimalString` and `Money`: exact decimals as JSON strings (`"1200.50"`), never JSON numbers, which
  clients parse as binary floats that lose cents. Documented as `type: string, format: decimal` with a
  pattern; input with more decimals or digits than the NUMERIC column holds, a JSON number, NaN, Infinity or
  an exponent is refused.
"""
from __future__ import annotations

import decimal
import re
from datetime import UTC, date, datetime
from typing import Any

from marshmallow import ValidationError, fields, validate

from crm_shared.web.errors import ProblemError

INT32_MIN, INT32_MAX = -(2 ** 31), 2 ** 31 - 1
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(2999, 12, 31)
EARLIEST_INSTANT = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_INSTANT = datetime(2999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
MONTH_PATTERN = r"^(19[0-9]{2}|2[0-9]{3})-(0[1-9]|1[0-2])$"
MONEY_PLACES, MONEY_PRECISION = 2, 14  # NUMERIC(14, 2): up to 999,999,999,999.99
_DECIMAL_TEXT = re.compile(r"-?([0-9]+)(?:\.([0-9]+))?")
_MAX_TEXT = 64  # longer input is refused before it is parsed


def _documented(metadata: dict | None, note: str, **properties) -> dict:
    """The field's OpenAPI metadata: `properties` unless given, and the note added to any description."""
    given = dict(metadata or {})
    described = f"{given['description']} ({note})" if given.get("description") else note
    return {**properties, **given, "description": described}


def _validators(validate_option) -> list:
    if validate_option is None:
        return []
    return list(validate_option) if isinstance(validate_option, list | tuple) else [validate_option]


class Int32(fields.Integer):
    """An integer within -2**31 .. 2**31-1, or within `minimum` .. `maximum` when they are narrower.

    A JSON number is taken only when it is an integer: marshmallow's plain `Integer` truncates `2.5` and
    `2.589e-42` to an integer it then stores. Text (a query string or a form) may spell the integer in
    decimal digits ("5"); `strict=True` takes JSON integers only. Booleans are never integers."""

    _TEXT = re.compile(r"[+-]?[0-9]{1,12}")

    def __init__(self, *, minimum: int = INT32_MIN, maximum: int = INT32_MAX, **kwargs):
        if not INT32_MIN <= minimum <= maximum <= INT32_MAX:
            raise ValueError(f"Int32 bounds must lie within {INT32_MIN}..{INT32_MAX}")
        bounds = validate.Range(minimum, maximum)
        kwargs["metadata"] = {"format": "int32", **(kwargs.get("metadata") or {})}
        super().__init__(validate=[bounds, *_validators(kwargs.pop("validate", None))], **kwargs)

    def _validated(self, value: Any) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and not self.strict and self._TEXT.fullmatch(value.strip()):
            return int(value)
        raise self.make_error("invalid", input=value)


class Day(fields.Date):
    """A calendar day (`YYYY-MM-DD`) from 1900-01-01 to 2999-12-31."""

    def __init__(self, **kwargs):
        bounds = validate.Range(EARLIEST_DAY, LATEST_DAY, error=f"must be from {EARLIEST_DAY} to {LATEST_DAY}")
        kwargs["metadata"] = _documented(kwargs.get("metadata"), f"from {EARLIEST_DAY} to {LATEST_DAY}")
        super().__init__(validate=[bounds, *_validators(kwargs.pop("validate", None))], **kwargs)


class Instant(fields.AwareDateTime):
    """A date-time with a UTC offset whose UTC time is in 1900..2999 (so converting and adding days works)."""

    def __init__(self, **kwargs):
        kwargs["metadata"] = _documented(kwargs.get("metadata"), "with a UTC offset, in the years 1900 to 2999",
                                         **{"x-minimum": EARLIEST_INSTANT.isoformat(),
                                            "x-maximum": LATEST_INSTANT.isoformat()})
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        instant = super()._deserialize(value, attr, data, **kwargs)
        try:
            inside = EARLIEST_INSTANT <= instant.astimezone(UTC) <= LATEST_INSTANT
        except OverflowError:
            inside = False
        if not inside:
            raise ValidationError("must be in the years 1900 to 2999 (UTC)")
        return instant


class Month(fields.String):
    """A month as `YYYY-MM` from 1900-01 to 2999-12; the value stays that string."""

    def __init__(self, **kwargs):
        pattern = validate.Regexp(MONTH_PATTERN, error="expected YYYY-MM from 1900-01 to 2999-12")
        kwargs["metadata"] = _documented(kwargs.get("metadata"), "YYYY-MM, from 1900-01 to 2999-12",
                                         example="2025-03")
        super().__init__(validate=[pattern, *_validators(kwargs.pop("validate", None))], **kwargs)


class DecimalString(fields.Field):
    """An exact decimal as a JSON string: `"-12.5"`, `"1200.50"`; loaded as `decimal.Decimal`.

    - `places`: at most this many decimals on input (nothing is rounded away); exactly this many on output.
    - `precision`: at most this many digits in all on input, as NUMERIC(precision, places); None for values
      that are only ever sent (sums, ratios), whose size the code decides.
    A `Range` validator with a lower bound of 0 or more makes the documented pattern unsigned."""

    default_error_messages = {
        "invalid": 'Not a valid decimal string: give digits as a JSON string, e.g. "12.50".',
        "places": "At most {places} decimal places.",
        "digits": "At most {digits} digits before the decimal point.",
    }

    def __init__(self, *, places: int, precision: int | None = None, **kwargs):
        if precision is not None and precision <= places:
            raise ValueError("precision must be larger than places")
        self.places, self.precision = places, precision
        self._quantum = decimal.Decimal(1).scaleb(-places)
        validators = _validators(kwargs.pop("validate", None))
        unsigned = any(getattr(v, "min", None) is not None and v.min >= 0 for v in validators)
        digits = "+" if precision is None else f"{{1,{precision - places}}}"
        decimals = rf"(\.[0-9]{{1,{places}}})?" if places else ""
        bounds = "" if precision is None else f", at most {precision - places} digits before the point"
        example = "0" if places == 0 else "0." + "0" * places
        kwargs["metadata"] = _documented(
            kwargs.get("metadata"), f"a decimal as a string, up to {places} decimal places{bounds}",
            type="string", format="decimal", example=example, pattern=f"^{'' if unsigned else '-?'}[0-9]{digits}"
                                                                      f"{decimals}$",
            **{"x-decimal-places": places})
        super().__init__(validate=validators, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> decimal.Decimal:
        if not isinstance(value, str) or len(value) > _MAX_TEXT:
            raise self.make_error("invalid")
        match = _DECIMAL_TEXT.fullmatch(value)
        if match is None:
            raise self.make_error("invalid")
        whole, fraction = match[1], match[2] or ""
        if len(fraction) > self.places:
            raise self.make_error("places", places=self.places)
        if self.precision is not None and len(whole.lstrip("0")) > self.precision - self.places:
            raise self.make_error("digits", digits=self.precision - self.places)
        return decimal.Decimal(value)

    def _serialize(self, value, attr, obj, **kwargs) -> str | None:
        if value is None:
            return None
        number = value if isinstance(value, decimal.Decimal) else decimal.Decimal(str(value))
        return format(number.quantize(self._quantum, rounding=decimal.ROUND_HALF_EVEN), "f")


def Money(*, precision: int | None = MONEY_PRECISION, **kwargs) -> DecimalString:  # noqa: N802 - a field type
    """An amount of money: a decimal string with up to 2 decimals, sent with exactly 2 (`"1200.50"`). Input
    holds in the services' money columns, NUMERIC(14, 2); `precision=None` for sums that are only sent."""
    return DecimalString(places=MONEY_PLACES, precision=precision, **kwargs)


def path_value(field: fields.Field, value: str, name: str, *, status: int = 400) -> Any:
    """A path parameter read with a field of this module (or any marshmallow field), or a problem naming it."""
    try:
        return field.deserialize(value)
    except ValidationError as error:
        messages = error.messages if isinstance(error.messages, list) else [str(error.messages)]
        title = "Bad Request" if status == 400 else "Unprocessable Entity"
        raise ProblemError(status, title, f"The path parameter {name} is malformed.",
                           [{"location": "path", "field": name, "message": str(m)} for m in messages]) from None
