"""Target selection by criteria: preview how many parties a selection reaches, or enrol them in the campaign.

The counts always add up: matched = added + already_in + suppressed. In an active campaign the new participants
enter the first stage at once (call requests for a call stage), in chunks so memory stays flat."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from crm_shared.auth import Principal
from crm_shared.outbox import write_events

from crm_campaigns.adapters import selection_query
from crm_campaigns.adapters.orm import messaging
from crm_campaigns.domain.criteria import Criteria, definitions_from_rows
from crm_campaigns.domain.errors import Conflict, InvalidInput
from crm_campaigns.service_layer import progress
from crm_campaigns.service_layer.campaigns import visible_campaign
from crm_campaigns.service_layer.unit_of_work import SERVICE

START_CHUNK = 5000
SELECTABLE = ("draft", "active")


@contextmanager
def criteria_fields(prefix: str = "criteria") -> Iterator[None]:
    """Names the fields of invalid criteria as the request body does (`criteria.attributes.0.value`)."""
    try:
        yield
    except InvalidInput as error:
        field = f"{prefix}.{error.field}" if error.field and error.field != prefix else prefix
        raise InvalidInput(error.message, field) from None


def parse_criteria(body: Mapping[str, Any]) -> Criteria:
    with criteria_fields():
        return Criteria.from_dict(body)


def caller_lines(actor: Principal) -> set[str] | None:
    return None if actor.sees_all_lines() else set(actor.lines_of_business)


def preview_selection(uow, actor: Principal, campaign_id: str, criteria: Criteria) -> dict:
    """What a selection would do now, without changing anything."""
    with uow:
        campaign = _selectable(visible_campaign(uow, actor, campaign_id))
        typed, lines = _prepare(uow, actor, criteria)
        matched, suppressed, already_in = selection_query.count_matching(uow.session, campaign, typed, lines)
    return _counts(matched, matched - suppressed - already_in, suppressed)


def select_targets(uow, actor: Principal, campaign_id: str, criteria: Criteria, now: datetime) -> dict:
    """Enrols every matching party not yet in the campaign and not suppressed (source `criteria`)."""
    with uow:
        campaign = _selectable(visible_campaign(uow, actor, campaign_id, lock=True))
        typed, lines = _prepare(uow, actor, criteria)
        matched, suppressed, already_in = selection_query.count_matching(uow.session, campaign, typed, lines)
        added = selection_query.insert_matching(uow.session, campaign, typed, lines, now) \
            if matched > suppressed + already_in else 0  # a repeated selection need not try every party again
        if campaign.status == "active" and added:
            _start_selected(uow, campaign.campaign_id, now)
        uow.commit()
    return _counts(matched, added, suppressed)


def _selectable(campaign):
    if campaign.status not in SELECTABLE:
        raise Conflict(f"a {campaign.status} campaign takes no participants", "status")
    return campaign


def _prepare(uow, actor: Principal, criteria: Criteria) -> tuple[Criteria, set[str] | None]:
    lines = caller_lines(actor)
    outside = criteria.lines_outside(lines)
    if outside:
        raise InvalidInput(f"lines of business outside yours: {', '.join(outside[:10])}",
                           "criteria.lines_of_business")
    with criteria_fields():
        typed = criteria.with_attribute_types(definitions_from_rows(uow.replica.attribute_types().values()))
    return typed, lines


def _start_selected(uow, campaign_id: str, now: datetime) -> None:
    """The participants just inserted are the campaign's only `selected` ones (an active campaign starts the
    others as they arrive). Each chunk's events go to the outbox at once, in this transaction, instead of
    waiting in the unit of work: a large selection would otherwise hold every event in memory until commit."""
    graph = uow.campaigns.graph(campaign_id)
    positions = uow.participations.open_positions(campaign_id, "selected")
    for start in range(0, len(positions), START_CHUNK):
        work = progress.Progress()
        progress.start(work, graph, positions[start:start + START_CHUNK], now, "selected by criteria")
        events, work.published = work.published, []
        work.flush(uow)
        write_events(uow.session.connection(), messaging.outbox, SERVICE, events)


def _counts(matched: int, added: int, suppressed: int) -> dict:
    return {"matched": matched, "added": added, "already_in": matched - suppressed - added,
            "suppressed": suppressed}


PARTY_FILTERS = {"lifecycle_state": "lifecycle_states", "kind": "kinds", "line_of_business": "lines_of_business",
                 "segment": "segments", "last_contact_before": "last_contact_before",
                 "last_contact_after": "last_contact_after", "never_contacted": "never_contacted"}


def party_page(uow, actor: Principal, filters: Mapping[str, Any], *, limit: int, after: str | None) -> list[dict]:
    """Replica parties in the caller's lines matching simple filters (query parameters named by PARTY_FILTERS,
    plus postal_from and postal_to), by party id."""
    criteria = _party_criteria(filters)
    with uow:
        rows = selection_query.page_of_parties(uow.session, criteria, caller_lines(actor), limit=limit, after=after)
    return [row._asdict() for row in rows]


def _party_criteria(filters: Mapping[str, Any]) -> Criteria | None:
    given = {PARTY_FILTERS[k]: v for k, v in filters.items() if k in PARTY_FILTERS and v is not None}
    low, high = filters.get("postal_from"), filters.get("postal_to")
    if (low is None) != (high is None):
        raise InvalidInput("give both postal_from and postal_to", "postal_to" if high is None else "postal_from")
    if low is not None:
        given["postal_ranges"] = [[low, high]]
    if not given:
        return None
    try:
        return Criteria.from_dict(given)
    except InvalidInput as error:
        names = {v: k for k, v in PARTY_FILTERS.items()}
        if (error.field or "").startswith("postal_ranges"):
            raise InvalidInput(error.message, "postal_from") from None
        raise InvalidInput(error.message, names.get(error.field, error.field)) from None
