import kombu
import pytest
from sqlalchemy import func, select

from crm_shared.broker import Publisher, PublishFailed
from crm_shared.events import CloudEvent, exchange_for
from crm_shared.parking import list_parked, replay_parked
from crm_shared.testing.pipeline import Running


@pytest.fixture
def pipeline(messaging_pipeline):
    return messaging_pipeline


def test_outbox_events_reach_the_consumer_and_are_applied_once(pipeline):
    pipeline.produce(1000)
    with Running(pipeline.relay(), pipeline.consumer()):
        assert pipeline.wait_for_effects(1000) == 1000
    assert pipeline.outbox_count() == 0


def test_a_redelivered_event_changes_nothing(pipeline):
    pipeline.produce(1)
    with pipeline.producer_engine.connect() as conn:
        body = conn.execute(select(pipeline.producer_tables.outbox.c.body)).scalar_one()
    with Running(pipeline.consumer()):
        pipeline.relay().run_once()
        assert pipeline.wait_for_effects(1) == 1
        event = CloudEvent.from_json(body)
        from crm_shared.broker import Outgoing
        Publisher(pipeline.amqp_url).publish([Outgoing(exchange_for(pipeline.service), event.type, body, event.id)])
        with pipeline.consumer_engine.connect() as conn:
            inbox = pipeline.consumer_tables.inbox
            deadline_rows = 0
            for _ in range(100):
                deadline_rows = conn.execute(select(func.count()).select_from(inbox)).scalar_one()
                if deadline_rows:
                    break
        import time
        time.sleep(0.5)
    assert pipeline.effect_count() == 1


def test_a_poison_message_is_parked_after_its_attempts_and_the_rest_flow_on(pipeline):
    def fail_on_poison(session, event):
        if event.data.get("poison"):
            raise ValueError("cannot apply this one")

    pipeline.produce(50)
    poison_id = pipeline.produce(1, start=50, poison=True)[0]
    pipeline.produce(50, start=51)
    with Running(pipeline.relay(), pipeline.consumer(fail_on_poison)):
        assert pipeline.wait_for_effects(100) == 100
        parked = _wait_for_parked(pipeline, 1)
    assert [p.message_id for p in parked] == [poison_id]
    assert parked[0].attempts == 3 and "cannot apply this one" in parked[0].reason
    assert pipeline.effect_count() == 100

    assert replay_parked(pipeline.amqp_url, pipeline.queue) == 1
    with Running(pipeline.consumer()):
        assert pipeline.wait_for_effects(101) == 101
    assert list_parked(pipeline.amqp_url, pipeline.queue) == []


def test_a_malformed_message_is_parked_at_once(pipeline):
    from crm_shared.broker import Outgoing
    with Running(pipeline.consumer()):
        Publisher(pipeline.amqp_url).publish([
            Outgoing(exchange_for(pipeline.service), pipeline.event_type, b"{not json", "bad-1")])
        pipeline.produce(5)
        pipeline.relay().run_once()
        assert pipeline.wait_for_effects(5) == 5
        parked = _wait_for_parked(pipeline, 1)
    assert parked[0].message_id == "bad-1" and "malformed" in parked[0].reason


def test_two_relays_publish_each_row_exactly_once(pipeline):
    pipeline.produce(3000)
    seen = []
    with kombu.Connection(pipeline.amqp_url) as conn:
        channel = conn.channel()
        watch = kombu.Queue(f"watch.{pipeline.service}", kombu.Exchange(exchange_for(pipeline.service), "topic",
                                                                        durable=True),
                            routing_key="#", exclusive=True, channel=channel)
        watch.declare()
        with Running(pipeline.relay(batch_size=100), pipeline.relay(batch_size=100)):
            import time
            deadline = time.monotonic() + 30
            while len(seen) < 3000 and time.monotonic() < deadline:
                message = watch.get(no_ack=True)
                if message is None:
                    time.sleep(0.01)
                    continue
                seen.append(message.properties["message_id"])
        time.sleep(0.3)
        while (message := watch.get(no_ack=True)) is not None:
            seen.append(message.properties["message_id"])
    print(f"two relays: {len(seen)} messages seen, {len(set(seen))} distinct, outbox left {pipeline.outbox_count()}")
    assert len(seen) == 3000 and len(set(seen)) == 3000
    assert pipeline.outbox_count() == 0


def test_a_failed_publish_leaves_the_rows_for_the_next_attempt(pipeline):
    pipeline.produce(10)
    with pytest.raises(PublishFailed):
        pipeline.relay(publisher_url="amqp://guest:guest@127.0.0.1:1//").run_once()
    assert pipeline.outbox_count() == 10
    assert pipeline.relay().run_once() == 10
    assert pipeline.outbox_count() == 0


def _wait_for_parked(pipeline, expected, timeout=15):
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        parked = list_parked(pipeline.amqp_url, pipeline.queue)
        if len(parked) >= expected:
            return parked
        time.sleep(0.1)
    return list_parked(pipeline.amqp_url, pipeline.queue)


def test_two_copies_of_an_event_in_one_batch_are_applied_once(pipeline):
    from crm_shared.broker import Outgoing
    pipeline.produce(1)
    with pipeline.producer_engine.connect() as conn:
        body = conn.execute(select(pipeline.producer_tables.outbox.c.body)).scalar_one()
    event = CloudEvent.from_json(body)
    consumer = pipeline.consumer()
    copy = Outgoing(exchange_for(pipeline.service), event.type, body, event.id)
    Publisher(pipeline.amqp_url).publish([copy, copy])
    pipeline.produce(1, start=1)
    with Running(consumer):
        assert pipeline.wait_for_effects(1) >= 1
        pipeline.relay().run_once()
        assert pipeline.wait_for_effects(3, timeout=2) == 2
    assert pipeline.effect_count() == 2 and pipeline.distinct_effect_count() == 2


def test_an_idle_relay_wakes_on_the_commit_not_on_its_next_poll(pipeline):
    import time
    relay = pipeline.relay()
    relay.listen_timeout = 3.0  # the poll that would otherwise find the rows is seconds away
    with Running(relay, pipeline.consumer()):
        time.sleep(0.5)  # the relay has found the outbox empty and waits
        for round_ in range(3):
            committed = time.monotonic()
            pipeline.produce(5, start=5 * round_)
            assert pipeline.wait_for_effects(5 * (round_ + 1), timeout=5) == 5 * (round_ + 1)
            assert time.monotonic() - committed < 1.0
    assert pipeline.outbox_count() == 0
