from crm_shared.entrypoints import consumer_main, migrate_main, relay_main

import json

from crm_calls.bootstrap import build_runtime


def relay() -> None:
    relay_main(build_runtime)


def consumer() -> None:
    consumer_main(build_runtime)


def migrate() -> None:
    migrate_main(build_runtime)


def roll_forward() -> None:
    """Runs the daily cycle job once, now (what the Celery beat does at night)."""
    from crm_calls.entrypoints.tasks import roll_forward_cycles

    print(json.dumps(roll_forward_cycles()))
