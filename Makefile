# Self-installing targets: each installs what it needs on a fresh machine, then runs.
#   make test    the whole test suite (Python, JavaScript, browser, benchmark smoke run)
#   make demo    the demo app (a window under a display, else the URL)
#   make bench   the benchmark suite, kernel vs a bare websockets server

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: test demo bench setup python-env node-env chromium test-python test-js

$(PY):
	$(PYTHON) -m venv $(VENV)

# Python: the package with its test extra, and the example third-party plugin
# installed for real (not editable), as a user would install it.
python-env: $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m pip install --quiet --force-reinstall --no-deps ./plugins/sidegears-plugin-files

node-env:
	cd client && npm ci --no-audit --no-fund

# Debian's Chromium for the browser tests (tools may not download their own).
chromium:
	@[ -x $(CHROMIUM) ] || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; }

setup: python-env node-env chromium

test-python:
	$(PY) -m mypy sidegears
	SIDEGEARS_PYTHON=$(abspath $(PY)) $(PY) -m pytest -q tests plugins/sidegears-plugin-files/tests
	$(PY) -m benchmarks.run --quick --smoke

test-js:
	cd client && npm run check-dist && npm run typecheck && SIDEGEARS_PYTHON=$(abspath $(PY)) npm test

test: setup test-js test-python

demo: python-env
	$(VENV)/bin/sidegears demo

bench: python-env
	$(PY) -m benchmarks.run
