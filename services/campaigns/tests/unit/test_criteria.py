"""Selection criteria: what a request may ask for, and attribute values checked against their definitions."""
from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from crm_campaigns.domain.criteria import AttributeDefinition, Criteria, definitions_from_rows
from crm_campaigns.domain.errors import InvalidInput

DEFINITIONS = {
    "employees": AttributeDefinition("employees", "number"),
    "founded": AttributeDefinition("founded", "date"),
    "vip": AttributeDefinition("vip", "boolean"),
    "size": AttributeDefinition("size", "choice", ("small", "medium", "large")),
    "source": AttributeDefinition("source", "text"),
}


def field_of(data: dict) -> str:
    with pytest.raises(InvalidInput) as caught:
        Criteria.from_dict(data)
    return caught.value.field


def typed_field_of(attributes: list[dict]) -> str:
    criteria = Criteria.from_dict({"attributes": attributes})
    with pytest.raises(InvalidInput) as caught:
        criteria.with_attribute_types(DEFINITIONS)
    return caught.value.field


def test_a_request_body_becomes_normalised_criteria():
    criteria = Criteria.from_dict({
        "lifecycle_states": ["prospect", "customer", "prospect"], "kinds": ["company"],
        "lines_of_business": [" retail "], "segments": ["gold"], "postal_ranges": [[" 10 115", "10-119"]],
        "attributes": [{"name": "size", "op": "in", "value": ["small", "large"]}],
        "last_contact_before": "2024-06-01", "last_contact_after": date(2024, 1, 1), "never_contacted": False})
    assert criteria.lifecycle_states == ("prospect", "customer")
    assert criteria.lines_of_business == ("retail",)
    assert criteria.postal_ranges == (("10115", "10119"),)
    assert criteria.attributes[0].value == ("small", "large")
    assert (criteria.last_contact_before, criteria.last_contact_after) == (date(2024, 6, 1), date(2024, 1, 1))
    assert criteria.given() == ["lifecycle_states", "kinds", "lines_of_business", "segments", "postal_ranges",
                                "attributes", "last_contact_before", "last_contact_after", "never_contacted"]


def test_criteria_are_immutable():
    criteria = Criteria.from_dict({"kinds": ["person"]})
    with pytest.raises(dataclasses.FrozenInstanceError):
        criteria.kinds = ("company",)


@pytest.mark.parametrize("data", [{}, {"lifecycle_states": []}, {"never_contacted": None}])
def test_at_least_one_criterion_is_required(data):
    assert field_of(data) == "criteria"


def test_never_contacted_false_is_a_criterion():
    assert Criteria.from_dict({"never_contacted": False}).given() == ["never_contacted"]


@pytest.mark.parametrize("data, field", [
    ({"colour": ["red"]}, "colour"),
    ({"lifecycle_states": ["inactive"]}, "lifecycle_states"),
    ({"lifecycle_states": "customer"}, "lifecycle_states"),
    ({"kinds": ["robot"]}, "kinds"),
    ({"lines_of_business": [""]}, "lines_of_business"),
    ({"segments": ["x" * 101]}, "segments"),
    ({"segments": [1]}, "segments"),
    ({"lines_of_business": [f"l{i}" for i in range(201)]}, "lines_of_business"),
    ({"postal_ranges": [["20000", "10000"]]}, "postal_ranges.0"),
    ({"postal_ranges": [["10000"]]}, "postal_ranges.0"),
    ({"postal_ranges": [["10000", 19999]]}, "postal_ranges.0"),
    ({"postal_ranges": [["-", "10000"]]}, "postal_ranges.0"),
    ({"postal_ranges": "10000-19999"}, "postal_ranges"),
    ({"postal_ranges": [["1", "2"]] * 101}, "postal_ranges"),
    ({"attributes": [{"name": "size", "op": "like", "value": "s"}]}, "attributes.0.op"),
    ({"attributes": [{"name": "", "op": "eq", "value": "s"}]}, "attributes.0.name"),
    ({"attributes": [{"name": "size", "op": "exists", "value": "s"}]}, "attributes.0.value"),
    ({"attributes": [{"name": "size", "op": "eq"}]}, "attributes.0.value"),
    ({"attributes": [{"name": "size", "op": "in", "value": []}]}, "attributes.0.value"),
    ({"attributes": [{"name": "size", "op": "in", "value": "small"}]}, "attributes.0.value"),
    ({"attributes": [{"name": "size", "op": "eq", "value": "s", "extra": 1}]}, "attributes.0"),
    ({"attributes": [{"name": "size", "op": "exists"}] * 21}, "attributes"),
    ({"last_contact_before": "2024-13-01"}, "last_contact_before"),
    ({"last_contact_after": "yesterday"}, "last_contact_after"),
    ({"last_contact_before": "2024-01-01", "last_contact_after": "2024-01-01"}, "last_contact_after"),
    ({"never_contacted": True, "last_contact_after": "2024-01-01"}, "never_contacted"),
    ({"never_contacted": "yes"}, "never_contacted"),
])
def test_invalid_criteria_name_their_field(data, field):
    assert field_of(data) == field


def test_last_contact_before_alone_may_combine_with_never_contacted():
    criteria = Criteria.from_dict({"never_contacted": True, "last_contact_before": "2024-01-01"})
    assert criteria.never_contacted is True


@pytest.mark.parametrize("attribute, expected", [
    ({"name": "employees", "op": "gte", "value": 50}, Decimal("50")),
    ({"name": "employees", "op": "lt", "value": 2.5}, Decimal("2.5")),
    ({"name": "founded", "op": "lt", "value": "2000-01-31"}, date(2000, 1, 31)),
    ({"name": "vip", "op": "eq", "value": True}, True),
    ({"name": "size", "op": "in", "value": ["small", "large", "small"]}, ("small", "large")),
    ({"name": "source", "op": "gt", "value": "fair"}, "fair"),
    ({"name": "source", "op": "not_exists"}, None),
])
def test_attribute_values_take_their_defined_type(attribute, expected):
    [typed] = Criteria.from_dict({"attributes": [attribute]}).with_attribute_types(DEFINITIONS).attributes
    assert typed.value == expected and type(typed.value) is type(expected)
    assert typed.type == DEFINITIONS[attribute["name"]].type


@pytest.mark.parametrize("attribute, field", [
    ({"name": "turnover", "op": "gt", "value": 1}, "attributes.0.name"),
    ({"name": "employees", "op": "gt", "value": "50"}, "attributes.0.value"),
    ({"name": "employees", "op": "eq", "value": True}, "attributes.0.value"),
    ({"name": "employees", "op": "in", "value": [1, "two"]}, "attributes.0.value"),
    ({"name": "founded", "op": "gte", "value": "2000-02-30"}, "attributes.0.value"),
    ({"name": "founded", "op": "gte", "value": 2000}, "attributes.0.value"),
    ({"name": "vip", "op": "eq", "value": "true"}, "attributes.0.value"),
    ({"name": "vip", "op": "lt", "value": True}, "attributes.0.op"),
    ({"name": "size", "op": "eq", "value": "huge"}, "attributes.0.value"),
    ({"name": "size", "op": "gt", "value": "small"}, "attributes.0.op"),
    ({"name": "source", "op": "eq", "value": "x" * 1001}, "attributes.0.value"),
])
def test_attribute_values_that_do_not_fit_are_refused(attribute, field):
    assert typed_field_of([attribute]) == field


def test_the_field_names_the_failing_attribute_criterion():
    ok = {"name": "vip", "op": "exists"}
    assert typed_field_of([ok, ok, {"name": "vip", "op": "eq", "value": 1}]) == "attributes.2.value"


def test_lines_outside_the_callers():
    criteria = Criteria.from_dict({"lines_of_business": ["retail", "wholesale"]})
    assert criteria.lines_outside({"retail"}) == ["wholesale"]
    assert criteria.lines_outside(None) == []


def test_definitions_of_unknown_types_are_skipped():
    rows = [type("Row", (), {"name": "a", "type": "choice", "choices": ["x"]})(),
            type("Row", (), {"name": "b", "type": "geo", "choices": []})()]
    assert definitions_from_rows(rows) == {"a": AttributeDefinition("a", "choice", ("x",))}
