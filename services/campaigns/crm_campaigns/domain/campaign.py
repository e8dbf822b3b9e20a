"""The campaign's description, its life (draft → active → completed, or cancelled) and its budget figures."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from crm_campaigns.domain.errors import Conflict, InvalidInput

CAMPAIGN_TYPES = ("telemarketing", "sales_calls", "mailshot_follow_up", "seminar_exhibition", "email", "letter")
STATUSES = ("draft", "active", "completed", "cancelled")
NEXT_STATUSES = {"draft": ("active", "cancelled"), "active": ("completed", "cancelled")}
FAILURE_CODE_MAX = 40


def check_dates(start: date | None, end: date | None, field: str) -> None:
    if start and end and end < start:
        raise InvalidInput(f"{field}: the end is before the start", f"{field}_end")


def check_transition(current: str, wanted: str) -> None:
    if wanted not in NEXT_STATUSES.get(current, ()):
        raise Conflict(f"a {current} campaign cannot become {wanted}", "status")


def check_failure_code(code: str) -> None:
    if not code or len(code) > FAILURE_CODE_MAX or not code.replace("_", "").replace("-", "").isalnum():
        raise InvalidInput(f"a failure code is 1-{FAILURE_CODE_MAX} letters, digits, '-' or '_'", "code")


@dataclass(frozen=True)
class Budget:
    planned_cost: Decimal
    actual_cost: Decimal
    expected_participants: int
    expected_conversion_rate: Decimal
    value_per_conversion: Decimal
    actual_revenue: Decimal

    @property
    def estimated_revenue(self) -> Decimal:
        return (self.expected_participants * self.expected_conversion_rate * self.value_per_conversion).quantize(
            Decimal("0.01"))

    @property
    def estimated_roi(self) -> Decimal | None:
        return roi(self.estimated_revenue, self.planned_cost)

    @property
    def actual_roi(self) -> Decimal | None:
        return roi(self.actual_revenue, self.actual_cost)


def roi(revenue: Decimal, cost: Decimal) -> Decimal | None:
    """(revenue − cost) / cost; undefined without cost."""
    if cost <= 0:
        return None
    return ((revenue - cost) / cost).quantize(Decimal("0.0001"))
