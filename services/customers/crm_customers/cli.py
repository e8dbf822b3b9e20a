"""Console scripts crm-customers-relay, -consumer and -migrate."""
from __future__ import annotations

from crm_shared.entrypoints import consumer_main, migrate_main, relay_main

from crm_customers.bootstrap import build_runtime


def relay() -> None:
    relay_main(build_runtime)


def consumer() -> None:
    consumer_main(build_runtime)


def migrate() -> None:
    migrate_main(build_runtime)
