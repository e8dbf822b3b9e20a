"""Generic process mains, so each service's console scripts are one line."""
from __future__ import annotations

import logging
import os
from collections.abc import Callable

from flask import Flask

from crm_shared.logs import configure_logging
from crm_shared.runner import stop_on_signals
from crm_shared.runtime import ServiceRuntime

log = logging.getLogger(__name__)


def wsgi_app(build: Callable[[], ServiceRuntime]) -> Flask:
    """The app a WSGI server (gunicorn) serves, with JSON logging on stderr: every line a request causes
    carries its request id as `correlation_id`. LOG_LEVEL (or <SERVICE>_LOG_LEVEL) sets the level, INFO by
    default."""
    runtime = build()
    service = runtime.settings.service
    prefix = service.upper().replace("-", "_")
    configure_logging(f"{service}-api", os.environ.get(f"{prefix}_LOG_LEVEL", os.environ.get("LOG_LEVEL", "INFO")))
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
