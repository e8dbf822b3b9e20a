"""Celery app of the service-desk service: `celery -A crm_service_desk.entrypoints.tasks worker`; no tasks yet."""
from crm_shared.tasks import make_celery

from crm_service_desk.bootstrap import settings_from_env

app = make_celery(settings_from_env())
