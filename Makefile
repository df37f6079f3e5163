# The first two targets are the README's first two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
export PYTHONUNBUFFERED := 1

.PHONY: run test venv lint format check-migrations migrate demo worker ci bench

run: venv
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(PY) manage.py seed_demo
	DEBUG=$${DEBUG:-1} $(PY) manage.py runserver 127.0.0.1:8000

# Without REDIS_URL the tests run tasks in-process, which production refuses unless asked.
test: venv
	SECRET_KEY=$${SECRET_KEY:-insecure-test-only-key} TASKS_IN_PROCESS=$${TASKS_IN_PROCESS:-1} \
		$(PY) -m pytest

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

	SECRET_KEY=check-only TASKS_IN_PROCESS=1 $(PY) manage.py makemigrations --check --dry-run

migrate: venv
	$(PY) manage.py migrate --noinput

demo: venv
	$(PY) manage.py seed_demo

# Celery worker with beat, for setups with REDIS_URL and DATABASE_URL.
worker: venv
	$(VENV)/bin/celery -A observer worker --beat --loglevel=INFO

ci:
	.ci/run
