"""The suppression list kept by hand: parties, e-mail addresses and phone numbers that objected to contact.

A suppression for a party on every channel also ends the party's open participations (in the one campaign it
names, or in all); later selections, mailings and imports leave suppressed contacts out.

Who sees a suppression: it concerns the line of business of the party it names (per the party replica) and
of the campaign it names. A caller sees it, in the list and to lift it, only when they may access every line
it concerns; one naming neither a party nor a campaign (an e-mail address or phone number suppressed
everywhere) concerns every line, so only a caller who sees all lines (admin, or `lob` `*`) sees it. A party
not (or no longer) in the replica counts as of unknown line, seen only by such callers too. Adding follows
the same rule: a caller may add only a suppression they could then see and lift, so a marketer of one line
records an objection on the party or in a campaign of that line, never for every line at once. Selections,
mailings and imports honour every suppression whoever may see it."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from crm_shared.auth import Principal

from crm_campaigns.adapters.suppression_repository import CHANNELS, campaign_channel
from crm_campaigns.domain.errors import InvalidInput, NotFound
from crm_campaigns.domain.normalise import calling_code_for, email_key, phone_key
from crm_campaigns.domain.participants import OPEN_STATUSES, Position
from crm_campaigns.service_layer import progress
from crm_campaigns.service_layer.campaigns import visible_campaign
from crm_campaigns.service_layer.selection import caller_lines


def add_suppression(uow, actor: Principal, values: dict, now: datetime) -> dict:
    """values: party_id, email, phone (at least one), campaign_id, channel, reason."""
    _check_contact_given(values)
    with uow:
        party = _visible_party(uow, actor, values.get("party_id"))
        campaign = _campaign_in_body(uow, actor, values.get("campaign_id"))
        if party is None and campaign is None and not actor.sees_all_lines():
            raise InvalidInput("a suppression naming neither a party nor a campaign concerns every line of business; "
                               "name a party or a campaign of your lines", "campaign_id")
        calling_code = calling_code_for(party.country) if party is not None else None
        _check_keys(values, calling_code)
        row = uow.suppressions.add(party_id=values.get("party_id"), email=values.get("email"),
                                   phone=values.get("phone"), campaign_id=values.get("campaign_id"),
                                   channel=values["channel"], reason=values["reason"], created_by=actor.subject,
                                   now=now, calling_code=calling_code)
        ended = _end_participations(uow, row, campaign, now) if row["party_id"] and row["channel"] == "all" else 0
        uow.commit()
    return {**row, "participations_ended": ended}


def delete_suppression(uow, actor: Principal, suppression_id: str) -> None:
    """Later selections may reach the contact again; participations already ended stay ended."""
    with uow:
        row = uow.suppressions.get(suppression_id)
        if row is None or not _suppression_visible(uow, actor, row):
            raise NotFound(f"no suppression {suppression_id} is visible to you")
        uow.suppressions.delete(suppression_id)
        uow.commit()


def suppression_page(uow, actor: Principal, *, limit: int, after: tuple[str, str] | None, party_id: str | None,
                     email: str | None, campaign_id: str | None) -> list[dict]:
    with uow:
        rows = uow.suppressions.page(limit=limit, after=after, party_id=party_id, email=email,
                                     campaign_id=campaign_id, lines=caller_lines(actor))
    return [r._asdict() for r in rows]


def suppressed_in_campaign(uow, campaign, party_ids: Iterable[str]) -> set[str]:
    """The parties among these that the campaign must not contact (for code enrolling parties by hand or file)."""
    return uow.suppressions.suppressed_party_ids(party_ids, campaign.campaign_id,
                                                 campaign_channel(campaign.campaign_type))


def _check_contact_given(values: dict) -> None:
    if not any(values.get(k) for k in ("party_id", "email", "phone")):
        raise InvalidInput("name a party, an e-mail address or a phone number", "party_id")
    if values["channel"] not in CHANNELS:
        raise InvalidInput(f"channel must be one of {', '.join(CHANNELS)}", "channel")


def _check_keys(values: dict, calling_code: str | None) -> None:
    if values.get("email") and email_key(values["email"]) is None:
        raise InvalidInput("not an e-mail address", "email")
    phone = values.get("phone")
    if phone and (phone_key(phone, calling_code) if calling_code else phone_key(phone)) is None:
        raise InvalidInput("not a phone number", "phone")


def _visible_party(uow, actor: Principal, party_id: str | None):
    if party_id is None:
        return None
    party = uow.replica.get(party_id)
    if party is None or not actor.may_access(party.line_of_business):
        raise InvalidInput(f"no party {party_id} is known to you", "party_id")
    return party


def _campaign_in_body(uow, actor: Principal, campaign_id: str | None):
    if campaign_id is None:
        return None
    try:
        return visible_campaign(uow, actor, campaign_id)
    except NotFound as error:
        raise InvalidInput(error.message, "campaign_id") from None


def _suppression_visible(uow, actor: Principal, row) -> bool:
    """The module's rule: the caller may access every line the suppression concerns (the list applies the same
    rule in SQL, `SuppressionRepository.page`)."""
    if actor.sees_all_lines():
        return True
    if row.party_id is None and row.campaign_id is None:
        return False
    if row.party_id is not None:
        party = uow.replica.get(row.party_id)
        if party is None or not actor.may_access(party.line_of_business):
            return False
    if row.campaign_id is not None:
        campaign = uow.campaigns.get(row.campaign_id)
        if campaign is None or not actor.may_access(campaign.line_of_business):
            return False
    return True


def _end_participations(uow, row: dict, campaign, now: datetime) -> int:
    cause = f"suppressed: {row['reason']}"[:200]
    if campaign is None:
        return progress.exclude_party(uow, row["party_id"], cause, now)
    found = uow.participations.get(campaign.campaign_id, row["party_id"])
    if found is None or found.status not in OPEN_STATUSES:
        return 0
    progress.exclude(uow, Position(found.participation_id, found.campaign_id, found.party_id, found.stage_key,
                                   found.status, found.request_id), cause, now)
    return 1
