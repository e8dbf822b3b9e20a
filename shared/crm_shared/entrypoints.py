"""Generic process mains, so each service's console scripts are one line."""
from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask

from crm_shared.logs import configure_logging
from crm_shared.runner import stop_on_signals
from crm_shared.runtime import ServiceRuntime

log = logging.getLogger(__name__)


def wsgi_app(build: Callable[[], ServiceRuntime]) -> Flask:
    """The app a WSGI server (gunicorn) serves, with JSON logging on stderr: every line a request causes
    carries its request id as `correlation_id`. The level is the settings' `log_level` (LOG_LEVEL, or
    <SERVICE>_LOG_LEVEL; INFO by default)."""
    runtime = build()
    configure_logging(f"{runtime.settings.service}-api", runtime.settings.log_level)
    return runtime.create_app()


def relay_main(build: Callable[[], ServiceRuntime]) -> None:
    runtime = build()
    configure_logging(f"{runtime.settings.service}-relay")
    log.info("relay started")
    runtime.build_relay().run_forever(stop_on_signals())


def consumer_main(build: Callable[[], ServiceRuntime]) -> None:
    runtime = build()
    configure_logging(f"{runtime.settings.service}-consumer")
    consumer = runtime.build_consumer()
    stop = stop_on_signals()
    if consumer is None:
        log.info("this service subscribes to nothing yet; idling")
        stop.wait()
        return
    log.info("consumer started on %s", consumer.queue)
    consumer.run_forever(stop)


def migrate_main(build: Callable[[], ServiceRuntime]) -> None:
    runtime = build()
    configure_logging(f"{runtime.settings.service}-migrate")
    runtime.migrate()
    log.info("migrated to head")
