"""Business-rule violations; the API maps each class to one HTTP status (entrypoints/problems.py)."""
from __future__ import annotations

from crm_shared.errors import DomainError

__all__ = ["DomainError", "InvalidInput", "UnsupportedFile", "FileTooLarge", "MalformedFile", "NotFound",
           "Forbidden", "Conflict", "PreconditionFailed"]


class InvalidInput(DomainError):
    """Well-formed input that breaks a rule: a cycle in a stage graph, a probability outside 0..1."""


class UnsupportedFile(DomainError):
    """An upload that is neither CSV nor XLSX (415)."""


class FileTooLarge(InvalidInput):
    """An upload above the configured size limit (413)."""


class MalformedFile(DomainError):
    """A CSV or XLSX file that cannot be read at all; nothing of it is imported."""


class NotFound(DomainError):
    """Missing, or outside the caller's lines of business (both look the same, so existence does not leak)."""


class Forbidden(DomainError):
    """The caller may not act on this object."""


class Conflict(DomainError):
    """The request clashes with stored state (a changed version, a campaign that is no longer a draft)."""


class PreconditionFailed(DomainError):
    """`If-Match` names another version than the stored one (412); nothing has been changed."""


def check_version(what: str, stored: int, if_match: int | None, expected_version: int | None) -> None:
    """The optimistic lock of a change: `If-Match` (412) and, deprecated, the body's or query's `version` (409)."""
    if if_match is not None and if_match != stored:
        raise PreconditionFailed(f"the {what} is at version {stored}, not {if_match}", "If-Match")
    if expected_version is not None and expected_version != stored:
        raise Conflict(f"the {what} is at version {stored}, not {expected_version}", "version")
