"""Errors as RFC 9457 problem details (`application/problem+json`) with field-level details."""
from __future__ import annotations

import json
import logging

from flask import Response, g
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


class ProblemError(Exception):
    """Raised by handlers for a 4xx the client can act on; nothing has been changed when it is raised."""

    def __init__(self, status: int, title: str, detail: str = "", errors: list[dict] | None = None,
                 type_: str = "about:blank"):
        super().__init__(detail or title)
        self.status, self.title, self.detail, self.errors, self.type = status, title, detail, errors, type_


def problem_response(status: int, title: str, detail: str = "", errors: list[dict] | None = None,
                     type_: str = "about:blank") -> Response:
    body = {"type": type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    request_id = getattr(g, "request_id", None)
    if request_id:
        body["instance"] = f"urn:request:{request_id}"
    return Response(json.dumps(body, default=str), status=status, mimetype=PROBLEM)


def flatten_messages(messages, location: str = "", prefix: str = "") -> list[dict]:
    """webargs/marshmallow nest messages by location and field; clients want one entry per field."""
    found: list[dict] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            if not prefix and not location and key in ("json", "query", "headers", "files", "form", "path"):
                found += flatten_messages(value, key, "")
            else:
                found += flatten_messages(value, location, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        found += [{"location": location or "json", "field": prefix or None, "message": m} for m in messages]
    elif isinstance(messages, list):
        for index, value in enumerate(messages):
            found += flatten_messages(value, location, f"{prefix}.{index}" if prefix else str(index))
    else:
        found.append({"location": location or "json", "field": prefix or None, "message": str(messages)})
    return found


def http_exception_to_problem(error: HTTPException) -> Response:
    data = getattr(error, "data", None) or {}
    errors = flatten_messages(data["messages"]) if "messages" in data else None
    title = error.name
    detail = "The request did not pass validation." if errors else (data.get("message") or error.description)
    response = problem_response(error.code or 500, title, detail or "", errors)
    for key, value in error.get_headers():  # Allow of a 405, WWW-Authenticate of a 401, Retry-After ...
        if key.lower() != "content-type":
            response.headers[key] = value
    for key, value in (data.get("headers") or {}).items():
        response.headers[key] = value
    return response


def register_error_handlers(app) -> None:
    app.register_error_handler(ProblemError, lambda e: problem_response(e.status, e.title, e.detail, e.errors, e.type))

    def unexpected(error: Exception):
        if isinstance(error, HTTPException):
            return http_exception_to_problem(error)
        log.exception("unhandled error")
        return problem_response(500, "Internal Server Error", "The server failed; the error has been logged.")

    app.register_error_handler(Exception, unexpected)


def register_domain_errors(app, base: type[Exception], statuses: list[tuple[type[Exception], int, str]]) -> None:
    """Answers a service's own business errors (subclasses of `base` with `message` and an optional `field`)
    as problem+json; the first class in `statuses` the error is an instance of gives status and title."""
    def problem(error):
        status, title = next((s, t) for cls, s, t in statuses if isinstance(error, cls))
        field = getattr(error, "field", None)
        errors = [{"field": field, "message": error.message}] if field else None
        return problem_response(status, title, error.message, errors)

    app.register_error_handler(base, problem)
