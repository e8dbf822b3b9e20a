"""What the end-to-end tests share besides fixtures: where the stack listens, tokens, waiting, and a plain pika
queue bound to one service's exchange, as an outside system would declare it."""
from __future__ import annotations

import contextlib
import importlib.util
import sys
import time
from pathlib import Path

import pika

from crm_shared.auth import mint_token
from crm_shared.config import Settings

ROOT = Path(__file__).resolve().parents[2]
GATEWAY_PORT = 18080
PORTS = {"customers": 18101, "calls": 18102, "campaigns": 18103, "service-desk": 18104, "reporting": 18105}
GATEWAY = f"http://127.0.0.1:{GATEWAY_PORT}"


def load_runner():
    spec = importlib.util.spec_from_file_location("local_runner", ROOT / "deploy" / "local" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def token(lines=("retail",), roles=("sales",), subject="e2e-user"):
    return mint_token(Settings.from_env("customers").jwt, subject, list(roles), list(lines))


def auth(**kwargs):
    return {"Authorization": f"Bearer {token(**kwargs)}"}


def eventually(fetch, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (result := fetch()) is not None:
            return result
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


@contextlib.contextmanager
def bound_queue(amqp_url: str, exchange: str):
    """(channel, queue): an exclusive queue bound to every event of the exchange."""
    params = pika.URLParameters(amqp_url[:-1] + "%2F" if amqp_url.endswith("//") else amqp_url)
    connection = pika.BlockingConnection(params)
    try:
        channel = connection.channel()
        channel.exchange_declare(exchange, exchange_type="topic", durable=True)
        queue = channel.queue_declare("", exclusive=True).method.queue
        channel.queue_bind(queue, exchange, routing_key=f"{exchange}.#")
        yield channel, queue
    finally:
        connection.close()
