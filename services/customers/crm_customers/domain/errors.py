"""Rule violations the domain reports; the entrypoints translate them to HTTP problems."""
from __future__ import annotations

from crm_shared.errors import DomainError

__all__ = ["DomainError", "IllegalTransition", "InvalidAttributeValue", "InvalidParty", "DuplicateKey"]


class IllegalTransition(DomainError):
    """The lifecycle does not allow going from the current state to the requested one."""


class InvalidAttributeValue(DomainError):
    """A custom attribute value does not fit its definition (or the attribute is not defined)."""


class InvalidParty(DomainError):
    """The party's data breaks an invariant (e.g. a company without a name, two primary addresses)."""


class DuplicateKey(DomainError):
    """Something unique already exists (a customer number, a contact link, an attribute name)."""
