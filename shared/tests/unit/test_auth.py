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
    jwt.encode(_claims(exp=str(int(time.time()) + 60)), "s" * 32, algorithm="HS256"),
    jwt.encode(_claims(iat=str(int(time.time()))), "s" * 32, algorithm="HS256"),
    jwt.encode(_claims(nbf=str(int(time.time()) - 5)), "s" * 32, algorithm="HS256"),
    jwt.encode(_claims(exp=True), "s" * 32, algorithm="HS256"),
    jwt.encode(_claims(iat=False), "s" * 32, algorithm="HS256"),
    "garbage",
])
def test_bad_tokens_are_refused(token):
    with pytest.raises(AuthError):
        TokenVerifier(SETTINGS).verify(token)


def test_a_verified_token_is_remembered_until_it_expires(monkeypatch):
    import crm_shared.auth as auth
    verifier = TokenVerifier(SETTINGS)
    token = mint_token(SETTINGS, "ann", ["sales"], ["retail"], ttl_seconds=30)
    first = verifier.verify(token)
    decodes = []
    real_decode = jwt.decode
    monkeypatch.setattr(auth.jwt, "decode", lambda *a, **k: decodes.append(1) or real_decode(*a, **k))
    assert verifier.verify(token) == first and decodes == []  # no second signature check

    later = time.time() + 31  # past exp: not taken from the cache, verified again (and PyJWT judges exp)
    monkeypatch.setattr(auth.time, "time", lambda: later)
    verifier.verify(token)
    assert decodes == [1]


def test_a_remembered_token_is_checked_again_after_the_cache_period(monkeypatch):
    import crm_shared.auth as auth
    verifier = TokenVerifier(SETTINGS)
    token = mint_token(SETTINGS, "ann", [], [], ttl_seconds=3600)
    verifier.verify(token)
    later = time.time() + TokenVerifier.CACHE_SECONDS + 1
    monkeypatch.setattr(auth.time, "time", lambda: later)
    decodes = []
    real_decode = jwt.decode
    monkeypatch.setattr(auth.jwt, "decode", lambda *a, **k: decodes.append(1) or real_decode(*a, **k))
    assert verifier.verify(token).subject == "ann" and decodes == [1]


def test_a_token_that_differs_in_its_signature_is_not_taken_from_the_cache():
    verifier = TokenVerifier(SETTINGS)
    token = mint_token(SETTINGS, "ann", ["admin"], ["*"])
    verifier.verify(token)
    header, payload, signature = token.split(".")
    forged = ".".join([header, payload, ("A" if signature[0] != "A" else "B") + signature[1:]])
    with pytest.raises(AuthError):
        verifier.verify(forged)
    with pytest.raises(AuthError):
        verifier.verify(forged)  # a failure is not remembered either


def test_numeric_claims_may_be_fractional_numbers():
    now = time.time()
    token = jwt.encode(_claims(exp=now + 60.5, iat=now - 0.5, nbf=now - 1.25), "s" * 32, algorithm="HS256")
    assert TokenVerifier(SETTINGS).verify(token).subject == "x"
