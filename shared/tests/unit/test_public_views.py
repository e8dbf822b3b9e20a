"""`public` lets exactly the marked views through without a bearer token; every other route still needs one."""
from flask.views import MethodView
from flask_smorest import Blueprint

from crm_shared.auth import mint_token
from crm_shared.config import Settings
from crm_shared.web import create_service_app
from crm_shared.web.app import public

SETTINGS = Settings.from_env("demo", database_url="sqlite://")


def build_client():
    blp = Blueprint("links", __name__, url_prefix="/links")

    @blp.route("/open/<token>", methods=["GET"])
    @public
    def open_link(token):
        return {"token": token}

    @blp.route("/private/<token>", methods=["GET"])
    def private_link(token):
        return {"token": token}

    @blp.route("/class/<token>")
    @public
    class ClassLink(MethodView):
        def get(self, token):
            return {"token": token, "method": "get"}

        def post(self, token):
            return {"token": token, "method": "post"}

    @blp.route("/other-class/<token>")
    class OtherClass(MethodView):
        def get(self, token):
            return {"token": token}

    app = create_service_app(SETTINGS, title="demo", blueprints=[blp], readiness_checks={})
    return app.test_client()


def test_a_public_function_view_needs_no_token():
    response = build_client().get("/api/demo/links/open/abc")
    assert response.status_code == 200 and response.json == {"token": "abc"}


def test_every_method_of_a_public_method_view_needs_no_token():
    client = build_client()
    assert client.get("/api/demo/links/class/abc").json == {"token": "abc", "method": "get"}
    assert client.post("/api/demo/links/class/abc").json == {"token": "abc", "method": "post"}


def test_unmarked_views_still_need_a_token():
    client = build_client()
    for path in ("/api/demo/links/private/abc", "/api/demo/links/other-class/abc"):
        response = client.get(path)
        assert response.status_code == 401 and response.mimetype == "application/problem+json", path
    token = mint_token(SETTINGS.jwt, "u", ["admin"], ["*"])
    assert client.get("/api/demo/links/private/abc", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_an_unknown_path_under_the_prefix_still_asks_for_a_token():
    assert build_client().get("/api/demo/links/nowhere").status_code == 401
