"""`crm-token` mints a local JWT; `crm-parked` lists and replays a consumer's parked messages."""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from crm_shared.auth import mint_token
from crm_shared.config import Settings


def token_main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Mint a JWT for local use (HS256, JWT_SECRET).")
    parser.add_argument("--sub", default="dev")
    parser.add_argument("--roles", default="admin", help="comma-separated, e.g. admin or sales,agent")
    parser.add_argument("--lob", default="*", help="comma-separated lines of business, * for all")
    parser.add_argument("--ttl", type=int, default=3600)
    args = parser.parse_args(argv)
    settings = Settings.from_env("crm")
    split = lambda value: [v for v in value.split(",") if v]  # noqa: E731
    print(mint_token(settings.jwt, args.sub, split(args.roles), split(args.lob), args.ttl))
    return 0


def parked_main(argv=None) -> int:
    from crm_shared.parking import list_parked, replay_parked

    parser = argparse.ArgumentParser(description="List or replay a consumer's parked (dead-lettered) messages.")
    parser.add_argument("action", choices=["list", "replay"])
    parser.add_argument("--queue", required=True, help="the consumer's queue, e.g. calls.incoming-events")
    parser.add_argument("--id", action="append", dest="ids", help="replay only these message ids")
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--amqp-url", default=None)
    args = parser.parse_args(argv)
    url = args.amqp_url or Settings.from_env("crm").amqp_url
    if args.action == "list":
        for message in list_parked(url, args.queue, args.limit):
            print(json.dumps(asdict(message)))
        return 0
    moved = replay_parked(url, args.queue, set(args.ids) if args.ids else None)
    print(f"replayed {moved} message(s) to {args.queue}", file=sys.stderr)
    return 0
