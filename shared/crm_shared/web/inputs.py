"""Checks every request's input once, before any view sees it, so no endpoint can forget them.

- JSON bodies are parsed here (Flask caches the result): malformed JSON, or JSON nested deeper than
  `MAX_JSON_DEPTH`, is a 400 problem. Python's parser fails with a `RecursionError` on very deep input, and
  the libraries after it (marshmallow, the database driver) recurse too.
- No string anywhere in the path, the query, a form, a file name or a JSON body (keys included) may contain
  NUL: PostgreSQL cannot store it in text or JSON columns. Such input is a 422 problem naming the location
  and the field path (`items.0.name`).
"""
from __future__ import annotations

import json

from flask import Request
from marshmallow import ValidationError, fields

from crm_shared.web.errors import ProblemError

MAX_JSON_DEPTH = 64
NUL = "\x00"
NUL_MESSAGE = "must not contain NUL characters"


def check_request(request: Request) -> None:
    errors: list[dict] = []
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and NUL in value:
            errors.append(_nul("path", name))
    errors += _nul_in_pairs("query", request.args)
    # Forms are checked when something reads them (CheckedRequest), not here: a blueprint may first set
    # request.max_content_length, which only works before the body is read.
    if request.is_json and request.get_data(cache=True):
        errors += nul_in_json(load_json(request), "json")
    if errors:
        raise ProblemError(422, "Unprocessable Entity", "Text must not contain NUL characters.", errors)


class CheckedRequest(Request):
    """Flask's request, refusing NUL in form fields and file names as soon as the form is parsed."""

    def _load_form_data(self) -> None:
        super()._load_form_data()
        errors = _nul_in_pairs("form", self.form)
        for name, upload in self.files.items(multi=True):
            if NUL in name or NUL in (upload.filename or ""):
                errors.append(_nul("files", name.replace(NUL, "\\u0000")))
        if errors:
            raise ProblemError(422, "Unprocessable Entity", "Text must not contain NUL characters.", errors)


def load_json(request: Request):
    """The request's JSON body, parsed once (and cached for `request.get_json()` and webargs)."""
    try:
        data = parse_json_text(request.get_data(cache=True))
    except ValueError as exc:
        raise ProblemError(400, "Bad Request", str(exc),
                           [{"location": "json", "field": None, "message": str(exc)}]) from None
    request._cached_json = (data, data)  # what Request.get_json returns from now on, silent or not
    return data


def parse_json_text(text: str | bytes):
    """JSON text to a value; a ValueError (with a message a client can read) for malformed or too deep JSON."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError:
        raise ValueError("not valid JSON") from None
    if depth_exceeds(value, MAX_JSON_DEPTH):
        raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def depth_exceeds(value, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def nul_in_json(value, location: str, prefix: str = "") -> list[dict]:
    """One error per string (or key) holding NUL, by its dotted path; iterative, so depth cannot crash it."""
    found = []
    stack = [(value, prefix)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                found.append(_nul(location, path or None))
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{path}.{key}" if path else str(key)
                if NUL in key:
                    found.append(_nul(location, child_path.replace(NUL, "\\u0000")))
                else:
                    stack.append((child, child_path))
        elif isinstance(item, list):
            stack.extend((child, f"{path}.{index}" if path else str(index)) for index, child in enumerate(item))
    return sorted(found, key=lambda e: str(e["field"]))


def _nul_in_pairs(location: str, pairs) -> list[dict]:
    found = []
    for key, values in pairs.lists():
        if NUL in key or any(NUL in v for v in values):
            found.append(_nul(location, key.replace(NUL, "\\u0000")))
    return found


def _nul(location: str, field: str | None) -> dict:
    return {"location": location, "field": field, "message": NUL_MESSAGE}


class JsonText(fields.Field):
    """JSON carried as text, as in a multipart form field (forms hold only text and files).

    Malformed JSON, JSON nested deeper than `MAX_JSON_DEPTH`, a value of another JSON type than `expect`, or a
    string holding NUL is a ValidationError on this field (422 naming it); the request-wide check cannot see
    inside the text."""

    def __init__(self, *, expect: type | tuple[type, ...] | None = None, expected: str = "", **kwargs):
        metadata = {"type": "string", "format": "json", **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)
        self.expect, self.expected = expect, expected or "must be JSON text"

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str | bytes):
            raise ValidationError(self.expected)
        try:
            parsed = parse_json_text(value)
        except ValueError as exc:
            raise ValidationError(f"{exc}: {self.expected}") from None
        if self.expect is not None and (not isinstance(parsed, self.expect) or isinstance(parsed, bool)):
            raise ValidationError(self.expected)
        nul = nul_in_json(parsed, "form")
        if nul:
            where = ", ".join(str(e["field"]) for e in nul)
            raise ValidationError(f"{NUL_MESSAGE} (at {where})")
        return parsed


class Text(fields.String):
    """A string PostgreSQL can store: NUL is refused by the field too, for schemas loaded outside a request
    (the request-wide check covers every request)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if NUL in text:
            raise ValidationError(NUL_MESSAGE)
        return text
