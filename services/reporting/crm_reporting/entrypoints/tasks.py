"""Celery app of the reporting service: `celery -A crm_reporting.entrypoints.tasks worker`; no tasks yet."""
from crm_shared.config import Settings
from crm_shared.tasks import make_celery

app = make_celery(Settings.from_env("reporting"))
