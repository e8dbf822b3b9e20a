"""Domain outcomes as problem+json: each error class has one status."""
from __future__ import annotations

from crm_shared.web.errors import register_domain_errors
from flask import Flask

from crm_calls.domain.errors import CallClosed, Conflict, DomainError, Forbidden, InvalidInput, NotFound

STATUS = [
    (NotFound, 404, "Not Found"),
    (Forbidden, 403, "Forbidden"),
    (CallClosed, 409, "Conflict"),
    (Conflict, 409, "Conflict"),
    (InvalidInput, 422, "Unprocessable Entity"),
    (DomainError, 422, "Unprocessable Entity"),
]


def register_problem_handlers(app: Flask) -> None:
    register_domain_errors(app, DomainError, STATUS)
