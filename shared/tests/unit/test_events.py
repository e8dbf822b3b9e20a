import json

import pytest

from crm_shared import context
from crm_shared.events import CloudEvent, MalformedEvent, new_event


def test_envelope_round_trips_with_every_cloudevents_attribute():
    with context.caused_by("corr-1", "cause-1"):
        event = new_event("crm.customers.party_registered.v1", "crm.customers", "p-1", {"name": "Acme"})
    body = json.loads(event.to_json())
    assert body["specversion"] == "1.0"
    assert body["correlationid"] == "corr-1" and body["causationid"] == "cause-1"
    assert body["datacontenttype"] == "application/json"
    assert CloudEvent.from_json(event.to_json()) == event
    assert event.version == 1


def test_new_event_refuses_a_type_without_version_suffix():
    with pytest.raises(ValueError):
        new_event("crm.customers.party_registered", "crm.customers", None, {})


@pytest.mark.parametrize("raw, reason", [
    (b"not json", "not JSON"),
    (b"[]", "not a JSON object"),
    (json.dumps({"specversion": "1.0", "id": "1", "source": "s", "type": "crm.a.b.v1", "time": "t"}), "lacks data"),
    (json.dumps({"specversion": "0.3", "id": "1", "source": "s", "type": "crm.a.b.v1", "time": "t",
                 "data": {}}), "specversion"),
    (json.dumps({"specversion": "1.0", "id": "1", "source": "s", "type": "nope", "time": "t", "data": {}}), "form"),
])
def test_malformed_envelopes_are_refused_with_a_reason(raw, reason):
    with pytest.raises(MalformedEvent, match=reason):
        CloudEvent.from_json(raw)


def test_events_outside_a_request_get_a_fresh_correlation_id():
    first = new_event("crm.a.b.v1", "s", None, {})
    second = new_event("crm.a.b.v1", "s", None, {})
    assert first.correlationid and first.correlationid != second.correlationid
