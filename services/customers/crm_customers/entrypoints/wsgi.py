"""gunicorn entry point: `gunicorn crm_customers.entrypoints.wsgi:app`."""
from crm_customers.bootstrap import build_runtime

app = build_runtime().create_app()
