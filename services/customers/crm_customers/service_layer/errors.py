"""Outcomes of a use case that are not business-rule violations: absence, permission, concurrency."""
from __future__ import annotations

from crm_shared.errors import DomainError


class ServiceError(DomainError):
    """Not a business rule but the same shape (`message`, `field`): answered by the same problem handler."""


class NotFound(ServiceError):
    """Missing, or outside the actor's lines of business: both look the same so existence does not leak."""


class Forbidden(ServiceError):
    """The actor may not do this at all (e.g. create in a line of business not in their token)."""


class Invalid(ServiceError):
    """Input that parsed but refers to nothing valid (unknown line of business, unknown attribute filter)."""


class VersionMismatch(ServiceError):
    """The party changed since the client read it (If-Match did not match)."""
