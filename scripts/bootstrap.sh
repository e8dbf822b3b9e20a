#!/usr/bin/env bash
# Creates .venv and installs the shared library and every service (editable), with test extras.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
stamp=.venv/.installed
inputs=$(cat shared/pyproject.toml services/*/pyproject.toml scripts/bootstrap.sh | sha256sum | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$inputs" ]; then exit 0; fi
.venv/bin/pip install -q --upgrade pip
args=(-e "shared[test]")
for service in services/*/; do args+=(-e "${service%/}[test]"); done
# Repository-wide test tools; schemathesis pinned exactly: its generated requests (tests/api) follow its version.
.venv/bin/pip install -q "${args[@]}" "ruff>=0.5" "pyyaml>=6" "schemathesis==4.32.5"
echo "$inputs" > "$stamp"
