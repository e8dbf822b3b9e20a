"""`Idempotency-Key` on POST: a retried request with the same key gets the first response, not a second effect."""
from __future__ import annotations

import functools
import hashlib
import json

from flask import current_app, g, make_response, request
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from crm_shared.web.errors import ProblemError

HEADER = "Idempotency-Key"
REPLAYED_HEADERS = ("Content-Type", "Location", "ETag")


def _request_hash() -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode() + b" " + request.full_path.encode() + b"\n")
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def idempotent(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not 1 <= len(key) <= 255:
            raise ProblemError(400, "Bad Request", f"{HEADER} must be 1 to 255 characters.",
                               [{"location": "headers", "field": HEADER, "message": "length 1..255"}])
        engine, table = current_app.extensions["crm"]["engine"], current_app.extensions["crm"]["idempotency"]
        principal = g.principal.subject if getattr(g, "principal", None) else ""
        request_hash = _request_hash()
        if not _claim(engine, table, key, principal, request_hash):
            return _replay(engine, table, key, principal, request_hash)
        try:
            response = make_response(view(*args, **kwargs))
        except ProblemError as error:
            _release(engine, table, key, principal)
            raise error
        except Exception:
            _release(engine, table, key, principal)
            raise
        if response.status_code >= 500:
            _release(engine, table, key, principal)
            return response
        headers = {h: response.headers[h] for h in REPLAYED_HEADERS if h in response.headers}
        with engine.begin() as conn:
            conn.execute(update(table).where(table.c.key == key, table.c.principal == principal).values(
                status=response.status_code, response=response.get_data(), headers=json.dumps(headers)))
        return response
    return wrapper


def _claim(engine, table, key, principal, request_hash) -> bool:
    try:
        with engine.begin() as conn:
            conn.execute(table.insert().values(key=key, principal=principal, request_hash=request_hash))
        return True
    except IntegrityError:
        return False


def _release(engine, table, key, principal) -> None:
    with engine.begin() as conn:
        conn.execute(delete(table).where(table.c.key == key, table.c.principal == principal))


def _replay(engine, table, key, principal, request_hash):
    with engine.connect() as conn:
        row = conn.execute(select(table).where(table.c.key == key, table.c.principal == principal)).first()
    if row is None:
        raise ProblemError(409, "Conflict", "A request with this Idempotency-Key just failed; retry it.")
    if row.request_hash != request_hash:
        raise ProblemError(422, "Unprocessable Entity",
                           f"This {HEADER} was used for a different request.",
                           [{"location": "headers", "field": HEADER, "message": "reused with another body"}])
    if row.status is None:
        raise ProblemError(409, "Conflict", "A request with this Idempotency-Key is still being processed.")
    response = make_response(row.response, row.status)
    for name, value in json.loads(row.headers or "{}").items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response
