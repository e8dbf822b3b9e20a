"""Retrying a transaction that lost a race in the database: a deadlock, or a serialization failure.

PostgreSQL aborts one of the transactions of a deadlock (SQLSTATE 40P01) and may abort a transaction that
cannot be serialized (40001). Both are safe to run again from the start, in a new transaction: every unit
of work here is all-or-nothing. `retry_transient` does that a bounded number of times, with a short jittered
pause, and lets any other error (and the last transient one) through.
"""
from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from prometheus_client import Counter

log = logging.getLogger(__name__)
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure
RETRIED = Counter("crm_transaction_retried_total", "Transactions run again after a deadlock or serialization "
                  "failure", ["where"])
T = TypeVar("T")


def is_transient(exc: BaseException | None) -> bool:
    """True for a deadlock or serialization failure, as raised by psycopg or wrapped by SQLAlchemy."""
    seen = 0
    while exc is not None and seen < 10:
        if getattr(exc, "sqlstate", None) in TRANSIENT_SQLSTATES:
            return True
        exc = getattr(exc, "orig", None) or exc.__cause__
        seen += 1
    return False


def retry_transient(action: Callable[[], T], *, attempts: int = 4, pause: float = 0.05,
                    where: str = "transaction") -> T:
    """`action()`, run again (up to `attempts` runs in all) while it fails with a transient database error.
    `action` must start its own transaction each time (a unit of work does)."""
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except Exception as exc:
            if attempt >= attempts or not is_transient(exc):
                raise
            RETRIED.labels(where).inc()
            log.warning("%s lost a database race (attempt %d of %d), running it again: %s", where, attempt,
                        attempts, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            time.sleep(pause * attempt * (1 + random.random()))
    raise AssertionError("unreachable")
