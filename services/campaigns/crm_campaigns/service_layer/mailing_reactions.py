"""Reactions to a mailing, per recipient: from the mail provider's webhook, entered by hand, or the recipient's
own unsubscribe link. Each kind is recorded once per recipient and is a `mailing_reaction` condition for the
participant's current stage. An unsubscribe also puts the party and its address on the suppression list, so
later selections and mailings leave it out, and tells other services (`contact_opted_out`)."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from crm_shared.auth import Principal
from crm_shared.events import new_event

from crm_campaigns.domain import events
from crm_campaigns.domain.errors import InvalidInput, NotFound
from crm_campaigns.domain.mailings import MAX_DETAIL, check_reaction, opt_out_channel
from crm_campaigns.domain.unsubscribe_links import UnsubscribeLinks
from crm_campaigns.service_layer import progress
from crm_campaigns.service_layer.campaigns import now
from crm_campaigns.service_layer.mailings import CONDITION, visible_mailing

LINK_ACTOR = "unsubscribe link"
CLOCK_SKEW = timedelta(minutes=5)  # a mail provider's clock may run a little ahead of ours


def record_reaction(uow, actor: Principal, mailing_id: str, recipient_id: str, kind: str, detail: str,
                    occurred_at: datetime | None, *, everything: bool = False) -> tuple[dict, bool]:
    """The reaction as stored and whether this call stored it (False: it was recorded before)."""
    at = now()
    occurred_at = occurred_at or at
    if occurred_at > at + CLOCK_SKEW:
        raise InvalidInput("a reaction cannot lie in the future", "occurred_at")
    with uow:
        mailing = visible_mailing(uow, actor, mailing_id)
        recipient = uow.mailings.recipient(recipient_id, lock=True)
        if recipient is None or recipient.mailing_id != mailing_id:
            raise NotFound(f"the mailing has no recipient {recipient_id}")
        result = _record(uow, mailing, recipient, kind, detail, occurred_at, actor.subject, everything)
        uow.commit()
    return result


def unsubscribe(uow, links: UnsubscribeLinks, token: str, *, everything: bool = False) -> str:
    """The recipient's one-click unsubscribe; returns the channel now suppressed. A token not issued here, or
    altered, answers NotFound."""
    recipient_id = links.recipient_of(token)
    with uow:
        recipient = uow.mailings.recipient(recipient_id, lock=True) if recipient_id else None
        if recipient is None:
            raise NotFound("this unsubscribe link is not valid")
        mailing = uow.mailings.get(recipient.mailing_id)
        _record(uow, mailing, recipient, "unsubscribed", "unsubscribe link", now(), LINK_ACTOR, everything)
        uow.commit()
    return opt_out_channel(mailing.channel, everything)


def _record(uow, mailing, recipient, kind: str, detail: str, occurred_at: datetime, recorded_by: str,
            everything: bool) -> tuple[dict, bool]:
    earlier = uow.mailings.reaction(recipient.recipient_id, kind)
    if earlier is not None:
        if kind == "unsubscribed" and everything:
            _widen_opt_out(uow, mailing, recipient, recorded_by)
        return earlier._asdict(), False
    check_reaction(kind, recipient.status)
    at = now()
    row = {"reaction_id": str(uuid.uuid4()), "recipient_id": recipient.recipient_id, "kind": kind,
           "detail": (detail or "")[:1000], "occurred_at": occurred_at, "recorded_at": at}
    uow.mailings.add_reactions([row])
    if kind == "bounced":
        uow.mailings.mark_bounced(recipient.recipient_id, (detail or "bounce reported")[:MAX_DETAIL])
        uow.mailings.refresh_counts(mailing.mailing_id)
    if kind == "unsubscribed":
        _opt_out(uow, mailing, recipient, opt_out_channel(mailing.channel, everything), recorded_by, at)
    condition = progress.ConditionMet(CONDITION, kind, f"mailing {mailing.mailing_id}: {kind}",
                                      participation_id=recipient.participation_id)
    progress.apply_conditions(uow, [condition], at)
    return row, True


def _widen_opt_out(uow, mailing, recipient, recorded_by: str) -> None:
    """Someone who unsubscribed from one channel and now asks for all of them."""
    if not uow.suppressions.is_suppressed(party_id=recipient.party_id, channel="all"):
        _opt_out(uow, mailing, recipient, "all", recorded_by, now())


def _opt_out(uow, mailing, recipient, channel: str, recorded_by: str, at: datetime) -> None:
    email = None
    if channel != "mail":  # a letter's opt-out concerns the postal address, not an e-mail one
        email = recipient.address if mailing.channel == "email" else _replica_email(uow, recipient.party_id)
    uow.suppressions.add(reason=f"unsubscribed via mailing {mailing.mailing_id}", created_by=recorded_by, now=at,
                         party_id=recipient.party_id, email=email, channel=channel)
    uow.publish(new_event(events.CONTACT_OPTED_OUT, events.SOURCE, recipient.party_id, {
        "party_id": recipient.party_id, "email": email, "channel": channel, "mailing_id": mailing.mailing_id,
        "campaign_id": mailing.campaign_id, "at": at.isoformat()}))


def _replica_email(uow, party_id: str) -> str | None:
    party = uow.replica.get(party_id)
    return party.email if party is not None else None
