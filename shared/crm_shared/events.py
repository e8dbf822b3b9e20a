"""CloudEvents 1.0 envelope (JSON structured mode) used on every exchange."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, UTC
from typing import Any

from crm_shared import context

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/cloudevents+json"
TYPE_PATTERN = re.compile(r"^crm\.[a-z_-]+\.[a-z_]+\.v[0-9]+$")
REQUIRED = ("specversion", "id", "source", "type", "time", "data")


class MalformedEvent(ValueError):
    """The message is not a CloudEvent this platform can read; retrying will not help."""


@dataclass(frozen=True)
class CloudEvent:
    type: str
    source: str
    data: dict[str, Any]
    subject: str | None = None
    id: str = field(default_factory=context.new_id)
    time: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    correlationid: str | None = None
    causationid: str | None = None
    datacontenttype: str = "application/json"
    specversion: str = SPEC_VERSION

    @property
    def version(self) -> int:
        return int(self.type.rsplit(".v", 1)[1])

    def to_dict(self) -> dict[str, Any]:
        body = {
            "specversion": self.specversion,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": self.time,
            "datacontenttype": self.datacontenttype,
            "data": self.data,
        }
        for key in ("subject", "correlationid", "causationid"):
            value = getattr(self, key)
            if value is not None:
                body[key] = value
        return body

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"), default=str)

    @classmethod
    def from_dict(cls, body: Any) -> CloudEvent:
        if not isinstance(body, dict):
            raise MalformedEvent("envelope is not a JSON object")
        missing = [key for key in REQUIRED if key not in body]
        if missing:
            raise MalformedEvent(f"envelope lacks {', '.join(missing)}")
        if body["specversion"] != SPEC_VERSION:
            raise MalformedEvent(f"unsupported specversion {body['specversion']!r}")
        if not isinstance(body["data"], dict):
            raise MalformedEvent("data is not a JSON object")
        if not TYPE_PATTERN.match(str(body["type"])):
            raise MalformedEvent(f"type {body['type']!r} lacks the crm.<service>.<name>.v<N> form")
        return cls(
            type=body["type"],
            source=body["source"],
            data=body["data"],
            subject=body.get("subject"),
            id=str(body["id"]),
            time=body["time"],
            correlationid=body.get("correlationid"),
            causationid=body.get("causationid"),
            datacontenttype=body.get("datacontenttype", "application/json"),
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> CloudEvent:
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedEvent(f"body is not JSON: {exc}") from exc
        return cls.from_dict(body)


def new_event(type: str, source: str, subject: str | None, data: dict[str, Any]) -> CloudEvent:
    """An event correlated with whatever request or message is being handled now."""
    if not TYPE_PATTERN.match(type):
        raise ValueError(f"event type {type!r} lacks the crm.<service>.<name>.v<N> form")
    return CloudEvent(
        type=type,
        source=source,
        subject=subject,
        data=data,
        correlationid=context.current_correlation_id(),
        causationid=context.causation_id.get(),
    )


def exchange_for(service: str) -> str:
    """Each service publishes on its own durable topic exchange; routing key = event type."""
    return f"crm.{service}"
