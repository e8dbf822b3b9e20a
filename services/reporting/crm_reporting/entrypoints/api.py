"""HTTP API under /api/reporting."""
from flask_smorest import Blueprint
from marshmallow import Schema, fields

status = Blueprint("status", __name__, description="Service status")


class StatusSchema(Schema):
    service = fields.String()
    status = fields.String()


@status.route("/status", methods=["GET"])
@status.response(200, StatusSchema)
def get_status():
    """What this service is; needs a bearer token like every route under /api/reporting."""
    return {"service": "reporting", "status": "skeleton"}


def blueprints() -> list:
    return [status]
