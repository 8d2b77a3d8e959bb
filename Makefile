# Two commands for a newcomer: `make demo` and `make test`. Both build .venv
# first if needed. torch is installed alone and first: the CPU wheel on this
# machine's disk satisfies sentence-transformers, which would otherwise pull a
# multi-gigabyte CUDA build.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install demo test test-postgres check bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/townhall serve --demo

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

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
test-postgres: $(STAMP)
	TOWNHALL_TEST_DB=postgres $(BIN)/python -m pytest $(PYTEST_ARGS)
