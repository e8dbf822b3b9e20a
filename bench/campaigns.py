"""Campaigns benchmark: target selection, an address-list import and a three-stage call campaign on PostgreSQL and
RabbitMQ, each step timed against a raw baseline in the same run, with the counts checked in SQL.

Setup (timed on its own, not a result): a fresh database `bench_campaigns_<random>`, the campaigns migrations,
`--parties` parties COPYed into `party_replica` (rows built by the service's own `replica_from_snapshot`, so the
dedupe keys are the service's), the attribute definitions, VACUUM ANALYZE. The seed is deterministic: exactly
`--select` parties meet all three selection criteria (lifecycle prospect/customer, postal codes 20000-59999,
attribute revenue >= 50,000); every other party misses at least one of them.

1. Selection: `select_targets` into a draft campaign. Baseline: the same criteria as a bare INSERT ... SELECT
   into `participations_copy (LIKE participations INCLUDING ALL)`.
2. Import: a CSV of `--import-rows` rows (94% new addresses, 5% duplicates of replica parties written
   differently, 1% bad rows) through `start_import` and `process_import` into a second campaign. Baseline: COPY of
   the same file into a bare table.
3. Stages: `launch` of the selection campaign (three call stages), then call outcomes published to the exchange
   `crm.calls` as the calls service publishes them, wave by wave (all outcomes of a stage, wait until the
   consumer has handled them, then the next stage), handled by the service's real consumer (`build_consumer`
   with a queue of its own, in a subprocess). Baseline: a bare pika consumer acking as many messages.

Every count is checked from the database (PASS/FAIL; exit status 1 on a FAIL). The database and the queues are
removed at the end (`--keep-db` keeps the database). With `autovacuum = off` (this machine's CI configuration) the
benchmark applies autovacuum's ANALYZE rule itself between transactions and while the consumer works
(`--autoanalyze`).

    .venv/bin/python bench/campaigns.py [--parties 1000000] [--select 200000] [--import-rows 100000]
    .venv/bin/python bench/campaigns.py --parties 20000 --select 4000 --import-rows 2000      # a quick run
"""
from __future__ import annotations

import argparse
import csv
import json
import multiprocessing as mp
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
import unicodedata
import uuid
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

import amqp
import kombu
import pika
import psycopg
from sqlalchemy import create_engine, insert, text

from crm_shared.auth import Principal
from crm_shared.broker import Outgoing, Publisher
from crm_shared.config import Settings
from crm_shared.consumer import parking_queue, retry_queue
from crm_shared.events import new_event
from crm_shared.runner import stop_on_signals

from crm_campaigns.adapters import orm
from crm_campaigns.bootstrap import build_runtime, uow_factory
from crm_campaigns.domain import normalise
from crm_campaigns.domain.replica import replica_from_snapshot
from crm_campaigns.domain.stages import Condition, Rule, Stage, StageGraph
from crm_campaigns.entrypoints.consumer import QUEUE as SERVICE_QUEUE
from crm_campaigns.entrypoints.consumer import build_consumer
from crm_campaigns.service_layer import campaigns, imports, selection

DEFAULT_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DEFAULT_AMQP = os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
ACTOR = Principal(subject="bench", roles=frozenset({"marketing"}), lines_of_business=frozenset({"*"}))
PUBLISH_BATCH = 1000
STALL_SECONDS = 180.0

SURNAMES = ("Müller", "Schmidt", "Schneider", "Fischer", "Weiß", "Schäfer", "Köhler", "Krüger", "Böhm", "Jäger",
            "Groß", "Löwe", "Hoffmann", "Zimmermann", "Wagner", "Becker", "Schröder", "Neumann", "Schwarz", "Brandt",
            "Lehmann", "Bäcker", "Wolff", "Hahn", "Vogel", "Frank", "Günther", "Kühn", "Roth", "Sauer")
FIRST_NAMES = ("Anna", "Jürgen", "Sören", "Björn", "Renée", "Lena", "Max", "Paul", "Jörg", "Ines", "Timo", "Käthe",
               "Uwe", "Maren", "Özlem", "Nils", "Greta", "Hannes", "Frauke", "Dörte")
TRADES = ("Bau", "Logistik", "Handel", "Technik", "Service", "Möbel", "Druck", "Elektro", "Immobilien", "Gastro",
          "Metall", "Holz", "Software", "Reisen", "Getränke", "Textil", "Glas", "Papier", "Kfz", "Garten")
LEGAL_FORMS = ("GmbH", "AG", "KG", "GmbH & Co. KG", "e.K.", "OHG", "UG (haftungsbeschränkt)", "")
CITIES = ("Berlin", "Hamburg", "München", "Köln", "Frankfurt", "Stuttgart", "Düsseldorf", "Leipzig", "Dresden")
AREAS = ("30", "40", "89", "221", "69", "711", "211", "341", "351")
LINES = ("retail", "wholesale", "services", "industry")
SEGMENTS = ("A", "B", "C", "key_account")
ATTRIBUTES = (("segment", "choice", list(SEGMENTS)), ("revenue", "number", []), ("newsletter", "boolean", []))

# The selection: all three must hold for a party to be selected.
CRITERIA = {"lifecycle_states": ["prospect", "customer"], "postal_ranges": [["20000", "59999"]],
            "attributes": [{"name": "revenue", "op": "gte", "value": 50000}]}
BASELINE_WHERE = ("NOT deactivated AND lifecycle_state <> 'inactive' AND lifecycle_state IN ('prospect', 'customer') "
                  "AND postal_key COLLATE \"C\" BETWEEN '20000' AND '59999' "
                  "AND jsonb_typeof(attributes -> 'revenue') = 'number' "
                  "AND (attributes ->> 'revenue')::numeric >= 50000")

# The campaign: three call stages; outcomes in twentieths of each wave, assigned by position (deterministic).
STAGES = ("first_call", "second_call", "closing_call")
FAILURE_CODES = {"no_interest": "Not interested", "unreachable": "Could not be reached",
                 "no_appointment": "Interested, but no appointment"}
WAVE_MIX = (
    (("interest_noted", 10), ("rejected", 5), ("not_reached", 5)),
    (("interest_noted", 12), ("rejected", 4), ("not_reached", 4)),
    (("appointment_booked", 8), ("interest_noted", 4), ("rejected", 4), ("not_reached", 4)),
)
# What each outcome does in each stage: (stage result, failure code); "advance" moves on to the next stage.
EFFECT = {
    "interest_noted": ("advance", None), "rejected": ("failed", "no_interest"),
    "not_reached": ("failed", "unreachable"), "appointment_booked": ("succeeded", None),
}
LAST_STAGE_EFFECT = {**EFFECT, "interest_noted": ("failed", "no_appointment")}
CALL_OUTCOME = "crm.calls.call_outcome_recorded.v1"
CALL_REQUESTED = "crm.campaigns.campaign_call_requested.v1"
PARTICIPANT_MOVED = "crm.campaigns.participant_moved.v1"
SUSPECT_IMPORTED = "crm.campaigns.suspect_imported.v1"
NOT_FINAL = "not_reached (not final)"


# ----------------------------------------------------------------------------------------------- helpers
def log(message: str) -> None:
    print(message, flush=True)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def process_peak_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def party_id(seed: int, index: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"bench-campaigns:{seed}:{index}"))


def psycopg_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


def pass_fail(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s" if seconds > 0 else "n/a"


def code_version() -> str:
    """The commit the service code comes from, and whether services/ or shared/ differ from it."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(["git", "-C", repo, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", repo, "status", "--porcelain", "--", "services", "shared"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head + (" with uncommitted changes in services/ or shared/" if dirty else "")


def strip_accents(value: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c))


def ascii_slug(value: str) -> str:
    return "".join(c for c in strip_accents(value).lower().replace("ß", "ss") if c.isalnum())


class AutoAnalyze:
    """autovacuum's ANALYZE rule (once more than 50 + 10% of a table's rows changed since its last ANALYZE), for
    servers running with `autovacuum = off`: applied between steps and while the consumer works, at most once per
    `autovacuum_naptime`, as autovacuum would."""

    def __init__(self, engine, enabled: bool, naptime: float):
        self.engine, self.enabled, self.naptime = engine, enabled, naptime
        self.runs: Counter = Counter()
        self.seconds = 0.0
        self._next_look = 0.0

    def maybe(self, force: bool = False) -> None:
        if not self.enabled or (not force and time.perf_counter() < self._next_look):
            return
        started = time.perf_counter()
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            due = [name for name, in conn.execute(text(
                "SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
                "WHERE s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0)"))]
            for name in due:
                conn.execute(text(f'ANALYZE "{name}"'))
                self.runs[name] += 1
        self.seconds += time.perf_counter() - started
        self._next_look = started + self.naptime


@dataclass
class Step:
    """One line of the summary table."""
    name: str
    seconds: float
    count: int
    unit: str
    baseline: str = ""
    baseline_seconds: float = 0.0
    checks: dict[str, bool] = field(default_factory=dict)
    peak_mib: float = 0.0   # peak RSS after the step: the bench process's, or the consumer's for the waves


# ----------------------------------------------------------------------------------------------- setup
@dataclass
class Seed:
    """The parties this run writes: which ones the criteria select, and the ones the import duplicates."""
    selected: int = 0
    states: Counter = field(default_factory=Counter)
    lines: Counter = field(default_factory=Counter)
    contacted: int = 0
    duplicable: list[dict] = field(default_factory=list)   # snapshots of parties an import row may duplicate


def snapshot_for(index: int, seed: int, rng: random.Random, selected: bool, today: date) -> dict:
    """A customers party snapshot (docs/events/README.md); a party not selected misses at least one criterion."""
    misses = set()
    while not selected and not misses:
        misses = {c for c in ("lifecycle", "postal", "revenue") if rng.random() < 0.5}
    company = rng.random() < 0.7
    surname, first = rng.choice(SURNAMES), rng.choice(FIRST_NAMES)
    if company:
        name = f"{surname} {rng.choice(TRADES)} {rng.choice(LEGAL_FORMS)}".strip()
        email = f"kontakt.{index}@{ascii_slug(surname)}-{index}.example" if rng.random() < 0.6 else None
    else:
        name = f"{first} {surname}"
        email = f"{ascii_slug(first)}.{ascii_slug(surname)}.{index}@mail.example" if rng.random() < 0.6 else None
    if "lifecycle" in misses:
        state = "suspect" if rng.random() < 0.75 else "inactive"
    else:
        state = "customer" if rng.random() < 0.6 else "prospect"
    if "postal" in misses:
        postal = rng.randint(1000, 19999) if rng.random() < 0.4 else rng.randint(60000, 99999)
    else:
        postal = rng.randint(20000, 59999)
    attributes: dict = {"segment": rng.choice(SEGMENTS), "newsletter": rng.random() < 0.3}
    if "revenue" not in misses:
        attributes["revenue"] = rng.randint(50000, 5_000_000)
    elif rng.random() < 0.7:
        attributes["revenue"] = rng.randint(0, 49999)
    contact = today - timedelta(days=rng.randint(1, 1500)) if rng.random() < 0.85 else None
    return {
        "party_id": party_id(seed, index), "kind": "company" if company else "person", "display_name": name,
        "company_name": name if company else None, "first_name": None if company else first,
        "last_name": None if company else surname, "lifecycle_state": state,
        "customer_number": f"K{index:07d}" if state == "customer" else None, "line_of_business": rng.choice(LINES),
        "primary_address": {"street": f"{rng.choice(SURNAMES)}straße {rng.randint(1, 180)}",
                            "postal_code": f"{postal:05d}", "city": rng.choice(CITIES), "country": "DE"},
        "phones": [{"kind": "work", "number": f"+49 {AREAS[index % len(AREAS)]} {index:07d}"}],
        "emails": [{"kind": "work", "address": email}] if email else [], "attributes": attributes, "version": 1,
        "occurred_at": datetime.now(UTC).isoformat(), "last_contact_on": contact,
    }


REPLICA_COLUMNS = [c.name for c in orm.party_replica.columns]


def copy_parties(dsn: str, seed: int, parties: int, select: int, duplicable: int, today: date) -> Seed:
    """The parties straight into the replica with COPY, each row as the consumer would write it."""
    rng = random.Random(seed)
    chosen = set(rng.sample(range(parties), select))
    wanted = set(rng.sample(range(parties), min(parties, duplicable * 2)))
    found = Seed()
    event_time = datetime.now(UTC)
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY party_replica ({', '.join(REPLICA_COLUMNS)}) FROM STDIN") as copy:
            for index in range(parties):
                data = snapshot_for(index, seed, rng, index in chosen, today)
                row = replica_from_snapshot(data, deactivated=False, event_time=event_time)
                row["last_contact_on"] = data["last_contact_on"]
                row["attributes"] = json.dumps(row["attributes"])
                copy.write_row([row.get(name) for name in REPLICA_COLUMNS])
                found.selected += index in chosen
                found.states[row["lifecycle_state"]] += 1
                found.lines[row["line_of_business"]] += 1
                found.contacted += row["last_contact_on"] is not None
                if index in wanted and not row["deactivated"] and len(found.duplicable) < duplicable:
                    found.duplicable.append(data)
        conn.commit()
    return found


def define_attributes(engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(orm.attribute_definitions),
                     [{"name": name, "type": kind, "choices": choices} for name, kind, choices in ATTRIBUTES])


def setup(args, runtime, dsn: str, today: date) -> Seed:
    started = time.perf_counter()
    runtime.migrate()
    define_attributes(runtime.engine)
    seed = copy_parties(dsn, args.seed, args.parties, args.select, args.import_rows * 5 // 100, today)
    with psycopg.connect(dsn, autocommit=True) as conn:
        # As autovacuum would leave a replica filled long ago: without it, the first statement to read the fresh
        # rows (the selection's) pays for setting their hint bits, writing most of the table again.
        conn.execute("VACUUM ANALYZE")
    log(f"setup: {time.perf_counter() - started:.1f}s (migrations, {len(ATTRIBUTES)} attribute definitions, "
        f"{args.parties:,} parties by COPY, VACUUM ANALYZE)")
    log("  lifecycle states: " + ", ".join(f"{s} {n:,}" for s, n in sorted(seed.states.items()))
        + "; lines: " + ", ".join(f"{s} {n:,}" for s, n in sorted(seed.lines.items()))
        + f"; with a last contact: {seed.contacted:,}; meeting all three criteria by construction: {seed.selected:,}")
    return seed


# ----------------------------------------------------------------------------------------------- campaigns
def three_call_stages() -> StageGraph:
    def call(outcome: str, then: str, target: str | None = None, code: str | None = None) -> Rule:
        return Rule(Condition("call_outcome", outcome), then, target, code)

    fail = (call("rejected", "fail", code="no_interest"), call("not_reached", "fail", code="unreachable"))
    return StageGraph((
        Stage("first_call", "First call", "call", rules=(call("interest_noted", "advance", "second_call"), *fail)),
        Stage("second_call", "Second call", "call", rules=(call("interest_noted", "advance", "closing_call"), *fail)),
        Stage("closing_call", "Closing call", "call", rules=(
            call("appointment_booked", "succeed"), *fail, Rule(Condition("call_outcome"), "fail", None,
                                                               "no_appointment"))),
    ))


def new_campaign(uows, name: str, with_stages: bool) -> str:
    row = campaigns.create_campaign(uows(), ACTOR, {"name": name, "campaign_type": "telemarketing",
                                                    "line_of_business": "retail"})
    if with_stages:
        for code, description in FAILURE_CODES.items():
            campaigns.add_failure_code(uows(), ACTOR, row["campaign_id"], code, description)
        campaigns.replace_stages(uows(), ACTOR, row["campaign_id"], three_call_stages())
    return row["campaign_id"]


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


# ----------------------------------------------------------------------------------------------- 1. selection
def step_selection(args, runtime, uows, dsn: str) -> tuple[Step, str]:
    campaign_id = new_campaign(uows, "Bench selection", with_stages=True)
    criteria = selection.parse_criteria(CRITERIA)
    started = time.perf_counter()
    counts = selection.select_targets(uows(), ACTOR, campaign_id, criteria, datetime.now(UTC))
    seconds = time.perf_counter() - started
    in_db = scalar(runtime.engine, "SELECT count(*) FROM participations WHERE campaign_id = :c AND status = "
                   "'selected' AND source = 'criteria'", c=campaign_id)
    baseline_seconds, baseline_rows = bare_selection(dsn)
    checks = {"selection: matched = --select": counts["matched"] == args.select,
              "selection: added = --select": counts["added"] == args.select,
              "selection: participations in the database = --select": in_db == args.select,
              "selection: baseline rows = --select": baseline_rows == args.select}
    log(f"\n1. selection (select_targets over {args.parties:,} parties, criteria {json.dumps(CRITERIA)}): "
        f"{seconds:.2f}s = "
        f"{rate(in_db, seconds)} participants; service counts {counts}")
    log(f"   participations in the database: {in_db:,} [{pass_fail(in_db == args.select)}; must be "
        f"{args.select:,}]")
    log(f"   baseline: bare INSERT ... SELECT of {baseline_rows:,} rows into participations_copy: "
        f"{baseline_seconds:.2f}s = {rate(baseline_rows, baseline_seconds)}; service / baseline = "
        f"{seconds / baseline_seconds:.1f}x")
    return Step("1 selection", seconds, in_db, "participants", "INSERT ... SELECT", baseline_seconds, checks,
                peak_rss_mib()), campaign_id


def bare_selection(dsn: str) -> tuple[float, int]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS participations_copy")
        conn.execute("CREATE TABLE participations_copy (LIKE participations INCLUDING ALL)")
        started = time.perf_counter()
        inserted = conn.execute(
            "INSERT INTO participations_copy (participation_id, campaign_id, party_id, status, source, added_at) "
            "SELECT gen_random_uuid()::text, 'baseline', party_id, 'selected', 'criteria', now() "
            f"FROM party_replica WHERE {BASELINE_WHERE}").rowcount
        seconds = time.perf_counter() - started
        conn.execute("DROP TABLE participations_copy")
    return seconds, inserted


# ----------------------------------------------------------------------------------------------- 2. import
HEADER = ("Firma", "Vorname", "Nachname", "Straße", "PLZ", "Ort", "Land", "Telefon", "E-Mail", "Segment", "Umsatz")
MAPPING = {"Firma": "company_name", "Vorname": "first_name", "Nachname": "last_name", "Straße": "street",
           "PLZ": "postal_code", "Ort": "city", "Land": "country", "Telefon": "phone", "E-Mail": "email",
           "Segment": "attribute:segment", "Umsatz": "attribute:revenue"}
BAD_KINDS = ("no name", "no postal code", "bad postal code", "bad e-mail", "bad phone", "bad country",
             "name too long", "bad revenue", "bad segment")


@dataclass
class ImportFile:
    path: str
    rows: int
    new: int
    duplicates: int
    bad: int
    duplicated_party_ids: set[str]
    bad_kinds: Counter


def new_address(n: int, rng: random.Random) -> list[str]:
    """A party nobody knows yet: its phone numbers have 8 digits after the area code, the replica's 7."""
    surname, area, number = rng.choice(SURNAMES), rng.choice(AREAS), f"{n:08d}"
    phone = rng.choice((f"+49 {area} {number}", f"0{area} {number}", f"0{area}/{number}"))
    email = f"info.{n}@neu-{ascii_slug(surname)}.example" if rng.random() < 0.5 else ""
    postal, city = f"{rng.randint(1000, 99999):05d}", rng.choice(CITIES)
    revenue = rng.choice(("", str(rng.randint(0, 900000)), f"{rng.randint(0, 9000)},{rng.randint(0, 99):02d}"))
    street = f"{rng.choice(SURNAMES)}weg {rng.randint(1, 99)}"
    if rng.random() < 0.7:
        name = f"{surname} {rng.choice(TRADES)} {rng.choice(LEGAL_FORMS)}".strip()
        return [name, "", "", street, postal, city, "DE", phone, email, rng.choice(SEGMENTS), revenue]
    return ["", rng.choice(FIRST_NAMES), surname, street, postal, city, "DE", phone, email, rng.choice(SEGMENTS),
            revenue]


def duplicate_of(party: dict, d: int) -> list[str]:
    """The party as another list spells it: case, accents, legal form, phone format or e-mail case differ."""
    spell = (str.upper, str.lower, strip_accents, lambda s: s.replace("GmbH", "G.m.b.H.").replace(" AG", " Ag"))[d % 4]
    address = party["primary_address"]
    phone = party["phones"][0]["number"]            # "+49 <area> <number>"
    _, area, number = phone.split(" ")
    phone = (f"0{area} {number}", f"0049 {area} {number}", f"+49 (0){area} {number}", f"(0{area}) {number[:3]} "
             f"{number[3:]}", f"0{area}-{number}")[d % 5]
    email = party["emails"][0]["address"] if party["emails"] else ""
    if email and d % 2 == 0:
        phone, email = "", email.upper()           # matched by the e-mail address alone
    postal = address["postal_code"] if d % 3 else f"{address['postal_code'][:2]} {address['postal_code'][2:]}"
    company, first, last = (spell(party[k]) if party[k] else "" for k in ("company_name", "first_name", "last_name"))
    row = [company, first, last, address["street"], postal, address["city"], "de", phone, email, "B", ""]
    mine = set(normalise.dedupe_keys(company or f"{first} {last}", postal, phone, email))
    theirs = set(normalise.dedupe_keys(party["display_name"], address["postal_code"], party["phones"][0]["number"],
                                       email.lower() or None))
    if not mine & theirs:  # a bug in this generator, not in the service
        raise SystemExit(f"generated duplicate {row} does not share a dedupe key with {party['display_name']}")
    return row


def bad_row(b: int, rng: random.Random) -> tuple[str, list[str]]:
    """A new address with exactly one thing wrong."""
    kind = BAD_KINDS[b % len(BAD_KINDS)]
    row = new_address(10_000_000 + b, rng)
    if kind == "no name":
        row[0], row[2] = "", ""
    elif kind == "no postal code":
        row[4] = ""
    elif kind == "bad postal code":
        row[4] = ("1", "12#45", "D-123456789012")[b % 3]
    elif kind == "bad e-mail":
        row[8] = ("info(at)firma.example", "max@@mail.example", "kontakt@firma")[b % 3]
    elif kind == "bad phone":
        row[7] = ("bitte anrufen", "12", "+49 30 12345678901234567")[b % 3]
    elif kind == "bad country":
        row[6] = "Deutschland"
    elif kind == "name too long":
        row[0], row[2] = "Firma " + "X" * 200, "Nachname " + "X" * 200
    elif kind == "bad revenue":
        row[10] = "sehr viel"
    else:
        row[9] = "Z"
    return kind, row


def write_import_file(seed: Seed, rows: int, rng_seed: int) -> ImportFile:
    duplicates, bad = rows * 5 // 100, rows // 100
    if len(seed.duplicable) < duplicates:
        raise SystemExit(f"only {len(seed.duplicable)} parties to duplicate, {duplicates} needed: more --parties")
    rng = random.Random(rng_seed * 31 + 7)
    body = [new_address(n, rng) for n in range(rows - duplicates - bad)]
    body += [duplicate_of(party, d) for d, party in enumerate(seed.duplicable[:duplicates])]
    kinds: Counter = Counter()
    for b in range(bad):
        kind, row = bad_row(b, rng)
        kinds[kind] += 1
        body.append(row)
    rng.shuffle(body)
    handle = tempfile.NamedTemporaryFile("w", suffix=".csv", prefix="bench_campaigns_", delete=False,
                                         encoding="utf-8-sig", newline="")
    with handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(HEADER)
        writer.writerows(body)
    return ImportFile(handle.name, rows, rows - duplicates - bad, duplicates, bad,
                      {p["party_id"] for p in seed.duplicable[:duplicates]}, kinds)


def step_import(args, runtime, uows, dsn: str, seed: Seed) -> Step:
    campaign_id = new_campaign(uows, "Bench import", with_stages=False)
    started = time.perf_counter()
    file = write_import_file(seed, args.import_rows, args.seed)
    writing = time.perf_counter() - started
    try:
        with open(file.path, "rb") as handle:
            content = handle.read()
        started = time.perf_counter()
        row = imports.start_import(uows(), ACTOR, campaign_id, os.path.basename(file.path), "text/csv", content,
                                   MAPPING, max_bytes=runtime.settings.import_max_bytes)
        started_at = time.perf_counter()
        status = imports.process_import(uows, row["import_id"])
        seconds = time.perf_counter() - started
        log(f"\n2. import ({file.rows:,} rows, {len(content) / 2**20:.1f} MiB CSV written in {writing:.1f}s): "
            f"start_import {started_at - started:.2f}s + process_import {seconds - (started_at - started):.1f}s = "
            f"{seconds:.1f}s = {rate(file.rows, seconds)} rows; status {status}")
        checks = import_checks(runtime.engine, campaign_id, row["import_id"], file)
        baseline_seconds = bare_copy_csv(dsn, file.path)
    finally:
        os.unlink(file.path)
    log(f"   baseline: COPY of the same CSV into a bare table: {baseline_seconds:.2f}s = "
        f"{rate(file.rows, baseline_seconds)}; service / baseline = {seconds / baseline_seconds:.0f}x")
    checks["import: completed"] = status == imports.COMPLETED
    return Step("2 import", seconds, file.rows, "rows", "COPY of the CSV", baseline_seconds, checks, peak_rss_mib())


def import_checks(engine, campaign_id: str, import_id: str, file: ImportFile) -> dict[str, bool]:
    with engine.connect() as conn:
        job = conn.execute(text("SELECT accepted, duplicates, rejected, total_rows FROM address_imports "
                                "WHERE import_id = :i"), {"i": import_id}).one()
        report = dict(conn.execute(text("SELECT outcome, count(*) FROM import_rows WHERE import_id = :i GROUP BY 1"),
                                   {"i": import_id}).all())
        fields = conn.execute(text("SELECT coalesce(field, '-'), count(*) FROM import_rows WHERE import_id = :i "
                                   "AND outcome = 'rejected' GROUP BY 1 ORDER BY 1"), {"i": import_id}).all()
        duplicated = set(conn.execute(text("SELECT party_id FROM import_rows WHERE import_id = :i AND outcome = "
                                           "'duplicate'"), {"i": import_id}).scalars())
        suspects = conn.execute(text("SELECT count(*) FROM outbox WHERE routing_key = :k"),
                                {"k": SUSPECT_IMPORTED}).scalar_one()
        joined = conn.execute(text("SELECT count(*) FROM participations WHERE campaign_id = :c AND source = 'import'"),
                              {"c": campaign_id}).scalar_one()
    checks = {
        "import: accepted": job.accepted == file.new == report.get("accepted", 0),
        "import: duplicates": job.duplicates == file.duplicates == report.get("duplicate", 0),
        "import: rejected": job.rejected == file.bad == report.get("rejected", 0),
        "import: total = accepted + duplicates + rejected": job.total_rows == file.rows
        == job.accepted + job.duplicates + job.rejected,
        "import: duplicates name the parties duplicated": duplicated == file.duplicated_party_ids,
        "import: suspect_imported events = accepted": suspects == file.new,
        "import: participants = accepted + duplicates": joined == file.new + file.duplicates,
    }
    log(f"   counts (address_imports / import_rows / expected): accepted {job.accepted:,} / "
        f"{report.get('accepted', 0):,} / {file.new:,}, duplicates {job.duplicates:,} / "
        f"{report.get('duplicate', 0):,} / {file.duplicates:,}, rejected {job.rejected:,} / "
        f"{report.get('rejected', 0):,} / {file.bad:,}, total {job.total_rows:,} / {file.rows:,} "
        f"[{pass_fail(all(list(checks.values())[:4]))}]")
    log(f"   the duplicates name exactly the {len(file.duplicated_party_ids):,} replica parties written differently "
        f"[{pass_fail(checks['import: duplicates name the parties duplicated'])}]; suspect_imported in the outbox "
        f"{suspects:,} [{pass_fail(suspects == file.new)}]; participants added {joined:,} = accepted + duplicates "
        f"[{pass_fail(joined == file.new + file.duplicates)}]")
    log("   bad rows written: " + ", ".join(f"{k} {n}" for k, n in sorted(file.bad_kinds.items()))
        + "; rejected by field: " + ", ".join(f"{f} {n}" for f, n in fields))
    return checks


def bare_copy_csv(dsn: str, path: str) -> float:
    columns = ", ".join(f"c{i} text" for i in range(len(HEADER)))
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS import_copy")
        conn.execute(f"CREATE TABLE import_copy ({columns})")
        started = time.perf_counter()
        with conn.cursor() as cur, open(path, "rb") as handle:
            with cur.copy("COPY import_copy FROM STDIN WITH (FORMAT csv, HEADER true, DELIMITER ';')") as copy:
                while data := handle.read(1 << 20):
                    copy.write(data)
        seconds = time.perf_counter() - started
        conn.execute("DROP TABLE import_copy")
    return seconds


# ----------------------------------------------------------------------------------------------- 3. stages
def mix_counts(n: int, mix) -> Counter:
    """How many of n participants, numbered 0..n-1, get each outcome when participant k gets the outcome of
    twentieth k % 20 (independent of the loop that publishes them)."""
    counts: Counter = Counter()
    low = 0
    for outcome, share in mix:
        counts[outcome] += sum(n // 20 + (1 if b < n % 20 else 0) for b in range(low, low + share))
        low += share
    return counts


def outcome_of(k: int, mix) -> str:
    slot = k % 20
    for outcome, share in mix:
        if slot < share:
            return outcome
        slot -= share
    raise ValueError("the shares of a mix must add up to 20")


@dataclass
class Expected:
    """The campaign's figures that follow from the outcome mix alone."""
    entered: dict[str, int] = field(default_factory=dict)
    finished: Counter = field(default_factory=Counter)     # (stage, status, failure code) -> participants
    outcomes: list[Counter] = field(default_factory=list)  # per wave
    events: list[int] = field(default_factory=list)        # messages per wave (final + not_reached attempts)


def expected_figures(participants: int) -> Expected:
    expected, n = Expected(), participants
    for wave, (stage, mix) in enumerate(zip(STAGES, WAVE_MIX, strict=True)):
        expected.entered[stage] = n
        counts = mix_counts(n, mix)
        expected.outcomes.append(counts)
        expected.events.append(n + counts["not_reached"])
        effects = LAST_STAGE_EFFECT if wave == len(STAGES) - 1 else EFFECT
        n = 0
        for outcome, count in counts.items():
            result, code = effects[outcome]
            if result == "advance":
                n += count
            else:
                expected.finished[(stage, result, code)] += count
    return expected


def call_outcome_event(row, campaign_id: str, outcome: str, final: bool, today: date):
    """`crm.calls.call_outcome_recorded.v1` as the calls service publishes it (docs/events/README.md)."""
    contact = outcome != "not_reached"
    due = today if final else today + timedelta(days=1)
    call_id = str(uuid.uuid4())
    data = {
        "call_id": call_id, "party_id": row.party_id, "call_type": "campaign",
        "status": ("completed" if contact else "failed") if final else "scheduled", "line_of_business": "retail",
        "territory_id": "7d8d3b36-3c1e-4d64-9a4e-5f1b1b7b0c01", "agent_id": "0f4c5a52-0b7c-4f59-8f0f-2a9d8b3e6a11",
        "due_on": due.isoformat(), "slot": "morning" if final else "afternoon",
        "window_start": (today - timedelta(days=3)).isoformat(), "window_end": (today + timedelta(days=11)).isoformat(),
        "campaign_id": campaign_id, "request_id": row.request_id, "priority": 0,
        "outcome": outcome, "rejection_reason": "no_need" if outcome == "rejected" else None,
        "attempts": 3 if outcome == "not_reached" and final else 1, "final": final, "contact_made": contact,
        "completed_on": today.isoformat() if contact else None, "recorded_by": "agent-0001",
        "callback_at": None, "appointment_at": f"{today + timedelta(days=7)}T10:00:00+00:00"
        if outcome == "appointment_booked" else None, "interest": "lead" if outcome == "interest_noted" else None,
        "next_contact_on": None, "next_step": next_step(outcome, final, call_id, row.party_id, due, today),
    }
    return new_event(CALL_OUTCOME, "crm.calls", row.party_id, data)


def next_step(outcome: str, final: bool, call_id: str, party: str, due: date, today: date) -> dict:
    if not final:
        return {"action": "retry", "call_id": call_id, "due_on": due.isoformat(), "slot": "afternoon"}
    if outcome == "appointment_booked":
        return {"action": "prepare_appointment", "at": f"{today + timedelta(days=7)}T10:00:00+00:00"}
    if outcome == "interest_noted":
        return {"action": "open_lead", "party_id": party}
    return {"action": "none"}


def tagged(event, tag: str):
    """The event with a UUID whose first 8 hex digits are the run's tag: other consumers' tests publish to
    `crm.calls` too, and their events reach the bench's queue; the tag tells the bench's own apart."""
    return replace(event, id=str(uuid.UUID(tag + uuid.uuid4().hex[8:])))


def outgoing(event) -> Outgoing:
    """As the calls service's relay sends an outbox row."""
    return Outgoing(exchange="crm.calls", routing_key=event.type, body=event.to_json().encode(), message_id=event.id,
                    type=event.type)


class Broker:
    """The bench's view of RabbitMQ: publishing in confirmed batches, queue depths, deleting its queues."""

    def __init__(self, url: str):
        self.url = url
        self.publisher = Publisher(url)
        self.seconds = 0.0

    def publish(self, messages: list[Outgoing]) -> None:
        started = time.perf_counter()
        for start in range(0, len(messages), PUBLISH_BATCH):
            self.publisher.publish(messages[start:start + PUBLISH_BATCH])
        self.seconds += time.perf_counter() - started

    def parked_ids(self, queue: str) -> list[str]:
        """The message ids in a queue, left in it (unacknowledged, so requeued when the channel closes)."""
        ids = []
        with kombu.Connection(self.url) as conn:
            channel = conn.channel()
            while (message := channel.basic_get(queue=queue, no_ack=False)) is not None:
                ids.append(message.properties.get("message_id") or "")
        return ids

    def wait_for_consumer(self, queue: str, process, timeout: float = 120.0) -> None:
        """Until the subprocess consumes from the queue: its start-up is not part of the first wave."""
        deadline = time.monotonic() + timeout
        with kombu.Connection(self.url) as conn:
            while not conn.channel().queue_declare(queue=queue, passive=True).consumer_count:
                if time.monotonic() > deadline or not process.is_alive():
                    raise SystemExit(f"no consumer on {queue} after {timeout:.0f}s")
                time.sleep(0.1)

    def delete(self, *queues: str) -> None:
        with kombu.Connection(self.url) as conn:
            channel = conn.channel()
            for name in queues:
                channel.queue_delete(queue=name)

    def close(self) -> None:
        self.publisher.close()


def run_consumer(database_url: str, amqp_url: str, queue: str) -> None:
    """The subprocess: the campaigns service's consumer as deployed, on the bench's own queue."""
    runtime = build_runtime(Settings.from_env("campaigns", database_url=database_url, amqp_url=amqp_url))
    stop = stop_on_signals()
    build_consumer(runtime, queue=queue).run_forever(stop)
    runtime.engine.dispose()


class ConsumerProcess:
    def __init__(self, runtime, url: str, amqp_url: str, queue: str):
        self.queue = queue
        self.retry_queues = [retry_queue(queue, i + 1) for i in range(len(runtime.settings.retry_delays_ms))]
        build_consumer(runtime, queue=queue).declare()  # bound before anything is published
        self.process = mp.get_context("spawn").Process(target=run_consumer, args=(url, amqp_url, queue),
                                                       name="bench-campaigns-consumer")
        self.process.start()
        self.peak_mib = 0.0

    def stop(self) -> None:
        self.peak_mib = process_peak_mib(self.process.pid)
        self.process.terminate()
        self.process.join(timeout=30)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()

    def queues(self) -> list[str]:
        return [self.queue, parking_queue(self.queue), *self.retry_queues]


def handled(engine, queue: str, tag: str) -> int:
    return scalar(engine, "SELECT count(*) FROM inbox WHERE consumer = :q AND event_id LIKE :tag", q=queue,
                  tag=f"{tag}%")


def wait_until_handled(engine, queue: str, tag: str, total: int, analyze: AutoAnalyze,
                       consumer: ConsumerProcess) -> None:
    last, last_change = -1, time.perf_counter()
    while (done := handled(engine, queue, tag)) < total:
        if done != last:
            last, last_change = done, time.perf_counter()
        elif time.perf_counter() - last_change > STALL_SECONDS:
            raise SystemExit(f"the consumer handled no event for {STALL_SECONDS:.0f}s ({done:,} of {total:,})")
        if not consumer.process.is_alive():
            raise SystemExit(f"the consumer process ended (exit code {consumer.process.exitcode})")
        analyze.maybe()
        time.sleep(0.25)


def publish_wave(engine, broker: Broker, campaign_id: str, stage: str, mix, today: date, tag: str) -> Counter:
    """One final outcome per participant waiting in the stage (in participation id order, outcome by position);
    a `not_reached` participant first gets a non-final attempt (the call is retried), which moves nobody."""
    published: Counter = Counter()
    batch: list[Outgoing] = []
    with engine.connect() as conn:
        rows = conn.execution_options(stream_results=True, yield_per=5000).execute(text(
            "SELECT participation_id, party_id, request_id FROM participations WHERE campaign_id = :c "
            "AND status = 'active' AND stage_key = :s ORDER BY participation_id"), {"c": campaign_id, "s": stage})
        for k, row in enumerate(rows):
            outcome = outcome_of(k, mix)
            if outcome == "not_reached":
                batch.append(outgoing(tagged(call_outcome_event(row, campaign_id, outcome, False, today), tag)))
                published[NOT_FINAL] += 1
            batch.append(outgoing(tagged(call_outcome_event(row, campaign_id, outcome, True, today), tag)))
            published[outcome] += 1
            if len(batch) >= PUBLISH_BATCH:
                broker.publish(batch)
                batch = []
    broker.publish(batch)
    return published


def step_stages(args, runtime, uows, url: str, campaign_id: str, analyze: AutoAnalyze, today: date) -> list[Step]:
    expected = expected_figures(args.select)
    started = time.perf_counter()
    launched = campaigns.launch(uows(), ACTOR, campaign_id)
    launch_seconds = time.perf_counter() - started
    log(f"\n3. stages: launch (campaigns.launch: {launched:,} participants into the first call stage, a "
        f"campaign_call_requested and a participant_moved event each, one transaction): {launch_seconds:.1f}s = "
        f"{rate(launched, launch_seconds)}; peak RSS so far {peak_rss_mib():.0f} MiB")
    steps = [Step("3 launch", launch_seconds, launched, "participants", peak_mib=peak_rss_mib(),
                  checks={"launch: participants = --select": launched == args.select})]
    analyze.maybe(force=True)
    waves, parked, consumer_peak = run_waves(args, runtime, url, campaign_id, analyze, expected, today)
    steps.extend(waves)
    events, total = sum(expected.events), sum(w.seconds for w in waves)
    log(f"   all waves: {events:,} events in {total:.1f}s = {rate(events, total)}; parked messages {parked} "
        f"[{pass_fail(parked == 0)}]; consumer peak RSS (VmHWM) {consumer_peak:.0f} MiB")
    checks = {"consumer: nothing parked": parked == 0}
    stage_checks(runtime.engine, campaign_id, expected, args.select, checks)
    raw_seconds = raw_consumer_baseline(args.amqp_url, events, today)
    log(f"   baseline: bare pika consumer acking {events:,} messages published the same way: {raw_seconds:.1f}s = "
        f"{rate(events, raw_seconds)}; the service's consumer reaches {raw_seconds / total:.1%} of the raw "
        "throughput")
    steps.append(Step("3 waves total", total, events, "events", "pika consumer acking", raw_seconds, checks,
                      consumer_peak))
    return steps


def run_waves(args, runtime, url: str, campaign_id: str, analyze: AutoAnalyze, expected: Expected,
              today: date) -> tuple[list[Step], int, float]:
    """The three waves through the service's consumer; returns their steps, the parked messages and the
    consumer's peak RSS."""
    tag = uuid.uuid4().hex[:8]
    queue = f"bench.campaigns.incoming-events-{tag}"
    broker = Broker(args.amqp_url)
    consumer = ConsumerProcess(runtime, url, args.amqp_url, queue)
    steps, handled_so_far = [], 0
    try:
        broker.wait_for_consumer(queue, consumer.process)
        log(f"   waves published stage by stage to exchange crm.calls (routing key {CALL_OUTCOME}); the service's "
            f"consumer (pid {consumer.process.pid}) on queue {queue}; each wave timed from its first publish until "
            "the inbox holds all its events")
        for wave, (stage, mix) in enumerate(zip(STAGES, WAVE_MIX, strict=True)):
            broker.seconds = 0.0
            started = time.perf_counter()
            published = publish_wave(runtime.engine, broker, campaign_id, stage, mix, today, tag)
            count = sum(published.values())
            handled_so_far += count
            wait_until_handled(runtime.engine, queue, tag, handled_so_far, analyze, consumer)
            seconds = time.perf_counter() - started
            finals = Counter({o: n for o, n in published.items() if o != NOT_FINAL})
            ok = finals == expected.outcomes[wave] and count == expected.events[wave]
            log(f"   wave {wave + 1} ({stage}): {count:,} events ("
                + ", ".join(f"{o} {n:,}" for o, n in sorted(published.items()))
                + f") in {seconds:.1f}s = {rate(count, seconds)} (publishing {broker.seconds:.1f}s of it) "
                f"[{pass_fail(ok)}: as the mix says]")
            steps.append(Step(f"3 wave {wave + 1}", seconds, count, "events",
                              checks={f"wave {wave + 1}: published as the mix says": ok}))
        parked = broker.parked_ids(parking_queue(queue))
        if parked:
            log(f"   parked on the bench's queue: {len(parked)} message(s), of which "
                f"{sum(i.startswith(tag) for i in parked)} the bench's own; the others came from other publishers "
                "on crm.calls (tests running at the same time)")
        parked = [i for i in parked if i.startswith(tag)]
    finally:
        consumer.stop()
        broker.delete(*consumer.queues())
        broker.close()
    for step in steps:
        step.peak_mib = consumer.peak_mib
    return steps, len(parked), consumer.peak_mib


def stage_checks(engine, campaign_id: str, expected: Expected, participants: int, checks: dict[str, bool]) -> None:
    with engine.connect() as conn:
        entered = dict(conn.execute(text(
            "SELECT stage_key, count(*) FROM stage_history WHERE campaign_id = :c AND result IS NULL GROUP BY 1"),
            {"c": campaign_id}).all())
        finished = Counter({(s, r, f): n for s, r, f, n in conn.execute(text(
            "SELECT stage_key, status, failure_code, count(*) FROM participations WHERE campaign_id = :c "
            "GROUP BY 1, 2, 3"), {"c": campaign_id})})
        outbox = dict(conn.execute(text("SELECT routing_key, count(*) FROM outbox GROUP BY 1")).all())
    log("   per stage (from the database; expected from the outcome mix):")
    for index, stage in enumerate(STAGES):
        ended = {k: n for k, n in finished.items() if k[0] == stage}
        advanced = entered.get(stage, 0) - sum(ended.values())
        want = {k: n for k, n in expected.finished.items() if k[0] == stage}
        following = entered.get(STAGES[index + 1], 0) if index + 1 < len(STAGES) else 0
        ok = entered.get(stage, 0) == expected.entered[stage] and ended == want and advanced == following
        checks[f"stage {stage}: entered, finished by code, advanced = entered next"] = ok
        log(f"     {stage}: entered {entered.get(stage, 0):,} (expected {expected.entered[stage]:,}), "
            + ", ".join(f"{r}{':' + f if f else ''} {n:,}" for (_, r, f), n in sorted(ended.items(), key=str))
            + f", advanced {advanced:,} = entered next {following:,} [{pass_fail(ok)}]")
    still_open = sum(n for (_, status, _), n in finished.items() if status in ("selected", "active"))
    done = sum(n for (_, status, _), n in finished.items() if status in ("succeeded", "failed"))
    checks["every participant finished"] = still_open == 0
    checks["finished = --select"] = done == participants
    requested = expected.entered[STAGES[0]] + expected.entered[STAGES[1]] + expected.entered[STAGES[2]]
    moved = participants + sum(expected.entered[s] for s in STAGES)
    checks["outbox: campaign_call_requested"] = outbox.get(CALL_REQUESTED, 0) == requested
    checks["outbox: participant_moved"] = outbox.get(PARTICIPANT_MOVED, 0) == moved
    log(f"   open participants {still_open} [{pass_fail(still_open == 0)}]; finished {done:,} of {participants:,} "
        f"[{pass_fail(done == participants)}]")
    log(f"   outbox: campaign_call_requested {outbox.get(CALL_REQUESTED, 0):,} (expected {requested:,}: one per stage "
        f"entered) [{pass_fail(checks['outbox: campaign_call_requested'])}], participant_moved "
        f"{outbox.get(PARTICIPANT_MOVED, 0):,} (expected {moved:,}: launch + every outcome that moved someone) "
        f"[{pass_fail(checks['outbox: participant_moved'])}]; all: "
        + ", ".join(f"{k.split('.')[2]} {n:,}" for k, n in sorted(outbox.items())))


def raw_acker(amqp_url: str, queue: str, count: int, prefetch: int, ready) -> None:
    """The baseline's subprocess: pika, prefetch like the service consumer's, one multiple ack per batch."""
    parameters = pika.URLParameters(amqp_url[:-1] + "%2F" if amqp_url.endswith("//") else amqp_url)
    connection = pika.BlockingConnection(parameters)
    channel = connection.channel()
    channel.basic_qos(prefetch_count=prefetch)
    ready.set()
    done, unacked = 0, 0
    for method, _properties, _body in channel.consume(queue, inactivity_timeout=0.02):
        if method is not None:
            done += 1
            unacked += 1
            last = method.delivery_tag
        if unacked and (unacked >= prefetch // 2 or method is None or done >= count):
            channel.basic_ack(last, multiple=True)
            unacked = 0
        if done >= count:
            break
    connection.close()


def raw_consumer_baseline(amqp_url: str, count: int, today: date) -> float:
    queue = f"bench.campaigns.raw-{uuid.uuid4().hex[:8]}"
    broker = Broker(amqp_url)
    with kombu.Connection(amqp_url) as conn:
        kombu.Queue(queue, durable=True, auto_delete=False)(conn.channel()).declare()
    ready = mp.get_context("spawn").Event()
    acker = mp.get_context("spawn").Process(target=raw_acker, args=(amqp_url, queue, count, 400, ready))
    acker.start()
    ready.wait(60)

    @dataclass
    class FakeRow:
        party_id: str
        request_id: str

    try:
        started = time.perf_counter()
        batch = []
        for k in range(count):
            row = FakeRow(str(uuid.uuid4()), f"{uuid.uuid4()}:first_call")
            event = call_outcome_event(row, "raw", outcome_of(k, WAVE_MIX[0]), True, today)
            batch.append(Outgoing(exchange="", routing_key=queue, body=event.to_json().encode(), message_id=event.id,
                                  type=event.type))
            if len(batch) >= PUBLISH_BATCH:
                broker.publish(batch)
                batch = []
        broker.publish(batch)
        acker.join()
        return time.perf_counter() - started
    finally:
        if acker.is_alive():
            acker.terminate()
        broker.delete(queue)
        broker.close()


# ----------------------------------------------------------------------------------------------- main
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parties", type=int, default=1_000_000)
    parser.add_argument("--select", type=int, default=200_000, help="parties the three criteria select")
    parser.add_argument("--import-rows", type=int, default=100_000, help="a multiple of 100 (5%% duplicates, "
                                                                           "1%% bad rows)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--database-url", default=DEFAULT_URL, help="server to use (its database is only for admin)")
    parser.add_argument("--amqp-url", default=DEFAULT_AMQP)
    parser.add_argument("--autoanalyze", choices=("auto", "on", "off"), default="auto",
                        help="apply autovacuum's ANALYZE rule; auto: when the server's autovacuum is off")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the benchmark database at the end")
    parser.add_argument("--share-exchange", action="store_true",
                        help=f"publish even when the service's queue {SERVICE_QUEUE} exists on the broker (it gets a "
                             "copy of every event)")
    args = parser.parse_args()
    if args.import_rows % 100 or args.import_rows < 100:
        parser.error("--import-rows must be a positive multiple of 100 (5% duplicates, 1% bad rows)")
    if not 20 <= args.select <= args.parties // 2:
        parser.error("--select must be between 20 and half of --parties")

    if not args.share_exchange:
        refuse_shared_exchange(args.amqp_url)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # `timeout` still drops the database
    name = f"bench_campaigns_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = with_database(args.database_url, name)
    runtime = None
    try:
        runtime = build_runtime(Settings.from_env("campaigns", database_url=url, amqp_url=args.amqp_url))
        return run(args, runtime, url)
    finally:
        if runtime is not None:
            runtime.engine.dispose()
        if args.keep_db:
            log(f"kept database {name}")
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def refuse_shared_exchange(amqp_url: str) -> None:
    """Every queue bound to crm.calls' outcome events gets a copy of the bench's hundreds of thousands: the
    service's own queue, left by a local deployment, would keep them all when nothing consumes it."""
    with kombu.Connection(amqp_url) as conn:
        try:
            found = conn.channel().queue_declare(queue=SERVICE_QUEUE, passive=True)
        except amqp.exceptions.NotFound:
            return
    raise SystemExit(f"the queue {SERVICE_QUEUE} exists on {amqp_url} ({found.message_count} messages, "
                     f"{found.consumer_count} consumers) and would get a copy of every event this benchmark publishes "
                     "to crm.calls. Use a vhost of its own (see docs/operations.md, Benchmarks) or --share-exchange.")


def server_settings(engine) -> dict:
    with engine.connect() as conn:
        found = dict(conn.execute(text(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name IN ('autovacuum', 'autovacuum_naptime', "
            "'shared_buffers', 'synchronous_commit', 'fsync', 'max_wal_size', 'work_mem')")).all())
        found["version"] = conn.execute(text("SHOW server_version")).scalar_one()
    return found


def run(args, runtime, url: str) -> int:
    dsn = psycopg_dsn(url)
    today = datetime.now(UTC).date()
    log(f"campaigns benchmark: {args.parties:,} parties, {args.select:,} selected, {args.import_rows:,} import rows; "
        f"database {url.rsplit('/', 1)[1]}; load average " + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    server = server_settings(runtime.engine)
    log("  PostgreSQL " + ", ".join(f"{k} {v}" for k, v in sorted(server.items())))
    log(f"  code: {code_version()}")
    seed = setup(args, runtime, dsn, today)
    naptime = scalar(runtime.engine, "SELECT setting::float FROM pg_settings WHERE name = 'autovacuum_naptime'")
    analyze = AutoAnalyze(runtime.engine, args.autoanalyze == "on" or (
        args.autoanalyze == "auto" and server.get("autovacuum") == "off"), naptime)
    uows = uow_factory(runtime.engine)
    steps: list[Step] = []
    step, campaign_id = step_selection(args, runtime, uows, dsn)
    steps.append(step)
    analyze.maybe(force=True)
    steps.append(step_import(args, runtime, uows, dsn, seed))
    analyze.maybe(force=True)
    steps.extend(step_stages(args, runtime, uows, url, campaign_id, analyze, today))
    return summary(steps, analyze, runtime.engine)


def summary(steps: list[Step], analyze: AutoAnalyze, engine) -> int:
    if analyze.enabled:
        log(f"\nautovacuum is off on this server: the benchmark ran autovacuum's ANALYZE rule itself: "
            f"{sum(analyze.runs.values())} ANALYZE (" + ", ".join(f"{t} {n}" for t, n in sorted(analyze.runs.items()))
            + f") taking {analyze.seconds:.1f}s (inside the wave times while the consumer worked)")
    size = scalar(engine, "SELECT pg_size_pretty(pg_database_size(current_database()))")
    log(f"\nsummary (database size at the end {size}; load average "
        + " ".join(f"{x:.1f}" for x in os.getloadavg()) + ")")
    log(f"  {'step':<15} {'time':>8} {'count':>9} {'unit':<13} {'per second':>10} {'peak RSS':>9}   "
        f"{'baseline':<21} {'time':>7} {'ratio':>7}")
    for s in steps:
        ratio = base = ""
        if s.baseline_seconds:
            base = f"{s.baseline_seconds:.1f}s"
            ratio = (f"{s.baseline_seconds / s.seconds:.1%}" if s.unit == "events" else
                     f"{s.seconds / s.baseline_seconds:.1f}x")
        log(f"  {s.name:<15} {s.seconds:>7.1f}s {s.count:>9,} {s.unit:<13} {s.count / s.seconds:>10,.0f} "
            f"{s.peak_mib:>5.0f} MiB   {s.baseline:<21} {base:>7} {ratio:>7}")
    log("  ratio: service time / baseline time (selection, import); service events/s / raw events/s (waves). "
        "Peak RSS: the bench process's so far (selection, import and launch run in it); the consumer "
        "subprocess's for the waves")
    log(f"  peak RSS: bench process {peak_rss_mib():.0f} MiB, consumer process "
        f"{max(s.peak_mib for s in steps if s.unit == 'events'):.0f} MiB")
    checks = {name: ok for s in steps for name, ok in s.checks.items()}
    failed = [name for name, ok in checks.items() if not ok]
    log(f"checks: {len(checks) - len(failed)} of {len(checks)} PASS"
        + (" -> FAIL: " + "; ".join(failed) if failed else " -> all PASS"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
