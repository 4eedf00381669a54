# The README's commands. `make demo` and `make test` work from a fresh clone.
SHELL := /bin/bash
export UV_COMPILE_BYTECODE := 1
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := .venv
VENV := .venv
PY := $(VENV)/bin/python
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
DEMO_PORT ?= 8000
STANDIN_PORT ?= 8420
SYSTEM_PACKAGES := chromium poppler-utils fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0

.PHONY: install system-packages demo test test-sqlite lint bench clean

.tools/bin/uv:
	@python=$$(bin/find-python) || exit 1; \
	"$$python" -m venv .tools && .tools/bin/pip install --quiet --disable-pip-version-check uv

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	@python=$$(bin/find-python) || exit 1; \
	$(UV) sync --frozen --python "$$python"
	@touch $@

install: $(VENV)/.installed

# Debian packages the PDFs and the browser tests need; installed only when missing and root.
system-packages:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing:$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "Missing system packages:$$missing (run as root or install them)"; exit 1; fi; \
	fi

demo: install
	DEBUG=1 bin/demo $(DEMO_PORT) $(STANDIN_PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The whole suite. With DATABASE_URL set (CI: PostgreSQL) it runs there and on SQLite too.
test: install system-packages lint
	DEBUG=1 $(PY) manage.py check
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run
	@if [ -n "$$DATABASE_URL" ]; then \
	  echo "== Suite on $${DATABASE_URL%%:*}"; $(PY) -m pytest -n auto -q || exit $$?; \
	  echo "== Suite on SQLite (no browser tests)"; env -u DATABASE_URL $(PY) -m pytest -n auto -q -m "not e2e"; \
	else $(PY) -m pytest -n auto -q; fi

test-sqlite: install
	env -u DATABASE_URL $(PY) -m pytest -n auto -q

bench: install
	@for b in bench/[!_]*.py; do echo "== $$b"; DEBUG=1 $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .tools var trama.sqlite3
