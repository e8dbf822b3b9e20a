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


def page_size_app(max_page_size: int):
    settings = Settings.from_env("demo", database_url="sqlite://", max_page_size=max_page_size)
    blp = Blueprint("pages", __name__, url_prefix="/pages")

    @blp.route("", methods=["GET"])
    @blp.arguments(PageQuerySchema, location="query")
    def listing(args):
        return {"limit": args["limit"]}

    app = create_service_app(settings, title="demo", blueprints=[blp], readiness_checks={})
    headers = {"Authorization": "Bearer " + mint_token(settings.jwt, "u", ["admin"], ["*"])}
    return app.test_client(), headers


@pytest.mark.parametrize("max_page_size, asked, answer", [
    (200, None, 50), (200, 200, 200), (200, 201, 422), (500, 500, 500), (500, 501, 422), (20, None, 20),
    (20, 21, 422), (20, 0, 422),
])
def test_max_page_size_caps_limit_and_the_default(max_page_size, asked, answer):
    client, headers = page_size_app(max_page_size)
    response = client.get("/api/demo/pages" + ("" if asked is None else f"?limit={asked}"), headers=headers)
    if answer == 422:
        assert response.status_code == 422 and response.json["errors"][0]["field"] == "limit"
    else:
        assert response.status_code == 200 and response.json == {"limit": answer}


def test_the_openapi_document_shows_the_configured_maximum():
    client, _ = page_size_app(500)
    parameters = client.get("/api/demo/openapi.json").json["paths"]["/api/demo/pages"]["get"]["parameters"]
    [limit] = [p for p in parameters if p["name"] == "limit"]
    assert limit["schema"]["maximum"] == 500 and limit["schema"]["minimum"] == 1


def test_max_page_size_below_one_is_refused(monkeypatch):
    monkeypatch.setenv("DEMO_MAX_PAGE_SIZE", "0")
    with pytest.raises(ValueError, match="MAX_PAGE_SIZE"):
        Settings.from_env("demo")
