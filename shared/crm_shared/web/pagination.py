"""Keyset pagination: an opaque cursor holds the sort key of the last row, so deep pages stay fast."""
from __future__ import annotations

import base64
import json

from marshmallow import Schema, fields, validate

from crm_shared.web.errors import ProblemError

MAX_PAGE_SIZE = 200


class PageQuerySchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))
    cursor = fields.String(load_default=None, validate=validate.Length(max=1000))


def encode_cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode()


def decode_cursor(cursor: str | None, expected_length: int) -> list | None:
    if not cursor:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != expected_length:
        raise ProblemError(400, "Bad Request", "The cursor is not one this endpoint issued.",
                           [{"location": "query", "field": "cursor", "message": "invalid cursor"}])
    return values


def page_of(rows: list, limit: int, key) -> dict:
    """`rows` was fetched with limit + 1 so the presence of a next page is known without counting."""
    items = rows[:limit]
    next_cursor = encode_cursor(key(items[-1])) if len(rows) > limit and items else None
    return {"items": items, "next_cursor": next_cursor}
