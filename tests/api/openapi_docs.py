"""Every service's OpenAPI document as its app serves it at /api/<service>/openapi.json, built at collection
time so that each operation becomes a test item of its own (a test compares them with what the gateway serves).
The apps are built in a child process: building them here would leave their process-wide setup (logging,
metrics registries) in the process that runs the rest of the suite."""
from __future__ import annotations

import functools
import json
import subprocess
import sys

SERVICES = ("customers", "calls", "campaigns", "service-desk", "reporting")
METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")

_BUILD = """
import importlib, json, logging, sys
logging.disable(logging.WARNING)  # the development-secret warning
documents = {}
for service in sys.argv[1:]:
    app = importlib.import_module(f"crm_{service.replace('-', '_')}.bootstrap").build_runtime().create_app()
    response = app.test_client().get(f"/api/{service}/openapi.json")
    if response.status_code != 200:
        sys.exit(f"{service}: GET /api/{service}/openapi.json answered {response.status_code}")
    documents[service] = response.get_json()
json.dump(documents, sys.stdout)
"""


@functools.cache
def _documents() -> dict[str, dict]:
    built = subprocess.run([sys.executable, "-c", _BUILD, *SERVICES], capture_output=True, text=True, timeout=300)
    if built.returncode != 0:
        raise RuntimeError(f"building the OpenAPI documents failed:\n{built.stderr[-3000:]}")
    return json.loads(built.stdout)


def document(service: str) -> dict:
    return _documents()[service]


def operations(service: str):
    """(method, path, operation, path-level parameters) of every operation in the document."""
    for path, item in document(service)["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method], item.get("parameters", [])
