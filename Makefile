# Self-installing targets: each installs what it needs on a fresh machine, then runs.
#   make test    the whole test suite (Python, JavaScript, browser, benchmark smoke run)
#   make test-long  the long runs (1000 clients, 20,000 connections, stop under load, sidegears build)
#   make demo    the demo app (a window under a display, else the URL)
#   make bench   the benchmark suite, kernel vs a bare websockets server
#   make bench-anchors  the anchors: websockets, the kernel (default, speed extra), Node rpc-websockets, picows+uvloop (in .venv/bench)
# Quiet by default: one line per step, and a step's whole output only when it
# fails. V=1 (make test V=1) shows every command and everything it prints.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
V ?= 0

# $(call step,WHAT,COMMAND[,SUMMARY]): run COMMAND (no commas in it).
# Quiet: print WHAT, keep COMMAND's output in a file, print that file only
# if COMMAND fails (so a failure shows all that is needed to diagnose it);
# on success run SUMMARY with the file's name, if given.
ifeq ($(V),1)
Q :=
step = $(2)
PYTEST_FLAGS := -v
else
Q := @
step = @echo "$(1)"; log=$$(mktemp); if ( $(2) ) >"$$log" 2>&1; then $(if $(3),$(3) "$$log";) rm -f "$$log"; \
	else status=$$?; cat "$$log"; rm -f "$$log"; echo "*** $(1): failed (exit $$status)" >&2; exit $$status; fi
PYTEST_FLAGS := -q
endif

# node's TAP ends with "# pass N" and "# fail N": one line instead of the ~450 of TAP.
TAP_SUMMARY = awk '/^[\#] pass /{p=$$3} /^[\#] fail /{f=$$3} END{print "client: " p " passed, " f " failed"}'

.PHONY: test test-long demo bench bench-anchors setup system-packages python-env node-env chromium test-python test-js

APT_INSTALL = { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq

# Debian packages for what this machine lacks (each is checked first).
system-packages:
	@$(PYTHON) -m venv --help >/dev/null 2>&1 || $(APT_INSTALL) python3-venv; }
	@command -v npm >/dev/null || $(APT_INSTALL) nodejs npm; }
	@command -v openssl >/dev/null || $(APT_INSTALL) openssl; }
	@command -v valgrind >/dev/null || $(APT_INSTALL) valgrind; }

# Made once (system-packages is order-only: being phony, it would remake the venv every run).
$(PY): | system-packages
	$(call step,setup: .venv,$(PYTHON) -m venv $(VENV) && $(PY) -m pip install --quiet --upgrade pip)

# Python: the package with its test extra (which includes the demo extra), and
# the example third-party plugin installed for real (not editable), as a user
# would install it.
python-env: $(PY)
	$(call step,setup: Python packages (.venv),$(PY) -m pip install --quiet -e '.[test]' && $(PY) -m pip install --quiet --force-reinstall --no-deps ./plugins/sidegears-plugin-files)

# benchmarks/node: the Node anchor of the benchmarks (rpc-websockets on ws, pinned).
node-env: system-packages
	$(call step,setup: npm packages (client/ examples/vite/ and benchmarks/node/),cd client && npm ci --no-audit --no-fund && cd ../examples/vite && npm ci --no-audit --no-fund && cd ../../benchmarks/node && npm ci --no-audit --no-fund)

# Debian's Chromium for the browser tests (tools may not download their own).
chromium:
	@[ -x $(CHROMIUM) ] || $(APT_INSTALL) chromium; }

setup: python-env node-env chromium

# The benchmark runs once as a smoke test (it must run; its numbers are not checked).
test-python:
	$(call step,python: mypy,$(PY) -m mypy sidegears)
	$(call step,python: benchmark smoke run,$(PY) -m benchmarks.run --quick --smoke)
	@echo "python: pytest"
	$(Q)SIDEGEARS_REQUIRE_BROWSER=1 SIDEGEARS_PYTHON=$(abspath $(PY)) $(PY) -m pytest $(PYTEST_FLAGS) tests plugins/sidegears-plugin-files/tests

test-js:
	$(call step,client: build check and type check,cd client && npm run --silent check-dist && npm run --silent typecheck)
	$(call step,client: tests,cd client && SIDEGEARS_PYTHON=$(abspath $(PY)) npm test,$(TAP_SUMMARY))

test: setup test-js test-python

# Long runs, marked "long": the load runs (make test runs a short variant of
# each), and sidegears build's real PyInstaller builds (the build extra).
# A variable: a comma cannot be written inside $(call step ...).
BUILD_EXTRAS := .[test,build]
test-long: python-env chromium
	$(call step,setup: sidegears[build] (.venv),$(PY) -m pip install --quiet -e '$(BUILD_EXTRAS)')
	@echo "python: pytest -m long"
	$(Q)$(PY) -m pytest $(PYTEST_FLAGS) -m long tests

# The demo needs only the package and its demo extra, not the test tools. The
# stamp (inside .venv, so it goes with it) skips pip until pyproject.toml changes.
DEMO_STAMP := $(VENV)/.demo-installed

$(DEMO_STAMP): pyproject.toml | $(PY)
	$(call step,demo: installing sidegears[demo] into .venv,$(PY) -m pip install --quiet -e '.[demo]')
	$(Q)touch $@

demo: $(DEMO_STAMP)
	$(VENV)/bin/sidegears demo

bench: python-env
	$(PY) -m benchmarks.run

# The anchors run from a venv of their own, .venv/bench, with the bench extra
# (picows and uvloop, pinned): .venv stays what make setup makes. Node's
# anchor comes from node-env. ANCHORS passes options: make bench-anchors ANCHORS=--quick
BENCH_VENV := $(VENV)/bench
BENCH_PY := $(BENCH_VENV)/bin/python
ANCHORS ?=

$(BENCH_PY): | system-packages
	$(call step,setup: .venv/bench,$(PYTHON) -m venv $(BENCH_VENV) && $(BENCH_PY) -m pip install --quiet --upgrade pip)

bench-anchors: $(BENCH_PY) node-env
	$(call step,setup: sidegears[bench] (.venv/bench),$(BENCH_PY) -m pip install --quiet -e '.[bench]')
	$(BENCH_PY) -m benchmarks.anchors $(ANCHORS)
