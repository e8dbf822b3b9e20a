"""Rule violations the domain reports; the entrypoints translate them to HTTP problems."""
from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the change; nothing has been modified."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class IllegalTransition(DomainError):
    """The lifecycle does not allow going from the current state to the requested one."""


class InvalidAttributeValue(DomainError):
    """A custom attribute value does not fit its definition (or the attribute is not defined)."""


class InvalidParty(DomainError):
    """The party's data breaks an invariant (e.g. a company without a name, two primary addresses)."""


class DuplicateKey(DomainError):
    """Something unique already exists (a customer number, a contact link, an attribute name)."""
