"""The criteria parties can be searched by (a read model concern, kept free of SQL)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

SortField = Literal["name", "created_at", "customer_number"]


@dataclass(frozen=True)
class AttributeFilter:
    name: str
    op: Literal["eq", "min", "max"]
    value: Any


@dataclass(frozen=True)
class PartySearch:
    limit: int
    sort: SortField = "name"
    descending: bool = False
    after: tuple[Any, uuid.UUID] | None = None  # the sort value and id of the last row of the previous page
    name_prefix: str | None = None
    lifecycle_state: str | None = None
    kind: str | None = None
    line_of_business: str | None = None
    postal_code_from: str | None = None
    postal_code_to: str | None = None
    attributes: list[AttributeFilter] = field(default_factory=list)
    lines_allowed: frozenset[str] | None = None  # None: the actor sees every line of business
