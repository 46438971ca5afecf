# The documentation the web process serves at /docs/, built in a stage of its own: mkdocs (a dev dependency, at
# uv.lock's version) stays out of the image, which gets the built site only.
FROM python:3.11-slim AS docs
WORKDIR /src
COPY pyproject.toml uv.lock ./
RUN pip install --no-cache-dir "uv==0.13.9" \
 && uv export --frozen --extra dev --no-emit-project --no-hashes -o /tmp/constraints.txt \
 && pip install --no-cache-dir -c /tmp/constraints.txt mkdocs
COPY mkdocs.yml ./
COPY docs docs
COPY docs_theme docs_theme
RUN mkdocs build --strict --site-dir /src/site

# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=csm_platform.settings.production

WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
COPY csm_platform csm_platform
COPY accounts accounts
COPY health health
COPY journeys journeys
# The exact versions of uv.lock (without the dev extra), then the project itself.
RUN pip install --no-cache-dir "uv==0.13.9" \
 && uv export --frozen --no-emit-project -o /tmp/requirements.txt \
 && pip install --no-cache-dir -r /tmp/requirements.txt \
 && pip install --no-cache-dir --no-deps .
COPY . .
COPY --from=docs /src/site site
RUN SECRET_KEY=collectstatic-only ALLOWED_HOSTS=localhost DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    sh -c "python manage.py collectstatic --no-input && python manage.py catalogs compile"

RUN useradd --create-home app
USER app
EXPOSE 8000
CMD ["gunicorn", "csm_platform.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4"]
