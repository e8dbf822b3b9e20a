"""This service's blueprints; the app itself is assembled by crm_shared.wiring (see bootstrap)."""
from __future__ import annotations

from crm_customers.entrypoints import catalog_api, contacts_api, parties_api


def blueprints() -> list:
    return [parties_api.blp, contacts_api.blp, catalog_api.blp]
