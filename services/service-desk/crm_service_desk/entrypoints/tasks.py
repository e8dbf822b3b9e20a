"""Celery app of the service-desk service: `celery -A crm_service_desk.entrypoints.tasks worker`; no tasks yet."""
from crm_shared.config import Settings
from crm_shared.tasks import make_celery

app = make_celery(Settings.from_env("service-desk"))
