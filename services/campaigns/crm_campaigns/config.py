"""The campaigns service's settings: the shared ones plus its own, read from the environment once, at bootstrap.

Its own variables (each may carry the prefix `CAMPAIGNS_`, which wins, except the SMTP ones):
- `IMPORTS_INLINE`: `true` processes an uploaded address list inside the request instead of the Celery worker
  (tests, embedded mode); default false;
- `IMPORT_MAX_BYTES`: the largest address-list file accepted (default 50 MiB);
- `ATTRIBUTION_WINDOW_DAYS`: how far back a campaign success earns an order or deal without a campaign (90);
- `PUBLIC_BASE_URL`: where recipients reach the API, for unsubscribe links (default http://localhost:8080,
  the local gateway);
- `MAILING_LINK_SECRET`: signs unsubscribe links; defaults to the JWT secret, so it must be set when tokens
  are verified against a JWKS endpoint;
- `MAILING_HOME_COUNTRY`: letters to this country get no country line (default DE);
- `MAILINGS_INLINE`: `true` sends a mailing inside the API request instead of the Celery worker (tests,
  embedded mode); default false;
- the SMTP server: `SMTP_HOST`, `SMTP_PORT`, ... (`SmtpSettings.from_env`, adapters/smtp_sender.py).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from crm_shared.config import Settings, prefix_of

from crm_campaigns.adapters.smtp_sender import SmtpSettings
from crm_campaigns.domain.attribution import DEFAULT_WINDOW_DAYS, parse_window_days

DEFAULT_IMPORT_MAX_BYTES = 50 * 2**20
DEFAULT_BASE_URL = "http://localhost:8080"
DEFAULT_HOME_COUNTRY = "DE"
SMTP_DEFAULTS = SmtpSettings.from_env({})


def _switch(text: str | None) -> bool:
    return (text or "").strip().lower() in ("1", "true", "yes")


@dataclass(frozen=True)
class CampaignsSettings(Settings):
    imports_inline: bool = False
    import_max_bytes: int = DEFAULT_IMPORT_MAX_BYTES
    attribution_window_days: int = DEFAULT_WINDOW_DAYS
    mailings_inline: bool = False
    public_base_url: str = DEFAULT_BASE_URL
    mailing_link_secret: str | None = None
    mailing_home_country: str = DEFAULT_HOME_COUNTRY
    smtp: SmtpSettings = field(default=SMTP_DEFAULTS)

    @classmethod
    def own_from_env(cls, service: str, environ: Mapping[str, str], skip: set[str]) -> dict[str, Any]:
        prefix = prefix_of(service)

        def strict(name: str) -> str | None:  # a prefixed name wins even when it is empty
            return environ.get(prefix + name, environ.get(name))

        def loose(name: str) -> str | None:  # an empty value counts as unset
            return environ.get(prefix + name) or environ.get(name) or None

        readers = {
            "imports_inline": lambda: _switch(strict("IMPORTS_INLINE")),
            "import_max_bytes": lambda: int(strict("IMPORT_MAX_BYTES") or DEFAULT_IMPORT_MAX_BYTES),
            "attribution_window_days": lambda: parse_window_days(strict("ATTRIBUTION_WINDOW_DAYS")),
            "mailings_inline": lambda: _switch(loose("MAILINGS_INLINE")),
            "public_base_url": lambda: loose("PUBLIC_BASE_URL") or DEFAULT_BASE_URL,
            "mailing_link_secret": lambda: loose("MAILING_LINK_SECRET"),
            "mailing_home_country": lambda: loose("MAILING_HOME_COUNTRY") or DEFAULT_HOME_COUNTRY,
            "smtp": lambda: SmtpSettings.from_env(environ),
        }
        return {name: read() for name, read in readers.items() if name not in skip}
