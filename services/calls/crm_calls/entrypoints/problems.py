"""Domain outcomes as problem+json: each error class has one status."""
from __future__ import annotations

import logging

from crm_shared.retry import is_transient
from crm_shared.web.errors import problem_response, register_domain_errors
from flask import Flask
from sqlalchemy.exc import DBAPIError

from crm_calls.domain.errors import CallClosed, Conflict, DomainError, Forbidden, InvalidInput, NotFound

STATUS = [
    (NotFound, 404, "Not Found"),
    (Forbidden, 403, "Forbidden"),
    (CallClosed, 409, "Conflict"),
    (Conflict, 409, "Conflict"),
    (InvalidInput, 422, "Unprocessable Entity"),
    (DomainError, 422, "Unprocessable Entity"),
]
log = logging.getLogger(__name__)


def register_problem_handlers(app: Flask) -> None:
    register_domain_errors(app, DomainError, STATUS)

    def database_error(error: DBAPIError):
        """A deadlock still lost after the use case's bounded retries (service_layer/transactions.py) is a
        503 to try again, not a 500; any other database error stays the generic 500."""
        if not is_transient(error):
            log.exception("unhandled database error")
            return problem_response(500, "Internal Server Error", "The server failed; the error has been logged.")
        response = problem_response(503, "Service Unavailable", "The request lost a race for the same records "
                                    "several times; send it again.")
        response.headers["Retry-After"] = "1"
        return response

    app.register_error_handler(DBAPIError, database_error)
