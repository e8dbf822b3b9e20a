"""The suppression list: parties, e-mail addresses and phone numbers not to be contacted, everywhere or in one
campaign, on every channel or on one. Target selection, mailings and imports all ask it.

A suppression applies to a campaign when it names no campaign or that one, and its channel is `all` or the
campaign's channel; a seminar or exhibition has no single channel, so every suppression applies to it."""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, exists, or_, select, union
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from crm_campaigns.adapters import orm
from crm_campaigns.domain.normalise import email_key, phone_key

S = orm.suppressions.c
R = orm.party_replica.c
CHANNELS = ("all", "email", "mail", "phone")
CHANNEL_OF_TYPE = {"telemarketing": "phone", "sales_calls": "phone", "email": "email", "letter": "mail",
                   "mailshot_follow_up": "mail", "seminar_exhibition": None}
CHUNK = 2000


def campaign_channel(campaign_type: str) -> str | None:
    """The channel a campaign of this type contacts people on; None: several (every suppression applies)."""
    return CHANNEL_OF_TYPE.get(campaign_type)


def applies_to(campaign_id: str | None, channel: str | None) -> ColumnElement[bool]:
    """Suppressions that apply to a campaign (or, without one, to every campaign) on a channel."""
    scope = S.campaign_id.is_(None) if campaign_id is None else or_(S.campaign_id.is_(None),
                                                                     S.campaign_id == campaign_id)
    return scope if channel is None else and_(scope, S.channel.in_(("all", channel)))


def replica_matches(campaign_id: str | None, channel: str | None) -> list:
    """Three EXISTS clauses over the party replica (by party, by e-mail, by phone): OR them for "suppressed";
    negate each and AND them for "not suppressed", which PostgreSQL runs as anti-joins."""
    scope = applies_to(campaign_id, channel)
    return [exists().where(scope, S.party_id == R.party_id),
            exists().where(scope, S.email_key == R.email_key),
            exists().where(scope, S.phone_key == R.phone_key)]


class SuppressionRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, *, reason: str, created_by: str, now: datetime, party_id: str | None = None,
            email: str | None = None, phone: str | None = None, campaign_id: str | None = None,
            channel: str = "all", calling_code: str | None = None) -> dict:
        """Stores a suppression (e.g. an unsubscribe); the e-mail and phone are kept as comparison keys."""
        keys = {"email_key": email_key(email), "phone_key": _phone_key(phone, calling_code)}
        row = {"suppression_id": str(uuid.uuid4()), "party_id": party_id, **keys, "campaign_id": campaign_id,
               "channel": channel, "reason": reason[:500], "created_by": created_by[:200], "created_at": now}
        self.session.execute(orm.suppressions.insert().values(**row))
        return row

    def get(self, suppression_id: str) -> Row | None:
        return self.session.execute(select(orm.suppressions).where(S.suppression_id == suppression_id)).first()

    def delete(self, suppression_id: str) -> bool:
        return self.session.execute(delete(orm.suppressions).where(S.suppression_id == suppression_id)).rowcount > 0

    def page(self, *, limit: int, after: tuple[str, str] | None, party_id: str | None = None,
             email: str | None = None, campaign_id: str | None = None,
             lines: set[str] | None = None) -> list[Row]:
        """Newest first. With `lines` (a caller who does not see every line), only the suppressions concerning
        these lines alone: the named party (in the replica) and the named campaign are of these lines, and at
        least one of the two is named (see service_layer/suppressions.py)."""
        query = select(orm.suppressions).order_by(S.created_at.desc(), S.suppression_id.desc()).limit(limit)
        if after is not None:
            at = datetime.fromisoformat(after[0])
            query = query.where(or_(S.created_at < at, and_(S.created_at == at, S.suppression_id < after[1])))
        if party_id is not None:
            query = query.where(S.party_id == party_id)
        if email is not None:
            query = query.where(S.email_key == (email_key(email) or ""))
        if campaign_id is not None:
            query = query.where(S.campaign_id == campaign_id)
        if lines is not None:
            campaigns = select(orm.campaigns.c.campaign_id).where(orm.campaigns.c.line_of_business.in_(lines))
            parties = select(R.party_id).where(R.line_of_business.in_(lines))
            query = query.where(or_(S.party_id.is_not(None), S.campaign_id.is_not(None)),
                                or_(S.party_id.is_(None), S.party_id.in_(parties)),
                                or_(S.campaign_id.is_(None), S.campaign_id.in_(campaigns)))
        return list(self.session.execute(query))

    def suppressed_party_ids(self, party_ids: Iterable[str], campaign_id: str | None,
                             channel: str | None) -> set[str]:
        """The parties among these that a suppression applies to: by their id (replicated or not yet), or by the
        replica's e-mail or phone of the party."""
        ids, found = sorted(set(party_ids)), set()
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            by_replica = select(R.party_id).where(R.party_id.in_(chunk), or_(*replica_matches(campaign_id, channel)))
            by_id = select(S.party_id).where(applies_to(campaign_id, channel), S.party_id.in_(chunk))
            found.update(self.session.execute(union(by_replica, by_id)).scalars())
        return found

    def is_suppressed(self, *, party_id: str | None = None, email: str | None = None, phone: str | None = None,
                      campaign_id: str | None = None, channel: str | None = None,
                      calling_code: str | None = None) -> bool:
        """Whether a suppression applies to this party (or its replicated e-mail or phone), e-mail address or
        phone number."""
        scope = applies_to(campaign_id, channel)
        wanted_email, wanted_phone = email_key(email), _phone_key(phone, calling_code)
        keys = [S.party_id == party_id] if party_id else []
        keys += [S.email_key == wanted_email] if wanted_email else []
        keys += [S.phone_key == wanted_phone] if wanted_phone else []
        tests = [exists().where(scope, or_(*keys))] if keys else []
        if party_id:
            tests.append(exists().where(R.party_id == party_id, or_(*replica_matches(campaign_id, channel))))
        return bool(tests) and bool(self.session.execute(select(or_(*tests))).scalar())

    def suppressed_contacts(self, email_keys: Iterable[str], phone_keys: Iterable[str], campaign_id: str | None,
                            channel: str | None) -> tuple[set[str], set[str]]:
        """Which of these e-mail and phone keys are suppressed (for address lists not yet matched to parties)."""
        emails, phones = sorted(set(email_keys) - {None}), sorted(set(phone_keys) - {None})
        scope = applies_to(campaign_id, channel)
        found_emails = self._keys(S.email_key, emails, scope)
        found_phones = self._keys(S.phone_key, phones, scope)
        return found_emails, found_phones

    def _keys(self, column, keys: list[str], scope) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(keys), CHUNK):
            found.update(self.session.execute(select(column).where(scope, column.in_(keys[start:start + CHUNK])))
                         .scalars())
        return found


def _phone_key(phone: str | None, calling_code: str | None) -> str | None:
    return phone_key(phone, calling_code) if calling_code else phone_key(phone)

