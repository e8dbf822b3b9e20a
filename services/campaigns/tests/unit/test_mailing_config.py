"""Mailing settings: the link secret and base URL, the inline switch, the home country, the SMTP server (read
into CampaignsSettings at bootstrap, crm_campaigns/config.py)."""
from __future__ import annotations

import pytest
from crm_shared.config import JwtSettings

from crm_campaigns.adapters.smtp_sender import SmtpSettings
from crm_campaigns.config import DEFAULT_BASE_URL, CampaignsSettings
from crm_campaigns.entrypoints import mailing_config

JWKS = JwtSettings(None, "crm-local", "crm", "https://idp.example/jwks", ("RS256",))


def settings(environ: dict, **overrides) -> CampaignsSettings:
    return CampaignsSettings.from_env("campaigns", environ, database_url="sqlite://", **overrides)


def test_links_default_to_the_gateway_and_the_jwt_secret():
    defaults = settings({})
    links = mailing_config.unsubscribe_links(defaults)
    assert links.base_url == DEFAULT_BASE_URL
    assert links.secret == defaults.jwt.secret.encode()


def test_the_prefixed_setting_wins_over_the_plain_one():
    links = mailing_config.unsubscribe_links(settings({
        "PUBLIC_BASE_URL": "https://plain.example", "CAMPAIGNS_PUBLIC_BASE_URL": "https://crm.example",
        "MAILING_LINK_SECRET": "plain-secret", "CAMPAIGNS_MAILING_LINK_SECRET": "own-secret"}))
    assert (links.base_url, links.secret) == ("https://crm.example", b"own-secret")


def test_with_jwks_tokens_a_link_secret_must_be_set():
    with pytest.raises(ValueError, match="MAILING_LINK_SECRET"):
        mailing_config.unsubscribe_links(settings({}, jwt=JWKS))
    assert mailing_config.unsubscribe_links(settings({"MAILING_LINK_SECRET": "s"}, jwt=JWKS)).secret == b"s"


@pytest.mark.parametrize("value, expected", [(None, False), ("true", True), ("TRUE ", True), ("1", True),
                                             ("false", False), ("no", False)])
def test_the_inline_switch(value, expected):
    assert settings({} if value is None else {"MAILINGS_INLINE": value}).mailings_inline is expected


def test_the_home_country_defaults_to_germany():
    assert settings({}).mailing_home_country == "DE"
    assert settings({"CAMPAIGNS_MAILING_HOME_COUNTRY": "AT"}).mailing_home_country == "AT"


def test_the_smtp_server_comes_from_the_smtp_variables():
    assert settings({}).smtp == SmtpSettings.from_env({})
    assert settings({"SMTP_HOST": "mail.example", "SMTP_PORT": "587"}).smtp == SmtpSettings("mail.example", 587)
    with pytest.raises(ValueError, match="SMTP_PORT"):
        settings({"SMTP_PORT": "smtp"})
