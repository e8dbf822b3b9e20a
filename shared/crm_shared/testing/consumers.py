"""Running a service's real consumer in a test: in a thread, on a queue of the test's own, removed afterwards."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pika
import pika.exceptions

from crm_shared.broker import pika_parameters
from crm_shared.consumer import EventConsumer, parking_queue, retry_queue


def wait_for(predicate: Callable[[], object], timeout: float = 15.0):
    """Polls until `predicate` returns something truthy and returns it; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@contextmanager
def running_consumer(consumer: EventConsumer, amqp_url: str, queue: str, retry_levels: int = 3) -> Iterator:
    """Starts `consumer` (built on `queue`), waits until its queue and bindings exist, and on exit stops it and
    deletes the queue with its retry and parking queues."""
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run_forever, args=(stop,), daemon=True)
    thread.start()
    connection = pika.BlockingConnection(pika_parameters(amqp_url))
    try:
        channel = [connection.channel()]

        def declared() -> bool:
            try:
                channel[0].queue_declare(queue=queue, passive=True)
                return True
            except pika.exceptions.ChannelClosedByBroker:  # not declared yet: the broker closed the channel
                channel[0] = connection.channel()
                return False
        wait_for(declared)
    finally:
        connection.close()
    time.sleep(0.2)  # the bindings are declared right after the queue
    try:
        yield consumer
    finally:
        stop.set()
        thread.join(timeout=10)
        connection = pika.BlockingConnection(pika_parameters(amqp_url))
        try:
            channel = connection.channel()
            for name in (queue, parking_queue(queue), *(retry_queue(queue, i + 1) for i in range(retry_levels))):
                channel.queue_delete(queue=name)
        finally:
            connection.close()
