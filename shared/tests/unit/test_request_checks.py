"""What every service gets from create_service_app before a view runs: authentication decided by the matched
endpoint, 400 for malformed or too deeply nested JSON, 422 for NUL in any string, bounded request ids, and
405 with Allow."""
import io

import pytest
from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from crm_shared.auth import mint_token
from crm_shared.config import Settings
from crm_shared.web import create_service_app

SETTINGS = Settings.from_env("demo", database_url="sqlite://")
REACHED = []


class NoteSchema(Schema):
    text = fields.String()
    data = fields.Raw()


def build_client():
    blp = Blueprint("notes", __name__, url_prefix="/notes")

    @blp.route("/<name>")
    class Note(MethodView):
        @blp.arguments(NoteSchema)
        def put(self, body, name):
            REACHED.append(name)  # never reads the principal: only authentication keeps strangers out
            return {"name": name}

        def get(self, name):
            REACHED.append(name)
            return {"name": name}

    @blp.route("/raw", methods=["POST"])
    def raw():
        return {"keys": sorted(request.get_json())}

    @blp.route("/form", methods=["POST"])
    def form():
        return {"fields": sorted(request.form)}

    uploads = Blueprint("uploads", __name__, url_prefix="/uploads")

    @uploads.before_request
    def limit():  # as campaigns' imports do: works only if nothing has read the body yet
        request.max_content_length = 10_000

    @uploads.route("", methods=["POST"])
    def upload():
        REACHED.append("upload")
        return {"files": sorted(request.files)}

    app = create_service_app(SETTINGS, title="demo", blueprints=[blp, uploads], readiness_checks={})
    return app.test_client()


@pytest.fixture
def client():
    REACHED.clear()
    return build_client()


def auth():
    return {"Authorization": "Bearer " + mint_token(SETTINGS.jwt, "u", ["admin"], ["*"])}


# -- 1: public is an exact list of endpoints, not a path pattern ----------------------------------------------
@pytest.mark.parametrize("path", ["/api/demo/notes/docs", "/api/demo/notes/redoc", "/api/demo/notes/openapi.json"])
def test_a_view_whose_path_ends_like_a_document_still_needs_a_token(client, path):
    response = client.put(path, json={"text": "x"})
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert client.get(path).status_code == 401
    assert REACHED == []


@pytest.mark.parametrize("path", ["/api/demo/docs/x", "/api/demo/notes/docs/x", "/api/demo/nowhere/openapi.json",
                                  "/api/demo/openapi.json/x"])
def test_unmatched_paths_under_the_prefix_need_a_token(client, path):
    response = client.get(path)
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert client.get(path, headers=auth()).status_code == 404


def test_the_documents_themselves_are_public(client):
    assert client.get("/api/demo/openapi.json").status_code == 200
    assert client.get("/api/demo/docs").status_code == 200


def test_a_method_the_document_route_does_not_take_needs_a_token(client):
    assert client.post("/api/demo/openapi.json").status_code == 401


# -- 13: 405 tells which methods are allowed ------------------------------------------------------------------
def test_method_not_allowed_is_a_problem_with_allow(client):
    response = client.delete("/api/demo/notes/a", headers=auth())
    assert response.status_code == 405 and response.mimetype == "application/problem+json"
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "PUT"}


# -- 6: deep JSON ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [65, 10_000, 100_000])
@pytest.mark.parametrize("path", ["/api/demo/notes/a", "/api/demo/notes/raw"])
def test_deeply_nested_json_is_a_400_problem(client, path, depth):
    body = "[" * depth + "]" * depth
    method = client.put if path.endswith("/a") else client.post
    response = method(path, data=body, content_type="application/json", headers=auth())
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert "nested" in response.json["detail"] and response.json["errors"][0]["location"] == "json"


def test_json_nested_within_the_limit_is_taken(client):
    nested = {"a": 1}
    for _ in range(60):
        nested = {"n": nested}
    response = client.put("/api/demo/notes/a", json={"data": nested}, headers=auth())
    assert response.status_code == 200 and REACHED == ["a"]


def test_malformed_json_is_still_a_400_and_a_parsed_body_reaches_get_json(client):
    response = client.post("/api/demo/notes/raw", data="{", content_type="application/json", headers=auth())
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert client.post("/api/demo/notes/raw", json={"b": 1, "a": 2}, headers=auth()).json == {"keys": ["a", "b"]}


# -- 7: NUL in any string -------------------------------------------------------------------------------------
def _fields(response):
    assert response.status_code == 422 and response.mimetype == "application/problem+json", response.json
    return {(e["location"], e["field"]) for e in response.json["errors"]}


def test_nul_in_a_json_body_is_refused_naming_each_field(client):
    body = {"text": "a\x00", "data": {"list": ["ok", "b\x00"], "k\x00": 1, "deep": [{"x": "\x00"}]}}
    assert _fields(client.put("/api/demo/notes/a", json=body, headers=auth())) == {
        ("json", "text"), ("json", "data.list.1"), ("json", "data.k\\u0000"), ("json", "data.deep.0.x")}
    assert REACHED == []


def test_nul_in_query_path_form_and_file_names_is_refused(client):
    assert _fields(client.get("/api/demo/notes/a?q=x%00", headers=auth())) == {("query", "q")}
    assert _fields(client.get("/api/demo/notes/a%00b", headers=auth())) == {("path", "name")}
    assert _fields(client.post("/api/demo/notes/form", data={"mapping": "{\"a\x00\": 1}"}, headers=auth())) == {
        ("form", "mapping")}
    upload = {"file": (io.BytesIO(b"x"), "list\x00.csv")}
    assert _fields(client.post("/api/demo/notes/form", data=upload, content_type="multipart/form-data",
                               headers=auth())) == {("files", "file")}
    assert REACHED == []


def test_a_blueprints_body_limit_still_applies_to_forms(client):
    small = {"file": (io.BytesIO(b"x" * 100), "a.csv")}
    assert client.post("/api/demo/uploads", data=small, headers=auth()).json == {"files": ["file"]}
    large = {"file": (io.BytesIO(b"x" * 20_000), "a.csv")}
    response = client.post("/api/demo/uploads", data=large, headers=auth())
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
    named = {"file": (io.BytesIO(b"x"), "a\x00.csv")}
    assert _fields(client.post("/api/demo/uploads", data=named, headers=auth())) == {("files", "file")}


def test_text_without_nul_passes(client):
    response = client.put("/api/demo/notes/a?q=x", json={"text": "a\\u0000 is only text"}, headers=auth())
    assert response.status_code == 200


def test_an_unauthenticated_request_gets_401_before_its_input_is_judged(client):
    assert client.put("/api/demo/notes/a", json={"text": "\x00"}).status_code == 401


# -- 9: request ids -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("given", ["rid-1", "a" * 128, "0f8fad5b-d9cb-469f-a165-70867728950e", "host:1.2_3"])
def test_a_safe_request_id_is_kept(client, given):
    response = client.get("/api/demo/notes/a", headers={**auth(), "X-Request-ID": given})
    assert response.headers["X-Request-ID"] == given


@pytest.mark.parametrize("given", ["a" * 129, "x" * 8192, "a b", "<script>", "a\tb", "ä"])
def test_an_unsafe_request_id_is_replaced_by_a_new_one(client, given):
    response = client.get("/api/demo/notes/nowhere/x", headers={"X-Request-ID": given})
    echoed = response.headers["X-Request-ID"]
    assert echoed != given and len(echoed) == 36
    assert response.json["instance"] == f"urn:request:{echoed}"


# -- 6: JSON carried as text (a form field) -------------------------------------------------------------------
@pytest.mark.parametrize("text, says", [
    ("[" * 10_000 + "]" * 10_000, "nested deeper"), ("{", "not valid JSON"), ("[1]", "an object"),
    ('{"a": "\\u0000"}', "NUL"), ("true", "an object"),
])
def test_json_text_field_refuses_what_cannot_be_used(text, says):
    from marshmallow import ValidationError

    from crm_shared.web.inputs import JsonText

    field = JsonText(expect=dict, expected="must be an object")
    with pytest.raises(ValidationError, match=says):
        field.deserialize(text)
    assert field.deserialize('{"a": [1, {"b": "c"}]}') == {"a": [1, {"b": "c"}]}


# -- Swagger UI from the app itself -------------------------------------------------------------------------
def test_the_docs_page_loads_only_local_assets_which_need_no_token(client):
    import re

    page = client.get("/api/demo/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert {a.rsplit("/", 1)[1] for a in assets} >= {"swagger-ui.css", "swagger-ui-bundle.js",
                                                     "swagger-ui-standalone-preset.js"}
    for asset in assets:
        assert asset.startswith("/api/demo/docs/assets/"), asset
        response = client.get(asset)
        assert response.status_code == 200 and len(response.data) > 1000, asset
    assert '"validatorUrl": null' in html


def test_docs_assets_are_only_the_packaged_files(client):
    assert client.get("/api/demo/docs/assets/nope.js").status_code == 404
    assert client.get("/api/demo/docs/assets/../../app.py").status_code in (401, 404)
    assert client.get("/api/demo/docs/assets/%2e%2e/__init__.py").status_code == 404


def test_the_shared_text_field_refuses_nul_outside_requests_too():
    from marshmallow import ValidationError

    from crm_shared.web.inputs import Text

    assert Text().deserialize("plain") == "plain"
    with pytest.raises(ValidationError, match="NUL"):
        Text().deserialize("a\x00b")
