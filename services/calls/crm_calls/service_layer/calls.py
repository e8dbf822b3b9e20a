"""Use cases on calls: requests from other services, withdrawals, syncing parties, the daily roll-forward.

Each use case locks the parties it touches (sorted) before the Planner locks the agents (sorted), the one
lock order every writer follows.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta

from crm_shared.retry import retry_transient

from crm_calls.domain.commands import RequestCall
from crm_calls.service_layer.cycles import is_cycle_customer, plan_cycle, sync_party
from crm_calls.service_layer.planner import Planner, commit_planner
from crm_calls.service_layer.requests import RequestResult, request_call, withdraw_request
from crm_calls.service_layer.transactions import retried

CONTACT_MEMORY_DAYS = 366
# A first roll-out writes millions of calls; the query planner must see them before the next chunks' reads,
# whatever autovacuum is doing (with stale statistics one lookup by party scanned 2.4M rows instead of 1,200).
ANALYZE_EVERY_PARTIES = 50_000


class PartyNotReplicated(Exception):
    """A request names a party this service has not heard of yet: retried, since its event may still come."""


@retried
def request_calls(uow, cmds: list[RequestCall], *, wait_for_parties: bool = False) -> list[RequestResult]:
    with uow:
        parties = uow.planning.lock_parties(c.party_id for c in cmds)
        missing = [c.party_id for c in cmds if c.party_id not in parties]
        if missing and wait_for_parties:
            raise PartyNotReplicated(f"parties not replicated yet: {', '.join(sorted(set(missing))[:5])}")
        planner, contacts = _planner_for(uow, parties)
        ids = {c.request_id for c in cmds}
        known, refused = uow.planning.calls_by_requests(ids), uow.planning.refusals_by_requests(ids)
        results = [request_call(planner, parties.get(c.party_id), contacts.setdefault(c.party_id, []), c, known,
                                refused) for c in cmds]
        commit_planner(uow, planner)
    return results


@retried
def withdraw_requests(uow, request_ids: Iterable[str], reason: str,
                      lines_of_business: Iterable[str] | None = None) -> int:
    """Cancels the open calls of these requests in `lines_of_business` (None: every line); how many."""
    with uow:
        calls = [c for r in request_ids for c in uow.planning.calls_by_request(r, lines_of_business)]
        parties = uow.planning.lock_parties(c.party_id for c in calls)
        planner, contacts = _planner_for(uow, parties)
        withdrawn = 0
        for call in calls:
            stored = next((c for c in contacts.get(call.party_id, []) if c.call_id == call.call_id), None)
            withdrawn += withdraw_request(planner, stored or uow.planning.get_call(call.call_id, lock=True), reason)
        for party_id in {c.party_id for c in calls}:  # a call that had taken over a maintenance call leaves a gap
            party = parties.get(party_id)
            if party is not None and is_cycle_customer(party):
                plan_cycle(planner, party, contacts.setdefault(party_id, []))
        commit_planner(uow, planner)
    return withdrawn


@retried
def sync_parties(uow, party_ids: Iterable[str], today: date | None = None) -> None:
    """After the replica changed: cancel, move or plan the parties' calls to match."""
    with uow:
        parties = uow.planning.lock_parties(party_ids)
        if not parties:
            return
        planner, contacts = _planner_for(uow, parties, today)
        for party_id, party in parties.items():
            sync_party(planner, party, contacts.setdefault(party_id, []))
        commit_planner(uow, planner)


def roll_forward(uow_factory: Callable[[], object], today: date | None = None, chunk_size: int = 2000,
                 progress: Callable[[int], None] | None = None,
                 analyze_every: int = ANALYZE_EVERY_PARTIES) -> dict[str, int]:
    """The daily job: every party's calls brought up to date, one chunk of parties per transaction."""
    totals = {"parties": 0, "calls_planned": 0, "calls_moved": 0, "overflow": 0}
    after, since_analyze = "", 0
    while True:
        party_ids, counts = retry_transient(lambda start=after: _roll_chunk(uow_factory(), start, chunk_size, today),
                                            where="calls roll_forward")
        if not party_ids:
            return totals
        for name, value in counts.items():
            totals[name] += value
        after = party_ids[-1]
        since_analyze += len(party_ids)
        if since_analyze >= analyze_every:
            with uow_factory() as stats_uow:
                stats_uow.planning.refresh_statistics()
            since_analyze = 0
        if progress:
            progress(totals["parties"])


def _roll_chunk(uow, after: str, chunk_size: int, today: date | None) -> tuple[list[str], dict[str, int]]:
    """One chunk of parties in one transaction (run again as a whole should it lose a deadlock)."""
    counts = {"parties": 0, "calls_planned": 0, "calls_moved": 0, "overflow": 0}
    with uow:
        party_ids = uow.planning.party_ids_after(after, chunk_size)
        if not party_ids:
            return [], counts
        wanted = set(party_ids)
        locked = uow.planning.lock_party_range(party_ids[0], party_ids[-1])
        parties = {party_id: row for party_id, row in locked.items() if party_id in wanted}
        planner = Planner(uow.planning, today=today, clock=uow.clock)
        since = planner.today - timedelta(days=CONTACT_MEMORY_DAYS)
        contacts = uow.planning.contacts_in_range(party_ids[0], party_ids[-1], since)
        for party_id, party in parties.items():
            sync_party(planner, party, contacts.setdefault(party_id, []))
        _count(counts, planner, len(parties))
        commit_planner(uow, planner)
    return party_ids, counts


def _planner_for(uow, parties: dict, today: date | None = None):
    since = (today or uow.clock.today()) - timedelta(days=CONTACT_MEMORY_DAYS)
    contacts = uow.planning.contacts_of(parties, since)
    return Planner.for_parties(uow.planning, parties.values(), contacts, today=today, clock=uow.clock), contacts


def _count(totals: dict[str, int], planner: Planner, parties: int) -> None:
    totals["parties"] += parties
    totals["calls_planned"] += len(planner.new_calls)
    totals["calls_moved"] += len(planner.changed_calls)
    totals["overflow"] += sum(1 for c in [*planner.new_calls, *planner.changed_calls.values()]
                              if c.status == "overflow")

