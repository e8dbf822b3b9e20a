"""HTTP API under /api/campaigns: every blueprint of the service."""
from __future__ import annotations


def blueprints() -> list:
    from crm_campaigns.entrypoints import campaigns_api, selection_api
    from crm_campaigns.entrypoints import budget_api, evaluation_api
    from crm_campaigns.entrypoints import imports_api
    from crm_campaigns.entrypoints import mailings_api

    return [campaigns_api.campaigns, selection_api.selection_blueprint, budget_api.budget_blp,
            evaluation_api.evaluation_blp, imports_api.imports, mailings_api.mailings]
