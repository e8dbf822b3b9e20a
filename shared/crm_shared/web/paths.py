"""Path parameters every service reads the same way."""
from __future__ import annotations

import uuid

from crm_shared.web import ProblemError


def path_uuid(value: str, field: str) -> str:
    """The canonical form of a UUID in the path, or a 400 problem naming the parameter."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ProblemError(400, "Bad Request", f"{field} must be a UUID.",
                           [{"location": "path", "field": field, "message": "Not a valid UUID."}]) from None
