# Two commands for a newcomer: `make demo` and `make test`. Both run the
# install step first: the Debian packages (tools/system_packages.sh: chromium,
# poppler-utils; installed when missing and we are root with apt-get) and .venv.
# torch is installed alone and first: the CPU wheel on this machine's disk
# satisfies sentence-transformers, which would otherwise pull a multi-gigabyte
# CUDA build.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
# The suite runs on one pytest-xdist worker per CPU (at most 4), a test file per
# worker at a time (a file's server and fixtures are set up once): much of the
# suite waits on servers, browsers and the demo's clock, so 2 workers on 2 CPUs
# took it from ~920 s to ~610 s. PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= auto
PYTEST_PARALLEL := $(if $(filter 0,$(PYTEST_WORKERS)),-p no:xdist,-n $(PYTEST_WORKERS) --maxprocesses 4 --dist loadfile)
# The Chromium the check looks for, the tests and the report's PDF use.
CHROMIUM ?= $(or $(TOWNHALL_CHROMIUM),/usr/bin/chromium)
export CHROMIUM
export TOWNHALL_CHROMIUM := $(CHROMIUM)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install system-packages demo test test-postgres check bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Checked on every run (a few file tests), so a package removed since is noticed.
system-packages:
	@sh tools/system_packages.sh

install: system-packages $(STAMP)

demo: install
	$(BIN)/townhall serve --demo

test: install
	$(BIN)/python -m pytest $(PYTEST_PARALLEL) $(PYTEST_ARGS)

# Lint, types, the layering contracts (pyproject.toml, docs/architecture.md), and sizes.
check: $(STAMP)
	$(BIN)/ruff check server theming table_client display tests bench tools
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python tools/code_rules.py

bench: $(STAMP)
	$(BIN)/python bench/theming_quality.py
	$(BIN)/python bench/theming_speed.py

clean:
	rm -rf $(VENV) demo-data .pytest_cache .mypy_cache .ruff_cache

# The whole suite again on the PostgreSQL server at 127.0.0.1:5432 (database per test).
test-postgres: install
	TOWNHALL_TEST_DB=postgres $(BIN)/python -m pytest $(PYTEST_PARALLEL) $(PYTEST_ARGS)
