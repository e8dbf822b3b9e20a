"""Optimistic locking over HTTP: a versioned resource answers `ETag: "<version>"`; a change sent with
`If-Match: "<version>"` (or `W/"<version>"`) is refused with 412 when the stored version is another one."""
from __future__ import annotations

from marshmallow import Schema, validate

from crm_shared.web.inputs import Text

ETAG = {"ETag": {"description": 'the version, as "<n>"', "schema": {"type": "string"}}}


class IfMatchSchema(Schema):
    if_match = Text(data_key="If-Match", load_default=None,
                    validate=validate.Regexp(r'^(W/)?"[0-9]{1,9}"$', error='expected "<version>"'),
                    metadata={"description": 'the version you read (its ETag): 412 if it changed since'})


def if_match_version(headers: dict) -> int | None:
    """The version an `IfMatchSchema`-loaded `If-Match` names, or None without one."""
    value = headers.get("if_match")
    return None if value is None else int(value.removeprefix("W/").strip('"'))


def etag(version: int) -> dict:
    return {"ETag": f'"{version}"'}
