"""Event pipeline benchmark: the raw baseline against this platform, in the same run, on this machine.

(a) raw:      pika publisher with windowed confirms -> RabbitMQ queue -> pika consumer inserting into
              PostgreSQL in batches (psycopg executemany), acking after commit.
(b) platform: service-layer writes (state row + event in one transaction, 100 commands per transaction)
              -> outbox -> relay (pika, windowed confirms) -> RabbitMQ -> EventConsumer (pika; inbox, batches)
              -> effect.
Relay, consumers and publishers run as separate processes, as they are deployed. Prints events/s for both,
the ratio, p50/p99 lag from commit to effect at half the platform's capacity, and peak memory (VmHWM).

    .venv/bin/python bench/pipeline.py [--events 50000]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
import uuid

import pika
import psycopg
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, create_engine, func, insert, select, text

from crm_shared.broker import Publisher
from crm_shared.broker import pika_parameters as broker_parameters
from crm_shared.consumer import EventConsumer, Subscription, batch_handler
from crm_shared.db import make_engine
from crm_shared.events import exchange_for, new_event
from crm_shared.messaging_tables import add_messaging_tables
from crm_shared.outbox import OutboxRelay, write_events
from crm_shared.runner import stop_on_signals

PG = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
AMQP = os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
SERVICE = "benchsrc"
EVENT_TYPE = f"crm.{SERVICE}.thing_happened.v1"


def pika_parameters() -> pika.URLParameters:
    """The URL as the services read it (kombu's spelling of the default vhost, '//', included)."""
    return broker_parameters(AMQP)


def peak_rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def sample_body(i: int) -> bytes:
    return new_event(EVENT_TYPE, f"crm.{SERVICE}", str(i), {"seq": i, "name": f"party {i}", "state": "prospect",
                                                             "postal_code": "10115"}).to_json().encode()


# ---------------------------------------------------------------------------------------------- raw
def raw_publisher(queue: str, count: int, window: int = 1000) -> None:
    params = pika_parameters()
    state = {"sent": 0, "acked": 0}
    bodies = [sample_body(i) for i in range(count)]

    def on_ack(frame):
        tag, multiple = frame.method.delivery_tag, frame.method.multiple
        state["acked"] = tag if multiple else max(state["acked"], tag)
        if state["acked"] >= count:
            connection.close()
        else:
            publish_more()

    def publish_more():
        props = pika.BasicProperties(delivery_mode=2, content_type="application/json")
        while state["sent"] < count and state["sent"] - state["acked"] < window:
            channel.basic_publish("", queue, bodies[state["sent"]], props)
            state["sent"] += 1

    def on_channel(ch):
        global channel
        channel = ch
        ch.confirm_delivery(on_ack)
        publish_more()

    globals()["channel"] = None
    connection = pika.SelectConnection(params, on_open_callback=lambda c: c.channel(on_open_callback=on_channel),
                                       on_close_callback=lambda *_: connection.ioloop.stop())
    connection.ioloop.start()


def raw_consumer(queue: str, dsn: str, count: int, ready) -> None:
    params = pika_parameters()
    connection = pika.BlockingConnection(params)
    channel = connection.channel()
    channel.basic_qos(prefetch_count=1000)
    done, batch = 0, []
    with psycopg.connect(dsn) as db:
        ready.set()
        for method, _props, body in channel.consume(queue, inactivity_timeout=0.02):
            if method is not None:
                event = json.loads(body)
                batch.append((event["id"], event["data"]["seq"], method.delivery_tag))
            if batch and (len(batch) >= 500 or method is None):
                with db.cursor() as cur:
                    cur.executemany("INSERT INTO raw_effects (event_id, seq) VALUES (%s, %s)",
                                    [(e, s) for e, s, _ in batch])
                db.commit()
                channel.basic_ack(batch[-1][2], multiple=True)
                done += len(batch)
                batch = []
                if done >= count:
                    break
    print(f"PEAK raw-consumer {peak_rss_mb(os.getpid()):.1f}", flush=True)
    connection.close()


def run_raw(dsn: str, count: int) -> tuple[float, float]:
    queue = f"bench.raw.{uuid.uuid4().hex[:8]}"
    connection = pika.BlockingConnection(pika_parameters())
    connection.channel().queue_declare(queue, durable=True)
    with psycopg.connect(dsn, autocommit=True) as db:
        db.execute("DROP TABLE IF EXISTS raw_effects")
        db.execute("CREATE TABLE raw_effects (event_id text PRIMARY KEY, seq int NOT NULL)")
    ready = mp.Event()
    consumer = mp.Process(target=raw_consumer, args=(queue, dsn, count, ready))
    consumer.start()
    ready.wait()
    started = time.perf_counter()
    publisher = mp.Process(target=raw_publisher, args=(queue, count))
    publisher.start()
    publisher.join()
    consumer.join()
    elapsed = time.perf_counter() - started
    connection.channel().queue_delete(queue)
    connection.close()
    with psycopg.connect(dsn) as db:
        applied = db.execute("SELECT count(*) FROM raw_effects").fetchone()[0]
    assert applied == count, f"raw pipeline applied {applied} of {count}"
    return count / elapsed, elapsed


# ----------------------------------------------------------------------------------------- platform
def platform_tables():
    producer_meta, consumer_meta = MetaData(), MetaData()
    producer = add_messaging_tables(producer_meta)
    things = Table("things", producer_meta, Column("id", Integer, primary_key=True),
                   Column("name", String(100)), Column("version", Integer))
    consumer = add_messaging_tables(consumer_meta)
    effects = Table("effects", consumer_meta, Column("event_id", String(64), primary_key=True),
                    Column("seq", Integer), Column("written_at", Float), Column("applied_at", Float))
    return producer_meta, producer, things, consumer_meta, consumer, effects


def platform_relay(producer_url: str) -> None:
    _, producer, *_ = platform_tables()
    stop = stop_on_signals()
    OutboxRelay(make_engine(producer_url), producer.outbox, Publisher(AMQP), SERVICE, batch_size=500).run_forever(stop)
    print(f"PEAK relay {peak_rss_mb(os.getpid()):.1f}", flush=True)


def platform_consumer(consumer_url: str, queue: str) -> None:
    *_, consumer_tables, effects = platform_tables()

    @batch_handler
    def apply(session, events):
        session.execute(insert(effects).values(applied_at=text("extract(epoch from clock_timestamp())")),
                        [{"event_id": e.id, "seq": e.data["seq"], "written_at": e.data["written_at"]}
                         for e in events])

    stop = stop_on_signals()
    EventConsumer(url=AMQP, engine=make_engine(consumer_url), inbox=consumer_tables.inbox, queue=queue,
                  subscriptions=[Subscription(exchange_for(SERVICE), [EVENT_TYPE])], handlers={EVENT_TYPE: apply},
                  batch_size=500, batch_wait=0.01).run_forever(stop)
    print(f"PEAK consumer {peak_rss_mb(os.getpid()):.1f}", flush=True)


def write_commands(engine, things, outbox, start: int, count: int) -> None:
    """One transaction: `count` state changes and their events (a bulk command, e.g. an import)."""
    with engine.begin() as conn:
        conn.execute(insert(things), [{"id": start + i, "name": f"party {start + i}", "version": 1}
                                      for i in range(count)])
        now = time.time()
        write_events(conn, outbox, SERVICE, [
            new_event(EVENT_TYPE, f"crm.{SERVICE}", str(start + i),
                      {"seq": start + i, "name": f"party {start + i}", "state": "prospect", "written_at": now})
            for i in range(count)])


def count_effects(engine, effects) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(effects)).scalar_one()


def run_platform(producer_url: str, consumer_url: str, count: int, rate: float | None):
    producer_meta, producer, things, consumer_meta, consumer, effects = platform_tables()
    producer_engine, consumer_engine = make_engine(producer_url), make_engine(consumer_url)
    for meta, engine in ((producer_meta, producer_engine), (consumer_meta, consumer_engine)):
        meta.drop_all(engine)
        meta.create_all(engine)
    queue = f"bench.platform.{uuid.uuid4().hex[:8]}"
    ctx = mp.get_context("spawn")
    consumer_process = ctx.Process(target=platform_consumer, args=(consumer_url, queue))
    consumer_process.start()
    EventConsumer(url=AMQP, engine=consumer_engine, inbox=consumer.inbox, queue=queue,
                  subscriptions=[Subscription(exchange_for(SERVICE), [EVENT_TYPE])], handlers={}).declare()
    relay_process = ctx.Process(target=platform_relay, args=(producer_url,))
    relay_process.start()
    time.sleep(1.0)
    started = time.perf_counter()
    batch = 100 if rate is None else 10
    for start in range(0, count, batch):
        write_commands(producer_engine, things, producer.outbox, start, min(batch, count - start))
        if rate is not None:
            delay = started + (start + batch) / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
    while count_effects(consumer_engine, effects) < count:
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    with consumer_engine.connect() as conn:
        lags = sorted((a - w) * 1000 for a, w in conn.execute(select(effects.c.applied_at, effects.c.written_at)))
    peaks = {"relay": peak_rss_mb(relay_process.pid), "consumer": peak_rss_mb(consumer_process.pid)}
    for process in (relay_process, consumer_process):
        process.terminate()
        process.join()
    _delete_queue(queue)
    producer_engine.dispose()
    consumer_engine.dispose()
    return count / elapsed, elapsed, lags, peaks


def _delete_queue(queue: str) -> None:
    connection = pika.BlockingConnection(pika_parameters())
    channel = connection.channel()
    for name in (queue, f"{queue}.parked", f"{queue}.retry.1", f"{queue}.retry.2", f"{queue}.retry.3"):
        channel.queue_delete(name)
    connection.close()


def percentile(values, q):
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def ensure_database(name: str) -> str:
    admin = create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG.rsplit("/", 1)[0] + "/" + name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50000)
    args = parser.parse_args()
    raw_url = ensure_database("bench_raw")
    producer_url, consumer_url = ensure_database("bench_producer"), ensure_database("bench_consumer")
    raw_dsn = raw_url.replace("postgresql+psycopg://", "postgresql://")

    raw_rate, raw_time = run_raw(raw_dsn, args.events)
    print(f"raw pipeline:      {args.events} events in {raw_time:.2f}s = {raw_rate:,.0f} events/s")
    rate, elapsed, _, peaks = run_platform(producer_url, consumer_url, args.events, None)
    print(f"platform pipeline: {args.events} events in {elapsed:.2f}s = {rate:,.0f} events/s "
          f"(ratio to raw {rate / raw_rate:.0%}; target >= 40%)")
    half = rate / 2
    lag_events = min(args.events, int(half * 10))
    _, _, lags, lag_peaks = run_platform(producer_url, consumer_url, lag_events, half)
    print(f"lag at {half:,.0f} events/s (half capacity), {lag_events} events: p50 {percentile(lags, .5):.1f} ms, "
          f"p99 {percentile(lags, .99):.1f} ms, max {lags[-1]:.1f} ms (target p99 < 250 ms)")
    print(f"peak memory (VmHWM): relay {max(peaks['relay'], lag_peaks['relay']):.0f} MiB, consumer "
          f"{max(peaks['consumer'], lag_peaks['consumer']):.0f} MiB, bench driver {peak_rss_mb(os.getpid()):.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
