"""Celery app of the campaigns service: `celery -A crm_campaigns.entrypoints.tasks worker` (and `beat`).

Every task is idempotent: a time-out moves only participants still waiting in the stage that timed out, an
evaluation published twice only repeats the figures, the purge deletes what is already expired."""
from __future__ import annotations

from functools import lru_cache

from celery.schedules import crontab
from crm_shared.messaging_tables import purge_expired_messaging_rows
from crm_shared.tasks import make_celery
from sqlalchemy.exc import OperationalError

from crm_campaigns.bootstrap import build_runtime, settings_from_env, uow_factory
from crm_campaigns.entrypoints import mailing_config
from crm_campaigns.service_layer import evaluation, imports, participants

QUEUE = {"queue": "campaigns.tasks"}
SETTINGS = settings_from_env()  # read once: the Celery app's and the tasks' runtime's
app = make_celery(SETTINGS, beat_schedule={
    "campaigns-expire-timeouts": {"task": "campaigns.expire_timeouts", "schedule": 300.0, "options": QUEUE},
    "campaigns-publish-evaluations": {"task": "campaigns.publish_evaluations",
                                      "schedule": crontab(hour=2, minute=40), "options": QUEUE},
    "campaigns-purge-expired-messaging-rows": {"task": "campaigns.purge_expired_messaging_rows",
                                               "schedule": crontab(hour=3, minute=23), "options": QUEUE},
})


@lru_cache(maxsize=1)
def _runtime():
    """Built on first use, not at import: importing the task module must not open connections."""
    return build_runtime(SETTINGS)


def _uows():
    return uow_factory(_runtime().engine)


@app.task(name="campaigns.expire_timeouts")
def expire_timeouts() -> int:
    """Participants whose stage time ran out meet the stage's `timeout` condition."""
    return participants.expire_timeouts(_uows())


@app.task(name="campaigns.publish_evaluations")
def publish_evaluations() -> int:
    """`campaign_evaluated` for every active campaign and those completed or cancelled since the last run."""
    return evaluation.publish_due_evaluations(_uows())


@app.task(name="campaigns.purge_expired_messaging_rows")
def purge_expired() -> dict[str, int]:
    runtime = _runtime()
    return purge_expired_messaging_rows(runtime.engine, runtime.messaging)


@app.task(name="campaigns.process_address_import", acks_late=True, autoretry_for=(OperationalError,),
          retry_backoff=True, max_retries=5)
def process_address_import(import_id: str) -> str | None:
    """Imports an uploaded address list; a completed import is left alone, an interrupted one starts afresh
    (service_layer/imports.py), so a redelivered or retried task is harmless."""
    return imports.process_import(_uows(), import_id)


MAILING_RETRY_SECONDS = 900  # how long deferred recipients rest before the next try


@app.task(name="campaigns.send_mailing", bind=True, acks_late=True)
def send_mailing(self, mailing_id: str) -> str:
    """Sends what is left of a mailing: a redelivered task tries only queued and deferred recipients. While
    deferred ones may still be tried, the task comes back for them later."""
    outcome = mailing_config.run_send(_uows(), _runtime().settings, mailing_id)
    if outcome.pending:
        self.apply_async((mailing_id,), countdown=MAILING_RETRY_SECONDS)
    return outcome.status
