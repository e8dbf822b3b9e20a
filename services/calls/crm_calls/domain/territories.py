"""Territories map a customer to the responsible agent by postal code range or region, and line of business.

A territory belongs to one line of business (or, with none, to all lines) and assigns only customers of its
line. Who may see and manage it follows from that: a territory of one line is read and managed by whoever may
access that line; a territory for all lines is read by everyone (it assigns every line's customers) and managed
only by those who see all lines (admin, or `lob` `*`), since its calls are of every line."""
from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from crm_calls.domain.errors import InvalidInput


def normalise_postal_code(value: str | None) -> str:
    return "".join((value or "").split()).upper()


@dataclass
class Territory:
    territory_id: str
    name: str
    agent_id: str
    postal_ranges: list[tuple[str, str]] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    line_of_business: str | None = None
    substitute_agent_id: str | None = None
    member_agent_ids: list[str] = field(default_factory=list)
    version: int = 1

    def __post_init__(self):
        self.postal_ranges = [(normalise_postal_code(a), normalise_postal_code(b)) for a, b in self.postal_ranges]
        self.regions = [r.strip().casefold() for r in self.regions if r.strip()]
        if not self.postal_ranges and not self.regions:
            raise InvalidInput("a territory needs at least one postal code range or region", "postal_ranges")
        for low, high in self.postal_ranges:
            if not low or high < low or len(low) != len(high):
                raise InvalidInput(f"postal code range {low}-{high} is empty or mixes code lengths",
                                   "postal_ranges")
        if self.substitute_agent_id == self.agent_id:
            raise InvalidInput("the substitute must be another agent", "substitute_agent_id")
        self.member_agent_ids = [a for a in dict.fromkeys(self.member_agent_ids) if a != self.agent_id]
        if self.substitute_agent_id in self.member_agent_ids:
            raise InvalidInput("the substitute must not be a member of the territory's team", "substitute_agent_id")

    def visible_to(self, actor) -> bool:
        """`actor`: a crm_shared.auth.Principal."""
        return self.line_of_business is None or actor.may_access(self.line_of_business)

    def manageable_by(self, actor) -> bool:
        """Creating, changing or deleting it (changing its line needs this of the old and the new one)."""
        if self.line_of_business is None:
            return actor.sees_all_lines()
        return actor.may_access(self.line_of_business)

    def matches(self, postal_code: str | None, city: str | None, line_of_business: str) -> bool:
        if self.line_of_business is not None and self.line_of_business != line_of_business:
            return False
        code = normalise_postal_code(postal_code)
        if code and any(len(code) == len(low) and low <= code <= high for low, high in self.postal_ranges):
            return True
        return bool(city) and city.strip().casefold() in self.regions

    @property
    def team(self) -> tuple[str, ...]:
        """The responsible agent and the territory's other members."""
        return (self.agent_id, *self.member_agent_ids)

    def agents(self) -> tuple[str, ...]:
        """Everyone who may take the territory's calls: the team, then the named substitute."""
        return self.team + ((self.substitute_agent_id,) if self.substitute_agent_id else ())

    def agents_for(self, party_key: int) -> tuple[str, ...]:
        """The agent responsible for one customer, then the rest of the team, then the substitute: the order
        in which a call looks for free capacity. Rendezvous hashing ranks the team per customer, so a customer
        keeps their agent, and a team change moves only the customers of the agents who came or went."""
        ranked = sorted(self.team, key=lambda agent_id: zlib.crc32(f"{party_key}:{agent_id}".encode()),
                        reverse=True)
        return tuple(ranked) + ((self.substitute_agent_id,) if self.substitute_agent_id else ())


class TerritoryMap:
    """A territory for one line of business wins over one for all lines; the first match wins otherwise."""

    def __init__(self, territories: Iterable[Territory]):
        ordered = sorted(territories, key=lambda t: (t.line_of_business is None, t.name))
        self.territories = ordered

    def territory_for(self, postal_code: str | None, city: str | None, line_of_business: str) -> Territory | None:
        return next((t for t in self.territories if t.matches(postal_code, city, line_of_business)), None)
