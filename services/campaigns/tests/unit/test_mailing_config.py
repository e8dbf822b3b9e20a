"""Mailing settings: the link secret and base URL, the inline switch, the home country."""
from __future__ import annotations

import pytest
from crm_shared.config import JwtSettings, Settings

from crm_campaigns.entrypoints import mailing_config

SETTINGS = Settings.from_env("campaigns", database_url="sqlite://")
JWKS_ONLY = Settings.from_env("campaigns", database_url="sqlite://",
                              jwt=JwtSettings(None, "crm-local", "crm", "https://idp.example/jwks", ("RS256",)))


def test_links_default_to_the_gateway_and_the_jwt_secret():
    links = mailing_config.unsubscribe_links(SETTINGS, {})
    assert links.base_url == mailing_config.DEFAULT_BASE_URL
    assert links.secret == SETTINGS.jwt.secret.encode()


def test_the_prefixed_setting_wins_over_the_plain_one():
    links = mailing_config.unsubscribe_links(SETTINGS, {
        "PUBLIC_BASE_URL": "https://plain.example", "CAMPAIGNS_PUBLIC_BASE_URL": "https://crm.example",
        "MAILING_LINK_SECRET": "plain-secret", "CAMPAIGNS_MAILING_LINK_SECRET": "own-secret"})
    assert (links.base_url, links.secret) == ("https://crm.example", b"own-secret")


def test_with_jwks_tokens_a_link_secret_must_be_set():
    with pytest.raises(ValueError, match="MAILING_LINK_SECRET"):
        mailing_config.unsubscribe_links(JWKS_ONLY, {})
    assert mailing_config.unsubscribe_links(JWKS_ONLY, {"MAILING_LINK_SECRET": "s"}).secret == b"s"


@pytest.mark.parametrize("value, expected", [(None, False), ("true", True), ("TRUE ", True), ("1", True),
                                             ("false", False), ("no", False)])
def test_the_inline_switch(value, expected):
    assert mailing_config.inline({} if value is None else {"MAILINGS_INLINE": value}) is expected


def test_the_home_country_defaults_to_germany():
    assert mailing_config.home_country({}) == "DE"
    assert mailing_config.home_country({"CAMPAIGNS_MAILING_HOME_COUNTRY": "AT"}) == "AT"
