"""Mailing templates: `{{ name }}` placeholders filled with a recipient's personalisation values. Pure, no I/O.

A template is checked once when it is saved (`parse_template`), so rendering it for thousands of recipients
cannot fail: unknown placeholders and stray braces are refused up front, missing values render empty.
"""
from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crm_campaigns.domain.errors import InvalidInput

CHANNELS = ("email", "letter", "fax")
PERSONALISATION_FIELDS = (
    "salutation", "display_name", "company_name", "first_name", "last_name", "street", "postal_code", "city",
    "country", "email", "phone", "customer_number", "campaign_name", "unsubscribe_url",
)
ATTRIBUTE_PREFIX = "attribute."
MAX_SUBJECT = 200
MAX_BODY = 100_000
NEUTRAL_SALUTATION = "Dear Sir or Madam"

PLACEHOLDER = re.compile(r"\{\{([^{}]*)\}\}")
# Party fields copied as they are; salutation and the attributes are derived.
_PARTY_FIELDS = ("display_name", "company_name", "first_name", "last_name", "street", "postal_code", "city",
                 "country", "email", "phone", "customer_number")


@dataclass(frozen=True)
class Template:
    channel: str
    subject: str | None
    body: str
    html: bool = False


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    body: str


# -- parsing ---------------------------------------------------------------------------------------------------
def parse_template(channel: Any, subject: Any, body: Any, html: Any, known_attributes: set[str]) -> Template:
    """A valid template, or InvalidInput naming the first bad field."""
    if channel not in CHANNELS:
        raise InvalidInput(f"channel must be one of {', '.join(CHANNELS)}", "channel")
    if not isinstance(html, bool):
        raise InvalidInput("html must be true or false", "html")
    if html and channel != "email":
        raise InvalidInput("only an e-mail template can be HTML", "html")
    subject = _subject(channel, subject)
    body = _text(body, "body", MAX_BODY)
    if subject is not None:
        _check_placeholders(subject, "subject", known_attributes)
    _check_placeholders(body, "body", known_attributes)
    return Template(channel=channel, subject=subject, body=body, html=html)


def _subject(channel: str, subject: Any) -> str | None:
    if subject is None or (channel != "email" and subject == ""):
        if channel == "email":
            raise InvalidInput("an e-mail needs a subject", "subject")
        return None
    subject = _text(subject, "subject", MAX_SUBJECT)
    if subject.splitlines() != [subject]:
        raise InvalidInput("subject must be a single line", "subject")
    return subject


def _text(value: Any, field: str, max_length: int) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string", field)
    if not value.strip():
        raise InvalidInput(f"{field} must not be blank", field)
    if len(value) > max_length:
        raise InvalidInput(f"{field} must be at most {max_length} characters", field)
    if "\x00" in value:
        raise InvalidInput(f"{field} must not contain NUL characters", field)
    return value


def _check_placeholders(text: str, field: str, known_attributes: set[str]) -> None:
    for match in PLACEHOLDER.finditer(text):
        name = match.group(1).strip()
        if not _is_known(name, known_attributes):
            raise InvalidInput(f"unknown placeholder {{{{ {name} }}}}", field)
    leftover = PLACEHOLDER.sub("", text)
    if "{{" in leftover:
        raise InvalidInput("'{{' without a matching '}}'", field)


def _is_known(name: str, known_attributes: set[str]) -> bool:
    if name.startswith(ATTRIBUTE_PREFIX):
        return name[len(ATTRIBUTE_PREFIX):] in known_attributes
    return name in PERSONALISATION_FIELDS


def placeholders(template: Template) -> set[str]:
    """The names a template uses, so a caller can tell which values it needs."""
    texts = [template.body] + ([template.subject] if template.subject else [])
    return {m.group(1).strip() for text in texts for m in PLACEHOLDER.finditer(text)}


# -- rendering -------------------------------------------------------------------------------------------------
def render(template: Template, values: Mapping[str, Any]) -> RenderedMessage:
    """Substitutes in one pass, so a value that itself looks like `{{ x }}` stays literal text."""
    subject = _fill(template.subject or "", values, single_line)
    body = _fill(template.body, values, html.escape if template.html else str)
    return RenderedMessage(subject=subject, body=body)


def _fill(text: str, values: Mapping[str, Any], clean) -> str:
    return PLACEHOLDER.sub(lambda m: clean(_value(m.group(1).strip(), values)), text)


def _value(name: str, values: Mapping[str, Any]) -> str:
    if name == "salutation":
        return salutation(values)
    value = values.get(name)
    return "" if value is None else str(value)


def single_line(value: str) -> str:
    """The text with its line breaks turned into spaces."""
    # A line break in a subject value would start a new mail header (header injection).
    return " ".join(part.strip() for part in value.splitlines() if part.strip())


def salutation(values: Mapping[str, Any]) -> str:
    given = values.get("salutation")
    if given:
        return str(given)
    parts = (str(values.get(key) or "").strip() for key in ("first_name", "last_name"))
    name = " ".join(part for part in parts if part)
    return f"Dear {name}" if name else NEUTRAL_SALUTATION


# -- values ----------------------------------------------------------------------------------------------------
def personalisation_values(party: Mapping[str, Any], campaign_name: str, unsubscribe_url: str) -> dict[str, str]:
    """The values dict for `render` from a party replica row."""
    values = {field: _as_text(party.get(field)) for field in _PARTY_FIELDS}
    values["salutation"] = salutation(party)
    values["campaign_name"] = _as_text(campaign_name)
    values["unsubscribe_url"] = _as_text(unsubscribe_url)
    for name, value in (party.get("attributes") or {}).items():
        values[f"{ATTRIBUTE_PREFIX}{name}"] = _as_text(value)
    return values


def _as_text(value: Any) -> str:
    return "" if value is None else str(value)
