"""The base of every service's business errors: a message and, where one input is at fault, its field.

Plumbing only: `crm_shared.web.errors.register_domain_errors` answers a service's subclasses as problem+json
(the field goes into `errors[]`); which subclasses a service has, and their statuses, stay the service's."""
from __future__ import annotations


class DomainError(Exception):
    """A rule refused the request; nothing has been changed."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
