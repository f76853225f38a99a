# Zpanel: `make up` runs the platform, `make test` runs the suite. Both set themselves up first.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_WORKERS ?= 3

.PHONY: install up down status test test-fast lint fmt asyncapi bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@$(BIN)/pip install --quiet --upgrade pip
	@$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

up: install
	@$(BIN)/zpanel up

down: install
	@$(BIN)/zpanel down

status: install
	@$(BIN)/zpanel status

# The whole suite; slow end-to-end cases run in parallel workers (pytest-xdist).
test: install
	@$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup tests

test-fast: install
	@$(BIN)/pytest -q -x -m "not slow" tests

lint: install
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/mypy shared services

fmt: install
	@$(BIN)/ruff format .
	@$(BIN)/ruff check --fix .

asyncapi: install
	@$(BIN)/python -m zpanel.asyncapi > docs/events.asyncapi.json

clean:
	rm -rf $(VENV) .zpanel .mypy_cache .ruff_cache
