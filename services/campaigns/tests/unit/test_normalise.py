"""The comparison keys that find one party twice."""
from __future__ import annotations

import pytest

from crm_campaigns.domain.normalise import (calling_code_for, dedupe_keys, email_key, name_key, phone_key,
                                            postal_key)


@pytest.mark.parametrize("name", ["Müller GmbH & Co. KG", "MÜLLER gmbh", "Muller", "  müller  ", "Müller G.m.b.H.",
                                  "Müller & Co. KG", "Müller und Co KG", "Müller Ltd.", "Müller, Inc.",
                                  "Müller UG (haftungsbeschränkt)", "Müller S.A.R.L."])
def test_spellings_of_one_company_give_one_name_key(name):
    assert name_key(name) == "muller"


def test_sharp_s_and_accents_fold_to_plain_letters():
    assert name_key("Groß Straße") == name_key("GROSS STRASSE") == "gross strasse"
    assert name_key("Café Zoë Ørsted") == "cafe zoe orsted"


def test_punctuation_becomes_space_and_whitespace_collapses():
    assert name_key("Bau-Service  Nord,\tBerlin!") == "bau service nord berlin"
    assert name_key("O'Brien") == "obrien"


def test_legal_forms_are_dropped_only_at_the_end():
    assert name_key("AG Bau GmbH") == "ag bau"
    assert name_key("Co Working Space") == "co working space"


def test_a_name_that_is_only_a_legal_form_keeps_it():
    assert name_key("AG") == "ag"


def test_different_names_keep_different_keys():
    assert name_key("Müller GmbH") != name_key("Möller GmbH")
    assert name_key("Anna Schmidt") != name_key("Anna Schmitt")


@pytest.mark.parametrize("name", [None, "", "   ", "!!!"])
def test_no_name_gives_an_empty_key(name):
    assert name_key(name) == ""


@pytest.mark.parametrize(("code", "key"), [("1011 AB", "1011AB"), ("1011-ab", "1011AB"), (" 10115 ", "10115"),
                                           ("sw1a 1aa", "SW1A1AA"), (None, ""), ("", "")])
def test_postal_key_drops_spaces_and_dashes_and_upper_cases(code, key):
    assert postal_key(code) == key


@pytest.mark.parametrize("number", ["+49 30 1234567", "0049 30 1234567", "030 1234567", "+49 (0)30 123-45 67",
                                    "030/1234567", "(030) 123 4567", "+49.30.1234567"])
def test_phone_spellings_of_one_german_number_compare_equal(number):
    assert phone_key(number) == "49301234567"


def test_the_calling_code_applies_to_national_numbers_only():
    assert phone_key("020 1234567", "31") == phone_key("+31 20 1234567") == "31201234567"
    assert phone_key("020 1234567") == "49201234567"
    assert phone_key("+43 1 234567", "31") == "431234567"


def test_a_number_without_trunk_prefix_keeps_its_digits():
    assert phone_key("1234567") == "1234567"


@pytest.mark.parametrize("number", [None, "", "12345", "+49 123", "call me", "030 123 4567 ext 5", "n/a",
                                    "0049 1234 5678 9012 3456", "030 + 1234567"])
def test_what_is_not_a_phone_number_gives_none(number):
    assert phone_key(number) is None


def test_e_mail_key_is_trimmed_and_lower_case():
    assert email_key("  Info@Firma.DE ") == "info@firma.de"
    assert email_key("a.b+c@mail.example.co.uk") == "a.b+c@mail.example.co.uk"


@pytest.mark.parametrize("address", [None, "", "info", "info@firma", "a@b@c.de", "a b@c.de", "@c.de", "a@.de",
                                     "a@c.", "a@c..de"])
def test_what_is_not_an_e_mail_address_gives_none(address):
    assert email_key(address) is None


def test_calling_code_follows_the_country_and_falls_back_to_germany():
    assert calling_code_for("nl") == "31"
    assert calling_code_for(" AT ") == "43"
    assert calling_code_for("XX") == "49"
    assert calling_code_for(None) == "49"


def test_dedupe_keys_with_phone_and_email():
    assert dedupe_keys("Müller GmbH", "10115", "030 1234567", "Info@Mueller.de") == [
        "muller|10115|49301234567", "muller|10115|info@mueller.de"]


def test_dedupe_keys_with_only_one_contact():
    assert dedupe_keys("Müller", "10115", None, "info@mueller.de") == ["muller|10115|info@mueller.de"]
    assert dedupe_keys("Müller", "10115", "030 1234567", None) == ["muller|10115|49301234567"]


def test_contacts_that_are_not_valid_give_no_key():
    assert dedupe_keys("Müller", "10115", "12", "not-an-address") == []


@pytest.mark.parametrize(("name", "postal"), [(None, "10115"), ("", "10115"), ("Müller", None), ("Müller", " ")])
def test_no_keys_without_name_and_postal_code(name, postal):
    assert dedupe_keys(name, postal, "030 1234567", "info@mueller.de") == []


def test_differently_written_records_of_one_party_share_a_key():
    uploaded = dedupe_keys("MÜLLER GmbH & Co. KG", "10 115", "0049 30 1234567", None)
    known = dedupe_keys("Müller KG", "10115", "+49 30 123 45 67", "info@mueller.de")
    assert set(uploaded) & set(known)


def test_same_name_elsewhere_is_not_a_duplicate():
    assert not set(dedupe_keys("Müller GmbH", "10115", "030 1234567", "info@mueller.de")) & set(
        dedupe_keys("Müller GmbH", "80331", "030 1234567", "info@mueller.de"))


def test_the_calling_code_reaches_the_phone_key():
    assert dedupe_keys("Bakker", "1011 AB", "020 1234567", None, calling_code="31") == ["bakker|1011AB|31201234567"]
