# OMS suite — every developer task. `make` or `make help` lists them.
# Each target does its own setup: the Python environment (uv), system packages and Kafka's jars.

SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
BOOTSTRAP  := .cache/bootstrap
# uv from PATH when a developer has it, else a pinned copy installed from PyPI into the cache.
UV := $(or $(shell command -v uv 2>/dev/null),$(BOOTSTRAP)/bin/uv)
# Never download a Python build: use the machine's CPython 3.11+.
export UV_PYTHON_DOWNLOADS := never
RUN := $(UV) run --frozen --no-sync
VENV_STAMP := .venv/.synced

.PHONY: help
help: ## Show this list
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(BOOTSTRAP)/bin/uv:
	@echo "installing uv $(UV_VERSION) into $(BOOTSTRAP) (once)"
	@python3 -m venv $(BOOTSTRAP)
	@$(BOOTSTRAP)/bin/pip install --quiet "uv==$(UV_VERSION)"

$(VENV_STAMP): $(UV) uv.lock pyproject.toml shared/pyproject.toml devstack/pyproject.toml $(wildcard services/*/pyproject.toml)
	$(UV) sync --frozen
	@touch $@

.PHONY: setup
setup: $(VENV_STAMP) ## Python environment, system packages (PostgreSQL, JDK, Maven) and Kafka's jars
	$(RUN) oms-stack install

.PHONY: run
run: setup ## The suite's main job: Kafka, PostgreSQL, five services, real and generated orders, a report
	$(RUN) oms demo --orders $(or $(ORDERS),3000)

.PHONY: stack-status
stack-status: $(VENV_STAMP) ## What runs: Kafka, PostgreSQL and the five services
	$(RUN) oms stack status

.PHONY: stack-stop
stack-stop: $(VENV_STAMP) ## Stop the services, Kafka and PostgreSQL (data kept)
	$(RUN) oms stack stop

.PHONY: stack-destroy
stack-destroy: $(VENV_STAMP) ## Stop everything and delete its data and logs
	$(RUN) oms stack destroy

.PHONY: lint
lint: $(VENV_STAMP) ## ruff lint and format check
	$(RUN) ruff check .
	$(RUN) ruff format --check .

.PHONY: format
format: $(VENV_STAMP) ## Apply ruff's formatter and safe fixes
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

.PHONY: typecheck
typecheck: $(VENV_STAMP) ## mypy --strict over every package and the tests
	$(RUN) mypy

.PHONY: test-unit
test-unit: $(VENV_STAMP) ## Fast tests only: no broker, no database
	$(RUN) pytest tests/unit

.PHONY: test
test: setup lint typecheck ## Everything CI runs: lint, types, all tests on real Kafka and PostgreSQL
	$(RUN) pytest

.PHONY: asyncapi
asyncapi: $(VENV_STAMP) ## Regenerate docs/asyncapi.json from the topic registry and contract models
	$(RUN) python -m oms.shared.asyncapi > docs/asyncapi.json

.PHONY: clean
clean: ## Remove the Python environment and tool caches (the jar cache stays; see stack-destroy)
	rm -rf .venv .mypy_cache .ruff_cache .pytest_cache
