"""The deploy wiring every mode shares: each service has its api, relay, consumer and Celery worker in
docker-compose (with the console scripts they call installed), and the one beat sends every service's periodic
tasks to that service's own queue."""
from __future__ import annotations

import importlib
import importlib.util
import json
import re
import sys
import tomllib
from importlib.metadata import distributions, entry_points, requires

import pytest
import yaml
from packaging.requirements import Requirement
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


# -- reproducible installs: requirements.lock (make lock) is what bootstrap, the images and CI install -----------

LOCAL = {"crm-shared", *(f"crm-{service}" for service in SERVICES)}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture(scope="module")
def lock() -> dict[str, Requirement]:
    """requirements.lock's pins by canonical name (those whose marker excludes this platform included)."""
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith((" ", "#")):
            requirement = Requirement(line)
            assert len(requirement.specifier) == 1 and next(iter(requirement.specifier)).operator == "==", line
            pins[canonical(requirement.name)] = requirement
    return pins


def pinned_version(requirement: Requirement) -> str:
    return next(iter(requirement.specifier)).version


def test_every_installed_package_is_the_locked_version(lock):
    """scripts/bootstrap.sh installs the lock with --no-deps: nothing unpinned, nothing at another version."""
    installed = {canonical(d.metadata["Name"]): d.version for d in distributions()}
    off_lock = {name: version for name, version in installed.items()
                if name not in LOCAL and (name not in lock or pinned_version(lock[name]) != version)}
    assert not off_lock, f"installed, but not as requirements.lock pins them (scripts/bootstrap.sh): {off_lock}"
    missing = [name for name, pin in lock.items() if (pin.marker is None or pin.marker.evaluate())
               and name not in installed]
    assert not missing, f"pinned in requirements.lock but not installed: {missing}"
    assert {"pip", "setuptools", "uv", "ruff", "schemathesis", "pyyaml"} <= set(lock)  # the tools are pinned too


@pytest.mark.parametrize("project", ["shared", *(f"services/{service}" for service in SERVICES)])
def test_the_lock_holds_a_fitting_pin_for_every_dependency(lock, project):
    """A dependency added to a pyproject.toml without `make lock` fails here (and in bootstrap's pip check)."""
    meta = tomllib.loads((ROOT / project / "pyproject.toml").read_text())["project"]
    wanted = [*meta["dependencies"], *(r for extra in meta.get("optional-dependencies", {}).values() for r in extra)]
    for text in wanted:
        requirement = Requirement(text)
        if canonical(requirement.name) in LOCAL:
            continue
        pin = lock.get(canonical(requirement.name))
        assert pin is not None, f"{project}: {text} is not in requirements.lock (make lock)"
        assert requirement.specifier.contains(pinned_version(pin), prereleases=True), f"{project}: {text} vs {pin}"


@pytest.mark.parametrize("service", SERVICES)
def test_each_image_installs_the_lock_and_the_program_it_runs(service):
    dockerfile = (ROOT / "services" / service / "Dockerfile").read_text()
    assert "COPY requirements.lock /app/" in dockerfile
    installs = [line for line in dockerfile.splitlines() if line.startswith("RUN pip install")]
    assert len(installs) == 3 and all("-c /app/requirements.lock" in line for line in installs), installs
    assert all("--no-build-isolation" in line for line in installs[1:]), "local packages: the locked setuptools"
    program = json.loads(dockerfile.split("\nCMD ", 1)[1].splitlines()[0])[0]
    assert any(canonical(Requirement(r).name) == program for r in requires(f"crm-{service}") or []), \
        f"the image runs {program}, which crm-{service} does not depend on"
