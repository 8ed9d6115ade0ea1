# EthiTech classroom. Two commands on a fresh machine: `make demo`, `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
# Virtualenvs are cached outside the clone, keyed by the requirements' hash,
# so a fresh clone (CI) reuses one built earlier on the same machine.
REQ_HASH := $(shell cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-16)
VENV_HOME ?= $(HOME)/.cache/ethitech/venv-$(REQ_HASH)
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
DEMO_HOST ?= 127.0.0.1
DEMO_PORT ?= 8000

# Tests run against real PostgreSQL and Redis; .ci/run sets these too.
TEST_DATABASE_URL ?= $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/ethitech)
TEST_REDIS_URL ?= $(or $(REDIS_URL),redis://127.0.0.1:6379/0)

.PHONY: venv messages demo test lint format browser-deps run-worker clean bench-inference bench-training bench-audit

venv: $(VENV_HOME)/.complete
	@if [ "$$(readlink $(VENV) 2>/dev/null)" != "$(VENV_HOME)" ]; then rm -rf $(VENV); ln -s $(VENV_HOME) $(VENV); fi

# No file prerequisites: the requirements' hash is in the folder name, and a fresh
# clone's newer file times must not force a rebuild of an identical venv.
$(VENV_HOME)/.complete:
	rm -rf $(VENV_HOME)
	$(PYTHON) -m venv $(VENV_HOME)
	$(VENV_HOME)/bin/pip install --quiet --disable-pip-version-check --upgrade pip
	$(VENV_HOME)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# Debian's Chromium for the browser test (never a browser download).
browser-deps:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
		echo "Installing Debian's chromium and chromium-driver..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi

# Translations: locale/*/LC_MESSAGES/*.po are the source; the .mo files are built here,
# never committed. GNU gettext's msgfmt is installed from Debian's packages when missing.
messages: venv
	@if ! command -v msgfmt >/dev/null; then \
		echo "Installing GNU gettext (msgfmt) for the translations..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; \
	fi
	$(MANAGE) compilemessages -v0 --ignore .venv --ignore var

# TensorFlow's C++ start-up lines (written before its logging is set up, whatever
# TF_CPP_MIN_LOG_LEVEL says) are left out of the demo's console; errors still show.
TF_QUIET := grep --line-buffered -v -e 'absl::InitializeLog' -e 'oneDNN custom operations are on'

demo: venv messages
	$(MANAGE) migrate --noinput -v0
	$(MANAGE) collectstatic --noinput -v0
	$(MANAGE) train_demo_models --skip-existing
	$(MANAGE) seed_demo
	@echo
	@echo "EthiTech classroom (synthetic demo): starting..."
	@trap 'kill 0' EXIT INT TERM; \
	export TF_CPP_MIN_LOG_LEVEL=3 PYTHONWARNINGS=ignore::UserWarning,ignore::RuntimeWarning; \
	echo "Started: worker for the two MLPs (queues mlp, maintenance)"; \
	$(BIN)/celery --quiet -A ethitech worker -Q mlp,maintenance --concurrency 2 --loglevel ERROR -n mlp@%h & \
	echo "Started: scheduler (photo purge, sweeper)"; \
	mkdir -p "$${ETHITECH_DATA_DIR:-var}"; \
	$(BIN)/celery --quiet -A ethitech beat --loglevel ERROR --schedule "$${ETHITECH_DATA_DIR:-var}/celerybeat-schedule" & \
	echo "Started: VGG-Face worker (queue vgg)"; \
	nice -n 10 $(BIN)/celery --quiet -A ethitech worker -Q vgg --concurrency 1 --loglevel ERROR -n vgg@%h 2> >($(TF_QUIET) >&2) & \
	echo "Started: training worker (queues training, gpu: the teacher's jobs and the student lab)"; \
	nice -n 15 $(BIN)/celery --quiet -A ethitech worker -Q training,gpu --concurrency 1 --loglevel ERROR -n training@%h 2> >($(TF_QUIET) >&2) & \
	echo "Started: web server"; \
	echo; echo "Open http://$(DEMO_HOST):$(DEMO_PORT)/ and log in with one of the logins above. Ctrl-C stops everything."; \
	$(BIN)/gunicorn ethitech.wsgi --bind $(DEMO_HOST):$(DEMO_PORT) --workers 2 --log-level warning ; \
	wait

# One worker per queue, so MLP answers never wait behind VGG-Face work. Training runs at the
# lowest CPU priority, the VGG-Face worker at a lower one than the MLPs (nice 10; `make demo`
# starts all in one session, where nice values rank them; docker-compose.yml uses cpu_shares, see
# docs/operations.md): on 2 cores the uploads and the MLP answers get the CPU first in a class's
# burst. With VGG-Face in bfloat16, make bench-inference measured the MLP answers of a 30-photo
# burst of phone photos at p95 1.9-2.2 s from pressing upload, against 2.7-3.2 s without the priority.
run-worker: venv
	$(BIN)/celery -A ethitech worker -Q $(or $(QUEUE),mlp) --concurrency 1 --loglevel INFO -n $(or $(QUEUE),mlp)@%h

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: venv messages browser-deps lint
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest

# Benchmarks print numbers; they are not tests. They need PostgreSQL and Redis.
# VGG-Face in float32, bfloat16 and int8 side by side: raw forward, one photo, a 30-photo burst, memory.
# BENCH_INFERENCE_ARGS="--phone-photos" uploads 4032x3024 phone-camera JPEGs (as the upload page sends
# them; "--as-sent file" whole) instead of the synthetic 96 px photos; "--photos DIR" your own photos.
bench-inference: venv
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python bench/bench_inference.py $(BENCH_INFERENCE_ARGS)

# The whole platform (3 models per photo) against a plain deepface-style loop (Keras, OpenCV Haar,
# one photo at a time) on the same photos, same run: photos per second and the ratio.
# BENCH_PEER_ARGS="--photos DIR" uses your own photos (default: 30 generated 4032x3024 JPEGs).
.PHONY: bench-peer
bench-peer: venv
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python bench/bench_peer.py $(BENCH_PEER_ARGS)

bench-training: venv
	$(BIN)/python bench/bench_training.py

# Class results over 1,000,000 stored tests in PostgreSQL (BENCH_DATABASE_URL, default
# .../ethitech_bench; loaded once, --reload to redo): p50/p95 of the queries and page renders.
.PHONY: bench-results
bench-results: venv
	$(BIN)/python bench/bench_results.py $(BENCH_ARGS)

# 50 users browsing, submitting and reading results against gunicorn, PostgreSQL, Redis and a real
# worker (fresh database ethitech_load, Redis db 5), 60 s: p50/p95 per page, errors, time to an answer.
# BENCH_LOAD_ARGS="--users 50 --seconds 60 --think 1.0 --web-workers 4" changes the mix.
.PHONY: bench-load
bench-load: venv
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python bench/bench_load.py $(BENCH_LOAD_ARGS)

# The student lab: 30 students press Train at once against a real worker on the training queue
# (fresh database ethitech_lab, Redis db 5): time to the first and last model, p50/p95, peak memory.
# BENCH_LAB_ARGS="--spread 60 --concurrency 2" changes the mix.
.PHONY: bench-lab
bench-lab: venv
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python bench/bench_lab.py $(BENCH_LAB_ARGS)

# Audits of a collection: a zip of 500 generated faces (60/10/10/10/10) uploaded through the page,
# answered by the two demo MLPs and the full-size demo VGG-Face with real workers (fresh database
# ethitech_audit, Redis db 5): time to the report, per model, worker memory, estimates vs truth.
.PHONY: bench-audit
bench-audit: venv
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python bench/bench_audit.py $(BENCH_AUDIT_ARGS)

clean:
	rm -rf var .pytest_cache .ruff_cache
