# The two front-door commands: `make demo` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint lock run worker beat emulator clean

# Without a .env, `make run`, `make worker`, `make beat` and `make emulator` work on what `make demo`
# left: DEBUG on, its SQLite database, and Gmail played by `make emulator` on port 8765 (a variable
# already in the environment wins). With a .env, they use its settings and nothing else.
EMULATOR_PORT ?= 8765
ifeq ($(wildcard .env),)
LOCAL := DEBUG=$${DEBUG-true} GMAIL_API_ROOT_URL=$${GMAIL_API_ROOT_URL-http://127.0.0.1:$(EMULATOR_PORT)/} \
	GOOGLE_TOKEN_URI=$${GOOGLE_TOKEN_URI-http://127.0.0.1:$(EMULATOR_PORT)/token} \
	GMAIL_QUOTA_MODEL=$${GMAIL_QUOTA_MODEL-legacy}
else
LOCAL :=
endif

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"' 
	@$(PYTHON) -m venv $(VENV) || { echo "Could not create $(VENV): install Python's venv module (Debian: apt-get install python3-venv)."; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip

# Installs from the lock files: every package, direct or not, at its locked version and hashes.
$(VENV)/.base-installed: $(VENV)/bin/python requirements/base.lock
	$(PY) -m pip install --quiet --require-hashes -r requirements/base.lock
	@touch $@

$(VENV)/.dev-installed: $(VENV)/.base-installed requirements/dev.lock
	$(PY) -m pip install --quiet --require-hashes -r requirements/dev.lock
	@touch $@

# After changing a pin in requirements/base.txt or dev.txt: lock again (needs the package index).
lock: $(VENV)/.dev-installed
	$(PY) -m pip install --quiet pip-tools==7.6.2
	for name in base dev; do $(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-index-url --no-emit-find-links --output-file requirements/$$name.lock requirements/$$name.txt; done

test: $(VENV)/.dev-installed
	$(PY) -m pytest

demo: $(VENV)/.base-installed
	$(PY) scripts/demo.py

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy config gmail_sync receipts
	DEBUG=true $(PY) manage.py makemigrations --check --dry-run

run: $(VENV)/.base-installed
	$(LOCAL) $(PY) manage.py migrate --noinput
	$(LOCAL) $(PY) manage.py collectstatic --noinput --verbosity 0
	$(LOCAL) $(PY) manage.py runserver

worker: $(VENV)/.base-installed
	$(LOCAL) $(VENV)/bin/celery -A config worker --loglevel=INFO

beat: $(VENV)/.base-installed
	$(LOCAL) $(VENV)/bin/celery -A config beat --loglevel=INFO

emulator: $(VENV)/.base-installed
	@test -f demo-data/sample.mbox || { echo "No demo-data/sample.mbox yet: run make demo first."; exit 1; }
	$(LOCAL) $(PY) manage.py gmail_emulator --mailbox demo-data/sample.mbox --address demo@example.com \
		--port $(EMULATOR_PORT) --quota-model legacy --quota 250 --latency-ms 5 15

clean:
	rm -rf $(VENV) .pytest_cache .test-media
