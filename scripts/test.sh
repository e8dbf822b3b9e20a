#!/usr/bin/env bash
# The whole check: lint, then unit, integration, fault and end-to-end tests on the real broker and
# database named by TEST_POSTGRES_URL / TEST_AMQP_URL (or testcontainers where a Docker engine answers).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
.venv/bin/ruff check .
export TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}"
export TEST_AMQP_URL="${TEST_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672//}"
paths=(shared/tests services/*/tests)
[ -d tests ] && paths+=(tests)
exec .venv/bin/pytest "${paths[@]}" -q -rfEs "$@"
