"""Business-rule violations; the API maps each class to one HTTP status."""
from __future__ import annotations


class DomainError(Exception):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    """Well-formed input that breaks a rule: a window that ends before it starts, an unknown reason code."""


class CallClosed(DomainError):
    """An outcome or change for a call that is already completed, failed or cancelled."""


class NotFound(DomainError):
    """Missing, or outside the caller's lines of business (both look the same, so existence does not leak)."""


class Forbidden(DomainError):
    """The caller may not act on this object (another agent's call, say)."""


class Conflict(DomainError):
    """The request clashes with stored state (a duplicate name, a changed version)."""
