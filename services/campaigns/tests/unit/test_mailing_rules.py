"""The pure rules of mailings: addresses, channel and stage checks, reactions, the finished status."""
from __future__ import annotations

import pytest

from crm_campaigns.domain.errors import Conflict, InvalidInput
from crm_campaigns.domain.mailings import (REACTION_KINDS, RECIPIENT_STATUSES, address_of, check_channel,
                                           check_mailing_stage, check_reaction, email_address, finished_status,
                                           opt_out_channel, postal_lines)

PARTY = {"display_name": "Erika Mustermann", "street": "Heidestraße 17", "postal_code": "51147", "city": "Köln",
         "country": "DE", "email": " erika@example.org "}


def test_a_domestic_letter_has_no_country_line():
    assert postal_lines(PARTY, "DE") == ["Erika Mustermann", "Heidestraße 17", "51147 Köln"]


def test_a_letter_abroad_ends_with_the_country():
    assert postal_lines({**PARTY, "country": "at"}, "DE")[-1] == "AT"
    assert postal_lines(PARTY, "AT")[-1] == "DE"


def test_blanks_in_address_parts_are_tidied_and_missing_parts_left_out():
    party = {**PARTY, "display_name": "  Erika \n Mustermann ", "postal_code": None}
    assert postal_lines(party, "DE") == ["Erika Mustermann", "Heidestraße 17", "Köln"]


@pytest.mark.parametrize("missing", ["street", "city"])
def test_without_street_or_city_there_is_no_postal_address(missing):
    assert postal_lines({**PARTY, missing: "  "}, "DE") is None
    assert address_of("letter", {**PARTY, missing: None}, "DE") is None


def test_the_stored_address_is_the_email_or_the_postal_lines():
    assert address_of("email", PARTY, "DE") == "erika@example.org"
    assert address_of("fax", PARTY, "DE") == "Erika Mustermann\nHeidestraße 17\n51147 Köln"


@pytest.mark.parametrize("email", [None, "", "not-an-address", "erika@", "@example.org"])
def test_an_unusable_email_is_no_address(email):
    assert email_address({**PARTY, "email": email}) is None
    assert address_of("email", {**PARTY, "email": email}, "DE") is None


@pytest.mark.parametrize("campaign_type, channel, requested", [
    ("email", "email", None), ("letter", "letter", None), ("letter", "fax", "fax"),
    ("telemarketing", "email", None), ("telemarketing", "letter", "letter"), ("mailshot_follow_up", "email", None),
])
def test_fitting_channels_pass(campaign_type, channel, requested):
    check_channel(campaign_type, channel, requested)


@pytest.mark.parametrize("campaign_type, channel, requested, field", [
    ("email", "letter", None, "template_id"), ("letter", "email", None, "template_id"),
    ("telemarketing", "email", "letter", "channel"), ("email", "email", "fax", "channel"),
])
def test_a_template_of_the_wrong_channel_is_refused(campaign_type, channel, requested, field):
    with pytest.raises(InvalidInput) as error:
        check_channel(campaign_type, channel, requested)
    assert error.value.field == field


def test_only_an_existing_mailing_stage_can_be_mailed():
    actions = {"call": "call", "offer": "mailing"}
    check_mailing_stage(["call", "offer"], actions, "offer")
    for stage in ("call", "nowhere"):
        with pytest.raises(InvalidInput) as error:
            check_mailing_stage(["call", "offer"], actions, stage)
        assert error.value.field == "stage_key" and stage in error.value.message


@pytest.mark.parametrize("kind", [k for k in REACTION_KINDS if k != "unsubscribed"])
def test_reactions_other_than_unsubscribing_need_a_sent_mail(kind):
    check_reaction(kind, "sent")
    for status in set(RECIPIENT_STATUSES) - {"sent"}:
        with pytest.raises(Conflict):
            check_reaction(kind, status)


@pytest.mark.parametrize("status", RECIPIENT_STATUSES)
def test_an_unsubscribe_is_honoured_whatever_happened_to_the_mail(status):
    check_reaction("unsubscribed", status)


@pytest.mark.parametrize("kind", ["sent", "exploded", ""])
def test_unknown_reaction_kinds_are_refused(kind):
    with pytest.raises(InvalidInput):
        check_reaction(kind, "sent")


def test_a_mailing_that_reached_nobody_failed():
    assert finished_status({"sent": 1, "bounced": 5}) == "sent"
    assert finished_status({"sent": 0, "bounced": 2, "skipped": 3}) == "failed"
    assert finished_status({}) == "failed"


def test_an_opt_out_covers_the_mailing_channel_or_everything():
    assert [opt_out_channel(c, False) for c in ("email", "letter", "fax")] == ["email", "mail", "mail"]
    assert opt_out_channel("letter", True) == "all"
