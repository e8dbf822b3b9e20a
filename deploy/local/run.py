"""Local mode with real infrastructure: every service as separate processes on PostgreSQL and RabbitMQ.

For each selected service: create its database if missing, run its migrations, then start gunicorn (port
8101..8105), the outbox relay, the event consumer and a Celery worker; plus one Celery beat for all of them
(deploy/beat/beat.py) and nginx as the gateway (deploy/nginx/gateway.conf.template) on --port. Process
output goes to var/local/logs/. Stops everything on SIGINT/SIGTERM.

    .venv/bin/python deploy/local/run.py [--services calls,campaigns] [--port 8080]

From Python (tests): `stack = start(["calls"], port=18080)`, then `stack.stop()`.
Environment: AMQP_URL, JWT_* and <SERVICE>_DATABASE_URL are passed on; POSTGRES_ADMIN_URL names the server
where missing databases are created (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres).
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "deploy" / "nginx" / "gateway.conf.template"
BEAT_DIR = REPO / "deploy" / "beat"
PORTS = {"customers": 8101, "calls": 8102, "campaigns": 8103, "service-desk": 8104, "reporting": 8105}
DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BIN = Path(sys.executable).parent
# gunicorn's largest request line (its own 414 is HTML); nginx's 6k header buffers refuse longer lines first
GUNICORN_LIMIT_REQUEST_LINE = 8190


def package_of(service: str) -> str:
    return "crm_" + service.replace("-", "_")


def env_prefix(service: str) -> str:
    return service.upper().replace("-", "_")


class StartupFailed(RuntimeError):
    pass


@dataclass
class Stack:
    """The running processes; `stop()` ends them all (gracefully, then by force)."""
    var_dir: Path
    gateway_url: str
    service_urls: dict[str, str]
    processes: list[tuple[str, subprocess.Popen]] = field(default_factory=list)
    _stopped: bool = False

    def spawn(self, label: str, argv: list[str], env: dict, cwd: Path | None = None) -> subprocess.Popen:
        log = open(self.var_dir / "logs" / f"{label}.log", "ab")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(argv, env=env, cwd=cwd or REPO, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self.processes.append((label, process))
        return process

    def dead(self) -> list[tuple[str, int]]:
        return [(label, p.returncode) for label, p in self.processes if p.poll() is not None]

    def log_tail(self, label: str, lines: int = 30) -> str:
        path = self.var_dir / "logs" / f"{label}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self, timeout: float = 20.0) -> None:
        if self._stopped:
            return
        self._stopped = True
        for label, process in reversed(self.processes):
            if process.poll() is None:
                # nginx: SIGQUIT is its graceful shutdown; gunicorn, celery, relay and consumer drain on SIGTERM
                _signal(process, signal.SIGQUIT if label == "gateway" else signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for _label, process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for _label, process in self.processes:
            if process.poll() is None:
                _signal(process, signal.SIGKILL, group=True)
                process.wait(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def _signal(process: subprocess.Popen, sig: int, group: bool = False) -> None:
    try:
        if group:
            os.killpg(process.pid, sig)  # the process leads its own session (start_new_session)
        else:
            process.send_signal(sig)
    except ProcessLookupError:
        pass


# -- preparation ------------------------------------------------------------------------------------------
def select_services(services: list[str] | None) -> list[str]:
    """All five by default; an explicit subset may leave out a service that is not installed (yet)."""
    selected = list(services) if services else list(PORTS)
    unknown = [s for s in selected if s not in PORTS]
    if unknown:
        raise StartupFailed(f"unknown services: {', '.join(unknown)} (known: {', '.join(PORTS)})")
    missing = [s for s in selected if importlib.util.find_spec(package_of(s)) is None]
    if missing:
        hint = "" if services else "; choose the others with --services"
        raise StartupFailed(f"not installed: {', '.join(package_of(s) for s in missing)}{hint}")
    return selected


def database_urls(services: list[str], admin_url: str, environ: dict) -> dict[str, str]:
    base = make_url(admin_url)
    return {s: environ.get(f"{env_prefix(s)}_DATABASE_URL")
            or base.set(database=package_of(s)).render_as_string(hide_password=False) for s in services}


def ensure_databases(urls: dict[str, str], admin_url: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for url in urls.values():
                name = make_url(url).database
                if not re.fullmatch(r"[A-Za-z0-9_]+", name or ""):
                    raise StartupFailed(f"refusing to create a database named {name!r}")
                if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}) is None:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def render_gateway(port: int, upstreams: dict[str, str]) -> str:
    values = {"GATEWAY_PORT": str(port), **{f"{env_prefix(s)}_UPSTREAM": u for s, u in upstreams.items()}}

    def substitute(match: re.Match) -> str:
        if match.group(1) not in values:
            raise StartupFailed(f"the gateway template needs ${{{match.group(1)}}}")
        return values[match.group(1)]
    return re.sub(r"\$\{([A-Z0-9_]+)\}", substitute, TEMPLATE.read_text())


def write_nginx_config(var_dir: Path, port: int, upstreams: dict[str, str]) -> Path:
    root = var_dir / "nginx"
    (root / "tmp").mkdir(parents=True, exist_ok=True)
    (root / "gateway.conf").write_text(render_gateway(port, upstreams))
    user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
    buffers = root / "tmp"
    if user:
        # Workers run as nobody and buffer large bodies (imports) in files: a var_dir under a private (0700)
        # directory, such as pytest's temporary one, would fail those with 500, so the buffers go elsewhere.
        buffers = Path(tempfile.mkdtemp(prefix="crm-nginx-"))
        buffers.chmod(0o711)
    temp = "\n".join(f"    {kind}_temp_path {buffers / kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    config = root / "nginx.conf"
    config.write_text(f"""{user}worker_processes 2;
daemon off;
pid {root / 'nginx.pid'};
error_log {root / 'error.log'} warn;
events {{ worker_connections 1024; }}
http {{
    access_log {root / 'access.log'};
{temp}
    include {root / 'gateway.conf'};
}}
""")
    return config


def ensure_ports_free(ports: list[int]) -> None:
    """A port already taken would let an old stack answer the readiness checks of a new one."""
    busy = []
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                busy.append(port)
    if busy:
        raise StartupFailed(f"ports already in use: {', '.join(map(str, busy))} (is another stack running?)")


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if not found:
        raise StartupFailed("nginx is not installed")
    return found


# -- start ------------------------------------------------------------------------------------------------
def start(services: list[str] | None = None, port: int = 8080, *, var_dir: Path | str | None = None,
          admin_url: str | None = None, ports: dict[str, int] | None = None, workers: int = 2,
          env: dict | None = None, ready_timeout: float = 120.0) -> Stack:
    """Starts the stack and returns once every service and the gateway answer; raises StartupFailed (after
    stopping what was started) otherwise."""
    environ = {**os.environ, **(env or {})}
    selected = select_services(services)
    ports = {**PORTS, **(ports or {})}
    admin_url = admin_url or environ.get("POSTGRES_ADMIN_URL", DEFAULT_ADMIN_URL)
    ensure_ports_free([port, *(ports[s] for s in selected)])
    var_dir = Path(var_dir or REPO / "var" / "local").resolve()
    (var_dir / "logs").mkdir(parents=True, exist_ok=True)
    urls = database_urls(selected, admin_url, environ)
    ensure_databases(urls, admin_url)

    child_env = {**environ, "PATH": f"{BIN}{os.pathsep}{environ.get('PATH', '')}", "PYTHONUNBUFFERED": "1"}
    for service, url in urls.items():
        child_env[f"{env_prefix(service)}_DATABASE_URL"] = url
    stack = Stack(var_dir=var_dir, gateway_url=f"http://127.0.0.1:{port}",
                  service_urls={s: f"http://127.0.0.1:{ports[s]}" for s in selected})
    try:
        for service in selected:
            migrate = subprocess.run([str(BIN / f"crm-{service}-migrate")], env=child_env, cwd=REPO,
                                     capture_output=True, text=True)
            (var_dir / "logs" / f"{service}-migrate.log").write_text(migrate.stdout + migrate.stderr)
            if migrate.returncode != 0:
                raise StartupFailed(f"{service} migrations failed:\n{migrate.stderr[-3000:]}")
        for service in selected:
            pkg = package_of(service)
            stack.spawn(f"{service}-api", [str(BIN / "gunicorn"), "-w", str(workers), "-b",
                                           f"127.0.0.1:{ports[service]}", "--graceful-timeout", "10",
                                           "--limit-request-line", str(GUNICORN_LIMIT_REQUEST_LINE),
                                           f"{pkg}.entrypoints.wsgi:app"], child_env)
            stack.spawn(f"{service}-relay", [str(BIN / f"crm-{service}-relay")], child_env)
            stack.spawn(f"{service}-consumer", [str(BIN / f"crm-{service}-consumer")], child_env)
            stack.spawn(f"{service}-worker", [str(BIN / "celery"), "-A", f"{pkg}.entrypoints.tasks", "worker",
                                              "-l", "INFO", "-n", f"{service}@%h", "--concurrency", "2",
                                              "--without-gossip", "--without-mingle"], child_env)
        stack.spawn("beat", [str(BIN / "celery"), "--workdir", str(BEAT_DIR), "-A", "beat", "beat", "-l", "INFO",
                             "-s", str(var_dir / "celerybeat-schedule"), "--pidfile="],
                    {**child_env, "CRM_BEAT_SERVICES": ",".join(selected)})
        upstreams = {s: f"127.0.0.1:{ports[s]}" for s in PORTS}  # not selected: nginx answers 502
        config = write_nginx_config(var_dir, port, upstreams)
        stack.spawn("gateway", [nginx_binary(), "-p", str(var_dir / "nginx"), "-c", str(config),
                                "-e", str(var_dir / "nginx" / "error.log")], child_env)
        _wait_until_ready(stack, selected, ready_timeout)
    except BaseException:
        stack.stop()
        raise
    return stack


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return 0


def _wait_until_ready(stack: Stack, services: list[str], timeout: float) -> None:
    checks = {f"{s}-api": f"{stack.service_urls[s]}/health/ready" for s in services}
    checks.update({f"gateway->{s}": f"{stack.gateway_url}/api/{s}/openapi.json" for s in services})
    pending = dict(checks)
    deadline = time.monotonic() + timeout
    while pending:
        dead = stack.dead()
        if dead:
            label, code = dead[0]
            raise StartupFailed(f"{label} exited with {code}:\n{stack.log_tail(label)}")
        for name, url in list(pending.items()):
            if _get(url) == 200:
                del pending[name]
        if pending and time.monotonic() > deadline:
            raise StartupFailed(f"not ready after {timeout:.0f}s: {', '.join(pending)}")
        if pending:
            time.sleep(0.3)


# -- command line -----------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", help=f"comma-separated subset of {','.join(PORTS)} (default: all)")
    parser.add_argument("--port", type=int, default=8080, help="gateway port (default 8080)")
    parser.add_argument("--var-dir", default=None, help="logs, nginx files, beat schedule (default var/local)")
    args = parser.parse_args(argv)
    services = [s.strip() for s in args.services.split(",") if s.strip()] if args.services else None

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        stack = start(services, args.port, var_dir=args.var_dir)
    except StartupFailed as exc:
        print(f"startup failed: {exc}", file=sys.stderr)
        return 1
    print(f"gateway on {stack.gateway_url}; logs in {stack.var_dir / 'logs'}; Ctrl-C stops", file=sys.stderr)
    code = 0
    while not stop.wait(1.0):
        dead = stack.dead()
        if dead:
            label, returncode = dead[0]
            print(f"{label} exited with {returncode}; stopping:\n{stack.log_tail(label)}", file=sys.stderr)
            code = 1
            break
    stack.stop()
    print("stopped", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
