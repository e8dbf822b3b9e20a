"""API processes log JSON lines carrying the request id (crm_shared.entrypoints.wsgi_app, used by every
service's wsgi module)."""
import importlib.util
import json
import logging
import subprocess
import sys

import pytest
from flask_smorest import Blueprint

from crm_shared.auth import mint_token
from crm_shared.config import Settings
from crm_shared.entrypoints import wsgi_app
from crm_shared.runtime import ServiceRuntime
from crm_shared.web import create_service_app
from crm_shared.testing.services import SERVICE_PACKAGES

SETTINGS = Settings.from_env("demo", database_url="sqlite://")


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def build_app():
    blp = Blueprint("work", __name__, url_prefix="/work")

    @blp.route("/note", methods=["GET"])
    def note():
        logging.getLogger("demo.work").info("noted")
        return {}

    @blp.route("/boom", methods=["GET"])
    def boom():
        raise RuntimeError("bug")

    return create_service_app(SETTINGS, title="demo", blueprints=[blp], readiness_checks={})


def runtime_building(app_factory, settings=SETTINGS):
    return lambda: ServiceRuntime(settings=settings, engine=None, messaging=None, migrate=lambda: None,
                                  create_app=app_factory)


def lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_a_wsgi_app_logs_json_lines_with_the_request_id(capsys, restore_logging):
    app = wsgi_app(runtime_building(build_app))
    client = app.test_client()
    headers = {"Authorization": "Bearer " + mint_token(SETTINGS.jwt, "u", ["admin"], ["*"])}
    client.get("/api/demo/work/note", headers={**headers, "X-Request-ID": "rid-note"})
    assert client.get("/api/demo/work/boom", headers={**headers, "X-Request-ID": "rid-boom"}).status_code == 500
    logged = lines(capsys.readouterr().err)
    [noted] = [e for e in logged if e["message"] == "noted"]
    assert noted["correlation_id"] == "rid-note" and noted["service"] == "demo-api" and noted["level"] == "INFO"
    [failed] = [e for e in logged if e["message"] == "unhandled error"]
    assert failed["correlation_id"] == "rid-boom" and "RuntimeError: bug" in failed["exception"]


def test_log_level_comes_from_the_environment(monkeypatch, restore_logging):
    monkeypatch.setenv("LOG_LEVEL", "ERROR")
    monkeypatch.setenv("DEMO_LOG_LEVEL", "WARNING")
    settings = Settings.from_env("demo", database_url="sqlite://")  # read once, as the bootstrap does
    monkeypatch.setenv("DEMO_LOG_LEVEL", "DEBUG")  # later changes are not read: the process has its settings
    wsgi_app(runtime_building(build_app, settings))
    assert logging.getLogger().level == logging.WARNING




@pytest.mark.parametrize("service", list(SERVICE_PACKAGES))
def test_every_services_wsgi_module_configures_json_logging(service, tmp_path):
    package = SERVICE_PACKAGES[service]
    if importlib.util.find_spec(package) is None:
        pytest.skip(f"{package} is not installed")
    script = (f"import logging\nfrom {package}.entrypoints.wsgi import app\n"
              "logging.getLogger('probe').warning('from the probe')\n")
    prefix = service.upper().replace("-", "_")
    env = {"PATH": "/usr/bin:/bin", f"{prefix}_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
           "JWT_SECRET": "s" * 32}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    [probe] = [e for e in lines(done.stderr) if e["message"] == "from the probe"]
    assert probe["service"] == f"{service}-api" and "correlation_id" in probe
