"""Fault tests on the real broker and database, each printing exact counts.

They kill processes with SIGKILL and restart RabbitMQ's application (rabbitmqctl stop_app/start_app), so
they need a broker on this machine that the test may restart (as in CI); elsewhere they are skipped.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import kombu
import pytest

from crm_shared.events import exchange_for
from crm_shared.parking import list_parked
from crm_shared.testing.pipeline import Running

pytestmark = pytest.mark.fault
WORKER = Path(__file__).with_name("worker.py")
LOCAL_BROKER = shutil.which("rabbitmqctl") is not None


def spawn(role: str, pipeline, *extra: str) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, str(WORKER), role, "--producer-url", _url(pipeline.producer_engine),
         "--consumer-url", _url(pipeline.consumer_engine), "--amqp-url", pipeline.amqp_url,
         "--service", pipeline.service, *extra],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout.readline().strip() == "ready"
    return process


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def kill9(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        kill9(process)


def wait_until(condition, timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def report(capsys, line: str) -> None:
    with capsys.disabled():
        print(f"\n[fault] {line}")


def test_kill_minus_9_consumer_in_the_middle_of_5000_events(messaging_pipeline, capsys):
    pipeline = messaging_pipeline
    pipeline.consumer()  # declares the queue before anything is published
    pipeline.produce(5000)
    while pipeline.relay().run_once():
        pass
    first = spawn("consumer", pipeline, "--delay-per-event", "0.0005")
    assert wait_until(lambda: pipeline.effect_count() >= 1500, timeout=60)
    kill9(first)
    at_kill = pipeline.effect_count()
    second = spawn("consumer", pipeline)
    try:
        assert wait_until(lambda: pipeline.distinct_effect_count() >= 5000, timeout=60)
        time.sleep(0.5)
    finally:
        stop(second)
    total, distinct = pipeline.effect_count(), pipeline.distinct_effect_count()
    report(capsys, f"kill -9 consumer at {at_kill}/5000 applied: distinct applied {distinct}, lost {5000 - distinct}, "
                   f"applied twice {total - distinct}")
    assert 0 < at_kill < 5000
    assert distinct == 5000 and total == 5000


def test_relay_and_broker_restarts_while_producing_lose_no_confirmed_event(messaging_pipeline, capsys):
    if not LOCAL_BROKER or "127.0.0.1" not in messaging_pipeline.amqp_url:
        pytest.skip("needs the machine's own RabbitMQ to restart")
    pipeline = messaging_pipeline
    consumer = pipeline.consumer()
    produced = []

    def produce():
        for batch in range(100):
            produced.extend(pipeline.produce(50, start=batch * 50))
            time.sleep(0.04)

    producer = threading.Thread(target=produce)
    with Running(consumer):
        relay = spawn("relay", pipeline)
        producer.start()
        time.sleep(1.0)
        kill9(relay)
        killed_at = len(produced)
        relay = spawn("relay", pipeline)
        time.sleep(0.5)
        subprocess.run(["rabbitmqctl", "-q", "stop_app"], check=True, timeout=120)
        broker_stopped_at = len(produced)
        time.sleep(1.5)
        subprocess.run(["rabbitmqctl", "-q", "start_app"], check=True, timeout=120)
        subprocess.run(["rabbitmqctl", "-q", "await_startup"], check=True, timeout=120)
        producer.join()
        try:
            drained = wait_until(lambda: pipeline.distinct_effect_count() >= len(produced), timeout=90, interval=0.2)
        finally:
            stop(relay)
    total, distinct = pipeline.effect_count(), pipeline.distinct_effect_count()
    report(capsys, f"relay killed at {killed_at} produced, broker stopped at {broker_stopped_at}: produced "
                   f"{len(produced)}, applied {distinct}, lost {len(produced) - distinct}, applied twice "
                   f"{total - distinct}, outbox backlog left {pipeline.outbox_count()}")
    assert drained and distinct == len(produced) == 5000 and total == distinct
    assert pipeline.outbox_count() == 0


def test_two_relays_at_once_apply_each_effect_once(messaging_pipeline, capsys):
    pipeline = messaging_pipeline
    consumer = pipeline.consumer()
    deliveries = []
    with kombu.Connection(pipeline.amqp_url) as conn:
        channel = conn.channel()
        watch = kombu.Queue(f"watch.{pipeline.service}", kombu.Exchange(exchange_for(pipeline.service), "topic",
                                                                        durable=True),
                            routing_key="#", exclusive=True, channel=channel)
        watch.declare()
        pipeline.produce(5000)
        relays = [spawn("relay", pipeline), spawn("relay", pipeline)]
        with Running(consumer):
            assert wait_until(lambda: pipeline.distinct_effect_count() >= 5000, timeout=60)
            time.sleep(0.5)
        for relay in relays:
            stop(relay)
        while (message := watch.get(no_ack=True)) is not None:
            deliveries.append(message.properties["message_id"])
    total, distinct = pipeline.effect_count(), pipeline.distinct_effect_count()
    report(capsys, f"two relays: published {len(deliveries)} ({len(set(deliveries))} distinct) for 5000 rows; "
                   f"applied {distinct}, applied twice {total - distinct}")
    assert len(deliveries) == len(set(deliveries)) == 5000
    assert distinct == total == 5000


def test_poison_messages_are_parked_after_bounded_attempts_and_the_rest_flow(messaging_pipeline, capsys):
    pipeline = messaging_pipeline

    def refuse_poison(session, event):
        if event.data.get("poison"):
            raise ValueError("refusing poison")

    consumer = pipeline.consumer(refuse_poison, retry_delays_ms=(50, 100, 200))
    poison = []
    for chunk in range(3):
        pipeline.produce(333, start=chunk * 334)
        poison += pipeline.produce(1, start=chunk * 334 + 333, poison=True)
    with Running(pipeline.relay(), consumer):
        assert wait_until(lambda: pipeline.effect_count() >= 999, timeout=30)
        assert wait_until(lambda: len(list_parked(pipeline.amqp_url, pipeline.queue)) >= 3, timeout=30, interval=0.2)
    parked = list_parked(pipeline.amqp_url, pipeline.queue)
    report(capsys, f"poison: 1002 events with 3 poison -> applied {pipeline.effect_count()}, parked {len(parked)} "
                   f"after {sorted({p.attempts for p in parked})} attempts")
    assert sorted(p.message_id for p in parked) == sorted(poison)
    assert all(p.attempts == 4 and "refusing poison" in p.reason for p in parked)
    assert pipeline.effect_count() == 999
