import pytest
from flask import Blueprint as FlaskBlueprint  # noqa: F401 - smorest blueprint below is what services use
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from crm_shared.auth import mint_token
from crm_shared.config import Settings
from crm_shared.web import PageQuerySchema, ProblemError, create_service_app, decode_cursor, encode_cursor
from crm_shared.web.errors import flatten_messages

SETTINGS = Settings.from_env("demo", database_url="sqlite://")


class ThingSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=10))


def build_app():
    blp = Blueprint("things", __name__, url_prefix="/things")

    @blp.route("", methods=["POST"])
    @blp.arguments(ThingSchema)
    @blp.response(201, ThingSchema)
    def create(body):
        if body["name"] == "taken":
            raise ProblemError(409, "Conflict", "name taken")
        return body

    @blp.route("", methods=["GET"])
    @blp.arguments(PageQuerySchema, location="query")
    def listing(args):
        decode_cursor(args["cursor"], 2)
        return {"items": []}

    @blp.route("/boom", methods=["GET"])
    def boom():
        raise RuntimeError("bug")

    return create_service_app(SETTINGS, title="demo", blueprints=[blp], readiness_checks={})


@pytest.fixture
def client():
    return build_app().test_client()


def auth():
    return {"Authorization": "Bearer " + mint_token(SETTINGS.jwt, "u", ["admin"], ["*"])}


def test_requests_without_a_token_get_401_problem(client):
    response = client.post("/api/demo/things", json={"name": "a"})
    assert response.status_code == 401 and response.mimetype == "application/problem+json"


def test_validation_errors_name_the_field(client):
    response = client.post("/api/demo/things", json={"name": ""}, headers=auth())
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert response.json["errors"][0]["field"] == "name"


def test_malformed_json_is_a_400_problem(client):
    response = client.post("/api/demo/things", data="{", content_type="application/json", headers=auth())
    assert response.status_code == 400 and response.mimetype == "application/problem+json"


def test_problem_error_keeps_status_and_detail(client):
    response = client.post("/api/demo/things", json={"name": "taken"}, headers=auth())
    assert response.status_code == 409 and response.json["detail"] == "name taken"


def test_page_size_is_capped_and_bad_cursors_refused(client):
    assert client.get("/api/demo/things?limit=201", headers=auth()).status_code == 422
    assert client.get("/api/demo/things?limit=0", headers=auth()).status_code == 422
    assert client.get("/api/demo/things?cursor=xx", headers=auth()).status_code == 400
    good = encode_cursor(["a", 1])
    assert client.get(f"/api/demo/things?cursor={good}", headers=auth()).status_code == 200


def test_unexpected_errors_are_500_problem_without_internals(client):
    response = client.get("/api/demo/things/boom", headers=auth())
    assert response.status_code == 500 and "bug" not in response.get_data(as_text=True)


def test_request_id_is_echoed_and_openapi_is_public(client):
    response = client.get("/api/demo/openapi.json", headers={"X-Request-ID": "rid-1"})
    assert response.status_code == 200 and response.headers["X-Request-ID"] == "rid-1"
    assert "/api/demo/things" in response.json["paths"]
    assert client.get("/health/live").json == {"status": "ok"}
    assert client.get("/metrics").status_code == 200


def test_flatten_messages_gives_one_entry_per_field():
    flat = flatten_messages({"json": {"a": ["bad"], "b": {"c": ["worse"]}}, "query": {"limit": ["big"]}})
    assert {(e["location"], e["field"]) for e in flat} == {("json", "a"), ("json", "b.c"), ("query", "limit")}
