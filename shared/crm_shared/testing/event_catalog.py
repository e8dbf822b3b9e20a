"""Reading the event catalog (docs/events/asyncapi.yaml) in the contract tests every publishing service has:
which fields a documented event's `data` requires and knows, so a test can hold what the outbox holds
against it."""
from __future__ import annotations

from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[3] / "docs" / "events"  # the repository's, beside the services


def load_catalog() -> dict:
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load((DOCS / "asyncapi.yaml").read_text())


def catalog_readme() -> str:
    return (DOCS / "README.md").read_text()


def messages_by_type(document: dict) -> dict[str, dict]:
    return {m["name"]: m for m in document["components"]["messages"].values()}


def data_schema(message: dict) -> dict:
    """The schema of a message's CloudEvents `data` (the payload is the envelope allOf the data)."""
    return message["payload"]["allOf"][1]["properties"]["data"]


def schema_fields(document: dict, schema: dict) -> tuple[set[str], set[str]]:
    """(required, known) data fields of a documented schema, following $ref and allOf."""
    if "$ref" in schema:
        return schema_fields(document, document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]])
    required, known = set(schema.get("required", ())), set(schema.get("properties", {}))
    for part in schema.get("allOf", ()):
        more_required, more_known = schema_fields(document, part)
        required, known = required | more_required, known | more_known
    return required, known
