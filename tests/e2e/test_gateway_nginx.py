"""The gateway's own behaviour, nginx alone with deploy/nginx/gateway.conf.template in front of stub upstreams
(one that echoes what it got, one port where nothing listens): nginx's own errors are problem+json, bodies up to
the import limit pass on the import path only, and X-Request-ID is passed on only when it is short and safe."""
from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from e2e_stack import load_runner

pytestmark = pytest.mark.e2e
MiB = 2**20


class Echo(BaseHTTPRequestHandler):
    """Answers like a service: JSON, and the X-Request-ID it received echoed."""

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        received = 0
        while received < length:
            received += len(self.rfile.read(min(MiB, length - received)))
        body = json.dumps({"path": self.path, "bytes": received,
                           "request_id": self.headers.get("X-Request-ID")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Request-ID", self.headers.get("X-Request-ID", ""))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args):
        pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    runner = load_runner()
    try:
        nginx = runner.nginx_binary()
    except runner.StartupFailed:
        pytest.skip("nginx is not installed")
    echo = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=echo.serve_forever, daemon=True).start()
    up = f"127.0.0.1:{echo.server_address[1]}"
    down = f"127.0.0.1:{free_port()}"  # nothing listens: the calls service is "down"
    upstreams = {"customers": up, "calls": down, "campaigns": up, "service-desk": up, "reporting": up}
    var_dir = tmp_path_factory.mktemp("gateway")  # private (0700): the body buffers must still work (run.py)
    port = free_port()
    config = runner.write_nginx_config(var_dir, port, upstreams)
    process = subprocess.Popen([nginx, "-p", str(var_dir / "nginx"), "-c", str(config),
                                "-e", str(var_dir / "nginx" / "error.log")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while True:
        try:
            if requests.get(f"{url}/health/live", timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"nginx did not start: {process.stderr.read().decode() if process.stderr else ''}")
        time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)
    echo.shutdown()


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text[:300]
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"] == "about:blank"
    assert body["instance"] == f"urn:request:{response.headers['X-Request-ID']}"
    return body


def test_a_body_over_the_limit_is_a_413_problem(gateway):
    assert_problem(requests.post(f"{gateway}/api/customers/parties", data=b"x" * (11 * MiB), timeout=30), 413)


def test_an_import_up_to_the_import_limit_passes_the_gateway(gateway):
    path = "/api/campaigns/campaigns/0f8fad5b-d9cb-469f-a165-70867728950e/imports"
    passed = requests.post(f"{gateway}{path}", data=b"x" * (30 * MiB), timeout=60)
    assert passed.status_code == 200 and passed.json()["bytes"] == 30 * MiB
    assert_problem(requests.post(f"{gateway}{path}", data=b"x" * (52 * MiB), timeout=60), 413)
    # only the import path: another campaigns path keeps the general limit
    assert_problem(requests.post(f"{gateway}/api/campaigns/campaigns", data=b"x" * (11 * MiB), timeout=30), 413)


def test_a_service_that_does_not_answer_is_a_502_problem(gateway):
    assert_problem(requests.get(f"{gateway}/api/calls/calls", timeout=30), 502)


def test_the_error_pages_themselves_cannot_be_asked_for(gateway):
    assert_problem(requests.get(f"{gateway}/_crm_error/502", timeout=10), 404)


def test_a_uri_or_header_too_long_is_a_problem(gateway):
    assert_problem(requests.get(f"{gateway}/api/customers/parties?q={'x' * 20_000}", timeout=10), 414)
    assert_problem(requests.get(f"{gateway}/api/customers/parties", headers={"X-Big": "x" * 20_000}, timeout=10), 400)


@pytest.mark.parametrize("given", ["x" * 5000, "a b", "<script>", "a" * 129, '"quoted"'])
def test_an_unsafe_request_id_is_replaced_before_the_service_sees_it(gateway, given):
    response = requests.get(f"{gateway}/api/customers/parties", headers={"X-Request-ID": given}, timeout=10)
    assert response.status_code == 200
    seen = response.json()["request_id"]
    assert seen != given and 1 <= len(seen) <= 128 and response.headers["X-Request-ID"] == seen


def test_a_request_id_longer_than_a_header_buffer_is_a_400_problem_not_a_502(gateway):
    response = requests.get(f"{gateway}/api/customers/parties", headers={"X-Request-ID": "x" * 8000}, timeout=10)
    assert assert_problem(response, 400)
    assert response.headers["X-Request-ID"] != "x" * 8000


@pytest.mark.parametrize("given", ["rid-1", "0f8fad5b-d9cb-469f-a165-70867728950e", "a" * 128, "host:1.2_3"])
def test_a_safe_request_id_is_passed_on(gateway, given):
    response = requests.get(f"{gateway}/api/customers/parties", headers={"X-Request-ID": given}, timeout=10)
    assert response.json()["request_id"] == given


def test_trace_is_a_405_problem_with_allow(gateway):
    """nginx refuses TRACE itself, before any location: the answer must still be a problem with Allow."""
    response = requests.request("TRACE", f"{gateway}/api/customers/parties", timeout=10)
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_a_request_line_the_services_would_refuse_is_refused_by_the_gateway_first(gateway):
    """gunicorn refuses request lines over --limit-request-line with an HTML 414; nginx refuses them first, with
    a problem, so a line that passes the gateway is one the services read."""
    limit = load_runner().GUNICORN_LIMIT_REQUEST_LINE
    path = "/api/customers/parties?cursor="
    def line_of(length: int) -> str:
        return f"{path}{'v' * (length - len('GET  HTTP/1.1') - len(path))}"
    assert_problem(requests.get(f"{gateway}{line_of(limit + 1)}", timeout=10), 414)
    assert_problem(requests.get(f"{gateway}{line_of(limit)}", timeout=10), 414)  # nginx's limit is below it
    passed = requests.get(f"{gateway}{line_of(6000)}", timeout=10)
    assert passed.status_code == 200 and len(passed.json()["path"]) + len("GET  HTTP/1.1") == 6000
