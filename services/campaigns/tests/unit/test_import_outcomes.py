"""Judging the rows of an imported address list: rejected, duplicate of a known party or of an earlier row, or a
new suspect with the event data customers expects."""
from __future__ import annotations

import itertools
from datetime import date

import pytest

from crm_campaigns.domain.address_list import AddressRow, RejectedRow
from crm_campaigns.domain.import_outcomes import (EARLIER_ROW, REPLICA, REPLICA_NOT_ADDED, ChunkContext, KnownParty,
                                                  RowKeys, RowOutcome, classify, row_keys, suspect_data)


def address(row_number: int = 2, **fields) -> AddressRow:
    values = {"kind": "company", "company_name": "Müller GmbH", "first_name": None, "last_name": None,
              "street": "Hauptstr. 1", "postal_code": "10115", "city": "Berlin", "country": "DE",
              "phone": "030 1234567", "email": None, "line_of_business": "retail", "attributes": {}, **fields}
    return AddressRow(row_number=row_number, **values)


def context(**fields) -> ChunkContext:
    ids = (f"new-{n}" for n in itertools.count(1))
    return ChunkContext(**{"campaign_id": "c-1", "import_id": "i-1", "new_party_id": lambda: next(ids), **fields})


def known(party_id: str, phone: str | None = "49301234567", email: str | None = None, rank=(REPLICA, "a"),
          not_added: str | None = None, described: str = "an existing party") -> KnownParty:
    return KnownParty(party_id, RowKeys("muller", "10115", phone, email), described, rank, not_added)


def test_a_rejected_row_keeps_its_reason_and_field():
    [outcome] = classify([RejectedRow(4, "column 'PLZ': the postal code is missing", "postal_code")], context())
    assert outcome == RowOutcome(4, "rejected", "column 'PLZ': the postal code is missing", "postal_code")
    assert not outcome.joins_campaign


def test_a_new_row_is_accepted_with_a_new_party_id_and_joins():
    [outcome] = classify([address()], context())
    assert (outcome.outcome, outcome.party_id, outcome.joins_campaign) == ("accepted", "new-1", True)
    assert outcome.keys == RowKeys("muller", "10115", "49301234567", None)
    assert outcome.suspect["party_id"] == "new-1" and outcome.suspect["row_number"] == 2


@pytest.mark.parametrize(("row", "party"), [
    (address(company_name="MÜLLER GmbH & Co. KG", phone="+49 (0)30 123 45 67"), known("p-1")),
    (address(phone=None, email="Info@Mueller.DE"), known("p-1", phone=None, email="info@mueller.de")),
])
def test_a_row_sharing_name_postal_code_and_a_contact_with_a_known_party_is_its_duplicate(row, party):
    [outcome] = classify([row], context(known=[party]))
    assert (outcome.outcome, outcome.party_id, outcome.reason, outcome.joins_campaign) == (
        "duplicate", "p-1", "matches an existing party", True)
    assert outcome.suspect is None


@pytest.mark.parametrize("row", [address(postal_code="10117"), address(company_name="Möller GmbH"),
                                 address(phone="030 7654321"), address(phone=None)])
def test_name_postal_code_and_one_contact_must_all_agree(row):
    [outcome] = classify([row], context(known=[known("p-1")]))
    assert outcome.outcome == "accepted"


def test_a_party_that_cannot_join_is_reported_and_stays_out():
    [outcome] = classify([address()], context(known=[known("p-1", rank=(REPLICA_NOT_ADDED, "p-1"),
                                                           not_added="the party is deactivated")]))
    assert (outcome.outcome, outcome.party_id, outcome.joins_campaign) == ("duplicate", "p-1", False)
    assert outcome.reason == "matches an existing party, which was not added to the campaign: the party is deactivated"


def test_a_party_that_can_join_wins_over_one_that_cannot_and_over_earlier_rows():
    parties = [known("p-earlier", rank=(EARLIER_ROW, 0, 1), described="row 1 of this file"),
               known("p-gone", email="info@mueller.de", rank=(REPLICA_NOT_ADDED, "p-gone"), not_added="deactivated"),
               known("p-z", email="info@mueller.de", rank=(REPLICA, "p-z"))]
    [outcome] = classify([address(email="info@mueller.de")], context(known=parties))
    assert outcome.party_id == "p-z"


def test_later_rows_of_the_chunk_duplicate_earlier_ones_and_inherit_their_party():
    rows = [address(2), address(3, company_name="Müller KG", email="a@b.de"), address(4, phone=None, email="a@b.de"),
            address(5, company_name="Gone", phone="040 555666")]
    gone = KnownParty("p-gone", RowKeys("gone", "10115", "4940555666", None), "an existing party",
                      (REPLICA_NOT_ADDED, "p-gone"), "the party is suppressed")
    second_gone = address(6, company_name="Gone", phone="040 555666", email="g@one.de")
    third_gone = address(7, company_name="Gone", phone=None, email="g@one.de")
    outcomes = classify([*rows, second_gone, third_gone], context(known=[gone]))
    assert [(o.outcome, o.party_id) for o in outcomes] == [
        ("accepted", "new-1"), ("duplicate", "new-1"), ("duplicate", "new-1"), ("duplicate", "p-gone"),
        ("duplicate", "p-gone"), ("duplicate", "p-gone")]
    assert outcomes[2].reason == "matches row 3 of this file"
    assert not outcomes[5].joins_campaign
    assert outcomes[5].reason == "matches row 6 of this file, which was not added to the campaign: the party is " \
                                 "suppressed"


@pytest.mark.parametrize(("fields", "field"), [({"phone": "+49 30 1234567"}, "phone"),
                                               ({"phone": None, "email": "Nein@Danke.de"}, "email")])
def test_a_suppressed_contact_rejects_the_row_before_any_duplicate_check(fields, field):
    suppressed = context(known=[known("p-1", email="nein@danke.de")], suppressed_phones={"49301234567"},
                         suppressed_emails={"nein@danke.de"})
    [outcome] = classify([address(**fields)], suppressed)
    assert (outcome.outcome, outcome.reason, outcome.field, outcome.party_id) == ("rejected", "suppressed", field,
                                                                                  None)


def test_a_line_of_business_outside_the_callers_is_rejected():
    outcomes = classify([address(2), address(3, line_of_business="heating", company_name="Other")],
                        context(lines_of_business=frozenset({"retail"})))
    assert [o.outcome for o in outcomes] == ["accepted", "rejected"]
    assert (outcomes[1].field, outcomes[1].reason) == ("line_of_business", "line of business 'heating' is not one "
                                                                           "of yours")


def test_a_line_of_business_customers_has_not_defined_is_rejected():
    outcomes = classify([address(2), address(3, line_of_business="heating", company_name="Other")],
                        context(defined_lines=frozenset({"retail", "wholesale"})))
    assert [o.outcome for o in outcomes] == ["accepted", "rejected"]
    assert (outcomes[1].field, outcomes[1].party_id) == ("line_of_business", None)
    assert outcomes[1].reason == "line of business 'heating' is not defined in the customers service"


def test_precomputed_keys_are_used():
    row = address()
    [outcome] = classify([row], context(keys={2: RowKeys("other", "1", None, None)}))
    assert outcome.keys == RowKeys("other", "1", None, None) != row_keys(row)


def test_the_suspect_data_follows_the_contract():
    company = address(first_name="Anna", last_name="Kontakt", email="info@mueller.de",
                      attributes={"since": date(2020, 5, 17), "employees": 3})
    assert suspect_data(company, "p-1", "c-1", "i-1") == {
        "party_id": "p-1", "kind": "company", "company_name": "Müller GmbH", "first_name": None, "last_name": None,
        "line_of_business": "retail",
        "address": {"street": "Hauptstr. 1", "postal_code": "10115", "city": "Berlin", "country": "DE"},
        "phone": "030 1234567", "email": "info@mueller.de", "attributes": {"since": "2020-05-17", "employees": 3},
        "campaign_id": "c-1", "import_id": "i-1", "row_number": 2}
    person = suspect_data(address(kind="person", first_name="Jana", last_name="Nowak"), "p-2", "c-1", "i-1")
    assert (person["kind"], person["company_name"], person["first_name"], person["last_name"]) == (
        "person", None, "Jana", "Nowak")


def test_a_stored_row_cuts_long_reasons_and_keeps_empty_keys_null():
    row = RowOutcome(9, "rejected", "x" * 600, "attribute:" + "y" * 200).as_row("i-1")
    assert len(row["reason"]) == 500 and row["reason"].endswith("...")
    assert len(row["field"]) == 120
    assert (row["name_key"], row["postal_key"], row["party_id"], row["joins_campaign"]) == (None, None, None, False)
