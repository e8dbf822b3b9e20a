"""Domain outcomes as problem+json: each error class has one status."""
from __future__ import annotations

from crm_shared.web.errors import register_domain_errors
from flask import Flask

from crm_campaigns.domain.errors import (Conflict, DomainError, FileTooLarge, Forbidden, InvalidInput, MalformedFile,
                                         NotFound, PreconditionFailed, UnsupportedFile)

STATUS = [
    (NotFound, 404, "Not Found"),
    (Forbidden, 403, "Forbidden"),
    (PreconditionFailed, 412, "Precondition Failed"),
    (Conflict, 409, "Conflict"),
    (UnsupportedFile, 415, "Unsupported Media Type"),
    (FileTooLarge, 413, "Content Too Large"),
    (MalformedFile, 422, "Unprocessable Entity"),
    (InvalidInput, 422, "Unprocessable Entity"),
    (DomainError, 422, "Unprocessable Entity"),
]


def register_problem_handlers(app: Flask) -> None:
    register_domain_errors(app, DomainError, STATUS)
