# The verbs of the project. `make demo` runs the platform; `make test` runs every test.
SHELL := /bin/bash
STACK := deploy/local/stack.sh
UV := UV_PYTHON_DOWNLOADS=never uv
export KAFKA_BOOTSTRAP_SERVERS ?= 127.0.0.1:19092
BENCH_SAMPLING ?= 0.01

.PHONY: install up down status demo start stop test unit integration lint schemas bench clean k8s-manifests k8s-check
RUN := $(UV) run --frozen python tools/localrun.py

install: ## install what is missing: Debian packages, Kafka/Zipkin jars, the Python env
	@$(STACK) install

up: ## start Kafka (KRaft), PostgreSQL, Redis and Zipkin, and create the topics
	@$(STACK) up

down: stop ## stop the services and what `make up` started
	@$(STACK) down

status: ## one line per part of the stack; fails if any is down
	@$(STACK) status

demo: up ## the platform with the SF courier ceremony replayed through it (fresh databases and topics)
	@$(RUN) reset
	@GIFT_FUND_BUDGET=300000.00 CLOCK_ADJUSTABLE=true INJURY_SWEEP_SECONDS=1 LEGAL_SWEEP_SECONDS=1 $(RUN) start
	@$(UV) run --frozen python tools/demo.py

bench: up ## 23,000 couriers at once, 500 joins/s for 30 s, 100,000 injury reports, 13,000 dispute filings, 60,300 settlements (each beside a bare-Kafka floor), 10,000 asking for 300 seats (beside bare UPDATEs); over an hour
	@$(RUN) reset
	@OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=$(BENCH_SAMPLING) \
		GIFT_FUND_BUDGET=30000000.00 $(RUN) start membership aid legal skills notify
	@OTEL_TRACES_SAMPLER_ARG=$(BENCH_SAMPLING) $(UV) run --frozen python tools/bench.py

start: up ## start the services against the local stack
	@$(RUN) start

stop: ## stop the services
	@$(RUN) stop

test: up k8s-check ## the Kubernetes manifests' checks, unit tests of every package, then the integration tests against the real stack
	@$(UV) run --frozen pytest contracts kit services tests/integration

unit: ## unit tests only (no stack needed)
	@$(UV) run --frozen pytest contracts kit services

integration: up ## integration tests only
	@$(UV) run --frozen pytest tests/integration

lint: ## ruff and mypy over the whole repository
	@$(UV) run --frozen ruff check .
	@$(UV) run --frozen ruff format --check .
	@$(UV) run --frozen mypy contracts/src kit/src services/*/src deploy/local tests tools

k8s-manifests: ## regenerate deploy/k8s's files made from the registry (KafkaTopics, KafkaUsers, workloads)
	@$(UV) run --frozen servicekit k8s kafka-resources deploy/k8s/base/kafka --partners deploy/local/partners.json
	@$(UV) run --frozen python tools/k8s_manifests.py

k8s-check: ## render every overlay and check it: current, valid, promtool-tested alerts, checkov
	@deploy/k8s/k8s-check.sh

schemas: ## export the events' JSON Schemas and the AsyncAPI document
	@$(UV) run --frozen python -m gonghui_contracts.schema_export contracts/schemas

clean: down ## stop the stack and delete its data
	rm -rf .local
