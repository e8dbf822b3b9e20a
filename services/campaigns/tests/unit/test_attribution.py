"""Reading order and deal events, the rules that refuse revenue, and the attribution window setting."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from crm_campaigns.domain.attribution import (MalformedRevenue, claim_from_deal, claim_from_order, parse_window_days,
                                              refusal, window_start)
from crm_campaigns.config import CampaignsSettings

ORDER = {"order_id": "SO-1", "party_id": "p-1", "amount": "1234.5", "currency": "EUR", "occurred_on": "2024-05-02"}


def test_an_order_event_becomes_a_claim():
    claim = claim_from_order({**ORDER, "campaign_id": "c-1"})
    assert (claim.kind, claim.reference, claim.party_id, claim.currency) == ("order", "SO-1", "p-1", "EUR")
    assert claim.amount == Decimal("1234.50") and claim.occurred_on == date(2024, 5, 2)
    assert claim.campaign_id == "c-1"
    assert claim_from_order(ORDER).campaign_id is None


def test_a_won_deal_reads_its_own_fields():
    claim = claim_from_deal({"opportunity_id": "O-7", "party_id": "p-2", "amount": 99, "currency": "usd",
                             "won_on": "2024-06-30", "campaign_id": None})
    assert (claim.kind, claim.reference, claim.currency, claim.amount) == ("deal", "O-7", "USD", Decimal("99.00"))
    assert claim.occurred_on == date(2024, 6, 30) and claim.campaign_id is None


@pytest.mark.parametrize("change", [{"amount": None}, {"amount": "lots"}, {"amount": "NaN"}, {"amount": "1e20"},
                                    {"occurred_on": "yesterday"}, {"currency": "EURO"}, {"currency": "E1R"},
                                    {"order_id": ""}, {"party_id": None}])
def test_malformed_events_are_refused(change):
    with pytest.raises(MalformedRevenue):
        claim_from_order({**ORDER, **change})


def test_revenue_needs_a_participant_who_entered_before_the_order():
    day = date(2024, 5, 2)
    assert refusal("order", day, False, None).field == "party_id"
    assert "not entered" in refusal("order", day, True, None).reason
    before = refusal("deal", day, True, date(2024, 5, 3))
    assert before.field == "occurred_on" and "before the party entered" in before.reason
    assert refusal("order", day, True, day) is None
    assert refusal("order", day, True, date(2024, 1, 1)) is None


def test_the_window_reaches_back_from_the_order():
    assert window_start(date(2024, 5, 2), 90) == date(2024, 2, 2)
    assert window_start(date(2024, 5, 2), 0) == date(2024, 5, 2)


def test_window_setting():
    assert parse_window_days(None) == 90 and parse_window_days(" ") == 90
    assert parse_window_days("30") == 30
    for bad in ("ninety", "-1", "4000"):
        with pytest.raises(ValueError, match="ATTRIBUTION_WINDOW_DAYS"):
            parse_window_days(bad)


def attribution_window_days(environ: dict) -> int:
    return CampaignsSettings.from_env("campaigns", environ, database_url="sqlite://").attribution_window_days


def test_the_service_prefixed_setting_wins():
    assert attribution_window_days({}) == 90
    assert attribution_window_days({"ATTRIBUTION_WINDOW_DAYS": "10"}) == 10
    assert attribution_window_days({"ATTRIBUTION_WINDOW_DAYS": "10", "CAMPAIGNS_ATTRIBUTION_WINDOW_DAYS": "20"}) == 20
    with pytest.raises(ValueError, match="ATTRIBUTION_WINDOW_DAYS"):
        attribution_window_days({"ATTRIBUTION_WINDOW_DAYS": "ninety"})  # at bootstrap, not at the first order
