"""The one place the reporting service's adapters are wired."""
from __future__ import annotations

from crm_shared.config import Settings
from crm_shared.runtime import ServiceRuntime
from crm_shared.wiring import standard_runtime

from crm_reporting.adapters.orm import messaging

SERVICE = "reporting"


def settings_from_env(**overrides) -> Settings:
    """The service's settings, read from the environment here and nowhere else; `overrides` win."""
    return Settings.from_env(SERVICE, **overrides)


def build_runtime(settings: Settings | None = None) -> ServiceRuntime:
    from crm_reporting.entrypoints import api

    return standard_runtime(settings or settings_from_env(), "crm_reporting", title="CRM reporting",
                            messaging=messaging, blueprints=api.blueprints)
