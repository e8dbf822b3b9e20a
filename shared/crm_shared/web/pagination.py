"""Keyset pagination: an opaque cursor holds the sort key of the last row, so deep pages stay fast."""
from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import date, datetime

from flask import current_app, has_app_context
from marshmallow import Schema, fields, validate

from crm_shared.web.errors import ProblemError
from crm_shared.web.fields import Int32

MAX_PAGE_SIZE = 200  # the default of the MAX_PAGE_SIZE setting


class PageLimit(validate.Range):
    """1 ..  the serving app's `Settings.max_page_size` (MAX_PAGE_SIZE); MAX_PAGE_SIZE outside an app.

    Looked up when a request is validated (and when the OpenAPI document is built inside the app), because
    the schemas are module-level classes while the settings belong to the app: in embedded mode several
    services with different settings share one process."""

    def __init__(self):
        super().__init__(min=1, max=MAX_PAGE_SIZE)

    @property
    def max(self):
        if has_app_context():
            settings = current_app.extensions.get("crm", {}).get("settings")
            if settings is not None:
                return settings.max_page_size
        return MAX_PAGE_SIZE

    @max.setter
    def max(self, _value):
        pass  # validate.Range.__init__ sets it; the value is always looked up


DEFAULT_LIMIT = 50
_limit = PageLimit()


class PageQuerySchema(Schema):
    limit = Int32(load_default=lambda: min(DEFAULT_LIMIT, _limit.max), validate=_limit,
                  metadata={"description": f"page size, {DEFAULT_LIMIT} (or MAX_PAGE_SIZE if smaller) "
                                           "by default"})
    cursor = fields.String(load_default=None, validate=validate.Length(max=1000))


def encode_cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode()


def decode_cursor(cursor: str | None, shape: int | Sequence[Callable]) -> list | None:
    """The values of a cursor `encode_cursor` made, or None without one; 400 for any other cursor.

    `shape` is either the number of values (any JSON values), or one converter per value (`text`, `integer`,
    `timestamp`, `day`, `uuid.UUID`, a function of your own, ...): each takes the JSON value and returns what
    the query needs, raising ValueError, TypeError or AttributeError for a value this endpoint never issued.
    Every refusal is the same 400 problem naming `cursor` (`bad_cursor()`, also for checks of your own)."""
    if not cursor:
        return None
    converters = None if isinstance(shape, int) else tuple(shape)
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError):
        values = None
    expected_length = shape if converters is None else len(converters)
    if not isinstance(values, list) or len(values) != expected_length:
        raise bad_cursor()
    if converters is None:
        return values
    try:
        return [convert(value) for convert, value in zip(converters, values, strict=True)]
    except (ValueError, TypeError, AttributeError) as exc:
        raise bad_cursor() from exc


def bad_cursor() -> ProblemError:
    return ProblemError(400, "Bad Request", "The cursor is not one this endpoint issued.",
                        [{"location": "query", "field": "cursor", "message": "invalid cursor"}])


def text(value) -> str:
    """A string as stored (never with NUL, which PostgreSQL cannot hold)."""
    if not isinstance(value, str) or "\x00" in value:
        raise TypeError("not a text value of a cursor")
    return value


def integer(value) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("not an integer value of a cursor")
    return value


def timestamp(value) -> datetime:
    return datetime.fromisoformat(text(value))


def day(value) -> date:
    return date.fromisoformat(text(value))


def page_of(rows: list, limit: int, key) -> dict:
    """`rows` was fetched with limit + 1 so the presence of a next page is known without counting."""
    items = rows[:limit]
    next_cursor = encode_cursor(key(items[-1])) if len(rows) > limit and items else None
    return {"items": items, "next_cursor": next_cursor}
