.PHONY: run test local bench bench-calls bench-campaigns install infra lock lock-upgrade

run: install      ## the whole CRM in one process (SQLite, in-process bus), gateway on localhost:8080
	.venv/bin/python deploy/embedded/run.py

test:             ## lint and every test, on the real PostgreSQL and RabbitMQ
	scripts/test.sh

install:          ## .venv with exactly requirements.lock, and the local packages editable
	scripts/bootstrap.sh

# requirements.lock: every third-party package pinned, resolved by uv (itself pinned in the lock) from
# requirements.in and the pyproject.toml files. `make lock` keeps every pin that still fits; run it after
# changing a dependency, and commit the lock. `make lock-upgrade` moves every pin to the newest release allowed.
LOCAL_PACKAGES = crm-shared crm-calls crm-campaigns crm-customers crm-reporting crm-service-desk
UV_COMPILE = .venv/bin/uv pip compile requirements.in -o requirements.lock --universal --python-version 3.11 \
	$(addprefix --no-emit-package ,$(LOCAL_PACKAGES)) --custom-compile-command "make lock"

lock:             ## re-resolve requirements.lock after a dependency changed (keeps the pins that still fit)
	[ -x .venv/bin/python ] || python3 -m venv .venv
	.venv/bin/pip install -q -c requirements.lock uv
	$(UV_COMPILE)

lock-upgrade:     ## every pin in requirements.lock to the newest release the ranges allow
	[ -x .venv/bin/python ] || python3 -m venv .venv
	.venv/bin/pip install -q -c requirements.lock uv
	$(UV_COMPILE) --upgrade

infra:            ## install/start PostgreSQL, RabbitMQ, nginx from Debian packages
	scripts/infra-up.sh

local: install    ## every service as separate processes on PostgreSQL and RabbitMQ, nginx on :8080
	.venv/bin/python deploy/local/run.py

bench: install infra  ## needs wrk (Debian package) for the read benchmark
	command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	.venv/bin/python bench/pipeline.py
	.venv/bin/python bench/read_api.py

bench-calls: install infra  ## calls planning: 100k customers' 12-month cycles + campaign calls, invariants, COPY baseline
	.venv/bin/python bench/calls_planning.py

bench-campaigns: install infra  ## campaigns: 200k of 1M parties selected, 100k-row import, 3 call stages by events; baselines
	rabbitmqctl -q add_vhost bench-campaigns && rabbitmqctl -q set_permissions -p bench-campaigns guest ".*" ".*" ".*"
	.venv/bin/python bench/campaigns.py --amqp-url amqp://guest:guest@127.0.0.1:5672/bench-campaigns; \
	status=$$?; rabbitmqctl -q delete_vhost bench-campaigns; exit $$status
