"""Revenue a campaign measurably caused: an order or a won deal of one of its participants, placed no earlier
than the day the participant entered the campaign. Soft effects such as brand awareness are not counted."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

KINDS = ("order", "deal")
DEFAULT_WINDOW_DAYS = 90
MAX_REFERENCE = 100
MAX_AMOUNT = Decimal(10) ** 12


class MalformedRevenue(ValueError):
    """An order or deal event this service cannot read; retrying will not help."""


@dataclass(frozen=True)
class RevenueClaim:
    """An order or won deal reported by another service, before it is attributed to a campaign."""
    kind: str
    reference: str
    party_id: str
    amount: Decimal
    currency: str
    occurred_on: date
    campaign_id: str | None = None


def claim_from_order(data: dict) -> RevenueClaim:
    """`crm.service-desk.order_placed.v1`."""
    return _claim("order", data, "order_id", "occurred_on")


def claim_from_deal(data: dict) -> RevenueClaim:
    """`crm.customers.opportunity_won.v1`."""
    return _claim("deal", data, "opportunity_id", "won_on")


def _claim(kind: str, data: dict, reference_field: str, date_field: str) -> RevenueClaim:
    reference = _text(data, reference_field, MAX_REFERENCE)
    party_id = _text(data, "party_id", 36)
    currency = _text(data, "currency", 3)
    if len(currency) != 3 or not currency.isalpha():
        raise MalformedRevenue(f"currency {currency!r} is not a three-letter code")
    try:
        amount = Decimal(str(data.get("amount")))
        occurred_on = date.fromisoformat(str(data.get(date_field)))
    except (InvalidOperation, ValueError) as exc:
        raise MalformedRevenue(f"amount or {date_field} does not parse: {exc}") from None
    if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:
        raise MalformedRevenue(f"amount {data.get('amount')!r} is not a usable number")
    campaign_id = data.get("campaign_id")
    return RevenueClaim(kind, reference, party_id, amount.quantize(Decimal("0.01")), currency.upper(), occurred_on,
                        str(campaign_id) if campaign_id else None)


def _text(data: dict, name: str, max_length: int) -> str:
    value = data.get(name)
    if value is None or not str(value).strip() or len(str(value)) > max_length:
        raise MalformedRevenue(f"{name} must be a string of 1-{max_length} characters")
    return str(value)


@dataclass(frozen=True)
class Refusal:
    field: str
    reason: str


def refusal(kind: str, occurred_on: date, is_participant: bool, entered_on: date | None) -> Refusal | None:
    """Why revenue cannot be credited to the campaign, or None when it can."""
    if not is_participant:
        return Refusal("party_id", "the party is not a participant of the campaign")
    if entered_on is None:
        return Refusal("party_id", "the party has not entered the campaign yet (it is still selected)")
    if occurred_on < entered_on:
        return Refusal("occurred_on", f"the {kind} of {occurred_on.isoformat()} is before the party entered the "
                                      f"campaign on {entered_on.isoformat()}")
    return None


def window_start(occurred_on: date, window_days: int) -> date:
    """The first day a success can have happened on and still be credited with an order on `occurred_on`."""
    return occurred_on - timedelta(days=window_days)


def parse_window_days(raw: str | None) -> int:
    """The ATTRIBUTION_WINDOW_DAYS setting."""
    if raw is None or not raw.strip():
        return DEFAULT_WINDOW_DAYS
    try:
        days = int(raw)
    except ValueError:
        raise ValueError(f"ATTRIBUTION_WINDOW_DAYS must be a whole number of days, not {raw!r}") from None
    if not 0 <= days <= 3650:
        raise ValueError(f"ATTRIBUTION_WINDOW_DAYS must be 0-3650, not {days}")
    return days
