"""Business-rule violations; the API maps each class to one HTTP status (entrypoints/problems.py)."""
from __future__ import annotations


class DomainError(Exception):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


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
