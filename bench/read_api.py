"""Read API benchmark: one customer read through nginx, the platform against a bare endpoint, in the same run.

(a) bare:     nginx (the gateway template, same settings) -> gunicorn -> bench/bare_app.py: Flask, one
              primary-key SELECT through a SQLAlchemy pool, JSON out; no auth, no schemas.
(b) platform: nginx gateway -> gunicorn -> customers service: JWT, flask-smorest, unit of work, repository,
              domain model, marshmallow schema, ETag, metrics; started by deploy/local/run.py.
Both use the same gunicorn worker count and class (sync), the same database and the same row. wrk runs one
after the other (warm-up first) with the same connections and duration; prints requests/s, p50, p99, the ratio
and pass/fail against the targets (platform >= 60% of bare requests/s, platform p99 < 50 ms).

    .venv/bin/python bench/read_api.py [--parties 10000] [--duration 15] [--connections 32]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from crm_shared.auth import mint_token
from crm_shared.config import Settings

REPO = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DATABASE = "bench_read_customers"
WORKERS = 2
TARGET_RATIO = 0.60
TARGET_P99_MS = 50.0
SEEDED_THROUGH_API = 200


def load_run_module():
    spec = importlib.util.spec_from_file_location("crm_local_run", REPO / "deploy" / "local" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


# -- database ---------------------------------------------------------------------------------------------
def recreate_database(admin_url: str, name: str) -> str:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def http(method: str, url: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, {"error": exc.read().decode(errors="replace")[:500]}


def seed(gateway_url: str, database_url: str, token: str, total: int) -> str:
    """A few hundred parties through the API (so the rows are what the service writes), the rest copied from
    them in SQL with new ids and names. Returns the id of an API-created party in the middle."""
    lines = ("retail", "wholesale", "services")
    created = []
    for i in range(min(SEEDED_THROUGH_API, total)):
        status, body = http("POST", f"{gateway_url}/api/customers/parties", token, {
            "kind": "company", "company_name": f"Bench Company {i:05d}", "line_of_business": lines[i % 3]})
        if status != 201:
            raise RuntimeError(f"seeding POST answered {status}: {body}")
        created.append(body["party_id"])
    remaining = total - len(created)
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            if remaining > 0:
                conn.execute(text("""
                    INSERT INTO parties (id, kind, company_name, first_name, last_name, display_name, name_key,
                        lifecycle_state, customer_number, line_of_business, primary_postal_code, addresses, phones,
                        emails, attributes, version, created_at, updated_at)
                    SELECT gen_random_uuid(), p.kind, 'Bulk Company ' || lpad(g::text, 6, '0'), NULL, NULL,
                        'Bulk Company ' || lpad(g::text, 6, '0'), lower('Bulk Company ' || lpad(g::text, 6, '0')),
                        p.lifecycle_state, NULL, p.line_of_business, p.primary_postal_code, p.addresses, p.phones,
                        p.emails, p.attributes, p.version, p.created_at + g * interval '1 ms',
                        p.updated_at + g * interval '1 ms'
                    FROM parties p CROSS JOIN generate_series(1, :n) AS g
                    WHERE p.id = :template
                """), {"n": remaining, "template": created[0]})
            count = conn.scalar(text("SELECT count(*) FROM parties"))
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE parties"))
    finally:
        engine.dispose()
    print(f"seeded {count} parties ({len(created)} through the API)", file=sys.stderr)
    return created[len(created) // 2]


# -- bare endpoint ----------------------------------------------------------------------------------------
def start_bare(run, var_dir: Path, port: int, app_port: int, database_url: str, timeout: float = 60.0):
    """gunicorn with bare_app behind nginx rendered from the gateway template (customers -> bare app)."""
    run.ensure_ports_free([port, app_port])
    (var_dir / "logs").mkdir(parents=True, exist_ok=True)
    stack = run.Stack(var_dir=var_dir, gateway_url=f"http://127.0.0.1:{port}",
                      service_urls={"bare": f"http://127.0.0.1:{app_port}"})
    env = {**os.environ, "BARE_DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
    try:
        # the same argv as run.py gives the services' gunicorn (default sync workers), with the bare app
        stack.spawn("bare-api", [str(run.BIN / "gunicorn"), "-w", str(WORKERS), "-b", f"127.0.0.1:{app_port}",
                                 "--graceful-timeout", "10", "--chdir", str(BENCH), "bare_app:app"], env)
        upstreams = {s: f"127.0.0.1:{p}" for s, p in run.PORTS.items()}
        upstreams["customers"] = f"127.0.0.1:{app_port}"
        config = run.write_nginx_config(var_dir, port, upstreams)
        stack.spawn("gateway", [run.nginx_binary(), "-p", str(var_dir / "nginx"), "-c", str(config),
                                "-e", str(var_dir / "nginx" / "error.log")], env)
        checks = [f"{stack.service_urls['bare']}/health/ready", f"{stack.gateway_url}/health/live"]
        deadline = time.monotonic() + timeout
        while checks:
            dead = stack.dead()
            if dead:
                raise run.StartupFailed(f"{dead[0][0]} exited with {dead[0][1]}:\n{stack.log_tail(dead[0][0])}")
            checks = [url for url in checks if run._get(url) != 200]
            if checks and time.monotonic() > deadline:
                raise run.StartupFailed(f"bare endpoint not ready after {timeout:.0f}s: {', '.join(checks)}")
            if checks:
                time.sleep(0.3)
    except BaseException:
        stack.stop()
        raise
    return stack


# -- wrk --------------------------------------------------------------------------------------------------
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if not match:
        raise ValueError(f"unexpected wrk latency {value!r}")
    return float(match.group(1)) * UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> dict:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    if not (rps and p50 and p99):
        raise RuntimeError(f"could not parse wrk output:\n{output}")
    total = re.search(r"(\d+) requests in", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return {"rps": float(rps.group(1)), "p50": _ms(p50.group(1)), "p99": _ms(p99.group(1)),
            "requests": int(total.group(1)) if total else 0,
            "errors": (int(non_2xx.group(1)) if non_2xx else 0)
            + (sum(map(int, socket_errors.groups())) if socket_errors else 0)}


def wrk(url: str, token: str, seconds: int, connections: int, threads: int = 2) -> dict:
    argv = [shutil.which("wrk") or "/usr/bin/wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s",
            "--latency", "-H", f"Authorization: Bearer {token}", url]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed ({result.returncode}): {result.stderr or result.stdout}")
    return parse_wrk(result.stdout)


def check_read(url: str, token: str, party_id: str) -> None:
    status, body = http("GET", url, token)
    if status != 200 or party_id not in (body.get("party_id"), body.get("id")):
        raise RuntimeError(f"GET {url} answered {status}: {body}")


# -- main -------------------------------------------------------------------------------------------------
def _raise_interrupt(*_):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parties", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=15, help="seconds per measured wrk run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of wrk warm-up before each run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--gateway-port", type=int, default=18180)
    parser.add_argument("--customers-port", type=int, default=18181)
    parser.add_argument("--bare-port", type=int, default=18190, help="the bare endpoint's nginx")
    parser.add_argument("--bare-app-port", type=int, default=18191)
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs) and the database")
    args = parser.parse_args(argv)
    if not shutil.which("wrk") and not Path("/usr/bin/wrk").exists():
        print("wrk is not installed", file=sys.stderr)
        return 2

    signal.signal(signal.SIGTERM, _raise_interrupt)
    run = load_run_module()
    tmp = Path(tempfile.mkdtemp(prefix="crm-bench-read-"))
    token = mint_token(Settings.from_env("customers").jwt, "bench", ["admin"], ["*"])
    stacks = []
    try:
        database_url = recreate_database(ADMIN_URL, DATABASE)
        print(f"starting customers (gunicorn -w {WORKERS}) behind nginx on :{args.gateway_port}", file=sys.stderr)
        platform = run.start(["customers"], args.gateway_port, var_dir=tmp / "platform", admin_url=ADMIN_URL,
                             ports={"customers": args.customers_port}, workers=WORKERS,
                             env={"CUSTOMERS_DATABASE_URL": database_url}, ready_timeout=120)
        stacks.append(platform)
        party_id = seed(platform.gateway_url, database_url, token, args.parties)
        print(f"starting the bare endpoint (gunicorn -w {WORKERS}) behind nginx on :{args.bare_port}",
              file=sys.stderr)
        bare = start_bare(run, tmp / "bare", args.bare_port, args.bare_app_port, database_url)
        stacks.append(bare)

        targets = {"bare": f"{bare.gateway_url}/api/customers/parties/{party_id}",
                   "platform": f"{platform.gateway_url}/api/customers/parties/{party_id}"}
        results = {}
        for name, url in targets.items():
            check_read(url, token, party_id)
            print(f"{name}: warm-up {args.warmup}s, then wrk -t2 -c{args.connections} -d{args.duration}s {url}",
                  file=sys.stderr)
            wrk(url, token, args.warmup, args.connections)
            results[name] = wrk(url, token, args.duration, args.connections)
            for stack in stacks:
                for label, code in stack.dead():
                    raise RuntimeError(f"{label} exited with {code} during the run:\n{stack.log_tail(label)}")
        report(results, args)
        ok = results["platform"]["rps"] >= TARGET_RATIO * results["bare"]["rps"] \
            and results["platform"]["p99"] < TARGET_P99_MS
        return 0 if ok else 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # let the stop below finish
        for stack in reversed(stacks):
            stack.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if args.keep:
            print(f"kept {tmp} and database {DATABASE}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
            drop_database(ADMIN_URL, DATABASE)


def report(results: dict, args) -> None:
    bare, platform = results["bare"], results["platform"]
    ratio = platform["rps"] / bare["rps"] if bare["rps"] else 0.0
    print(f"\nGET one customer by id through nginx; wrk -t2 -c{args.connections} -d{args.duration}s; "
          f"gunicorn -w {WORKERS} (sync) each; {args.parties} parties; {os.cpu_count()} CPUs")
    print(f"{'':10} {'requests/s':>11} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'errors':>7}")
    for name in ("bare", "platform"):
        r = results[name]
        print(f"{name:10} {r['rps']:>11.1f} {r['p50']:>8.2f} {r['p99']:>8.2f} {r['requests']:>9} {r['errors']:>7}")
    ratio_ok = ratio >= TARGET_RATIO
    p99_ok = platform["p99"] < TARGET_P99_MS
    print(f"\nratio platform/bare requests/s: {ratio:.2f} (target >= {TARGET_RATIO:.2f}) "
          f"{'PASS' if ratio_ok else 'FAIL'}")
    print(f"platform p99: {platform['p99']:.2f} ms (target < {TARGET_P99_MS:.0f} ms) {'PASS' if p99_ok else 'FAIL'}")


if __name__ == "__main__":
    sys.exit(main())
