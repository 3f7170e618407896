# The two commands of the README: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck pytest bench browser mailserver systemd pgclient clean soak

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed (found $$($(PYTHON) --version)); set PYTHON=python3.x"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

run: $(STAMP)
	@$(BIN)/supportbot start

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

browser:
	@sh scripts/install-browser.sh

mailserver:
	@sh scripts/install-mailserver.sh

systemd:
	@sh scripts/install-systemd.sh

pgclient:
	@sh scripts/install-pg-client.sh

pytest: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

test: $(STAMP) browser mailserver systemd pgclient lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python -m bench

# The kill storm of tests/faults with SOAK_KILLS kills -9 (make test runs it with 20); prints its figures.
SOAK_KILLS ?= 100
soak: $(STAMP)
	SOAK_KILLS=$(SOAK_KILLS) $(BIN)/python -m pytest -q -s tests/faults/test_kill_storm.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
