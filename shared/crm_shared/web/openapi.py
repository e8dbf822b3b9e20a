"""What every service's OpenAPI document says about errors: `application/problem+json` with `Problem`.

Every operation documents `401` (every operation needs a bearer token, except public ones that say
`security: []`) and a `default` problem response; every 4xx/5xx an endpoint documents itself gets the
problem body, whatever content type the endpoint named.
"""
from __future__ import annotations

from apispec import BasePlugin
from marshmallow import INCLUDE, Schema, fields

from crm_shared.web.errors import PROBLEM

PROBLEM_SCHEMA_NAME = "Problem"
PROBLEM_REF = {"$ref": f"#/components/schemas/{PROBLEM_SCHEMA_NAME}"}


class ProblemDetailSchema(Schema):
    class Meta:
        unknown = INCLUDE  # documented as open: a problem may carry extension members

    location = fields.String(metadata={"description": "json, query, path, form, files or headers"})
    field = fields.String(allow_none=True, metadata={"description": "dotted path of the field, if any"})
    message = fields.String()


class ProblemSchema(Schema):
    """A problem detail (RFC 9457), with one entry per offending field in `errors`."""
    class Meta:
        unknown = INCLUDE

    type = fields.String(metadata={"example": "about:blank"})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    instance = fields.String(metadata={"description": "urn:request:<the request id>"})
    errors = fields.List(fields.Nested(ProblemDetailSchema))


def problem_content() -> dict:
    return {PROBLEM: {"schema": dict(PROBLEM_REF)}}


class ProblemResponsesPlugin(BasePlugin):
    """Runs after flask-smorest's and marshmallow's helpers for each path: rewrites error responses."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            documented = {str(status) for status in responses}
            if operation.get("security") != [] and "401" not in documented:
                responses["401"] = "UNAUTHORIZED"
            if "default" not in documented:
                responses["default"] = "DEFAULT_ERROR"
            for status, response in responses.items():
                if _is_error(status) and isinstance(response, dict) and "$ref" not in response:
                    response["content"] = problem_content()


def _is_error(status) -> bool:
    text = str(status)
    return text == "default" or (text[:1] in ("4", "5"))
