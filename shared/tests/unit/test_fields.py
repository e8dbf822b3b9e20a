"""The shared schema fields: what they accept, what they send, and what the OpenAPI document says of them."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, ValidationError, validate

from crm_shared.web.errors import ProblemError
from crm_shared.web.fields import INT32_MAX, INT32_MIN, Day, DecimalString, Instant, Int32, Money, Month, path_value


class Sample(Schema):
    price = Money(validate=validate.Range(min=0))
    balance = Money(allow_none=True)
    total = Money(precision=None)
    rate = DecimalString(places=4, precision=5, validate=validate.Range(0, 1))
    count = Int32(strict=True)
    small = Int32(minimum=1, maximum=10)
    day = Day()
    at = Instant()
    month = Month()


def properties() -> dict:
    spec = APISpec("t", "1", "3.0.3", plugins=[MarshmallowPlugin()])
    spec.components.schema("Sample", schema=Sample)
    return spec.to_dict()["components"]["schemas"]["Sample"]["properties"]


def refused(**data) -> dict:
    with pytest.raises(ValidationError) as caught:
        Sample().load(data)
    return caught.value.messages


@pytest.mark.parametrize("text, expected", [("0", Decimal("0")), ("12", Decimal("12")), ("12.5", Decimal("12.5")),
                                            ("999999999999.99", Decimal("999999999999.99")),
                                            ("000000000000000001", Decimal(1))])
def test_money_takes_decimal_strings_as_they_are(text, expected):
    assert Sample().load({"price": text})["price"] == expected


@pytest.mark.parametrize("value", [12, 12.5, True, "1e3", "NaN", "nan", "Infinity", "-Infinity", "sNaN", "12.345",
                                   "1,00", " 12", "12 ", "", "+5", ".5", "5.", "0x10", "1000000000000", "١٢",
                                   "9" * 100, [], {}])
def test_money_refuses_anything_else(value):
    assert "price" in refused(price=value)


def test_money_refuses_a_negative_amount_only_where_the_range_says_so():
    assert "price" in refused(price="-1")
    assert Sample().load({"balance": "-12.30"})["balance"] == Decimal("-12.30")


def test_a_rate_keeps_its_column_precision():
    assert Sample().load({"rate": "0.1234"})["rate"] == Decimal("0.1234")
    for value in ("0.12345", "10", "1.5", 0.5):
        assert "rate" in refused(rate=value), value


def test_money_is_sent_as_a_string_with_two_decimals():
    sent = Sample().dump({"price": Decimal("1200.5"), "balance": None, "total": Decimal("123456789012345.678"),
                          "rate": Decimal("0.1")})
    assert sent == {"price": "1200.50", "balance": None, "total": "123456789012345.68", "rate": "0.1000"}
    assert Sample().dump({"total": Decimal("1E+3")}) == {"total": "1000.00"}  # never an exponent


def test_money_and_rates_are_documented_as_decimal_strings():
    props = properties()
    assert {k: props["price"][k] for k in ("type", "format", "pattern", "x-decimal-places")} == {
        "type": "string", "format": "decimal", "pattern": r"^[0-9]{1,12}(\.[0-9]{1,2})?$", "x-decimal-places": 2}
    assert "minimum" not in props["price"]  # a JSON-schema bound of numbers; the string's bound is x-minimum
    assert props["balance"]["pattern"] == r"^-?[0-9]{1,12}(\.[0-9]{1,2})?$" and props["balance"]["nullable"]
    assert props["total"]["pattern"] == r"^-?[0-9]+(\.[0-9]{1,2})?$"
    assert props["rate"]["pattern"] == r"^[0-9]{1,1}(\.[0-9]{1,4})?$"
    for name in ("price", "balance", "total", "rate"):
        assert re.fullmatch(props[name]["pattern"], props[name]["example"])
        assert "decimal" in props[name]["description"]


def test_int32_holds_what_a_postgresql_integer_holds():
    assert Sample().load({"count": INT32_MAX})["count"] == INT32_MAX
    assert Sample().load({"count": INT32_MIN})["count"] == INT32_MIN
    for value in (INT32_MAX + 1, INT32_MIN - 1, 10 ** 30, "5", 5.5):
        assert "count" in refused(count=value), value
    assert "small" in refused(small=11)
    props = properties()
    assert (props["count"]["type"], props["count"]["format"], props["count"]["minimum"], props["count"]["maximum"]) \
        == ("integer", "int32", INT32_MIN, INT32_MAX)
    assert (props["small"]["minimum"], props["small"]["maximum"]) == (1, 10)
    with pytest.raises(ValueError):
        Int32(maximum=INT32_MAX + 1)


def test_days_are_from_1900_to_2999():
    assert Sample().load({"day": "1900-01-01"})["day"] == date(1900, 1, 1)
    assert Sample().load({"day": "2999-12-31"})["day"] == date(2999, 12, 31)
    for value in ("1899-12-31", "3000-01-01", "9999-12-31", "0001-01-01", "0000-01-01"):
        assert "day" in refused(day=value), value
    assert (properties()["day"]["x-minimum"], properties()["day"]["x-maximum"]) == ("1900-01-01", "2999-12-31")


def test_instants_are_in_1900_to_2999_in_utc_and_need_an_offset():
    loaded = Sample().load({"at": "2999-12-31T18:00:00-05:00"})["at"]
    assert loaded.utcoffset() == timedelta(hours=-5)
    for value in ("9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+01:00", "3000-01-01T06:00:00+05:00",
                  "1899-12-31T23:00:00+00:00", "2030-01-01T08:00:00"):
        assert "at" in refused(at=value), value
    assert loaded == datetime(2999, 12, 31, 23, tzinfo=UTC)
    assert (properties()["at"]["x-minimum"], properties()["at"]["x-maximum"]) == (
        "1900-01-01T00:00:00+00:00", "2999-12-31T23:59:59.999999+00:00")


def test_months_are_yyyy_mm_from_1900_to_2999():
    assert Sample().load({"month": "2999-12"})["month"] == "2999-12"
    for value in ("0000-01", "1899-12", "3000-01", "2030-13", "2030-1", "203001", "March"):
        assert "month" in refused(month=value), value
    assert properties()["month"]["pattern"] == r"^(19[0-9]{2}|2[0-9]{3})-(0[1-9]|1[0-2])$"


def test_a_malformed_path_value_is_a_problem_naming_the_parameter():
    assert path_value(Month(), "2025-03", "month") == "2025-03"
    with pytest.raises(ProblemError) as caught:
        path_value(Month(), "0000-01", "month", status=422)
    problem = caught.value
    assert (problem.status, problem.errors[0]["location"], problem.errors[0]["field"]) == (422, "path", "month")
    with pytest.raises(ProblemError) as caught:
        path_value(Int32(minimum=1), str(2 ** 31), "version")
    assert (caught.value.status, caught.value.title) == (400, "Bad Request")


@pytest.mark.parametrize("value", [2.589e-42, 2.5, 5.0, True, False, Decimal("5"), "5.0", "1e3", "١٢", "", [], {}])
def test_an_integer_is_never_a_fraction_a_float_or_a_boolean(value):
    assert "small" in refused(small=value)


def test_an_integer_may_be_spelled_in_digits_in_text_unless_strict():
    assert Sample().load({"small": "7"})["small"] == 7
    assert Sample().load({"small": 7})["small"] == 7
    assert "count" in refused(count="7")
    assert Sample().load({"count": 7})["count"] == 7
