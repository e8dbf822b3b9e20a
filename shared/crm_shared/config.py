"""Settings read from the environment; one prefix per service so several can share a process."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

DEVELOPMENT_SECRET = "dev-secret-change-me-0123456789abcdef"
log = logging.getLogger(__name__)


def _env(service: str, name: str, default: str | None = None) -> str | None:
    prefix = service.upper().replace("-", "_")
    return os.environ.get(f"{prefix}_{name}", os.environ.get(name, default))


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

    @classmethod
    def from_env(cls, service: str, **overrides) -> Settings:
        db_name = "crm_" + service.replace("-", "_")
        jwks_url = _env(service, "JWT_JWKS_URL")
        algorithms = ("RS256",) if jwks_url else ("HS256",)
        retry = _env(service, "RETRY_DELAYS_MS", "1000,5000,30000")
        values = dict(
            service=service,
            database_url=_env(service, "DATABASE_URL", f"postgresql+psycopg://postgres@127.0.0.1:5432/{db_name}"),
            amqp_url=_env(service, "AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//"),
            jwt=JwtSettings(
                secret=_env(service, "JWT_SECRET", None if jwks_url else DEVELOPMENT_SECRET),
                issuer=_env(service, "JWT_ISSUER", "crm-local"),
                audience=_env(service, "JWT_AUDIENCE", "crm"),
                jwks_url=jwks_url,
                algorithms=algorithms,
            ),
            max_page_size=int(_env(service, "MAX_PAGE_SIZE", "200")),
            retry_delays_ms=tuple(int(x) for x in retry.split(",") if x.strip()),
            db_pool_pre_ping=_env(service, "DB_POOL_PRE_PING", "idle").strip().lower(),
            db_pool_recycle=int(_env(service, "DB_POOL_RECYCLE", "1800")),
        )
        values.update(overrides)
        if values["max_page_size"] < 1:
            raise ValueError(f"MAX_PAGE_SIZE must be at least 1, not {values['max_page_size']}")
        if values["jwt"].secret == DEVELOPMENT_SECRET:
            # Anyone can mint tokens with a published secret: fine on a laptop, never in a deployment.
            log.warning("JWT_SECRET is the public development default; set JWT_SECRET or JWT_JWKS_URL")
        return cls(**values)
