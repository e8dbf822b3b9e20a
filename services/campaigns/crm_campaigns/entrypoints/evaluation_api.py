"""HTTP API of campaign results: live figures per stage, the evaluation, its publication for reporting, and
evaluations of several campaigns side by side."""
from __future__ import annotations

from crm_shared.web import current_principal, idempotent, path_uuid, require_role
from flask.views import MethodView
from flask_smorest import Blueprint

from crm_campaigns.entrypoints import evaluation_schemas as s
from crm_campaigns.entrypoints.campaigns_api import EDITORS, uow
from crm_campaigns.service_layer import evaluation

evaluation_blp = Blueprint("evaluation", __name__, description="Campaign figures and evaluation")


@evaluation_blp.route("/campaigns/<uuid_str:campaign_id>/figures")
class Figures(MethodView):
    @evaluation_blp.response(200, s.FiguresSchema)
    def get(self, campaign_id: str):
        """Live figures per stage in graph order: entered, waiting, moved on, succeeded, failed by code, excluded,
        expected value, cost and revenue; plus campaign-level money and totals."""
        return evaluation.campaign_figures(uow(), current_principal(), path_uuid(campaign_id, "campaign_id"))


@evaluation_blp.route("/campaigns/<uuid_str:campaign_id>/evaluation")
class Evaluation(MethodView):
    @evaluation_blp.response(200, s.EvaluationSchema)
    def get(self, campaign_id: str):
        """Funnel, response and conversion rates, cost per contact and per success, estimated and actual ROI,
        failure codes."""
        return evaluation.campaign_evaluation(uow(), current_principal(), path_uuid(campaign_id, "campaign_id"))

    @idempotent
    @require_role(*EDITORS)
    @evaluation_blp.response(200, s.PublishedEvaluationSchema)
    def post(self, campaign_id: str):
        """Publishes the evaluation now (`crm.campaigns.campaign_evaluated.v1`) and answers it."""
        return evaluation.publish_on_request(uow(), current_principal(), path_uuid(campaign_id, "campaign_id"))


@evaluation_blp.route("/evaluations")
class Comparison(MethodView):
    @evaluation_blp.arguments(s.ComparisonQuerySchema, location="query")
    @evaluation_blp.response(200, s.ComparisonSchema)
    def get(self, args):
        """The evaluations of 2 to 20 campaigns (`?campaign_id=…&campaign_id=…`), in the order given."""
        return {"items": evaluation.compare(uow(), current_principal(), [str(c) for c in args["campaign_id"]])}
