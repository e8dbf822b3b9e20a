"""Settings read from the environment; one prefix per service so several can share a process.

This module is where a service's environment is read: `Settings.from_env` (and a service's own subclass, which
adds its fields through `own_from_env`) is called once, by the service's `bootstrap.py`, and everything else is
handed the settings object. Nothing in a service layer, view or adapter reads `os.environ`.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

DEVELOPMENT_SECRET = "dev-secret-change-me-0123456789abcdef"
log = logging.getLogger(__name__)


def prefix_of(service: str) -> str:
    return service.upper().replace("-", "_") + "_"


def _read(service: str, name: str, default: str | None, environ: Mapping[str, str]) -> str | None:
    """`<SERVICE>_<NAME>`, else `<NAME>`, else the default."""
    return environ.get(prefix_of(service) + name, environ.get(name, default))


@dataclass(frozen=True)
class JwtSettings:
    secret: str | None
    issuer: str
    audience: str
    jwks_url: str | None
    algorithms: tuple[str, ...]


@dataclass(frozen=True)
class Settings:
    service: str
    database_url: str
    amqp_url: str
    jwt: JwtSettings
    max_page_size: int = 200
    retry_delays_ms: tuple[int, ...] = field(default=(1000, 5000, 30000))
    db_pool_pre_ping: str = "idle"
    db_pool_recycle: int = 1800
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, service: str, environ: Mapping[str, str] | None = None, **overrides) -> Settings:
        """The settings from `environ` (the process environment by default); `overrides` win over it."""
        env = os.environ if environ is None else environ

        def read(name: str, default: str | None = None) -> str | None:
            return _read(service, name, default, env)

        db_name = "crm_" + service.replace("-", "_")
        jwks_url = read("JWT_JWKS_URL")
        algorithms = ("RS256",) if jwks_url else ("HS256",)
        retry = read("RETRY_DELAYS_MS", "1000,5000,30000")
        values = dict(
            service=service,
            database_url=read("DATABASE_URL", f"postgresql+psycopg://postgres@127.0.0.1:5432/{db_name}"),
            amqp_url=read("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//"),
            jwt=JwtSettings(
                secret=read("JWT_SECRET", None if jwks_url else DEVELOPMENT_SECRET),
                issuer=read("JWT_ISSUER", "crm-local"),
                audience=read("JWT_AUDIENCE", "crm"),
                jwks_url=jwks_url,
                algorithms=algorithms,
            ),
            max_page_size=int(read("MAX_PAGE_SIZE", "200")),
            retry_delays_ms=tuple(int(x) for x in retry.split(",") if x.strip()),
            db_pool_pre_ping=read("DB_POOL_PRE_PING", "idle").strip().lower(),
            db_pool_recycle=int(read("DB_POOL_RECYCLE", "1800")),
            log_level=read("LOG_LEVEL", "INFO"),
        )
        values.update(cls.own_from_env(service, env, skip=set(overrides)))
        values.update(overrides)
        if values["max_page_size"] < 1:
            raise ValueError(f"MAX_PAGE_SIZE must be at least 1, not {values['max_page_size']}")
        if values["jwt"].secret == DEVELOPMENT_SECRET:
            # Anyone can mint tokens with a published secret: fine on a laptop, never in a deployment.
            log.warning("JWT_SECRET is the public development default; set JWT_SECRET or JWT_JWKS_URL")
        return cls(**values)

    @classmethod
    def own_from_env(cls, service: str, environ: Mapping[str, str], skip: set[str]) -> dict[str, Any]:
        """A service's subclass reads its own fields here (those not in `skip`, which the caller passes)."""
        return {}

    @classmethod
    def extending(cls, settings: Settings, environ: Mapping[str, str] | None = None):
        """`settings` with this subclass's own fields added from `environ`: what a bootstrap does when it is handed
        plain `Settings`."""
        if isinstance(settings, cls):
            return settings
        given = {f.name: getattr(settings, f.name) for f in fields(Settings) if f.name != "service"}
        return cls.from_env(settings.service, environ, **given)
