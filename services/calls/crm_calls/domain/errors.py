"""Business-rule violations; the API maps each class to one HTTP status."""
from __future__ import annotations

from crm_shared.errors import DomainError

__all__ = ["DomainError", "InvalidInput", "CallClosed", "NotFound", "Forbidden", "Conflict"]


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
