# make run   set up and serve http://127.0.0.1:8000 (SQLite and eager tasks unless
#            DATABASE_URL / REDIS_URL are set; with REDIS_URL a Celery worker runs too);
#            an empty database first gets DEMO_REPORTS synthetic reports of this year
#            (default 300; DEMO_REPORTS=0 for none)
# make test  set up and run the whole test suite
# make lint  ruff, mypy and Django's deployment checks
# make audit the pinned dependencies against the PyPI advisory database (pip-audit; needs
#            to reach pypi.org's JSON API)
# make messages  refresh the translation catalogues (locale/) from the code and compile them
# make bench the benchmarks against this machine's PostgreSQL and Redis (bench/RESULTS.md)

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_REPORTS ?= 300
export PYTHONDONTWRITEBYTECODE := 1

ifneq (,$(wildcard .env))
include .env
export
endif

.PHONY: install run test lint audit format messages bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_reference_data
	@if [ "$(DEMO_REPORTS)" != "0" ]; then \
		$(PY) manage.py generate_demo_data --reports $(DEMO_REPORTS) --year $$(date +%Y) --if-empty; \
	fi
	@if [ -n "$$REDIS_URL" ]; then \
		echo "REDIS_URL is set: starting a Celery worker with beat beside the web server"; \
		trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
		$(PY) -m celery -A config worker -B -Q urgent,routing,delivery,default --loglevel INFO \
			--schedule $(VENV)/celerybeat-schedule & worker=$$!; \
		$(PY) manage.py runserver 127.0.0.1:8000; \
	else \
		echo "REDIS_URL is not set: routing runs in the web process (eager tasks)"; \
		$(PY) manage.py runserver 127.0.0.1:8000; \
	fi

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

messages: install
	$(PY) manage.py makemessages --no-location --ignore=.venv --ignore=bench --ignore=tests \
		$(foreach language,es fr pt ar hi fil id,-l $(language))
	$(PY) manage.py compilemessages --ignore=.venv

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy .
	DJANGO_SETTINGS_MODULE=config.settings.production \
		DJANGO_SECRET_KEY=lint-only-$$(printf '%064d' 0) DJANGO_ALLOWED_HOSTS=tipline.example.com REDIS_URL=redis://redis:6379/0 \
		FIELD_ENCRYPTION_KEYS=$$(printf '%043d=' 0) \
		$(PY) manage.py check --deploy --fail-level WARNING

audit: install
	$(PY) -m pip_audit --strict --disable-pip --no-deps --progress-spinner off -r constraints.txt

bench: install
	$(PY) -m bench

format: install
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	rm -rf $(VENV) staticfiles .mypy_cache .ruff_cache .pytest_cache
