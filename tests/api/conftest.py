"""Fixtures of the API guards: the whole stack behind nginx from tests/e2e (one per test module), on a RabbitMQ
virtual host of its own where the broker is local, so that what the generated requests publish cannot reach a
later module's consumers; and per-operation expected failures (`KNOWN_FAILURES` of a test module)."""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "e2e"))

_spec = importlib.util.spec_from_file_location("e2e_conftest_for_api", HERE.parent / "e2e" / "conftest.py")
_e2e = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_e2e)

if os.environ.get("CRM_API_TESTS_GATEWAY"):
    # A stack that is already running (`make local`, another port): nothing is started, nothing cleaned up.
    import e2e_stack

    e2e_stack.GATEWAY = os.environ["CRM_API_TESTS_GATEWAY"].rstrip("/")

    @pytest.fixture(scope="module")
    def stack():
        yield None
else:
    stack = _e2e.stack  # the e2e fixture itself: all services, nginx, PostgreSQL databases of the module's own


def _rabbitmqctl(*args: str) -> bool:
    try:
        return subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="module")
def amqp_url(amqp_url):
    """The session's broker, on a fresh virtual host (deleted afterwards) when `rabbitmqctl` reaches it."""
    parts = urlsplit(amqp_url)
    if parts.hostname not in ("127.0.0.1", "localhost") or not shutil.which("rabbitmqctl"):
        yield amqp_url
        return
    vhost = f"crm-api-tests-{uuid.uuid4().hex[:8]}"
    user = parts.username or "guest"
    if not (_rabbitmqctl("add_vhost", vhost) and _rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")):
        yield amqp_url
        return
    try:
        yield urlunsplit(parts._replace(path="/" + quote(vhost, safe="")))
    finally:
        _rabbitmqctl("delete_vhost", vhost)


def pytest_collection_modifyitems(items):
    """`KNOWN_FAILURES = {"<test name>[<METHOD> <path>]": "issue N item M: ..."}` in a test module marks exactly
    those items xfail(strict=True): green while the defect is open, red once it is fixed and the entry stays."""
    for item in items:
        known = getattr(getattr(item, "module", None), "KNOWN_FAILURES", None)
        if known and item.name in known:
            item.add_marker(pytest.mark.xfail(strict=True, reason=known[item.name]))
