"""Domain outcomes as problem+json: each error class has one status."""
from __future__ import annotations

from crm_shared.web.errors import problem_response
from flask import Flask

from crm_campaigns.domain.errors import (Conflict, DomainError, Forbidden, InvalidInput, MalformedFile, NotFound,
                                         UnsupportedFile)

STATUS = [
    (NotFound, 404, "Not Found"),
    (Forbidden, 403, "Forbidden"),
    (Conflict, 409, "Conflict"),
    (UnsupportedFile, 415, "Unsupported Media Type"),
    (MalformedFile, 422, "Unprocessable Entity"),
    (InvalidInput, 422, "Unprocessable Entity"),
    (DomainError, 422, "Unprocessable Entity"),
]


def register_problem_handlers(app: Flask) -> None:
    app.register_error_handler(DomainError, _problem)


def _problem(error: DomainError):
    status, title = next((s, t) for cls, s, t in STATUS if isinstance(error, cls))
    errors = [{"field": error.field, "message": error.message}] if error.field else None
    return problem_response(status, title, error.message, errors)
