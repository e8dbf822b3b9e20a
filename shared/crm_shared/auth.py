"""JWT bearer tokens: verification in every service, minting for local use.

Claims: `sub`, `roles` (list), `lob` (lines of business the user may see; "*" or the admin role for all),
plus the required `exp`, `iat`, `aud`, `iss`. The algorithm list is fixed by configuration, never read from
the token, so an `alg: none` or an HS/RS confusion is refused.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from crm_shared.config import JwtSettings

ADMIN = "admin"
NUMERIC_CLAIMS = ("exp", "iat", "nbf")


class AuthError(Exception):
    def __init__(self, detail: str, status: int = 401):
        super().__init__(detail)
        self.detail = detail
        self.status = status


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str]
    lines_of_business: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles

    def has_role(self, *roles: str) -> bool:
        return self.is_admin or bool(self.roles & set(roles))

    def sees_all_lines(self) -> bool:
        return self.is_admin or "*" in self.lines_of_business

    def may_access(self, line_of_business: str) -> bool:
        return self.sees_all_lines() or line_of_business in self.lines_of_business


class TokenVerifier:
    """Verifies tokens and remembers, for a short while, the tokens it has verified.

    A client sends the same token with every request, and checking its signature and claims was the largest
    single cost of a small read. A remembered token is taken again without verification until the earlier
    of its `exp` and `CACHE_SECONDS` after it was verified; the entry is keyed by the whole token, signature
    included, so only the very token that passed is accepted. `CACHE_SECONDS` also bounds how long a token
    signed with a key the JWKS endpoint has since withdrawn is still accepted. Failures are never remembered.
    """

    CACHE_SECONDS = 60.0
    CACHE_SIZE = 4096

    def __init__(self, settings: JwtSettings):
        self.settings = settings
        self._jwks = jwt.PyJWKClient(settings.jwks_url, cache_keys=True) if settings.jwks_url else None
        self._verified: dict[str, tuple[float, Principal]] = {}

    def verify(self, token: str) -> Principal:
        now = time.time()
        remembered = self._verified.get(token)
        if remembered is not None:
            if now < remembered[0]:
                return remembered[1]
            self._verified.pop(token, None)
        principal, expires = self._verify(token)
        if len(self._verified) >= self.CACHE_SIZE:
            self._verified.clear()  # simple bound; tokens are re-verified once
        self._verified[token] = (min(expires, now + self.CACHE_SECONDS), principal)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            key = self._jwks.get_signing_key_from_jwt(token).key if self._jwks else self.settings.secret
            claims = jwt.decode(
                token, key, algorithms=list(self.settings.algorithms), audience=self.settings.audience,
                issuer=self.settings.issuer, options={"require": ["exp", "iat", "aud", "iss", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token: {exc}") from exc
        for name in NUMERIC_CLAIMS:
            # PyJWT takes "exp": "1900000000" (it calls int() on it); RFC 7519 says NumericDate is a number.
            if name in claims and (isinstance(claims[name], bool) or not isinstance(claims[name], int | float)):
                raise AuthError(f"invalid token: {name} must be a number")
        roles, lobs = claims.get("roles", []), claims.get("lob", [])
        if not isinstance(roles, list) or not isinstance(lobs, list):
            raise AuthError("invalid token: roles and lob must be lists")
        principal = Principal(subject=str(claims["sub"]), roles=frozenset(map(str, roles)),
                              lines_of_business=frozenset(map(str, lobs)))
        return principal, float(claims["exp"])


def mint_token(settings: JwtSettings, subject: str, roles: list[str], lines_of_business: list[str],
               ttl_seconds: int = 3600) -> str:
    """A signed HS256 token for local use and tests (production tokens come from the identity provider)."""
    if not settings.secret:
        raise ValueError("minting needs JWT_SECRET (HS256); production tokens come from the identity provider")
    now = int(time.time())
    claims = {"sub": subject, "roles": roles, "lob": lines_of_business, "iat": now, "exp": now + ttl_seconds,
              "aud": settings.audience, "iss": settings.issuer}
    return jwt.encode(claims, settings.secret, algorithm="HS256")
