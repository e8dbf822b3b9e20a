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


MARK = "__crm_idempotent__"


def _request_hash() -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode() + b" " + request.full_path.encode() + b"\n")
    if request.mimetype == "multipart/form-data":
        _hash_form(digest)
    else:
        digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _hash_form(digest) -> None:
    """A multipart body by its fields and files, not its bytes: a client that sends the same upload again
    builds a new random boundary, and that must still be the same request."""
    fields = sorted((name, value) for name, values in request.form.lists() for value in values)
    files = []
    for name, upload in request.files.items(multi=True):
        content = hashlib.sha256(upload.stream.read()).hexdigest()
        upload.stream.seek(0)
        files.append((name, upload.filename or "", upload.mimetype or "", content))
    digest.update(json.dumps({"form": fields, "files": sorted(files)}).encode())


def is_idempotent(view) -> bool:
    """Whether `view` (a view function or a MethodView's method), or a function it wraps, is `@idempotent`."""
    while view is not None:
        if getattr(view, MARK, False):
            return True
        view = getattr(view, "__wrapped__", None)
    return False


def unguarded_posts(app, allowed: dict[str, str] | None = None) -> list[str]:
    """Every POST route of `app` whose view is not `@idempotent`, except those in `allowed` (rule -> why);
    a service's test asserts this is empty, so that a new creating endpoint cannot forget the header."""
    allowed = allowed or {}
    found = []
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or ()) or rule.rule in allowed:
            continue
        view = app.view_functions[rule.endpoint]
        view_class = getattr(view, "view_class", None)
        if not is_idempotent(getattr(view_class, "post", None) if view_class is not None else view):
            found.append(rule.rule)
    return sorted(found)


def idempotent(view):
    """A POST that creates something or does what must not happen twice: with `Idempotency-Key`, a retry of
    the same request by the same principal gets the first answer again (`Idempotent-Replayed: true`)."""
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
    setattr(wrapper, MARK, True)
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
