"""The Flask app every service starts from: OpenAPI, auth, problem+json, request ids, health, metrics."""
from __future__ import annotations

import functools
import http
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import flask_swagger_ui
from flask import Flask, Response, g, request, send_from_directory
from flask_smorest import Api
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

from crm_shared import context
from crm_shared.auth import AuthError, Principal, TokenVerifier
from crm_shared.config import Settings
from crm_shared.web.errors import ProblemError, http_exception_to_problem, problem_response, register_error_handlers
from crm_shared.web.inputs import CheckedRequest, check_request
from crm_shared.web.openapi import PROBLEM_SCHEMA_NAME, ProblemResponsesPlugin, ProblemSchema, problem_content
from crm_shared.web.paths import UUID_TEXT, UuidTextConverter, uuid_param_schema

log = logging.getLogger(__name__)
REQUESTS = Counter("crm_http_requests_total", "HTTP requests", ["service", "method", "endpoint", "status"])
LATENCY = Histogram("crm_http_request_seconds", "HTTP request latency", ["service", "endpoint"])
PUBLIC_VIEW = "crm_public"
DOC_ENDPOINTS = ("openapi_json", "openapi_swagger_ui", "openapi_redoc")  # of flask-smorest's doc blueprint
SWAGGER_UI_ASSET = "crm_swagger_ui_asset"
SWAGGER_UI_FILES = Path(flask_swagger_ui.__file__).parent / "dist"  # pinned in shared/pyproject.toml
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class ProblemApi(Api):
    """flask-smorest's Api answering and documenting errors as problem+json (see crm_shared.web.openapi)."""

    ERROR_SCHEMA = ProblemSchema

    def _init_spec(self, **kwargs):
        plugin = ProblemResponsesPlugin()
        super()._init_spec(**{**kwargs, "extra_plugins": [*(kwargs.get("extra_plugins") or ()), plugin]})
        # First, before marshmallow's helper resolves schemas: a service's own problem schema named in an
        # alt_response is replaced by the shared one, not registered beside it as "Problem1".
        self.spec.plugins.remove(plugin)
        self.spec.plugins.insert(0, plugin)

    def handle_http_exception(self, error):
        return http_exception_to_problem(error)

    def _register_responses(self):
        self.spec.components.schema(PROBLEM_SCHEMA_NAME, schema=ProblemSchema)
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["content"] = problem_content()
            self.spec.components.response(status.name, response, lazy=True)
        self.spec.components.response(
            "DEFAULT_ERROR", {"description": "Any other error", "content": problem_content()}, lazy=True)


def create_service_app(settings: Settings, *, title: str, blueprints: Iterable,
                       readiness_checks: Mapping[str, Callable[[], None]], extensions: dict | None = None,
                       verifier: TokenVerifier | None = None) -> Flask:
    app = Flask(title)
    app.request_class = CheckedRequest
    prefix = f"/api/{settings.service}"
    app.config.update(
        API_TITLE=title, API_VERSION="v1", OPENAPI_VERSION="3.0.3", OPENAPI_URL_PREFIX=prefix,
        OPENAPI_JSON_PATH="openapi.json", OPENAPI_SWAGGER_UI_PATH="docs",
        # Swagger UI's files come from this app (an installed package), so the page works without internet;
        # no validator badge either (it would ask validator.swagger.io).
        OPENAPI_SWAGGER_UI_URL=f"{prefix}/docs/assets/", OPENAPI_SWAGGER_UI_CONFIG={"validatorUrl": None},
        API_SPEC_OPTIONS={
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                                              "bearerFormat": "JWT"}}},
            "security": [{"bearerAuth": []}],
        },
        JSON_SORT_KEYS=False,
    )
    app.extensions["crm"] = {"settings": settings, **(extensions or {})}
    verifier = verifier or TokenVerifier(settings.jwt)
    app.url_map.converters[UUID_TEXT] = UuidTextConverter
    api = ProblemApi(app)
    api.register_converter(UuidTextConverter, uuid_param_schema)
    with app.app_context():  # the OpenAPI document is built here; it shows this app's settings (page size)
        for blueprint in blueprints:
            api.register_blueprint(blueprint, url_prefix=prefix + (blueprint.url_prefix or ""))
    register_error_handlers(app)
    app.add_url_rule(f"{prefix}/docs/assets/<path:filename>", endpoint=SWAGGER_UI_ASSET, view_func=_swagger_ui_asset)
    _install_request_hooks(app, settings.service, prefix, verifier, api._make_doc_blueprint_name())
    _install_health(app, readiness_checks)
    return app


def _install_request_hooks(app: Flask, service: str, prefix: str, verifier: TokenVerifier, docs: str) -> None:
    public_endpoints = frozenset({*(f"{docs}.{endpoint}" for endpoint in DOC_ENDPOINTS), SWAGGER_UI_ASSET})

    @app.before_request
    def start():
        g.started = time.perf_counter()
        g.request_id = request_id_of(request.headers.get("X-Request-ID"))
        g.correlation_token = context.correlation_id.set(g.request_id)
        # Decided by the route that matched, never by the path's text: a path no route matches (or a method
        # the route does not take) has no endpoint and needs a token like every other one.
        if request.path.startswith(prefix) and request.endpoint not in public_endpoints and not _is_public(app):
            g.principal = _authenticate(verifier)
        check_request(request)

    @app.after_request
    def finish(response: Response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        REQUESTS.labels(service, request.method, endpoint, response.status_code).inc()
        LATENCY.labels(service, endpoint).observe(time.perf_counter() - g.get("started", time.perf_counter()))
        return response

    @app.teardown_request
    def reset(_exc):
        token = g.pop("correlation_token", None)
        if token is not None:
            context.correlation_id.reset(token)


def _swagger_ui_asset(filename: str):
    return send_from_directory(SWAGGER_UI_FILES, filename, max_age=86400)


def request_id_of(header: str | None) -> str:
    """The caller's X-Request-ID if it is a short, safe token (it is echoed and logged), else a new one."""
    if header and REQUEST_ID.fullmatch(header):
        return header
    return context.new_id()


def public(view):
    """Serves a view (a function or a MethodView class) without a bearer token: only for what strangers must
    reach, such as a signed link in a mail. The view checks its own credentials and has no principal."""
    setattr(view, PUBLIC_VIEW, True)
    return view


def _is_public(app: Flask) -> bool:
    if request.endpoint is None:
        return False
    view = app.view_functions.get(request.endpoint)
    return getattr(getattr(view, "view_class", view), PUBLIC_VIEW, False) is True


def _authenticate(verifier: TokenVerifier) -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ProblemError(401, "Unauthorized", "A bearer token is required.")
    try:
        return verifier.verify(token.strip())
    except AuthError as exc:
        raise ProblemError(exc.status, "Unauthorized", exc.detail) from exc


def current_principal() -> Principal:
    return g.principal


def require_role(*roles: str):
    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not g.principal.has_role(*roles):
                raise ProblemError(403, "Forbidden", f"This needs one of the roles: {', '.join(roles)}.")
            return view(*args, **kwargs)
        return wrapper
    return decorator


def _install_health(app: Flask, checks: Mapping[str, Callable[[], None]]) -> None:
    @app.get("/health/live")
    def live():
        return {"status": "ok"}

    @app.get("/health/ready")
    def ready():
        results, healthy = {}, True
        for name, check in checks.items():
            try:
                check()
                results[name] = "ok"
            except Exception as exc:  # noqa: BLE001 - a readiness probe reports every failure as not ready
                results[name] = f"failed: {exc}"
                healthy = False
        if not healthy:
            return problem_response(503, "Service Unavailable", "A dependency is down.",
                                    [{"field": k, "message": v} for k, v in results.items() if v != "ok"])
        return {"status": "ok", "checks": results}

    @app.get("/metrics")
    def metrics():
        return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)
