"""Use cases of mailings: address one to the participants waiting in a mailing stage, then send it.

E-mails go out in batches, one transaction each: a batch's recipients are locked, screened again (still in
the stage, not suppressed meanwhile), sent over one SMTP connection, and their results stored together with
the `sent` and `bounced` conditions they cause. A crash loses at most the batch in flight, which the next run
sends again (at least once). Only queued and deferred recipients are tried, so a run can be repeated at any
time. Letters and faxes become one PDF, stored on the mailing, in a single transaction.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from crm_shared.auth import Principal
from crm_shared.events import new_event

from crm_campaigns.adapters.letters import Letter, render_letters_pdf
from crm_campaigns.adapters.smtp_sender import OutgoingEmail
from crm_campaigns.domain import events
from crm_campaigns.domain.errors import Conflict, InvalidInput, NotFound
from crm_campaigns.domain.mailings import (MAX_ATTEMPTS, MAX_DETAIL, SUPPRESSION_CHANNEL, address_of, check_channel,
                                           check_mailing_stage, finished_status, missing_address_reason)
from crm_campaigns.domain.templates import personalisation_values, render
from crm_campaigns.domain.unsubscribe_links import UnsubscribeLinks
from crm_campaigns.service_layer import progress
from crm_campaigns.service_layer.campaigns import now, visible_campaign
from crm_campaigns.service_layer.mail_templates import template_of, visible_template

BATCH = 200
CONDITION = "mailing_reaction"


@dataclass(frozen=True)
class SendOutcome:
    mailing_id: str
    status: str
    counts: dict
    pending: bool  # deferred recipients are left for a later run


# -- creating ----------------------------------------------------------------------------------------------------
def create_mailing(uow, actor: Principal, campaign_id: str, stage_key: str, template_id: str,
                   channel: str | None = None, home_country: str = "DE") -> dict:
    """A draft mailing to the participants active in the stage now; those it cannot reach are listed as skipped."""
    with uow:
        campaign = visible_campaign(uow, actor, campaign_id, lock=True)
        template = _template_in_body(uow, actor, template_id)
        check_channel(campaign.campaign_type, template.channel, channel)
        graph = uow.campaigns.graph(campaign_id)
        stages = graph.stages if graph else ()
        check_mailing_stage([s.key for s in stages], {s.key: s.action for s in stages}, stage_key)
        if campaign.status != "active":
            raise Conflict(f"mailings go to participants of an active campaign; this one is {campaign.status}")
        participants = uow.mailings.stage_participants(campaign_id, stage_key)
        if not participants:
            raise Conflict(f"no participant is waiting in stage {stage_key!r}", "stage_key")
        mailing = {"mailing_id": str(uuid.uuid4()), "campaign_id": campaign_id, "stage_key": stage_key,
                   "template_id": template_id, "channel": template.channel, "status": "draft", "counts": {},
                   "created_by": actor.subject[:200], "created_at": now(), "sent_at": None, "document": None}
        uow.mailings.add(mailing)
        uow.mailings.add_recipients(_recipients(uow, mailing, participants, home_country))
        mailing["counts"] = uow.mailings.refresh_counts(mailing["mailing_id"])
        uow.commit()
    return {**{k: v for k, v in mailing.items() if k != "document"}, "has_document": False}


def _template_in_body(uow, actor: Principal, template_id: str):
    try:
        return visible_template(uow, actor, template_id)
    except NotFound as error:
        raise InvalidInput(error.message, "template_id") from None


def _recipients(uow, mailing: dict, participants: list, home_country: str) -> list[dict]:
    suppressed = _suppressed(uow, mailing, [p.party_id for p in participants])
    rows = []
    for participant in participants:
        party = participant._asdict()
        address = address_of(mailing["channel"], party, home_country)
        reason = _skip_reason(mailing["channel"], party, address, participant.party_id in suppressed)
        rows.append({"recipient_id": str(uuid.uuid4()), "mailing_id": mailing["mailing_id"],
                     "participation_id": participant.participation_id, "party_id": participant.party_id,
                     "address": address or "", "status": "skipped" if reason else "queued", "detail": reason or "",
                     "attempts": 0, "sent_at": None})
    return rows


def _skip_reason(channel: str, party: dict, address: str | None, suppressed: bool) -> str | None:
    if party.get("display_name") is None:
        return "the party is not known here (yet)"
    if party.get("deactivated"):
        return "the party is deactivated"
    if address is None:
        return missing_address_reason(channel)
    if suppressed:
        return f"suppressed for {SUPPRESSION_CHANNEL[channel]}"
    return None


def _suppressed(uow, mailing, party_ids: list[str]) -> set[str]:
    return uow.suppressions.suppressed_party_ids(party_ids, mailing["campaign_id"],
                                                 SUPPRESSION_CHANNEL[mailing["channel"]])


# -- asking for it to be sent ------------------------------------------------------------------------------------
def request_send(uow, actor: Principal, mailing_id: str) -> dict:
    """Marks a draft as being sent (a mailing being sent may be asked again: the run resumes it)."""
    with uow:
        mailing = visible_mailing(uow, actor, mailing_id, lock=True)
        if mailing.status in ("sent", "failed"):
            raise Conflict(f"the mailing is already {mailing.status}")
        campaign = uow.campaigns.get(mailing.campaign_id)
        if campaign.status != "active":
            raise Conflict(f"the campaign is {campaign.status}; its mailings can no longer be sent")
        uow.mailings.update(mailing_id, {"status": "sending"})
        uow.commit()
        return uow.mailings.get(mailing_id)._asdict()


def visible_mailing(uow, actor: Principal, mailing_id: str, *, lock: bool = False):
    mailing = uow.mailings.get(mailing_id, lock=lock)
    campaign = uow.campaigns.get(mailing.campaign_id) if mailing is not None else None
    if campaign is None or not actor.may_access(campaign.line_of_business):
        raise NotFound(f"no mailing {mailing_id} is visible to you")
    return mailing


# -- sending -----------------------------------------------------------------------------------------------------
def send_mailing(uow_factory, sender, mailing_id: str, links: UnsubscribeLinks) -> SendOutcome:
    """Sends what is still to be sent; finishes the mailing when nothing is left to try."""
    with uow_factory() as uow:
        mailing = uow.mailings.get(mailing_id)
        if mailing is None:
            raise NotFound(f"no mailing {mailing_id}")
        if mailing.status in ("sent", "failed"):
            return SendOutcome(mailing_id, mailing.status, dict(mailing.counts), pending=False)
    if mailing.channel == "email":
        _send_emails(uow_factory, sender, mailing, links)
    else:
        _print_letters(uow_factory, mailing, links)
    return _finish_if_done(uow_factory, mailing_id)


def _send_emails(uow_factory, sender, mailing, links: UnsubscribeLinks) -> None:
    after = ""
    while True:
        with uow_factory() as uow:
            batch = uow.mailings.retriable(mailing.mailing_id, after=after, limit=BATCH, max_attempts=MAX_ATTEMPTS)
            if not batch:
                return
            after = batch[-1].recipient_id
            ready, skipped = _screen(uow, mailing, batch)
            texts = _Texts(uow, mailing, links)
            messages = [_email(texts, recipient, party) for recipient, party in ready]
            by_id = {recipient.recipient_id: recipient for recipient in batch}
            results = [_result(by_id[r.recipient_id], r.status, r.detail) for r in sender.send_batch(messages)]
            _store(uow, mailing, results + skipped)
            uow.commit()


def _print_letters(uow_factory, mailing, links: UnsubscribeLinks) -> None:
    with uow_factory() as uow:
        batch = uow.mailings.retriable(mailing.mailing_id, after="", limit=None, max_attempts=MAX_ATTEMPTS)
        if not batch:
            return
        ready, skipped = _screen(uow, mailing, batch)
        texts = _Texts(uow, mailing, links)
        letters = [_letter(texts, recipient, party) for recipient, party in ready]
        if letters:
            uow.mailings.update(mailing.mailing_id, {"document": render_letters_pdf(letters)})
        _store(uow, mailing, [_result(recipient, "sent", "printed") for recipient, _ in ready] + skipped)
        uow.commit()


def _screen(uow, mailing, batch) -> tuple[list[tuple], list[dict]]:
    """The recipients still to be mailed, with their party; results for those who no longer are."""
    waiting = uow.mailings.still_in_stage([r.participation_id for r in batch], mailing.stage_key)
    suppressed = _suppressed(uow, mailing._asdict(), [r.party_id for r in batch])
    parties = uow.replica.many([r.party_id for r in batch])
    ready, skipped = [], []
    for recipient in batch:
        reason = _no_longer_due(mailing, recipient, waiting, suppressed, parties)
        if reason:
            skipped.append(_result(recipient, "skipped", reason, attempted=False))
        else:
            ready.append((recipient, parties[recipient.party_id]._asdict()))
    return ready, skipped


def _no_longer_due(mailing, recipient, waiting: set[str], suppressed: set[str], parties: dict) -> str | None:
    if recipient.participation_id not in waiting:
        return f"left stage {mailing.stage_key!r} before the mailing went out"
    if recipient.party_id in suppressed:
        return f"suppressed for {SUPPRESSION_CHANNEL[mailing.channel]}"
    if recipient.party_id not in parties:
        return "the party is not known here"
    return None


class _Texts:
    """What every message of a batch shares: the template, the campaign's name, the unsubscribe links."""

    def __init__(self, uow, mailing, links: UnsubscribeLinks):
        self.template = template_of(uow.templates.get(mailing.template_id))
        self.campaign_name = uow.campaigns.get(mailing.campaign_id).name
        self.links = links

    def render(self, recipient, party: dict):
        url = self.links.url(recipient.recipient_id)
        return render(self.template, personalisation_values(party, self.campaign_name, url)), url


def _email(texts: _Texts, recipient, party: dict) -> OutgoingEmail:
    rendered, url = texts.render(recipient, party)
    return OutgoingEmail(recipient.recipient_id, recipient.address, rendered.subject, rendered.body,
                         texts.template.html, url)


def _letter(texts: _Texts, recipient, party: dict) -> Letter:
    rendered, _ = texts.render(recipient, party)
    return Letter(recipient.recipient_id, recipient.address.split("\n"), rendered.subject, rendered.body)


def _result(recipient, status: str, detail: str, *, attempted: bool = True) -> dict:
    return {"recipient_id": recipient.recipient_id, "participation_id": recipient.participation_id,
            "status": status, "detail": detail[:MAX_DETAIL], "attempts": recipient.attempts + int(attempted),
            "sent_at": None}


def _store(uow, mailing, results: list[dict]) -> None:
    """The recipients' results, a `bounced` reaction per bounce, and the conditions they cause."""
    at = now()
    for result in results:
        result["sent_at"] = at if result["status"] == "sent" else None
    uow.mailings.write_results(results)
    uow.mailings.add_reactions([{"reaction_id": str(uuid.uuid4()), "recipient_id": r["recipient_id"],
                                 "kind": "bounced", "detail": r["detail"], "occurred_at": at, "recorded_at": at}
                                for r in results if r["status"] == "bounced"])
    conditions = [progress.ConditionMet(CONDITION, r["status"], f"mailing {mailing.mailing_id}: {r['status']}",
                                        participation_id=r["participation_id"])
                  for r in results if r["status"] in ("sent", "bounced")]
    if conditions:
        progress.apply_conditions(uow, conditions, at)
    uow.mailings.refresh_counts(mailing.mailing_id)


def _finish_if_done(uow_factory, mailing_id: str) -> SendOutcome:
    with uow_factory() as uow:
        mailing = uow.mailings.get(mailing_id, lock=True)
        counts = uow.mailings.refresh_counts(mailing_id)
        pending = uow.mailings.count_retriable(mailing_id, MAX_ATTEMPTS) > 0
        status = mailing.status
        if mailing.status in ("draft", "sending") and not pending:
            status = finished_status(counts)
            at = now()
            uow.mailings.update(mailing_id, {"status": status, "sent_at": at})
            uow.publish(_mailing_sent(mailing, status, counts, at))
        uow.commit()
    return SendOutcome(mailing_id, status, counts, pending)


def _mailing_sent(mailing, status: str, counts: dict, at: datetime):
    return new_event(events.MAILING_SENT, events.SOURCE, mailing.mailing_id, {
        "mailing_id": mailing.mailing_id, "campaign_id": mailing.campaign_id, "stage_key": mailing.stage_key,
        "channel": mailing.channel, "status": status, "counts": counts, "sent_at": at.isoformat()})
