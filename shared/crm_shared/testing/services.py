"""The services, for the shared tests that check every one of them the same way (their OpenAPI documents,
their settings, their logging): one list, and one way to build a service's app and document."""
from __future__ import annotations

import functools
import importlib

import pytest

from crm_shared.config import Settings

SERVICE_PACKAGES = {"customers": "crm_customers", "calls": "crm_calls", "campaigns": "crm_campaigns",
                    "service-desk": "crm_service_desk", "reporting": "crm_reporting"}


def service_module(service: str, module: str = "bootstrap"):
    """`<package>.<module>` of a service. shared/ is a package of its own whose tests may run where the
    services are not installed; there the test is skipped (the repository's `make test` installs them all)."""
    package = SERVICE_PACKAGES[service]
    try:
        return importlib.import_module(f"{package}.{module}")
    except ModuleNotFoundError as missing:
        if missing.name != package:
            raise  # the service is installed and something it imports is missing: that is a failure
        pytest.skip(f"{package} is not installed")


def build_service_app(service: str):
    """The service's Flask app on an in-memory SQLite database, as its bootstrap builds it."""
    bootstrap = service_module(service)
    return bootstrap.build_runtime(Settings.from_env(service, database_url="sqlite://")).create_app()


@functools.cache
def _document(service: str) -> dict:
    response = build_service_app(service).test_client().get(f"/api/{service}/openapi.json")
    assert response.status_code == 200, response.data[:300]
    return response.json


def openapi_document(service: str) -> dict:
    """The OpenAPI document the service serves (built once per test session; tests must not change it)."""
    return _document(service)
