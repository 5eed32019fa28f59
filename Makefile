# One entry point per user: `make run` for a shopper's view, `make test` for the suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
export FLASK_APP := app

.PHONY: help install run test lint plan bench lock services clean

help:
	@echo "make run     serve the storefront on http://127.0.0.1:$(PORT)"
	@echo "make test    install everything the suite needs and run it"
	@echo "make lint    ruff and mypy"
	@echo "make plan    offline plans of the dev and prod stacks"
	@echo "make bench   load benchmark of the storefront"
	@echo "make lock    re-pin requirements.txt from pyproject.toml"

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

install: $(STAMP)

# Without REDIS_URL the Redis stand-in (and the guest carts in it) lives inside one process,
# so it is served by one worker.
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --if-empty
	$(if $(REDIS_URL),,WEB_CONCURRENCY=1 )$(BIN)/gunicorn --config app/gunicorn_conf.py \
	  --bind 127.0.0.1:$(PORT) "app:create_app()"

# Debian packages the suite uses; installed when missing and we are root.
services:
	@scripts/ensure-services.sh

test: install services
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

plan: install
	$(BIN)/python -m stacks plan dev --out plan-dev.json
	$(BIN)/python -m stacks plan prod --out plan-prod.json

# wrk (a Debian package) drives the load; installed when missing and we are root.
bench: install services
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	  --no-install-recommends wrk >/dev/null; } || { echo "install wrk first" >&2; exit 1; }
	$(BIN)/python -m bench $(BENCH_ARGS)

# Re-pin from a fresh environment so requirements.txt holds exactly what pyproject.toml asks for.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install -q --disable-pip-version-check '.[platform,dev]'
	.lock-venv/bin/pip freeze --exclude-editable | grep -v '^shop[= @]' | sed 's/ @ .*//' > requirements.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) instance .pytest_cache
