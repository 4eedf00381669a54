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
SYSTEM_PACKAGES := chromium wrk poppler-utils fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0

.PHONY: install install-production serve check-production system-packages demo test test-sqlite lint bench screenshots clean

.tools/bin/uv:
	@python=$$(bin/find-python) || exit 1; \
	"$$python" -m venv .tools && .tools/bin/pip install --quiet --disable-pip-version-check uv

# Development, demo and tests: the runtime dependencies plus the `dev` group (pytest, ruff,
# Playwright, import-linter) and the `demo` group (localstripe, for the Stripe stand-in).
DEV_GROUPS := --group dev --group demo
# Production installs the runtime dependencies only, without the stand-in nor the test tools:
#   uv sync --frozen --no-default-groups
# `make check-production` does that in a throw-away environment and checks the project starts.
PROD_VENV := var/prod-venv

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	@python=$$(bin/find-python) || exit 1; \
	$(UV) sync --frozen $(DEV_GROUPS) --python "$$python"
	@touch $@

install: $(VENV)/.installed

# The runtime dependencies only, in .venv: what a production machine installs.
install-production: | $(UV)
	@python=$$(bin/find-python) || exit 1; \
	$(UV) sync --frozen --no-default-groups --python "$$python"

# Production on this machine: migrate, collect static files, then gunicorn (WEB_WORKERS), task
# workers (TASK_WORKERS) and the scheduler under a supervisor that restarts any that dies.
# Settings from the environment and ./.env if present (see .env.example); the same entrypoint
# as the image (bin/trama).
serve:
	@test -x $(PY) || $(MAKE) install-production
	@if [ -f .env ]; then set -a; . ./.env; set +a; fi; exec bin/trama serve

check-production: | $(UV)
	@python=$$(bin/find-python) || exit 1; \
	UV_PROJECT_ENVIRONMENT=$(PROD_VENV) $(UV) sync --frozen --no-default-groups --python "$$python"
	@! $(PROD_VENV)/bin/python -c "import localstripe" 2>/dev/null || \
	  { echo "localstripe is in the production install" >&2; exit 1; }
	DEBUG=0 SECRET_KEY=check-production STRIPE_WEBHOOK_SECRET=check-production \
	  ANYMAIL_WEBHOOK_SECRET=check:production $(PROD_VENV)/bin/python manage.py check

# Debian packages the PDFs and the browser tests need; installed only when missing and root.
system-packages:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing:$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "Missing system packages:$$missing (run as root or install them)"; exit 1; fi; \
	fi

# `install` brings the demo group: the stand-in plays Stripe in the demo and in the tests.
demo: install
	DEBUG=1 bin/demo $(DEMO_PORT) $(STANDIN_PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	DEBUG=1 $(VENV)/bin/mypy

# The whole suite. With DATABASE_URL set (CI: PostgreSQL) it runs there, and the tests that use
# the test database run on SQLite too (the others, which set up no database or one of their own,
# would only repeat themselves: `--database-tests-only`, tests/conftest.py).
# Each stage prints its seconds and the CPU seconds it used (its processes and theirs), and the
# last line the total (the CI log keeps them).
# TEST_WORKERS: pytest-xdist workers of each suite (auto: one per core).
# PARALLEL_STAGES=1: the PostgreSQL and SQLite suites run side by side, PARALLEL_WORKERS workers
# each; their outputs are kept apart and printed after, and either failing fails the build.
TEST_WORKERS ?= auto
PARALLEL_STAGES ?= 0
PARALLEL_WORKERS ?= 1
SQLITE_SUITE = env -u DATABASE_URL $(PY) -m pytest -q -m "not e2e" --database-tests-only

test: install system-packages
	@start=$$SECONDS; \
	timed() { local title=$$1 TIMEFORMAT rc; shift; echo "== $$title"; \
	  TIMEFORMAT="== $$title: %0R s (CPU %0U s user, %0S s system)"; \
	  time { "$$@"; rc=$$?; }; return $$rc; }; \
	side_by_side() { local logs pg sqlite pg_rc sqlite_rc; logs=$$(mktemp -d); \
	  { timed "Suite on $${DATABASE_URL%%:*}" $(PY) -m pytest -n $(PARALLEL_WORKERS) -q; } \
	    >"$$logs/pg" 2>&1 & pg=$$!; \
	  { timed "Suite on SQLite (tests that use the database, no browser tests)" $(SQLITE_SUITE) -n $(PARALLEL_WORKERS); } \
	    >"$$logs/sqlite" 2>&1 & sqlite=$$!; \
	  wait $$pg; pg_rc=$$?; wait $$sqlite; sqlite_rc=$$?; \
	  cat "$$logs/pg" "$$logs/sqlite"; rm -rf "$$logs"; \
	  [ $$pg_rc = 0 ] && [ $$sqlite_rc = 0 ]; }; \
	timed "Lint" $(MAKE) --no-print-directory lint \
	&& timed "Django checks" env DEBUG=1 $(PY) manage.py check \
	&& timed "Migrations up to date" env DEBUG=1 $(PY) manage.py makemigrations --check --dry-run \
	&& if [ -n "$$DATABASE_URL" ] && [ "$(PARALLEL_STAGES)" = 1 ]; then \
	  timed "Suites side by side" side_by_side; \
	elif [ -n "$$DATABASE_URL" ]; then \
	  timed "Suite on $${DATABASE_URL%%:*}" $(PY) -m pytest -n $(TEST_WORKERS) -q \
	  && timed "Suite on SQLite (tests that use the database, no browser tests)" $(SQLITE_SUITE) -n $(TEST_WORKERS); \
	else timed "Suite" $(PY) -m pytest -n $(TEST_WORKERS) -q; fi; \
	rc=$$?; [ $$rc = 0 ] && result=passed || result=FAILED; \
	echo "== make test took $$((SECONDS - start)) s ($$result)"; exit $$rc

test-sqlite: install
	env -u DATABASE_URL $(PY) -m pytest -n auto -q

# bench/giving_day.py plays a giving day on `bin/trama serve` with the stand-in (PostgreSQL; a
# short run here, `--minutes 10` for the issue's target; exits non-zero if its audit differs).
bench: install
	@for b in bench/[!_]*.py; do echo "== $$b"; DEBUG=1 $(PY) $$b || exit 1; done

# The README's screenshots (docs/*.png) from a fresh `make demo` running on DEMO_PORT.
screenshots: install
	$(PY) docs/screenshots.py --base http://127.0.0.1:$(DEMO_PORT)

clean:
	rm -rf $(VENV) .tools var trama.sqlite3
