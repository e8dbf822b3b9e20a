.PHONY: run test local bench bench-calls bench-campaigns install infra

run: install      ## the whole CRM in one process (SQLite, in-process bus), gateway on localhost:8080
	.venv/bin/python deploy/embedded/run.py

test:             ## lint and every test, on the real PostgreSQL and RabbitMQ
	scripts/test.sh

install:
	scripts/bootstrap.sh

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
