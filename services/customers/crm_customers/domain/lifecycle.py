"""The customer lifecycle.

    suspect  -> prospect | customer | inactive
    prospect -> customer | inactive
    customer -> inactive
    inactive -> prospect | customer      (reactivation)

A party never goes back to suspect: a suspect is someone telemarketing has not qualified yet, and once
qualified that knowledge is not lost. A customer number is assigned the first time a party becomes a
customer and kept for good, also while inactive and after reactivation.
"""
from __future__ import annotations

from enum import StrEnum


class LifecycleState(StrEnum):
    SUSPECT = "suspect"
    PROSPECT = "prospect"
    CUSTOMER = "customer"
    INACTIVE = "inactive"


ALLOWED_TRANSITIONS: dict[LifecycleState, frozenset[LifecycleState]] = {
    LifecycleState.SUSPECT: frozenset({LifecycleState.PROSPECT, LifecycleState.CUSTOMER, LifecycleState.INACTIVE}),
    LifecycleState.PROSPECT: frozenset({LifecycleState.CUSTOMER, LifecycleState.INACTIVE}),
    LifecycleState.CUSTOMER: frozenset({LifecycleState.INACTIVE}),
    LifecycleState.INACTIVE: frozenset({LifecycleState.PROSPECT, LifecycleState.CUSTOMER}),
}

# A party can be registered in any active state (customers come in from legacy systems), never as inactive.
INITIAL_STATES = frozenset({LifecycleState.SUSPECT, LifecycleState.PROSPECT, LifecycleState.CUSTOMER})


def may_transition(current: LifecycleState, target: LifecycleState) -> bool:
    return target in ALLOWED_TRANSITIONS[current]
