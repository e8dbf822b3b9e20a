"""Correlation of log lines and events with the request or message that caused them."""
from __future__ import annotations

import contextvars
import uuid
from contextlib import contextmanager

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)
causation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("causation_id", default=None)


def new_id() -> str:
    return str(uuid.uuid4())


def current_correlation_id() -> str:
    value = correlation_id.get()
    return value if value else new_id()


@contextmanager
def caused_by(correlation: str | None, causation: str | None):
    """Within this block, events written are correlated with `correlation` and caused by `causation`."""
    token_c = correlation_id.set(correlation)
    token_k = causation_id.set(causation)
    try:
        yield
    finally:
        correlation_id.reset(token_c)
        causation_id.reset(token_k)
