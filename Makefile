# Two commands: `make run` (set up, load the demo once, serve) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test lint install docs

UV_VERSION := 0.13.9

# Python caches the bytecode of what it imports (__pycache__, ignored by git): each later manage.py starts in seconds,
# not after compiling Django, pandas and scikit-learn again. Some environments turn the cache off; not for ours.
unexport PYTHONDONTWRITEBYTECODE

# The exact versions of uv.lock (CI installs the same); after changing dependencies in pyproject.toml, run
# `.venv/bin/uv lock` and commit uv.lock with it. uv lives in the venv beside what it installs (--inexact).
$(BIN)/.installed: pyproject.toml uv.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet "uv==$(UV_VERSION)"
	UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv sync --frozen --inexact --extra dev --quiet
	touch $@

# The translation catalogs' .mo files are built here, never committed (manage.py catalogs: no system gettext needed).
install: $(BIN)/.installed
	$(BIN)/python manage.py catalogs compile

run: install site/index.html
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py load_demo --if-empty
	# Six months of nightly history (weekly, then daily for the last five weeks); dates already done are skipped.
	# The nights fire the demo's playbooks: their e-mails about the past are not printed.
	EMAIL_BACKEND=django.core.mail.backends.dummy.EmailBackend \
		$(BIN)/python manage.py recompute --backfill 182 --every 7 --daily 35 --missing-only
	# The demo team's work on what the nights made (tasks done); idempotent, nothing to do without the demo.
	$(BIN)/python manage.py load_demo --after-backfill
	# runserver, and the beat schedule in a thread beside it (no broker): current figures refresh, nights run at 02:00.
	$(BIN)/python manage.py serve 127.0.0.1:$(PORT)

# One test process per core (pytest-xdist), each with its own test database and Redis database; worksteal hands
# the long browser crawls' neighbours to whichever process is free.
TEST_WORKERS ?= auto
test: install
	DJANGO_SETTINGS_MODULE=csm_platform.settings.test $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The documentation site (docs/ → site/); strict: any warning, such as a broken link, fails the build.
docs: install
	$(BIN)/mkdocs build --strict --site-dir site

# What `make run` serves at /docs/ (the figures' "How is this computed?" links): built again, in a few seconds, only
# when docs/, docs_theme/ or mkdocs.yml changed since.
site/index.html: $(BIN)/.installed mkdocs.yml $(shell find docs docs_theme -type f)
	$(BIN)/mkdocs build --quiet --site-dir site
