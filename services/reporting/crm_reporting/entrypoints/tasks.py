"""Celery app of the reporting service: `celery -A crm_reporting.entrypoints.tasks worker`; no tasks yet."""
from crm_shared.tasks import make_celery

from crm_reporting.bootstrap import settings_from_env

app = make_celery(settings_from_env())
