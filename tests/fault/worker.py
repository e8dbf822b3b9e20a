"""A relay or consumer of the test pipeline as its own OS process, so a fault test can kill -9 it."""
from __future__ import annotations

import argparse
import sys
import threading

from crm_shared.runner import stop_on_signals
from crm_shared.testing.pipeline import build_pipeline


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["relay", "consumer"])
    parser.add_argument("--producer-url", required=True)
    parser.add_argument("--consumer-url", required=True)
    parser.add_argument("--amqp-url", required=True)
    parser.add_argument("--service", required=True)
    parser.add_argument("--delay-per-event", type=float, default=0.0, help="seconds, to slow a consumer down")
    args = parser.parse_args()
    pipeline = build_pipeline(args.producer_url, args.consumer_url, args.amqp_url, args.service, create=False)
    stop: threading.Event = stop_on_signals()
    if args.role == "relay":
        worker = pipeline.relay()
    else:
        worker = pipeline.consumer(delay_per_event=args.delay_per_event, batch_size=50)
    print("ready", flush=True)
    worker.run_forever(stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
