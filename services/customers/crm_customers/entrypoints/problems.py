"""Domain and service-layer outcomes as problem+json: each error class has one status."""
from __future__ import annotations

from flask import Flask

from crm_shared.web.errors import problem_response

from crm_customers.domain.errors import DomainError, DuplicateKey, IllegalTransition
from crm_customers.service_layer.errors import Forbidden, Invalid, NotFound, ServiceError, VersionMismatch

STATUS = [
    (NotFound, 404, "Not Found"),
    (Forbidden, 403, "Forbidden"),
    (VersionMismatch, 412, "Precondition Failed"),
    (Invalid, 422, "Unprocessable Entity"),
    (DuplicateKey, 409, "Conflict"),
    (IllegalTransition, 409, "Conflict"),
    (DomainError, 422, "Unprocessable Entity"),  # invalid party data or attribute values
]


def register_problem_handlers(app: Flask) -> None:
    app.register_error_handler(DomainError, _problem)
    app.register_error_handler(ServiceError, _problem)


def _problem(error: DomainError | ServiceError):
    status, title = next((s, t) for cls, s, t in STATUS if isinstance(error, cls))
    errors = [{"field": error.field, "message": error.message}] if error.field else None
    return problem_response(status, title, error.message, errors)
