# Two commands: `make run` (set up, load the demo once, serve) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test lint install docs

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(BIN)/.installed

run: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py load_demo --if-empty
	# Six months of nightly history (weekly, then daily for the last five weeks); dates already done are skipped.
	$(BIN)/python manage.py recompute --backfill 182 --every 7 --missing-only
	$(BIN)/python manage.py recompute --backfill 35 --missing-only
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: install
	DJANGO_SETTINGS_MODULE=csm_platform.settings.test $(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The documentation site (docs/ → site/); strict: any warning, such as a broken link, fails the build.
docs: install
	$(BIN)/mkdocs build --strict --site-dir site
