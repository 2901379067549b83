# Self-installing targets: each installs what it needs on a fresh machine, then runs.
#   make test    the whole test suite (Python, JavaScript, browser, benchmark smoke run)
#   make test-long  the long load runs (1000 clients, 20,000 connections, stop under load)
#   make demo    the demo app (a window under a display, else the URL)
#   make bench   the benchmark suite, kernel vs a bare websockets server

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: test test-long demo bench setup system-packages python-env node-env chromium test-python test-js

APT_INSTALL = { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq

# Debian packages for what this machine lacks (each is checked first).
system-packages:
	@$(PYTHON) -m venv --help >/dev/null 2>&1 || $(APT_INSTALL) python3-venv; }
	@command -v npm >/dev/null || $(APT_INSTALL) nodejs npm; }
	@command -v openssl >/dev/null || $(APT_INSTALL) openssl; }

$(PY): system-packages
	$(PYTHON) -m venv $(VENV)

# Python: the package with its test extra, and the example third-party plugin
# installed for real (not editable), as a user would install it.
python-env: $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m pip install --quiet --force-reinstall --no-deps ./plugins/sidegears-plugin-files

node-env: system-packages
	cd client && npm ci --no-audit --no-fund
	cd examples/vite && npm ci --no-audit --no-fund

# Debian's Chromium for the browser tests (tools may not download their own).
chromium:
	@[ -x $(CHROMIUM) ] || $(APT_INSTALL) chromium; }

setup: python-env node-env chromium

# The benchmark runs once as a smoke test (it must run; its numbers are not checked).
test-python:
	$(PY) -m mypy sidegears
	$(PY) -m benchmarks.run --quick --smoke > /dev/null
	SIDEGEARS_REQUIRE_BROWSER=1 SIDEGEARS_PYTHON=$(abspath $(PY)) $(PY) -m pytest -q tests plugins/sidegears-plugin-files/tests

test-js:
	cd client && npm run check-dist && npm run typecheck && SIDEGEARS_PYTHON=$(abspath $(PY)) npm test

test: setup test-js test-python

# Long load runs, marked "long" (make test runs a short variant of each).
test-long: python-env
	$(PY) -m pytest -q -m long tests

demo: python-env
	$(VENV)/bin/sidegears demo

bench: python-env
	$(PY) -m benchmarks.run
