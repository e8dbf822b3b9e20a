"""Mailing settings from the environment, and one way to run a mailing that the API and the worker share.

- `PUBLIC_BASE_URL`: where recipients reach the API, for unsubscribe links (default http://localhost:8080,
  the local gateway);
- `MAILING_LINK_SECRET`: signs unsubscribe links; defaults to the JWT secret, so it must be set when tokens
  are verified against a JWKS endpoint;
- `MAILING_HOME_COUNTRY`: letters to this country get no country line (default DE);
- `MAILINGS_INLINE`: `true` sends a mailing inside the API request instead of the Celery worker (tests,
  embedded mode);
- the SMTP server: `SMTP_HOST`, `SMTP_PORT`, ... (see adapters/smtp_sender.py).

All but the SMTP settings may carry the service prefix (`CAMPAIGNS_PUBLIC_BASE_URL`), which wins.
"""
from __future__ import annotations

import os
from collections.abc import Mapping

from crm_shared.config import Settings

from crm_campaigns.adapters.smtp_sender import SmtpSender, SmtpSettings
from crm_campaigns.domain.unsubscribe_links import UnsubscribeLinks
from crm_campaigns.service_layer.mailings import SendOutcome, send_mailing

PREFIX = "CAMPAIGNS_"
DEFAULT_BASE_URL = "http://localhost:8080"


def _env(name: str, default: str | None = None, environ: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if environ is None else environ
    return env.get(PREFIX + name) or env.get(name) or default


def unsubscribe_links(settings: Settings, environ: Mapping[str, str] | None = None) -> UnsubscribeLinks:
    secret = _env("MAILING_LINK_SECRET", environ=environ) or settings.jwt.secret
    if not secret:
        raise ValueError("MAILING_LINK_SECRET must be set: unsubscribe links are signed with it")
    return UnsubscribeLinks(_env("PUBLIC_BASE_URL", DEFAULT_BASE_URL, environ), secret.encode())


def inline(environ: Mapping[str, str] | None = None) -> bool:
    return (_env("MAILINGS_INLINE", "false", environ) or "").strip().lower() in ("true", "1", "yes")


def home_country(environ: Mapping[str, str] | None = None) -> str:
    return _env("MAILING_HOME_COUNTRY", "DE", environ)


def run_send(uow_factory, settings: Settings, mailing_id: str) -> SendOutcome:
    """Sends the mailing with the configured SMTP server and links (read now, so a changed setting counts)."""
    return send_mailing(uow_factory, SmtpSender(SmtpSettings.from_env()), mailing_id, unsubscribe_links(settings))
