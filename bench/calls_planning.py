"""Calls planning benchmark: 12-month call cycles for many customers on PostgreSQL, with invariants checked in SQL.

Setup (timed on its own): a fresh database `bench_calls_<random>`, the calls migrations, agents with mixed
calendars (Mon-Fri full time, Mon-Wed part time, Tue-Sat) and absences (a two-week holiday and a few sick days
each), territories of `agents / territories` agents (a responsible agent, the others as members, a substitute
from the next territory) and the customers, COPYed into `customer_replica` (~5% key accounts).

Planning (timed): the service's own daily job `roll_forward` over every customer, with campaign calls
(`request_calls`, one transaction per batch) interleaved after each roll-forward chunk; then a second
`roll_forward` pass (the next day's top-up), timed separately. Nothing of the planning is reimplemented here.

Then, from the database (not from the planner's memory): (a) every active customer has at least its policy's
`min_contacts` scheduled calls in [today, today+365); (b) no two calls of a party inside the gap; (c) no
agent-day over capacity; (d) overflow count; (e) `agent_day_loads` agrees with the calls. PASS/FAIL each; the
exit status is 1 on any FAIL. Baseline in the same run: a bare COPY of as many call rows into a copy of the
`calls` table, and the ratio. The database is dropped at the end (`--keep-db` keeps it for inspection).
On a server with `autovacuum = off` (this machine's CI configuration) the benchmark applies autovacuum's ANALYZE
rule itself between transactions (`--autoanalyze`), so the planner's queries run on live statistics.

    .venv/bin/python bench/calls_planning.py [--customers 100000] [--agents 50] [--territories 10]
    .venv/bin/python bench/calls_planning.py --customers 1000000 --agents 500 --territories 100
"""
from __future__ import annotations

import argparse
import hashlib
import os
import random
import resource
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta

import psycopg
from sqlalchemy import create_engine, insert, text
from sqlalchemy.orm import sessionmaker

from crm_shared.config import Settings

from crm_calls.adapters import orm
from crm_calls.bootstrap import build_runtime
from crm_calls.domain.commands import RequestCall
from crm_calls.domain.policy import DayWindow
from crm_calls.service_layer.calls import request_calls, roll_forward
from crm_calls.service_layer.unit_of_work import CallsUnitOfWork

DEFAULT_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
HORIZON_DAYS = 365
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FULL_TIME = {d: ["08:00", "16:30"] for d in ("mon", "tue", "wed", "thu", "fri")}
PART_TIME = {d: ["08:00", "12:30"] for d in ("mon", "tue", "wed")}
TUE_SAT = {d: ["09:00", "17:30"] for d in ("tue", "wed", "thu", "fri", "sat")}
# Per territory team of five, in this order: the responsible agent and the members.
CALENDARS = [("full time Mon-Fri", FULL_TIME), ("full time Mon-Fri", FULL_TIME), ("full time Mon-Fri", FULL_TIME),
             ("part time Mon-Wed", PART_TIME), ("Tue-Sat", TUE_SAT)]
LINES_OF_BUSINESS = ("retail", "wholesale", "services")
CAMPAIGNS = 20
CAMPAIGN_WINDOW_DAYS = 30
DECISIONS = ("accepted", "took_over", "shifted", "refused", "overflow")


# ----------------------------------------------------------------------------------------------- helpers
def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def party_id(seed: int, index: int) -> str:
    """Customer `index`'s id: random-looking (spread over the id space like uuid4), and computable again."""
    return str(uuid.UUID(bytes=hashlib.md5(f"{seed}:party:{index}".encode()).digest(), version=4))


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def psycopg_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


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


def log(message: str) -> None:
    print(message, flush=True)


def share(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.3f}%" if whole else "n/a"


# ----------------------------------------------------------------------------------------------- setup
class Staff:
    """The agents, their absences and territories this run inserts; also the capacity arithmetic."""

    def __init__(self, rng: random.Random, agents: int, territories: int, today: date, cap_min: int, cap_max: int):
        if territories < 2 or agents < 2 * territories:
            raise SystemExit("need at least 2 territories and 2 agents per territory")
        self.today = today
        self.agents: list[dict] = []
        self.absences: list[dict] = []
        self.territories: list[dict] = []
        self.calendar_of: dict[str, str] = {}
        teams: list[list[str]] = [[] for _ in range(territories)]
        for index in range(agents):
            team = index % territories
            position = len(teams[team])
            label, hours = CALENDARS[position % len(CALENDARS)]
            agent_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            teams[team].append(agent_id)
            self.calendar_of[agent_id] = label
            role = "key_account_manager" if position == 0 else "call_centre"
            self.agents.append({"agent_id": agent_id, "name": f"Agent {index:04d}", "role": role,
                                "user_subject": None, "daily_capacity": rng.randint(cap_min, cap_max),
                                "working_hours": hours, "active": True, "version": 1})
            holiday = today + timedelta(days=rng.randrange(0, HORIZON_DAYS - 14))
            self.absences.append({"absence_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                                  "agent_id": agent_id, "kind": "holiday", "first_day": holiday,
                                  "last_day": holiday + timedelta(days=13), "note": "two weeks"})
            for _ in range(rng.randint(2, 4)):
                sick = today + timedelta(days=rng.randrange(0, HORIZON_DAYS))
                self.absences.append({"absence_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                                      "agent_id": agent_id, "kind": "sickness", "first_day": sick,
                                      "last_day": sick + timedelta(days=rng.choice((0, 0, 1, 2))), "note": None})
        width = 100000 // territories
        for t, team in enumerate(teams):
            low, high = t * width, (100000 if t == territories - 1 else (t + 1) * width) - 1
            substitute = teams[(t + 1) % territories][1]  # a member (not the responsible) of the next territory
            self.territories.append({"territory_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                                     "name": f"Territory {t:03d}", "line_of_business": None,
                                     "postal_ranges": [[f"{low:05d}", f"{high:05d}"]], "regions": [],
                                     "agent_id": team[0], "substitute_agent_id": substitute,
                                     "member_agent_ids": team[1:], "version": 1})

    def capacity(self, agent: dict, day: date, absent: dict[str, list[tuple[date, date]]]) -> int:
        """Independent of the service's Agent.capacity_on: 0 on days off and absences."""
        if not agent["active"] or WEEKDAYS[day.weekday()] not in agent["working_hours"]:
            return 0
        if any(first <= day <= last for first, last in absent.get(agent["agent_id"], ())):
            return 0
        return agent["daily_capacity"]

    def horizon_capacity(self) -> tuple[int, int, Counter]:
        """Call slots and working agent-days in [today, today+365), and the slots per month."""
        absent = absences_by_agent(self.absences)
        slots = agent_days = 0
        monthly: Counter = Counter()
        for agent in self.agents:
            for offset in range(HORIZON_DAYS):
                day = self.today + timedelta(days=offset)
                cap = self.capacity(agent, day, absent)
                slots += cap
                agent_days += cap > 0
                monthly[day.strftime("%Y-%m")] += cap
        return slots, agent_days, monthly

    def insert(self, engine) -> None:
        with engine.begin() as conn:
            conn.execute(insert(orm.agents), self.agents)
            conn.execute(insert(orm.agent_absences), self.absences)
            conn.execute(insert(orm.territories), self.territories)


def absences_by_agent(rows) -> dict[str, list[tuple[date, date]]]:
    found: dict[str, list[tuple[date, date]]] = defaultdict(list)
    for row in rows:
        get = row.get if isinstance(row, dict) else row._mapping.get
        found[get("agent_id")].append((get("first_day"), get("last_day")))
    return found


def copy_customers(dsn: str, seed: int, customers: int, key_share: float) -> Counter:
    """Customers straight into the replica with COPY (as the replica would hold them after the events)."""
    rng = random.Random(seed * 7 + 1)
    segments: Counter = Counter()
    now = datetime.now(UTC).isoformat()
    columns = ("party_id", "kind", "display_name", "lifecycle_state", "customer_number", "line_of_business",
               "postal_code", "city", "phone", "email", "segment", "version", "updated_at", "deactivated")
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY customer_replica ({', '.join(columns)}) FROM STDIN") as copy:
            lines = []
            for i in range(customers):
                segment = "key_account" if rng.random() < key_share else "default"
                segments[segment] += 1
                lines.append(f"{party_id(seed, i)}\tcompany\tCustomer {i:07d} GmbH\tcustomer\tK{i:07d}\t"
                             f"{LINES_OF_BUSINESS[i % 3]}\t{rng.randrange(100000):05d}\tCity {i % 997}\t"
                             f"+49 30 {i:07d}\t\\N\t{segment}\t1\t{now}\tf\n")
                if len(lines) >= 10000:
                    copy.write("".join(lines))
                    lines = []
            if lines:
                copy.write("".join(lines))
        conn.commit()
        conn.execute("ANALYZE")
    return segments


# ----------------------------------------------------------------------------------------------- planning
def campaign_windows(today: date) -> list[DayWindow]:
    """20 campaigns, each with its own 30-day window, spread over the year (all inside the horizon)."""
    first, last = 7, HORIZON_DAYS - CAMPAIGN_WINDOW_DAYS - 7
    return [DayWindow(today + timedelta(days=first + c * (last - first) // (CAMPAIGNS - 1)),
                      today + timedelta(days=first + c * (last - first) // (CAMPAIGNS - 1) + CAMPAIGN_WINDOW_DAYS - 1))
            for c in range(CAMPAIGNS)]


class CampaignFeed:
    """The campaign calls, in batches of `batch` per request_calls transaction, issued as planning progresses."""

    def __init__(self, uow_factory, seed: int, customers: int, total: int, batch: int, today: date):
        self.uow_factory = uow_factory
        self.rng = random.Random(seed * 7 + 2)
        self.seed, self.customers, self.total, self.batch = seed, customers, total, batch
        self.windows = campaign_windows(today)
        self.issued = 0
        self.seconds = 0.0
        self.transactions = 0
        self.decisions: Counter = Counter()
        self.examples: dict[str, list] = defaultdict(list)

    def issue_up_to(self, wanted: int) -> None:
        while self.issued < min(wanted, self.total):
            size = min(self.batch, self.total - self.issued)
            cmds = []
            for n in range(self.issued, self.issued + size):
                campaign = self.rng.randrange(CAMPAIGNS)
                cmds.append(RequestCall(request_id=f"bench-campaign-{campaign:02d}-{n:07d}",
                                        party_id=party_id(self.seed, self.rng.randrange(self.customers)),
                                        call_type="campaign", window=self.windows[campaign],
                                        campaign_id=f"campaign-{campaign:02d}", priority=1))
            started = time.perf_counter()
            results = request_calls(self.uow_factory(), cmds)
            self.seconds += time.perf_counter() - started
            self.transactions += 1
            for result in results:
                self.decisions[result.decision] += 1
                if len(self.examples[result.decision]) < 3:
                    self.examples[result.decision].append(result)
            self.issued += size

    def follow(self, parties_done: int) -> None:
        """The roll-forward's progress callback: keep the campaign share in step with the customers done."""
        self.issue_up_to(self.total * parties_done // max(self.customers, 1))


class AutoAnalyze:
    """autovacuum's ANALYZE rule (a table is analyzed once more than 50 + 10% of its rows changed since the last
    time), applied between transactions, for servers running with `autovacuum = off` (this machine's CI
    configuration): without it the calls table keeps the statistics of an empty table for the whole run. Like
    autovacuum it looks once per `autovacuum_naptime` (one database), the first time right away."""

    def __init__(self, engine, enabled: bool, naptime: float):
        self.engine, self.enabled, self.naptime = engine, enabled, naptime
        self.runs: Counter = Counter()
        self.seconds = 0.0
        self._next_look = 0.0

    def maybe(self) -> None:
        if not self.enabled or time.perf_counter() < self._next_look:
            return
        started = time.perf_counter()
        with self.engine.connect() as conn:
            due = [name for name, in conn.execute(text(
                "SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
                "WHERE s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0)"))]
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for name in due:
                conn.execute(text(f'ANALYZE "{name}"'))
                self.runs[name] += 1
        self.seconds += time.perf_counter() - started
        self._next_look = started + self.naptime


# ----------------------------------------------------------------------------------------------- checks
def check_invariants(engine, staff: Staff, today: date, examples: int = 5) -> dict[str, bool]:
    end = today + timedelta(days=HORIZON_DAYS)
    results: dict[str, bool] = {}
    with engine.connect() as conn:
        gap_days = conn.execute(text("SELECT gap_days FROM planning_rules WHERE rules_id = 1")).scalar_one()
        log("\ninvariants (computed with SQL on the database):")

        # (a) cycle coverage: >= the policy's min_contacts scheduled calls due in [today, today+365)
        coverage_sql = """
            WITH active AS (
                SELECT r.party_id, r.segment,
                       coalesce(p.min_contacts, (SELECT min_contacts FROM contact_policies
                                                 WHERE segment = 'default')) AS need
                FROM customer_replica r LEFT JOIN contact_policies p ON p.segment = r.segment
                WHERE r.lifecycle_state = 'customer' AND NOT r.deactivated),
            planned AS (
                SELECT party_id, count(*) AS n FROM calls
                WHERE status = 'scheduled' AND due_on >= :today AND due_on < :end GROUP BY party_id),
            made AS (
                SELECT party_id, count(*) AS n FROM calls
                WHERE status = 'completed' AND completed_on > :today - 365 AND completed_on <= :today
                GROUP BY party_id)
            SELECT a.party_id, a.segment, a.need, coalesce(p.n, 0) AS planned, coalesce(m.n, 0) AS made
            FROM active a LEFT JOIN planned p USING (party_id) LEFT JOIN made m USING (party_id)"""
        totals = conn.execute(text(f"""
            SELECT count(*), count(*) FILTER (WHERE planned >= need), count(*) FILTER (WHERE planned >= 2),
                   count(*) FILTER (WHERE planned + made >= 2), count(*) FILTER (WHERE segment = 'key_account'),
                   count(*) FILTER (WHERE segment = 'key_account' AND planned >= need)
            FROM ({coverage_sql}) c"""), {"today": today, "end": end}).one()
        active, covered, two, two_or_made, keys, keys_covered = totals
        results["a"] = active > 0 and covered == active
        log(f"  (a) coverage: {covered}/{active} active customers = {share(covered, active)} have >= their policy's "
            f"min_contacts (2 default, 4 key_account) scheduled calls due in [{today}, {end}) "
            f"[{'PASS' if results['a'] else 'FAIL'}; must be 100%]")
        log(f"      key accounts: {keys_covered}/{keys} = {share(keys_covered, keys)} have >= 4")
        log(f"      the issue's plain '>= 2 planned or made contacts in the next 12 months': {two_or_made}/{active} "
            f"= {share(two_or_made, active)} (planned alone: {share(two, active)})")
        if not results["a"]:
            rows = conn.execute(text(f"SELECT * FROM ({coverage_sql}) c WHERE planned < need ORDER BY party_id "
                                     f"LIMIT {examples}"), {"today": today, "end": end}).all()
            dist = conn.execute(text(f"SELECT segment, planned, count(*) FROM ({coverage_sql}) c WHERE planned < need "
                                     "GROUP BY 1, 2 ORDER BY 1, 2"), {"today": today, "end": end}).all()
            log("      short customers by (segment, scheduled calls): "
                + ", ".join(f"{s}/{n}: {c}" for s, n, c in dist))
            for row in rows:
                log(f"      e.g. party {row.party_id} ({row.segment}, needs {row.need}) has {row.planned}:")
                describe_party_calls(conn, row.party_id)

        # (b) collisions: two calls of one party less than gap_days apart (scheduled or completed, no callbacks)
        collision_sql = """
            WITH c AS (
                SELECT call_id, party_id, call_type, status,
                       CASE WHEN status = 'completed' THEN completed_on ELSE due_on END AS day
                FROM calls WHERE status IN ('scheduled', 'completed') AND call_type <> 'follow_up')
            SELECT a.party_id, a.call_id AS a_id, a.call_type AS a_type, a.day AS a_day,
                   b.call_id AS b_id, b.call_type AS b_type, b.day AS b_day
            FROM c a JOIN c b ON a.party_id = b.party_id AND a.call_id < b.call_id
            WHERE abs(a.day - b.day) < :gap"""
        collisions = conn.execute(text(f"SELECT count(*) FROM ({collision_sql}) x"), {"gap": gap_days}).scalar_one()
        results["b"] = collisions == 0
        log(f"  (b) collisions: {collisions} pairs of one party's calls less than {gap_days} days apart "
            f"[{'PASS' if results['b'] else 'FAIL'}; must be 0]")
        if collisions:
            by_types = conn.execute(text(f"SELECT least(a_type, b_type), greatest(a_type, b_type), count(*) "
                                         f"FROM ({collision_sql}) x GROUP BY 1, 2"), {"gap": gap_days}).all()
            log("      by call types: " + ", ".join(f"{a}+{b}: {n}" for a, b, n in by_types))
            for row in conn.execute(text(f"{collision_sql} ORDER BY a.party_id LIMIT {examples}"), {"gap": gap_days}):
                log(f"      e.g. party {row.party_id}: {row.a_type} {row.a_id} on {row.a_day} and {row.b_type} "
                    f"{row.b_id} on {row.b_day}")
                describe_party_calls(conn, row.party_id)

        # (c) agent-days over capacity: scheduled calls per (agent, day) against the calendar, in Python
        agents = {r.agent_id: dict(r._mapping) for r in conn.execute(text("SELECT * FROM agents"))}
        absent = absences_by_agent(conn.execute(text("SELECT agent_id, first_day, last_day FROM agent_absences")))
        over = []
        booked_days = 0
        for agent_id, day, n in conn.execute(text(
                "SELECT agent_id, due_on, count(*) FROM calls WHERE status = 'scheduled' AND agent_id IS NOT NULL "
                "GROUP BY 1, 2")):
            booked_days += 1
            agent = agents.get(agent_id)
            cap = staff.capacity(agent, day, absent) if agent else 0
            if n > cap:
                over.append((agent_id, day, n, cap))
        results["c"] = not over
        log(f"  (c) agent-days over capacity: {len(over)} of {booked_days} booked agent-days "
            f"[{'PASS' if results['c'] else 'FAIL'}; must be 0]")
        for agent_id, day, n, cap in over[:examples]:
            why = ("day off" if WEEKDAYS[day.weekday()] not in agents[agent_id]["working_hours"] else
                   "absent" if cap == 0 else "over")
            log(f"      e.g. agent {agent_id} ({staff.calendar_of.get(agent_id)}) on {day} ({WEEKDAYS[day.weekday()]}, "
                f"{why}): {n} calls, capacity {cap}")

        # (d) overflow
        overflow = conn.execute(text(
            "SELECT call_type, count(*) FROM calls WHERE status = 'overflow' GROUP BY 1")).all()
        log(f"  (d) overflow: {sum(n for _, n in overflow)} calls waiting for capacity"
            + (f" ({', '.join(f'{t}: {n}' for t, n in overflow)})" if overflow else "") + " [INFO]")

        # (e) drift: the booking table against the calls that use capacity
        drift_sql = """
            SELECT coalesce(l.agent_id, x.agent_id) AS agent_id, coalesce(l.day, x.day) AS day,
                   coalesce(l.booked, 0) AS booked, coalesce(x.n, 0) AS actual
            FROM agent_day_loads l FULL JOIN (
                SELECT agent_id, due_on AS day, count(*) AS n FROM calls
                WHERE status IN ('scheduled', 'completed', 'failed') AND agent_id IS NOT NULL GROUP BY 1, 2) x
              ON x.agent_id = l.agent_id AND x.day = l.day
            WHERE coalesce(l.booked, 0) <> coalesce(x.n, 0)"""
        drift = conn.execute(text(f"SELECT count(*) FROM ({drift_sql}) d")).scalar_one()
        results["e"] = drift == 0
        log(f"  (e) drift: {drift} agent-days where agent_day_loads differs from the calls "
            f"[{'PASS' if results['e'] else 'FAIL'}; must be 0]")
        for row in conn.execute(text(f"{drift_sql} ORDER BY 1, 2 LIMIT {examples}")):
            log(f"      e.g. agent {row.agent_id} on {row.day}: booked {row.booked}, calls {row.actual}")

        # informational: the cycle's spacing (what the planner itself aims for, stricter than (a))
        spacing, party = spacing_breaks(conn, today)
        log(f"  (f) spacing: {spacing} customers whose first scheduled call is more than one policy interval "
            "(364 // min_contacts days) from today, or with consecutive scheduled calls more than one interval "
            "apart [INFO]")
        if party:
            log(f"      e.g. party {party}:")
            describe_party_calls(conn, party)
    return results


SPACING_SQL = """
    WITH active AS (
        SELECT r.party_id, 364 / coalesce(p.min_contacts, (SELECT min_contacts FROM contact_policies
                                                           WHERE segment = 'default')) AS max_interval
        FROM customer_replica r LEFT JOIN contact_policies p ON p.segment = r.segment
        WHERE r.lifecycle_state = 'customer' AND NOT r.deactivated),
    days AS (
        SELECT c.party_id, c.due_on AS day,
               lag(c.due_on) OVER (PARTITION BY c.party_id ORDER BY c.due_on) AS previous
        FROM calls c WHERE c.status = 'scheduled')
    SELECT DISTINCT a.party_id FROM active a JOIN days d USING (party_id)
    WHERE (d.previous IS NULL AND d.day > :today + a.max_interval - 1) OR d.day - d.previous > a.max_interval"""


def spacing_breaks(conn, today: date) -> tuple[int, str | None]:
    """Customers whose scheduled calls leave a stretch longer than the policy's interval, and one of them."""
    found = conn.execute(text(f"SELECT count(*), min(party_id) FROM ({SPACING_SQL}) s"), {"today": today}).one()
    return found[0], found[1]


def coverage_short(conn, today: date) -> int:
    """Active customers with fewer than their policy's min_contacts scheduled calls in [today, today+365)."""
    return conn.execute(text("""
        SELECT count(*) FROM customer_replica r
        LEFT JOIN contact_policies p ON p.segment = r.segment
        WHERE r.lifecycle_state = 'customer' AND NOT r.deactivated
          AND coalesce(p.min_contacts, (SELECT min_contacts FROM contact_policies WHERE segment = 'default')) > (
              SELECT count(*) FROM calls c WHERE c.party_id = r.party_id AND c.status = 'scheduled'
                AND c.due_on >= :today AND c.due_on < :end)"""),
                        {"today": today, "end": today + timedelta(days=HORIZON_DAYS)}).scalar_one()


def describe_party_calls(conn, party: str) -> None:
    for row in conn.execute(text(
            "SELECT call_id, call_type, status, due_on, window_start, window_end, agent_id, campaign_id, "
            "cancel_reason FROM calls WHERE party_id = :p ORDER BY coalesce(due_on, window_end), created_at"),
            {"p": party}):
        log(f"         {row.call_type:<11} {row.status:<9} due {row.due_on} window {row.window_start}..{row.window_end}"
            f" call {row.call_id} agent {str(row.agent_id)[:8]}"
            + (f" {row.campaign_id}" if row.campaign_id else "")
            + (f" ({row.cancel_reason})" if row.cancel_reason else ""))


# ----------------------------------------------------------------------------------------------- baseline
def bare_copy(dsn: str, rows: int, today: date) -> float:
    """A bare COPY of `rows` synthetic call rows into a table defined like `calls` (indexes included)."""
    columns = [c.name for c in orm.calls.columns]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS calls_copy")
        conn.execute("CREATE TABLE calls_copy (LIKE calls INCLUDING ALL)")
    now = datetime.now(UTC).isoformat()
    values = {"call_type": "maintenance", "status": "scheduled", "line_of_business": "retail", "slot": "morning",
              "priority": "1", "attempts": "0", "created_at": now, "version": "2"}
    started = time.perf_counter()
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY calls_copy ({', '.join(columns)}) FROM STDIN") as copy:
            lines = []
            for i in range(rows):
                due = today + timedelta(days=i % HORIZON_DAYS)
                row = dict(values, call_id=str(uuid.UUID(int=(i << 20) | 0x4000_8000_0000_0000, version=4)),
                           party_id=str(uuid.UUID(int=(i * 2654435761) % (1 << 128), version=4)),
                           territory_id="t", agent_id=f"agent-{i % 500:04d}", window_start=due.isoformat(),
                           window_end=(due + timedelta(days=30)).isoformat(), due_on=due.isoformat())
                lines.append("\t".join(row.get(name, "\\N") for name in columns) + "\n")
                if len(lines) >= 10000:
                    copy.write("".join(lines))
                    lines = []
            if lines:
                copy.write("".join(lines))
        conn.commit()
    return time.perf_counter() - started


# ----------------------------------------------------------------------------------------------- main
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100000)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--territories", type=int, default=10)
    parser.add_argument("--campaign-calls", type=int, default=20000)
    parser.add_argument("--campaign-batch", type=int, default=500, help="campaign calls per request_calls transaction")
    parser.add_argument("--chunk", type=int, default=2000, help="roll_forward's chunk_size")
    parser.add_argument("--capacity-min", type=int, default=25, help="smallest daily capacity of an agent")
    parser.add_argument("--capacity-max", type=int, default=35, help="largest daily capacity of an agent")
    parser.add_argument("--key-account-share", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--database-url", default=DEFAULT_URL, help="server to use (its database is only for admin)")
    parser.add_argument("--autoanalyze", choices=("auto", "on", "off"), default="auto",
                        help="apply autovacuum's ANALYZE rule between transactions; auto: when the server's "
                             "autovacuum is off")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the benchmark database at the end")
    args = parser.parse_args()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # `timeout` still drops the database
    today = datetime.now(UTC).date()  # request_calls plans for the service's today, which is the UTC date
    name = f"bench_calls_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = with_database(args.database_url, name)
    runtime = None
    try:
        runtime = build_runtime(Settings.from_env("calls", database_url=url, amqp_url="memory://"))
        return run(args, runtime, url, today)
    finally:
        if runtime is not None:
            runtime.engine.dispose()
        if args.keep_db:
            log(f"kept database {name}")
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(args, runtime, url: str, today: date) -> int:
    dsn = psycopg_dsn(url)
    log(f"calls planning benchmark: {args.customers:,} customers, {args.agents} agents in {args.territories} "
        f"territories, {args.campaign_calls:,} campaign calls in batches of {args.campaign_batch}, roll-forward "
        f"chunks of {args.chunk}; today {today} (UTC); database {url.rsplit('/', 1)[1]}; load average "
        + " ".join(f"{x:.1f}" for x in os.getloadavg()))

    with runtime.engine.connect() as conn:
        server = dict(conn.execute(text(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name IN ('autovacuum', "
            "'autovacuum_naptime', 'shared_buffers', 'synchronous_commit', 'fsync', 'max_wal_size', 'work_mem')")
        ).all())
        naptime = conn.execute(text("SELECT setting::float FROM pg_settings WHERE name = 'autovacuum_naptime'")
                               ).scalar_one()
        server["version"] = conn.execute(text("SHOW server_version")).scalar_one()
    log("  PostgreSQL " + ", ".join(f"{k} {v}" for k, v in sorted(server.items())))
    log(f"  code: {code_version()}")

    # -- setup ------------------------------------------------------------------------------------------
    started = time.perf_counter()
    runtime.migrate()
    rng = random.Random(args.seed)
    staff = Staff(rng, args.agents, args.territories, today, args.capacity_min, args.capacity_max)
    staff.insert(runtime.engine)
    segments = copy_customers(dsn, args.seed, args.customers, args.key_account_share)
    setup_seconds = time.perf_counter() - started
    slots, agent_days, monthly_slots = staff.horizon_capacity()
    with runtime.engine.connect() as conn:
        policies = dict(conn.execute(text("SELECT segment, min_contacts FROM contact_policies")).all())
    demand = sum(policies.get(s, policies["default"]) * n for s, n in segments.items())
    calendars = Counter(staff.calendar_of.values())
    log(f"setup: {setup_seconds:.1f}s (migrations, {len(staff.agents)} agents, {len(staff.absences)} absences, "
        f"{len(staff.territories)} territories, {args.customers:,} customers by COPY: "
        + ", ".join(f"{n:,} {s}" for s, n in sorted(segments.items())) + ")")
    log("  calendars: " + ", ".join(f"{n} {c}" for c, n in sorted(calendars.items()))
        + f"; daily capacities {args.capacity_min}-{args.capacity_max}; a 2-week holiday and 2-4 sick spells each")
    log(f"  capacity over the next {HORIZON_DAYS} days: {slots:,} call slots on {agent_days:,} agent-days")
    log(f"  policy minimum: {demand:,} contacts ({demand / max(args.customers, 1):.2f}/customer/year) + "
        f"{args.campaign_calls:,} campaign calls = {demand + args.campaign_calls:,}; "
        f"load ratio (needed / capacity) {(demand + args.campaign_calls) / max(slots, 1):.2f}")
    log("  (capacities are chosen with headroom over that ratio: the first roll-out books more than the policy "
        "minimum in the horizon and bunches it in months 4-9; see the booked share per month below)")

    # -- planning (timed) -------------------------------------------------------------------------------
    sessions = sessionmaker(runtime.engine, expire_on_commit=False)

    def uow():
        return CallsUnitOfWork(sessions, orm.messaging.outbox, "calls")

    feed = CampaignFeed(uow, args.seed, args.customers, args.campaign_calls, args.campaign_batch, today)
    analyze = AutoAnalyze(runtime.engine, args.autoanalyze == "on" or (
        args.autoanalyze == "auto" and server.get("autovacuum") == "off"), naptime)
    marks = {"next": 0.1}
    cpu_started = cpu_seconds()
    started = time.perf_counter()

    def progress(done: int) -> None:
        analyze.maybe()
        feed.follow(done)
        if done >= marks["next"] * args.customers:
            marks["next"] += 0.1
            log(f"  ... {done:,} customers rolled forward, {feed.issued:,} campaign calls requested, "
                f"{time.perf_counter() - started:.0f}s, peak RSS {peak_rss_mib():.0f} MiB")

    first = roll_forward(uow, today=today, chunk_size=args.chunk, progress=progress)
    feed.issue_up_to(args.campaign_calls)  # any left (e.g. when fewer customers were rolled than created)
    planning_seconds = time.perf_counter() - started
    planning_cpu = cpu_seconds() - cpu_started
    with runtime.engine.connect() as conn:
        created = conn.execute(text("SELECT count(*) FROM calls")).scalar_one()
    campaign_created = sum(n for d, n in feed.decisions.items() if d not in ("refused", "duplicate"))
    planned = first["calls_planned"] + campaign_created
    if analyze.enabled:
        log(f"\nautovacuum is off on this server: the benchmark applied autovacuum's ANALYZE rule between "
            f"transactions (--autoanalyze): {sum(analyze.runs.values())} ANALYZE ("
            + ", ".join(f"{t} {n}" for t, n in sorted(analyze.runs.items())) + f") taking {analyze.seconds:.1f}s, "
            "counted in the planning time (same rule in the second pass)")
    elif server.get("autovacuum") == "off":
        log("\nautovacuum is off on this server and --autoanalyze off: the tables keep the statistics they had "
            "before the calls were planned")
    log(f"\nplanning: {planning_seconds:.1f}s wall (roll_forward {planning_seconds - feed.seconds:.1f}s, "
        f"request_calls {feed.seconds:.1f}s in {feed.transactions} transactions); this process used "
        f"{planning_cpu:.1f}s CPU, the rest is PostgreSQL and waiting (2 cores shared); load average "
        + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    log(f"  calls planned: {planned:,} ({first['calls_planned']:,} maintenance by roll_forward + "
        f"{campaign_created:,} campaign) = {planned / planning_seconds:,.0f} calls/s; rows in calls: {created:,}")
    log(f"  roll_forward totals: {first}")
    decided = sum(feed.decisions.values())
    log("  campaign decisions: " + ", ".join(f"{d} {feed.decisions.get(d, 0):,}" for d in DECISIONS)
        + "".join(f", {d} {n:,}" for d, n in feed.decisions.items() if d not in DECISIONS)
        + f" = {decided:,} of {feed.issued:,} requests [{'PASS' if decided == feed.issued else 'FAIL'}]")
    for decision in ("took_over", "shifted", "refused", "overflow"):
        for result in feed.examples.get(decision, [])[:1]:
            log(f"    e.g. {decision}: {result.request_id}: {result.reason[:160]}")
    log(f"  peak RSS so far: {peak_rss_mib():.0f} MiB")
    with runtime.engine.connect() as conn:
        short, (spaced, _) = coverage_short(conn, today), spacing_breaks(conn, today)
    log(f"  state after this pass (not timed, INFO): {short:,} customers below their policy's min_contacts in the "
        f"horizon, {spaced:,} with a stretch longer than the policy interval (see (f) below)")

    second_started_at = datetime.now(UTC)
    started, cpu_started = time.perf_counter(), cpu_seconds()
    second = roll_forward(uow, today=today, chunk_size=args.chunk, progress=lambda _done: analyze.maybe())
    second_seconds = time.perf_counter() - started
    log(f"second roll_forward pass (daily top-up): {second_seconds:.1f}s ({cpu_seconds() - cpu_started:.1f}s CPU "
        f"in this process), {second}")
    with runtime.engine.connect() as conn:
        topped = conn.execute(text("""
            SELECT count(*), count(*) FILTER (WHERE EXISTS (
                SELECT 1 FROM calls t WHERE t.party_id = n.party_id AND t.status = 'cancelled'
                  AND t.cancel_reason LIKE 'taken over%')) FROM calls n WHERE n.created_at >= :since"""),
            {"since": second_started_at}).one()
    log(f"  the second pass's new calls: {topped[0]:,}, of which {topped[1]:,} for customers whose maintenance call "
        "a campaign call took over")

    with runtime.engine.connect() as conn:
        statuses = conn.execute(text("SELECT call_type, status, count(*) FROM calls GROUP BY 1, 2 ORDER BY 1, 2")).all()
        outbox = conn.execute(text("SELECT count(*) FROM outbox")).scalar_one()
        in_horizon = conn.execute(text("SELECT count(*) FROM calls WHERE status = 'scheduled' AND due_on >= :t AND "
                                       "due_on < :e"), {"t": today, "e": today + timedelta(days=HORIZON_DAYS)}
                                  ).scalar_one()
        size = conn.execute(text("SELECT pg_size_pretty(pg_database_size(current_database()))")).scalar_one()
        monthly = dict(conn.execute(text(
            "SELECT to_char(due_on, 'YYYY-MM'), count(*) FROM calls WHERE status = 'scheduled' AND due_on >= :t "
            "AND due_on < :e GROUP BY 1"), {"t": today, "e": today + timedelta(days=HORIZON_DAYS)}).all())
    log("calls by type and status: " + ", ".join(f"{t}/{s} {n:,}" for t, s, n in statuses))
    log(f"  scheduled in the horizon: {in_horizon:,} = {in_horizon / max(args.customers, 1):.2f}/customer; "
        f"booked load ratio {in_horizon / max(slots, 1):.2f} of capacity; events in the outbox: {outbox:,}; "
        f"database size {size}")
    use = {m: monthly.get(m, 0) / slots_m for m, slots_m in sorted(monthly_slots.items()) if slots_m}
    log("  booked share of capacity per month: " + ", ".join(f"{m[2:]} {u:.0%}" for m, u in use.items()))

    results = check_invariants(runtime.engine, staff, today)
    results["decisions"] = decided == feed.issued

    # -- baseline ---------------------------------------------------------------------------------------
    with runtime.engine.connect() as conn:
        rows = conn.execute(text("SELECT count(*) FROM calls")).scalar_one()
    copy_seconds = bare_copy(dsn, rows, today)
    log(f"\nbaseline: bare COPY of {rows:,} call rows into calls_copy (LIKE calls INCLUDING ALL): {copy_seconds:.1f}s "
        f"= {rows / copy_seconds:,.0f} rows/s; planning / COPY = {planning_seconds / copy_seconds:.1f}x "
        f"(with the second pass {(planning_seconds + second_seconds) / copy_seconds:.1f}x)")

    peak = peak_rss_mib()
    target = (f" (target < 60 s: {'met' if planning_seconds < 60 else 'missed'})"
              if args.customers <= 100000 else " (the issue sets no time target beyond 100k)")
    log(f"\nsummary: planning {planning_seconds:.1f}s{target}, second pass {second_seconds:.1f}s, "
        f"{planned / planning_seconds:,.0f} calls planned/s, peak RSS {peak:.0f} MiB (target < 1024: "
        f"{'met' if peak < 1024 else 'missed'}), COPY ratio {planning_seconds / copy_seconds:.1f}x")
    failed = [k for k, ok in results.items() if not ok]
    log("invariants: " + ", ".join(f"{k} {'PASS' if ok else 'FAIL'}" for k, ok in results.items())
        + (f" -> FAIL ({', '.join(failed)})" if failed else " -> all PASS"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
