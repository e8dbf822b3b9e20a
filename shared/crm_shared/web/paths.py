"""Path parameters every service reads the same way.

Ids in paths are UUIDs. `<uuid:...>` (werkzeug's converter) hands the view a `uuid.UUID`; `<uuid_str:...>`
(registered by create_service_app) takes exactly the same paths but hands the view the canonical text form,
for services whose tables keep ids as text. Either way a path whose id is not a UUID matches no route: `404`
problem+json (`401` without a token), and the OpenAPI document says `format: uuid`.
"""
from __future__ import annotations

import uuid

from werkzeug.routing import UUIDConverter

from crm_shared.web.errors import ProblemError

UUID_TEXT = "uuid_str"


class UuidTextConverter(UUIDConverter):
    """Matches a UUID like `<uuid:...>`; the view receives its canonical lowercase text."""

    def to_python(self, value: str) -> str:
        return str(uuid.UUID(value))

    def to_url(self, value) -> str:
        return str(value)


def uuid_param_schema(_converter) -> dict:
    return {"type": "string", "format": "uuid"}


def path_uuid(value: str | uuid.UUID, field: str) -> str:
    """The canonical form of a UUID in the path, or a 400 problem naming the parameter."""
    if isinstance(value, uuid.UUID):
        return str(value)
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise ProblemError(400, "Bad Request", f"{field} must be a UUID.",
                           [{"location": "path", "field": field, "message": "Not a valid UUID."}]) from None
