from alembic import context
from crm_shared.config import Settings
from crm_shared.migrations import run_env

from crm_campaigns.adapters.orm import metadata

if not context.config.get_main_option("sqlalchemy.url"):
    context.config.set_main_option("sqlalchemy.url", Settings.from_env("campaigns").database_url.replace("%", "%%"))
run_env(context, metadata)
