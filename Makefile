# collab: `make run` serves the editor locally, `make test` runs every test.
# `make setup` does every install and build step and nothing else (deploys and CI use it).

PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMPS := .make
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup run test faults soak bench bench-realtime bench-memory worker clean

setup: $(STAMPS)/python $(STAMPS)/node $(STAMPS)/frontend

$(STAMPS)/python: requirements.txt
	@mkdir -p $(STAMPS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

$(STAMPS)/node: frontend/package.json frontend/package-lock.json
	@mkdir -p $(STAMPS)
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(STAMPS)/frontend: $(STAMPS)/python $(STAMPS)/node $(shell find frontend/src -type f 2>/dev/null) frontend/build.mjs
	cd frontend && npm run --silent build
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@touch $@

run: setup
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py ensure_demo_user --url http://$(HOST):$(PORT)/
	$(BIN)/daphne --bind $(HOST) --port $(PORT) --ping-interval 15 --ping-timeout 30 collab.asgi:application

test: setup
	$(BIN)/python -m pytest

# The fault-injection suite (needs PostgreSQL and Redis, see README; about 6 minutes).
faults: setup
	$(BIN)/python -m pytest tests/faults -q -s

# A long mixed fault run, loopback only: SOAK_SECONDS (default 300), SOAK_CLIENTS, SOAK_FAULT_EVERY, SOAK_SEED.
soak: setup
	$(BIN)/python bench/soak.py

bench: setup
	$(BIN)/python bench/ot_bench.py

# collab against ShareDB with real sharedb clients (docs/performance.md); needs PostgreSQL's and
# Redis's server binaries and HAProxy, starts its own instances, ~25 minutes (BENCH_QUICK=1: ~4).
bench-realtime: setup $(STAMPS)/bench
	$(BIN)/python bench/realtime/bench.py

# Where an idle connection's memory goes (tracemalloc on collab's daphne, ~2 minutes).
bench-memory: setup $(STAMPS)/bench
	$(BIN)/python bench/realtime/memory.py

$(STAMPS)/bench: bench/requirements.txt bench/realtime/package.json bench/realtime/package-lock.json
	@mkdir -p $(STAMPS)
	$(BIN)/python -m pip install --quiet -r bench/requirements.txt
	cd bench/realtime && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

worker: setup
	$(BIN)/celery -A collab worker --beat --schedule /tmp/collab-celerybeat-schedule --loglevel=info

clean:
	rm -rf $(VENV) $(STAMPS) frontend/node_modules bench/realtime/node_modules frontend/dist staticfiles
