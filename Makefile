# The two front-door commands: `make demo` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint run worker beat clean

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"' 
	@$(PYTHON) -m venv $(VENV) || { echo "Could not create $(VENV): install Python's venv module (Debian: apt-get install python3-venv)."; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.base-installed: $(VENV)/bin/python requirements/base.txt
	$(PY) -m pip install --quiet -r requirements/base.txt
	@touch $@

$(VENV)/.dev-installed: $(VENV)/.base-installed requirements/dev.txt
	$(PY) -m pip install --quiet -r requirements/dev.txt
	@touch $@

test: $(VENV)/.dev-installed
	$(PY) -m pytest

demo: $(VENV)/.base-installed
	$(PY) scripts/demo.py

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .

run: $(VENV)/.base-installed
	$(PY) manage.py runserver

worker: $(VENV)/.base-installed
	$(VENV)/bin/celery -A config worker --loglevel=INFO

beat: $(VENV)/.base-installed
	$(VENV)/bin/celery -A config beat --loglevel=INFO

clean:
	rm -rf $(VENV) .pytest_cache .test-media
