"""Use cases that lose a database race (a deadlock, a serialization failure) run again, never fail with it.

Every writer takes its locks in one order (parties, then agents, each sorted), so deadlocks should not happen;
one that still does (a lock taken by a statement's own plan, say) aborts one transaction, which is then run
again from the start, a bounded number of times (`crm_shared.retry`). Inside the consumer's transaction the
use case cannot restart on its own: there the consumer runs the whole batch again.
"""
from __future__ import annotations

import functools

from crm_shared.retry import retry_transient

from crm_calls.service_layer.unit_of_work import ConsumerUnitOfWork


def retried(use_case):
    @functools.wraps(use_case)
    def run(uow, *args, **kwargs):
        if isinstance(uow, ConsumerUnitOfWork):
            return use_case(uow, *args, **kwargs)
        return retry_transient(lambda: use_case(uow, *args, **kwargs), where=f"calls {use_case.__name__}")
    return run
