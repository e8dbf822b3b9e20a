"""The deploy wiring every mode shares: each service has its api, relay, consumer and Celery worker in
docker-compose (with the console scripts they call installed), and the one beat sends every service's periodic
tasks to that service's own queue."""
from __future__ import annotations

import importlib
import importlib.util
import sys
from importlib.metadata import entry_points

import pytest
import yaml
from e2e_stack import PORTS, ROOT

SERVICES = tuple(PORTS)
PROCESSES = ("migrate", "api", "relay", "consumer", "worker")


def package_of(service: str) -> str:
    return "crm_" + service.replace("-", "_")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


@pytest.fixture(scope="module")
def beat():
    spec = importlib.util.spec_from_file_location("crm_beat", ROOT / "deploy" / "beat" / "beat.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("service", SERVICES)
def test_compose_runs_every_process_of_the_service(compose, service):
    missing = [p for p in PROCESSES if f"{service}-{p}" not in compose]
    assert not missing, f"{service} lacks {missing} in docker-compose.yml"
    assert compose[f"{service}-relay"]["command"] == [f"crm-{service}-relay"]
    assert compose[f"{service}-consumer"]["command"] == [f"crm-{service}-consumer"]
    worker = compose[f"{service}-worker"]["command"]
    assert worker[:4] == ["celery", "-A", f"{package_of(service)}.entrypoints.tasks", "worker"]
    assert f"{service}-migrate" in compose["beat"]["depends_on"]


@pytest.mark.parametrize("service", SERVICES)
def test_the_commands_the_deploy_modes_call_are_installed(service):
    scripts = {e.name for e in entry_points(group="console_scripts")}
    assert {f"crm-{service}-{p}" for p in ("migrate", "relay", "consumer")} <= scripts
    assert importlib.util.find_spec(f"{package_of(service)}.entrypoints.tasks") is not None


@pytest.mark.parametrize("service", SERVICES)
def test_beat_sends_each_periodic_task_to_its_own_service_queue(beat, service):
    tasks = importlib.import_module(f"{package_of(service)}.entrypoints.tasks").app
    combined = beat.combined_schedule(SERVICES)
    own = {name.split(":", 1)[1]: entry for name, entry in combined.items() if name.startswith(f"{service}:")}
    assert set(own) == set(tasks.conf.beat_schedule or {})
    for name, entry in own.items():
        assert entry["task"] == tasks.conf.beat_schedule[name]["task"]
        assert entry["options"]["queue"] == tasks.conf.task_default_queue == f"{service}.tasks"


def test_beat_has_the_calls_schedule(beat):
    """The daily roll-forward and the reminders exist, so the merge above is not checked on empty schedules."""
    assert {"calls:calls-roll-forward", "calls:calls-send-reminders"} <= set(beat.combined_schedule(SERVICES))
