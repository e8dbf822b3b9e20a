"""The customers service owns its data and subscribes to no other service's events yet."""
from __future__ import annotations


def build_consumer(_runtime) -> None:
    return None
