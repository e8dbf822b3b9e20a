"""Importing an uploaded address list (CSV or XLSX) into a campaign.

`start_import` checks all that can be checked without reading the rows (size, format, header, column mapping,
campaign, line of business) and stores a pending import with its file; nothing is stored when a check fails.

`process_import` then works in three steps, in the background:

1. count: reads the whole file once without judging rows. This gives the total for the progress, and a file that
   breaks further down fails here, before anything is written.
2. classify: reads the rows again in chunks of CHUNK. Each chunk is parsed and validated, and its duplicates found
   with a few set-based queries (replica candidates, earlier rows of this and of completed imports, deactivated
   parties, suppressions); one short transaction writes ONLY its report rows (`import_rows`, holding the new
   suspect's event data for accepted rows) and the progress counters.
3. apply: ONE final transaction reads the rows back in chunks, publishes a `suspect_imported` event per accepted
   row, adds the parties to the campaign, deletes the file and marks the import completed.

So until step 3 commits, nothing outside the import's own report rows exists: a file or campaign problem marks the
import failed and deletes those rows, a crash leaves a `running` import that a re-run starts afresh. Every run
increments the import's version and every transaction of a run locks the import row and checks that version, so
a run overtaken by a redelivered task stops at its next chunk and only one run ever applies.

Memory stays bounded: the file's bytes, one chunk of rows, and in step 3 the events of one chunk, which go
straight into the outbox instead of waiting for the commit.
"""
from __future__ import annotations

import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from itertools import islice

from crm_shared.auth import Principal
from crm_shared.events import new_event

from crm_campaigns.domain import events
from crm_campaigns.domain.address_list import AddressRow, detect_format, parse_row, read_table, validate_mapping
from crm_campaigns.domain.errors import Conflict, FileTooLarge, InvalidInput, MalformedFile, NotFound
from crm_campaigns.domain.import_outcomes import (EARLIER_ROW, OUTCOMES, REPLICA, REPLICA_NOT_ADDED,
                                                  ChunkContext, KnownParty, RowKeys, classify, row_keys)
from crm_campaigns.service_layer import progress
from crm_campaigns.service_layer.campaigns import now, require_known_line, visible_campaign
from crm_campaigns.service_layer.unit_of_work import ConsumerUnitOfWork

PENDING, RUNNING, COMPLETED, FAILED = "pending", "running", "completed", "failed"
STATUSES = (PENDING, RUNNING, COMPLETED, FAILED)
OPEN_CAMPAIGN = ("draft", "active")
CHUNK = 2000
APPLY_CHUNK = 5000
HEAD_BYTES = 8192
LINE_OF_BUSINESS_CODE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")   # what parse_row accepts in a cell
COUNTERS = {"accepted": "accepted", "duplicate": "duplicates", "rejected": "rejected"}



class _Superseded(Exception):
    """A newer run of the same import took over."""


# --- starting -------------------------------------------------------------------------------------------------

def start_import(uow, actor: Principal, campaign_id: str, filename: str, content_type: str | None, content: bytes,
                 mapping: dict, default_line_of_business: str | None = None, *, max_bytes: int) -> dict:
    """Stores a pending import once the file (at most `max_bytes`, the IMPORT_MAX_BYTES setting), its header
    and the mapping are fit; raises and stores nothing otherwise."""
    with uow:
        campaign = visible_campaign(uow, actor, campaign_id)
        if campaign.status not in OPEN_CAMPAIGN:
            raise Conflict(f"a {campaign.status} campaign takes no imports")
        line = (default_line_of_business or campaign.line_of_business).lower()
        if not LINE_OF_BUSINESS_CODE.match(line):
            raise InvalidInput(f"'{line}' is not a line of business code; name one", "default_line_of_business")
        if not actor.may_access(line):
            raise InvalidInput(f"line of business '{line}' is not one of yours", "default_line_of_business")
        require_known_line(uow, line, "default_line_of_business")
        file_format, header = _readable_header(filename, content_type, content, max_bytes)
        definitions = uow.replica.attribute_types()
        validate_mapping(header, mapping, {name: d.type for name, d in definitions.items()})
        row = {"import_id": str(uuid.uuid4()), "campaign_id": campaign_id, "filename": filename[:255],
               "file_format": file_format, "mapping": mapping, "default_line_of_business": line,
               "creator_lines": None if actor.sees_all_lines() else sorted(actor.lines_of_business),
               "status": PENDING, "total_rows": None, "processed_rows": 0, "accepted": 0, "duplicates": 0,
               "rejected": 0, "error": None, "created_by": actor.subject[:200], "created_at": now(),
               "started_at": None, "finished_at": None, "version": 1}
        uow.imports.add(row, content)
        uow.commit()
    return row


def _readable_header(filename: str, content_type: str | None, content: bytes, limit: int) -> tuple[str, list[str]]:
    if len(content) > limit:
        raise FileTooLarge(f"the file has {len(content)} bytes; at most {limit} are accepted", "file")
    file_format = detect_format(filename, content_type, content[:HEAD_BYTES])
    header, _rows = read_table(content, file_format)
    return file_format, header


# --- reading ---------------------------------------------------------------------------------------------------

def get_import(uow, actor: Principal, import_id: str):
    with uow:
        return visible_import(uow, actor, import_id)


def visible_import(uow, actor: Principal, import_id: str):
    row = uow.imports.get(import_id)
    if row is None:
        raise NotFound(f"no import {import_id} is visible to you")
    try:
        visible_campaign(uow, actor, row.campaign_id)
    except NotFound:
        raise NotFound(f"no import {import_id} is visible to you") from None
    return row


def import_rows(uow, actor: Principal, import_id: str, *, limit: int, after: int | None,
                outcome: str | None = None) -> list[dict]:
    """Report rows in file order, from row `after` on."""
    if outcome is not None and outcome not in OUTCOMES:
        raise InvalidInput(f"outcome must be one of {', '.join(OUTCOMES)}", "outcome")
    with uow:
        visible_import(uow, actor, import_id)
        return uow.imports.report(import_id, limit=limit, after=after, outcome=outcome)


def campaign_imports(uow, actor: Principal, campaign_id: str, *, limit: int, after: tuple | None) -> list:
    with uow:
        visible_campaign(uow, actor, campaign_id)
        return uow.imports.of_campaign(campaign_id, limit=limit, after=after)


# --- processing ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Run:
    import_id: str
    campaign_id: str
    version: int
    file_format: str
    mapping: dict
    default_line_of_business: str
    creator_lines: frozenset[str] | None
    attribute_types: dict
    attribute_choices: dict
    content: bytes = field(repr=False)
    defined_lines: frozenset[str] = frozenset()


def process_import(uow_factory, import_id: str) -> str | None:
    """Runs the import to its end and returns its status; a completed or failed import is left alone, a pending
    or `running` one (a crashed run) is processed from the start."""
    run = _claim(uow_factory, import_id)
    if run is None:
        return _status(uow_factory, import_id)
    try:
        _count(uow_factory, run)
        _classify(uow_factory, run)
        _apply(uow_factory, run)
    except (MalformedFile, Conflict) as problem:
        _fail(uow_factory, run, problem.message)
    except _Superseded:
        pass
    return _status(uow_factory, import_id)


def _status(uow_factory, import_id: str) -> str | None:
    with uow_factory() as uow:
        row = uow.imports.get(import_id)
        return row.status if row is not None else None


def _claim(uow_factory, import_id: str) -> _Run | None:
    with uow_factory() as uow:
        row = uow.imports.get(import_id, lock=True)
        if row is None or row.status in (COMPLETED, FAILED):
            return None
        content = uow.imports.content(import_id)
        uow.imports.discard_rows(import_id)
        uow.imports.update(import_id, {"status": RUNNING, "version": row.version + 1, "started_at": now(),
                                       "total_rows": None, "processed_rows": 0, "accepted": 0, "duplicates": 0,
                                       "rejected": 0, "error": None})
        definitions = uow.replica.attribute_types()
        defined_lines = uow.replica.line_codes()
        uow.commit()
    lines = frozenset(row.creator_lines) if row.creator_lines is not None else None
    return _Run(import_id, row.campaign_id, row.version + 1, row.file_format, row.mapping,
                row.default_line_of_business, lines, {n: d.type for n, d in definitions.items()},
                {n: list(d.choices or []) for n, d in definitions.items()}, content or b"", defined_lines)


def _lock_run(uow, run: _Run):
    row = uow.imports.get(run.import_id, lock=True)
    if row is None or row.version != run.version or row.status != RUNNING:
        raise _Superseded()
    return row


def _count(uow_factory, run: _Run) -> None:
    _header, rows = read_table(run.content, run.file_format)
    total = sum(1 for _ in rows)
    with uow_factory() as uow:
        _lock_run(uow, run)
        uow.imports.update(run.import_id, {"total_rows": total})
        uow.commit()


def _classify(uow_factory, run: _Run) -> None:
    _header, rows = read_table(run.content, run.file_format)
    while chunk := list(islice(rows, CHUNK)):
        parsed = [parse_row(number, cells, run.mapping, default_line_of_business=run.default_line_of_business,
                            attribute_types=run.attribute_types, attribute_choices=run.attribute_choices)
                  for number, cells in chunk]
        with uow_factory() as uow:
            _lock_run(uow, run)
            outcomes = classify(parsed, _context(uow, run, parsed))
            uow.imports.add_rows([o.as_row(run.import_id) for o in outcomes])
            uow.imports.add_progress(run.import_id, Counter(o.outcome for o in outcomes))
            uow.commit()


def _context(uow, run: _Run, parsed: list) -> ChunkContext:
    """The parties these rows may duplicate and the suppressions that concern them, in a few queries."""
    keys = {row.row_number: row_keys(row) for row in parsed if isinstance(row, AddressRow)}
    pairs = {(k.name_key, k.postal_key) for k in keys.values() if k.name_key and k.postal_key}
    replica = uow.imports.replica_candidates(pairs)
    earlier = uow.imports.matching_rows(run.import_id, pairs)
    party_ids = {r.party_id for r in replica} | {r.party_id for r in earlier}
    contacts = [*keys.values(), *(_keys_of(r) for r in replica), *(_keys_of(r) for r in earlier)]
    found = uow.imports.suppressions(run.campaign_id, party_ids=party_ids,
                                     phone_keys={k.phone_key for k in contacts if k.phone_key},
                                     email_keys={k.email_key for k in contacts if k.email_key})
    suppressed = _Suppressed(found)
    deactivated = uow.imports.deactivated(party_ids)

    def not_added(party_id: str, party_keys: RowKeys) -> str | None:
        if party_id in deactivated:
            return "the party is deactivated"
        if suppressed.party(party_id, party_keys):
            return "the party is suppressed"
        return None

    known = [_replica_party(r, not_added(r.party_id, _keys_of(r))) for r in replica]
    known += [_earlier_party(run, r, not_added(r.party_id, _keys_of(r))) for r in earlier]
    return ChunkContext(run.campaign_id, run.import_id, known, suppressed.phones, suppressed.emails,
                        run.creator_lines, keys, defined_lines=run.defined_lines)


class _Suppressed:
    def __init__(self, rows):
        self.party_ids = {r.party_id for r in rows if r.party_id}
        self.phones = {r.phone_key for r in rows if r.phone_key}
        self.emails = {r.email_key for r in rows if r.email_key}

    def party(self, party_id: str, keys: RowKeys) -> bool:
        return party_id in self.party_ids or keys.phone_key in self.phones or keys.email_key in self.emails


def _keys_of(row) -> RowKeys:
    return RowKeys(row.name_key or "", row.postal_key or "", row.phone_key, row.email_key)


def _replica_party(row, not_added: str | None) -> KnownParty:
    rank = (REPLICA if not_added is None else REPLICA_NOT_ADDED, row.party_id)
    return KnownParty(row.party_id, _keys_of(row), "an existing party", rank, not_added)


def _earlier_party(run: _Run, row, not_added: str | None) -> KnownParty:
    if row.import_id == run.import_id:
        return KnownParty(row.party_id, _keys_of(row), f"row {row.row_number} of this file",
                          (EARLIER_ROW, 0, row.row_number), not_added)
    return KnownParty(row.party_id, _keys_of(row), "a party imported earlier", (EARLIER_ROW, 1, row.row_number),
                      not_added)


def _apply(uow_factory, run: _Run) -> None:
    with uow_factory() as uow:
        _lock_run(uow, run)
        campaign = uow.campaigns.get(run.campaign_id, lock=True)
        if campaign is None or campaign.status not in OPEN_CAMPAIGN:
            raise Conflict(f"the campaign is {campaign.status if campaign else 'gone'}: nothing was imported")
        # Events go into the outbox chunk by chunk, in this transaction, instead of piling up until the commit.
        streaming = ConsumerUnitOfWork(uow.session)
        at, after = now(), 0
        while chunk := uow.imports.joining_rows(run.import_id, after=after, limit=APPLY_CHUNK):
            streaming.publish(*(new_event(events.SUSPECT_IMPORTED, events.SOURCE, r.party_id, r.suspect)
                                for r in chunk if r.suspect is not None))
            progress.add_participants(streaming, campaign, [r.party_id for r in chunk], "import", at)
            after = chunk[-1].row_number
        counts = uow.imports.outcome_counts(run.import_id)
        uow.imports.finish(run.import_id, {"status": COMPLETED, "finished_at": now(),
                                           "processed_rows": sum(counts.values()), "total_rows": sum(counts.values()),
                                           **{column: counts.get(outcome, 0) for outcome, column in COUNTERS.items()}})
        uow.commit()


def abandon(uow, import_id: str, message: str) -> None:
    """Fails an import no run has started (its task could not be queued)."""
    with uow:
        row = uow.imports.get(import_id, lock=True)
        if row is not None and row.status == PENDING:
            uow.imports.finish(import_id, {"status": FAILED, "error": message, "finished_at": now()})
            uow.commit()


def _fail(uow_factory, run: _Run, message: str) -> None:
    """Nothing of a failed import stays but the import itself with the error."""
    try:
        with uow_factory() as uow:
            _lock_run(uow, run)
            uow.imports.discard_rows(run.import_id)
            uow.imports.finish(run.import_id, {"status": FAILED, "error": message, "finished_at": now(),
                                               "total_rows": None, "processed_rows": 0, "accepted": 0,
                                               "duplicates": 0, "rejected": 0})
            uow.commit()
    except _Superseded:
        pass
