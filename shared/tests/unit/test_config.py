"""Configuration is read in one place per service: `Settings.from_env` (a service's subclass adds its own fields),
called by the service's bootstrap; nothing else in a service reads the environment."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from crm_shared.config import Settings
from crm_shared.testing.services import SERVICE_PACKAGES, service_module

ROOT = Path(__file__).resolve().parents[3]
SERVICES = list(SERVICE_PACKAGES)


@dataclass(frozen=True)
class DemoSettings(Settings):
    greeting: str = "hello"

    @classmethod
    def own_from_env(cls, service, environ, skip):
        return {} if "greeting" in skip else {"greeting": environ.get(f"{service.upper()}_GREETING", "hello")}


def test_settings_come_from_the_mapping_given_not_the_process_environment(monkeypatch):
    monkeypatch.setenv("DEMO_AMQP_URL", "amqp://from-the-process//")
    settings = Settings.from_env("demo", {"DEMO_AMQP_URL": "amqp://given//", "LOG_LEVEL": "DEBUG",
                                          "DEMO_DATABASE_URL": "sqlite://"})
    assert (settings.amqp_url, settings.log_level, settings.database_url) == ("amqp://given//", "DEBUG", "sqlite://")
    assert Settings.from_env("demo", {}).log_level == "INFO"
    assert Settings.from_env("demo").amqp_url == "amqp://from-the-process//"


def test_a_service_subclass_reads_its_own_fields_and_overrides_win():
    assert DemoSettings.from_env("demo", {"DEMO_GREETING": "moin"}).greeting == "moin"
    assert DemoSettings.from_env("demo", {"DEMO_GREETING": "moin"}, greeting="servus").greeting == "servus"
    plain = Settings.from_env("demo", {}, database_url="sqlite://", max_page_size=7)
    extended = DemoSettings.extending(plain, {"DEMO_GREETING": "moin"})
    assert (extended.greeting, extended.database_url, extended.max_page_size) == ("moin", "sqlite://", 7)
    assert DemoSettings.extending(extended, {}) is extended


@pytest.mark.parametrize("service", list(SERVICES))
def test_every_bootstrap_builds_its_settings_once_and_passes_them_on(service, monkeypatch):
    bootstrap = service_module(service)
    prefix = service.upper().replace("-", "_")
    monkeypatch.setenv(f"{prefix}_MAX_PAGE_SIZE", "77")
    runtime = bootstrap.build_runtime(bootstrap.settings_from_env(database_url="sqlite://"))
    monkeypatch.setenv(f"{prefix}_MAX_PAGE_SIZE", "5")  # read at bootstrap only: the running service keeps 77
    app = runtime.create_app()
    assert runtime.settings.max_page_size == app.extensions["crm"]["settings"].max_page_size == 77
    assert app.extensions["crm"]["settings"] is runtime.settings


def test_no_service_module_reads_the_environment():
    """Service layers, views, adapters and tasks get settings; the environment is read in crm_shared.config."""
    readers = re.compile(r"\bos\.environ\b|\bgetenv\(")
    found = [f"{path.relative_to(ROOT)}:{number}" for path in sorted(ROOT.glob("services/*/crm_*/**/*.py"))
             for number, line in enumerate(path.read_text().splitlines(), 1) if readers.search(line)]
    assert not found, f"read the environment outside the settings: {found}"


@pytest.mark.parametrize("service", ["customers", "calls", "campaigns"])
def test_a_worker_builds_its_runtime_from_the_settings_its_celery_app_was_made_with(service):
    tasks = service_module(service, "entrypoints.tasks")
    tasks._runtime.cache_clear()
    try:
        assert tasks._runtime().settings is tasks.SETTINGS
    finally:
        tasks._runtime.cache_clear()
