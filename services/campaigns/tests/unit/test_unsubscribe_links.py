"""Unsubscribe links: a genuine token names its recipient; anything altered, forged or malformed names nobody."""
from __future__ import annotations

import uuid

import pytest

from crm_campaigns.domain.unsubscribe_links import UnsubscribeLinks

LINKS = UnsubscribeLinks("https://crm.example/", b"a-secret-of-some-length")
RECIPIENT = "0f8fad5b-d9cb-469f-a165-70867728950e"


def test_a_token_names_its_recipient_and_the_url_carries_it():
    token = LINKS.token(RECIPIENT)
    assert token.startswith(uuid.UUID(RECIPIENT).hex + ".")
    assert LINKS.recipient_of(token) == RECIPIENT
    assert LINKS.url(RECIPIENT) == f"https://crm.example/api/campaigns/unsubscribe/{token}"


def test_tokens_differ_per_recipient_and_per_secret():
    other = str(uuid.uuid4())
    assert LINKS.token(RECIPIENT) != LINKS.token(other)
    assert UnsubscribeLinks("https://crm.example", b"another-secret").token(RECIPIENT) != LINKS.token(RECIPIENT)


def test_a_token_signed_with_another_secret_is_refused():
    forged = UnsubscribeLinks("https://crm.example", b"guessed-secret").token(RECIPIENT)
    assert LINKS.recipient_of(forged) is None


def test_a_signature_moved_to_another_recipient_is_refused():
    signature = LINKS.token(RECIPIENT).split(".")[1]
    assert LINKS.recipient_of(f"{uuid.uuid4().hex}.{signature}") is None


def _flip_last(text: str) -> str:
    return text[:-1] + ("A" if text[-1] != "A" else "B")


@pytest.mark.parametrize("alter", [
    _flip_last,
    lambda t: t.upper(),
    lambda t: t.replace(".", ""),
    lambda t: t + ".x",
    lambda t: t.split(".")[0],
    lambda t: "." + t.split(".")[1],
    lambda t: str(uuid.UUID(RECIPIENT)) + "." + t.split(".")[1],  # the hyphenated form of the same id
    lambda t: "zz" + t[2:],
    lambda t: t + "é",
    lambda t: t + "a" * 100,
    lambda t: "",
])
def test_an_altered_or_malformed_token_names_nobody(alter):
    assert LINKS.recipient_of(alter(LINKS.token(RECIPIENT))) is None


def test_links_need_a_secret():
    with pytest.raises(ValueError):
        UnsubscribeLinks("https://crm.example", b"")
