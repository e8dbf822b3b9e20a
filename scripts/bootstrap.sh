#!/usr/bin/env bash
# Creates .venv and installs exactly requirements.lock (every third-party package pinned, the test and dev tools
# among them), then the shared library and every service, editable. `make lock` updates the lock.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
stamp=.venv/.installed
inputs=$(cat requirements.lock shared/pyproject.toml services/*/pyproject.toml scripts/bootstrap.sh \
  | sha256sum | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$inputs" ]; then exit 0; fi
# pip itself at its locked version, then every locked package as it is pinned: --no-deps, so nothing is resolved
# here and a package missing from the lock shows up in `pip check` below instead of being installed unpinned.
.venv/bin/python -m pip install -q -c requirements.lock pip
.venv/bin/pip install -q --no-deps -r requirements.lock
# The local packages, built by the locked setuptools (no isolated build environment with a newer one).
args=(-e shared)
for service in services/*/; do args+=(-e "${service%/}"); done
.venv/bin/pip install -q --no-deps --no-build-isolation "${args[@]}"
.venv/bin/pip check
echo "$inputs" > "$stamp"
