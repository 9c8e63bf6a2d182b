# Two commands do everything on a fresh machine with Python 3.11+:
#   make run    installs into .venv, migrates the database and starts the bot (console mode when
#               BOT_TOKEN is unset)
#   make test   installs into .venv and runs the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench check-data migrate console demo clean

# The pinned packages are installed by uv (itself pinned, from PyPI like the rest): it resolves and
# unpacks in parallel and compiles the bytecode on every core, ~15 s on this 2-core machine where pip
# took ~65 s. The result is the same venv, with the same pins.
UV_VERSION := 0.13.9
$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --python $(BIN)/python --quiet --compile-bytecode -r requirements-dev.txt
	touch $(STAMP)

# Migrations are a step of their own (the bot never migrates itself), so run does both, in order.
run: $(STAMP)
	$(BIN)/python -m bot migrate
	$(BIN)/python -m bot

console: $(STAMP)
	$(BIN)/python -m bot console

# Console mode with no internet and no keys: local stand-in exchange and model, data/demo.sqlite3.
demo: $(STAMP)
	$(BIN)/python -m bot demo

migrate: $(STAMP)
	$(BIN)/python -m bot migrate

# The tests run in parallel worker processes (pytest-xdist; each test has its own database, Redis
# prefix and servers): one per CPU, plus one to use the time tests spend waiting on their servers.
# Measured on 2 CPUs (SQLite): 2 workers 3:18, 3 workers 2:56, 4 workers slower again (the suite is
# mostly CPU: each worker and each e2e bot process imports aiogram). PYTEST_WORKERS=0 runs
# everything in one process. Tests go to the workers at most 8 at a time: xdist's default chunks
# (up to a quarter of a worker's share) left one worker with minutes of tests while the others
# were done (432 s → 282 s on PostgreSQL + Redis, measured). pytest's exit status 5 (no tests collected) fails like any other.
PYTEST_WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))
# mypy (one core, ~30 s on a fresh clone) runs beside the suite instead of before it; its report is
# printed after the tests, and either failing fails the target.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	@log=$$(mktemp); $(BIN)/mypy . >"$$log" 2>&1 & mypy=$$!; \
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist load --maxschedchunk 8 $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests" >&2; fi; \
	wait $$mypy; typed=$$?; echo "$(BIN)/mypy ."; cat "$$log"; rm -f "$$log"; \
	if [ $$status -ne 0 ]; then exit $$status; fi; exit $$typed

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports --no-cache  # the layer contract in pyproject.toml

bench: $(STAMP)
	$(BIN)/python -m tests.bench

check-data: $(STAMP)
	$(BIN)/python scripts/check_market_data.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
