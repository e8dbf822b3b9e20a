from alembic import context

from crm_shared.migrations import run_env

from crm_customers.adapters.orm import metadata

run_env(context, metadata)
