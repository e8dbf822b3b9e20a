"""The one place the campaigns service's adapters are wired."""
from __future__ import annotations

from crm_shared.config import Settings
from crm_shared.runtime import ServiceRuntime
from crm_shared.wiring import standard_runtime

from crm_campaigns.adapters.orm import messaging

SERVICE = "campaigns"


def build_runtime(settings: Settings | None = None) -> ServiceRuntime:
    from crm_campaigns.entrypoints import api

    return standard_runtime(settings or Settings.from_env(SERVICE), "crm_campaigns", title="CRM campaigns",
                            messaging=messaging, blueprints=api.blueprints)
