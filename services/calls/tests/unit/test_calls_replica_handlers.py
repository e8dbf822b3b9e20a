"""The replica handlers against a SQLite database built by the service's own migrations."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from calls_factories import event, link_data, party_event, snapshot
from crm_shared.config import Settings
from crm_shared.messaging_tables import purge_expired_messaging_rows
from sqlalchemy import insert, inspect, select
from sqlalchemy.orm import Session

from crm_calls.adapters.orm import contact_link_replica, customer_replica, messaging
from crm_calls.bootstrap import build_runtime
from crm_calls.domain import events
from crm_calls.domain.model import replica_from_snapshot
from crm_calls.service_layer.handlers import HANDLERS


@pytest.fixture
def runtime(tmp_path):
    runtime = build_runtime(Settings.from_env("calls", database_url=f"sqlite:///{tmp_path}/calls.db",
                                              amqp_url="memory://"))
    runtime.migrate()
    yield runtime
    runtime.engine.dispose()


def apply(runtime, *cloud_events):
    """Like the consumer: one transaction for the whole batch."""
    with Session(runtime.engine) as session, session.begin():
        for e in cloud_events:
            HANDLERS[e.type](session, e)


def replica(runtime, party_id):
    with runtime.engine.connect() as conn:
        return conn.execute(select(customer_replica).where(customer_replica.c.party_id == party_id)).first()


def links(runtime):
    with runtime.engine.connect() as conn:
        return {row.link_id: row for row in conn.execute(select(contact_link_replica))}


def test_migrations_create_the_tables_on_sqlite(runtime):
    tables = set(inspect(runtime.engine).get_table_names())
    assert {"outbox", "inbox", "idempotency_keys", "customer_replica", "contact_link_replica"} <= tables


def test_registration_creates_the_replica_row(runtime):
    e = party_event("registered")
    apply(runtime, e)
    row = replica(runtime, e.data["party_id"])
    assert (row.kind, row.display_name, row.lifecycle_state, row.line_of_business) == \
        ("company", "Acme GmbH", "prospect", "insurance")
    assert (row.postal_code, row.city, row.phone, row.email) == ("10115", "Berlin", "+49 30 1234", "info@acme.example")
    assert row.version == 1 and row.deactivated is False


def test_newer_versions_overwrite_and_older_ones_are_ignored(runtime):
    first = party_event("registered", version=1)
    party_id = first.data["party_id"]
    apply(runtime, first)
    apply(runtime, party_event("updated", party_id=party_id, version=3, display_name="Acme AG"))
    apply(runtime, party_event("lifecycle", party_id=party_id, version=2, lifecycle_state="customer"))
    apply(runtime, party_event("updated", party_id=party_id, version=3, display_name="Same version, other event"))
    row = replica(runtime, party_id)
    assert (row.version, row.display_name, row.lifecycle_state) == (3, "Acme AG", "prospect")


def test_an_update_arriving_before_the_registration_wins(runtime):
    later = party_event("updated", version=2, display_name="Newer")
    party_id = later.data["party_id"]
    apply(runtime, later, party_event("registered", party_id=party_id, version=1))
    assert replica(runtime, party_id).display_name == "Newer"


def test_a_batch_with_several_versions_of_one_party_keeps_the_newest(runtime):
    party_id = snapshot()["party_id"]
    batch = [party_event("updated", party_id=party_id, version=v, display_name=f"v{v}") for v in (2, 5, 1, 4, 3)]
    apply(runtime, *batch)
    row = replica(runtime, party_id)
    assert (row.version, row.display_name) == (5, "v5")


def test_deactivation_marks_the_row_and_a_late_older_update_does_not_undo_it(runtime):
    party_id = snapshot()["party_id"]
    apply(runtime, party_event("registered", party_id=party_id, version=1),
          party_event("deactivated", party_id=party_id, version=3, lifecycle_state="inactive"))
    apply(runtime, party_event("updated", party_id=party_id, version=2))
    row = replica(runtime, party_id)
    assert (row.deactivated, row.lifecycle_state, row.version) == (True, "inactive", 3)


def test_an_update_of_an_inactive_party_keeps_it_deactivated(runtime):
    party_id = snapshot()["party_id"]
    apply(runtime, party_event("deactivated", party_id=party_id, version=3, lifecycle_state="inactive"),
          party_event("updated", party_id=party_id, version=4, lifecycle_state="inactive"))
    assert replica(runtime, party_id).deactivated is True


def test_a_newer_snapshot_after_deactivation_reactivates(runtime):
    party_id = snapshot()["party_id"]
    apply(runtime, party_event("deactivated", party_id=party_id, version=3),
          party_event("lifecycle", party_id=party_id, version=4, lifecycle_state="customer"))
    assert replica(runtime, party_id).deactivated is False


def test_contact_links_are_added_and_removed(runtime):
    data = link_data()
    apply(runtime, event(events.CONTACT_LINKED, data))
    row = links(runtime)[data["link_id"]]
    assert (row.person_id, row.company_id, row.role, row.position, row.unlinked) == \
        (data["person_id"], data["company_id"], "decision maker", "CEO", False)
    apply(runtime, event(events.CONTACT_UNLINKED, {k: data[k] for k in ("link_id", "person_id", "company_id")}))
    assert links(runtime)[data["link_id"]].unlinked is True


def test_an_unlink_arriving_before_its_link_keeps_the_link_removed(runtime):
    data = link_data()
    unlinked = {k: data[k] for k in ("link_id", "person_id", "company_id")}
    apply(runtime, event(events.CONTACT_UNLINKED, unlinked), event(events.CONTACT_LINKED, data))
    assert links(runtime)[data["link_id"]].unlinked is True


def test_snapshot_without_address_phones_or_emails():
    data = snapshot(primary_address=None, phones=[], emails=[], kind="person", customer_number="K-1")
    result = replica_from_snapshot(data, deactivated=False, event_time=None)
    assert (result.postal_code, result.city, result.phone, result.email) == (None, None, None, None)
    assert (result.kind, result.customer_number) == ("person", "K-1")


def test_inbox_purge_removes_only_old_rows_and_can_run_twice(runtime):
    now = datetime.now(UTC)
    with runtime.engine.begin() as conn:
        conn.execute(insert(messaging.inbox), [
            {"consumer": "q", "event_id": "old", "event_type": "t", "handled_at": now - timedelta(days=31)},
            {"consumer": "q", "event_id": "new", "event_type": "t", "handled_at": now - timedelta(days=29)},
        ])
    assert purge_expired_messaging_rows(runtime.engine, messaging)["inbox"] == 1
    assert purge_expired_messaging_rows(runtime.engine, messaging)["inbox"] == 0
    with runtime.engine.connect() as conn:
        assert [r.event_id for r in conn.execute(select(messaging.inbox))] == ["new"]
