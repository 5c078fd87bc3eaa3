# fepflow: `make demo` runs the main job, `make test` the test suite; each sets itself up first.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install dev stop demo demo-relative test test-unit validate lint bench up-dev down-dev test-compose .env clean

help:  ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "fepflow needs Python 3.11 ($(PYTHON) not found); set PYTHON=/path/to/python3.11"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,embedded]'
	@touch $(STAMP)

install: $(STAMP)  ## create .venv and install fepflow with its pinned dependencies

dev: $(STAMP)  ## start the embedded stack (MongoDB wire server, object store, Dagster, hub); Ctrl-C stops it
	$(BIN)/python -m fepflow.devstack up

stop:  ## stop an embedded stack left running (e.g. after a closed terminal)
	@test -x $(BIN)/python && $(BIN)/python -m fepflow.devstack stop || true

demo: $(STAMP)  ## the main job: build, submit and store a FreeSolv hydration network
	$(BIN)/python -m fepflow.demo

demo-relative: $(STAMP)  ## relative hydration free energies around a cycle of 3 FreeSolv molecules (TIP3P)
	$(BIN)/python -m fepflow.demo --relative

test: $(STAMP)  ## the whole test suite, starting the servers it needs
	$(BIN)/python -m pytest

test-unit: $(STAMP)  ## the fast tests only (no servers)
	$(BIN)/python -m pytest tests/unit

validate: $(STAMP)  ## science validation runs (relative vs absolute hydration, cycle closure, the 3-ligand T4L99A campaign): tens of minutes on CPU
	$(BIN)/python -m pytest -m validation -s

lint: $(STAMP)  ## ruff (lint and format), mypy and the architecture contracts (import-linter)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy fepflow
	$(BIN)/lint-imports

bench: $(STAMP)  ## benchmarks (they print figures and ratios; they never fail the build)
	$(BIN)/python bench/index_throughput.py
	$(BIN)/python bench/objectstore_throughput.py
	$(BIN)/python bench/sampler_efficiency.py
	$(BIN)/python bench/hub_throughput.py

# The signing key compose needs, written once and checked every time: no Python needed, and a missing,
# empty or short key (an earlier failed write) is replaced instead of being handed to compose.
.env:
	@if ! grep -Eq '^FEPFLOW_AUTH_SECRET_KEY=[A-Za-z0-9_-]{32,}$$' .env 2>/dev/null; then \
	  key="$$(head -c 48 /dev/urandom | base64 | tr -d '\n+/=')"; \
	  test $${#key} -ge 32 || { echo "could not make a random key" >&2; exit 1; }; \
	  { grep -v '^FEPFLOW_AUTH_SECRET_KEY=' .env 2>/dev/null || true; echo "FEPFLOW_AUTH_SECRET_KEY=$$key"; } > .env.tmp \
	  && mv .env.tmp .env && chmod 600 .env; \
	  echo "wrote a random FEPFLOW_AUTH_SECRET_KEY into .env (keep it out of version control)"; \
	fi

COMPOSE = $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)

# PROFILE=gpu (or cpu) adds a celery worker, so simulations go to it instead of the daemon's run workers
up-dev: .env  ## the full stack in docker compose (Postgres, MongoDB, S3, Dagster, hub); PROFILE=gpu adds the GPU worker
	FEPFLOW_ORCHESTRATOR_EXECUTOR=$${FEPFLOW_ORCHESTRATOR_EXECUTOR:-$(if $(filter gpu cpu,$(PROFILE)),celery,in_process)} \
	  $(COMPOSE) $(addprefix --profile ,$(PROFILE)) up -d --build
	@echo "Dagit (read-only): http://localhost:3000   hub: http://localhost:8000/docs   stop: make down-dev"
	@echo "first user: $(COMPOSE) exec api fepflow admin add-user NAME --scope 'ORG-*-*'"

down-dev:  ## stop the compose stack (volumes are kept)
	$(COMPOSE) --profile gpu --profile cpu --profile operator down

test-compose: $(STAMP)  ## build the image, start the compose stack, submit through the hub, download the result (needs dockerd)
	deploy/ci/test-compose.sh

clean:  ## remove the embedded stack's data (.fepflow) after stopping it
	@$(MAKE) --no-print-directory stop
	rm -rf .fepflow
