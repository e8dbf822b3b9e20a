"""Mailings: which participants get one and how it is addressed, what a recipient's reactions may be, and when
a mailing is finished. Pure, no I/O."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_campaigns.domain.errors import Conflict, InvalidInput
from crm_campaigns.domain.normalise import email_key

MAILING_STATUSES = ("draft", "sending", "sent", "failed")
RECIPIENT_STATUSES = ("queued", "sent", "bounced", "deferred", "skipped")
REACTION_KINDS = ("bounced", "opened", "clicked", "replied", "unsubscribed")
DOCUMENT_CHANNELS = ("letter", "fax")  # rendered into one printable PDF instead of being sent
SUPPRESSION_CHANNEL = {"email": "email", "letter": "mail", "fax": "mail"}
# Campaign types bound to one medium; the others (telemarketing with an offer stage, say) may mail either way.
CHANNELS_OF_CAMPAIGN_TYPE = {"email": ("email",), "letter": ("letter", "fax")}
# A recipient deferred this often is not tried again: the mailing finishes without it.
MAX_ATTEMPTS = 5
MAX_DETAIL = 500


def check_channel(campaign_type: str, template_channel: str, requested: str | None) -> None:
    if requested is not None and requested != template_channel:
        raise InvalidInput(f"the template is a {template_channel} template, not {requested}", "channel")
    allowed = CHANNELS_OF_CAMPAIGN_TYPE.get(campaign_type)
    if allowed is not None and template_channel not in allowed:
        raise InvalidInput(f"a {campaign_type} campaign cannot send a {template_channel} template", "template_id")


def check_mailing_stage(stage_keys: list[str], actions: Mapping[str, str], stage_key: str) -> None:
    if stage_key not in stage_keys:
        raise InvalidInput(f"the campaign has no stage {stage_key!r}", "stage_key")
    if actions[stage_key] != "mailing":
        raise InvalidInput(f"stage {stage_key!r} is a {actions[stage_key]} stage, not a mailing stage", "stage_key")


def email_address(party: Mapping[str, Any]) -> str | None:
    """The party's e-mail address when it is one a mail can go to."""
    address = (party.get("email") or "").strip()
    return address if email_key(address) else None


def postal_lines(party: Mapping[str, Any], home_country: str) -> list[str] | None:
    """The address block of a letter; None without a street and a city. The country line only abroad."""
    street, city = _text(party.get("street")), _text(party.get("city"))
    if not street or not city:
        return None
    lines = [_text(party.get("display_name")), street, f"{_text(party.get('postal_code'))} {city}".strip()]
    country = _text(party.get("country"))
    if country and country.upper() != home_country.upper():
        lines.append(country.upper())
    return [line for line in lines if line]


def address_of(channel: str, party: Mapping[str, Any], home_country: str) -> str | None:
    """What the recipient row stores: the e-mail address, or the postal lines one per line."""
    if channel == "email":
        return email_address(party)
    lines = postal_lines(party, home_country)
    return "\n".join(lines) if lines else None


def missing_address_reason(channel: str) -> str:
    return "no e-mail address" if channel == "email" else "no postal address"


def finished_status(counts: Mapping[str, int]) -> str:
    """A mailing that reached nobody failed; one that reached anybody was sent."""
    return "sent" if counts.get("sent", 0) > 0 else "failed"


def check_reaction(kind: str, recipient_status: str) -> None:
    """An unsubscribe is honoured whatever happened to the mail; the other reactions need a mail that went out."""
    if kind not in REACTION_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(REACTION_KINDS)}", "kind")
    if kind != "unsubscribed" and recipient_status != "sent":
        raise Conflict(f"the recipient's mail was not sent (it is {recipient_status}), so it cannot be {kind}",
                       "kind")


def opt_out_channel(mailing_channel: str, everything: bool) -> str:
    return "all" if everything else SUPPRESSION_CHANNEL[mailing_channel]


def _text(value: Any) -> str:
    return "" if value is None else " ".join(str(value).split())
