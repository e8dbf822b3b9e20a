import time

import jwt
import pytest

from crm_shared.auth import AuthError, TokenVerifier, mint_token
from crm_shared.config import JwtSettings

SETTINGS = JwtSettings(secret="s" * 32, issuer="crm-test", audience="crm", jwks_url=None, algorithms=("HS256",))


def test_minted_token_verifies_to_a_principal_with_roles_and_lines():
    principal = TokenVerifier(SETTINGS).verify(mint_token(SETTINGS, "ann", ["sales"], ["retail"]))
    assert principal.subject == "ann" and principal.has_role("sales") and not principal.is_admin
    assert principal.may_access("retail") and not principal.may_access("wholesale")


def test_admin_and_star_see_every_line():
    verifier = TokenVerifier(SETTINGS)
    assert verifier.verify(mint_token(SETTINGS, "a", ["admin"], [])).may_access("any")
    assert verifier.verify(mint_token(SETTINGS, "b", ["agent"], ["*"])).may_access("any")


def _claims(**overrides):
    now = int(time.time())
    claims = {"sub": "x", "iat": now, "exp": now + 60, "aud": "crm", "iss": "crm-test", "roles": [], "lob": []}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.mark.parametrize("token", [
    jwt.encode(_claims(exp=int(time.time()) - 10), "s" * 32, algorithm="HS256"),
    jwt.encode(_claims(aud="other"), "s" * 32, algorithm="HS256"),
    jwt.encode(_claims(iss="evil"), "s" * 32, algorithm="HS256"),
    jwt.encode(_claims(exp=None), "s" * 32, algorithm="HS256"),
    jwt.encode(_claims(), "wrong-secret-wrong-secret-wrong!", algorithm="HS256"),
    jwt.encode(_claims(), None, algorithm="none"),
    jwt.encode(_claims(roles="admin"), "s" * 32, algorithm="HS256"),
    "garbage",
])
def test_bad_tokens_are_refused(token):
    with pytest.raises(AuthError):
        TokenVerifier(SETTINGS).verify(token)
