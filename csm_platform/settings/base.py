"""Settings shared by every environment, read from the environment with django-environ.

Unset ``DATABASE_URL`` means the embedded SQLite file; unset ``REDIS_URL`` means Celery
tasks run in-process (eagerly). Production (``production.py``) requires ``SECRET_KEY``.
"""

import datetime as dt
from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def env_bool(name: str, default: bool) -> bool:
    """Strict boolean parsing: only true/false/1/0/yes/no/on/off (any case) are accepted."""
    raw = env.str(name, default="")
    if raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise environ.ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true/false, 1/0, yes/no, on/off)")


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env.str("SECRET_KEY", default="insecure-local-only-secret-key-change-me")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "csm_platform.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tables2",
    "django_htmx",
    "axes",
    "auditlog",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "accounts",
    "health",
    "journeys",
    "csm_platform.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "csm_platform.web.middleware.UserTimeZoneMiddleware",
    # After LocaleMiddleware (the browser's language, else the workspace's): a signed-in user's own choice wins.
    "csm_platform.web.middleware.UserLanguageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "csm_platform.middleware.AuditlogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last: it turns a login refused by the lockout into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

# Password guessing: after AXES_FAILURE_LIMIT failures for one username, or from one address, further logins are
# refused (429) on every path (web, admin, API token) until an admin unlocks them (admin: Access attempts, or
# `manage.py axes_reset_username NAME`) or the cool-off passes.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=20)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=60))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# The audit trail (admin: Log entries; an account's own entries on its timeline): who changed what and when.
_UNTRACKED = ["created_at", "updated_at"]
AUDITLOG_INCLUDE_TRACKING_MODELS = [
    {"model": "accounts.Account", "exclude_fields": _UNTRACKED},
    {"model": "accounts.Contract", "exclude_fields": _UNTRACKED},
    {"model": "accounts.ExchangeRate"},
    {"model": "accounts.Team"},
    {
        "model": "accounts.User",
        "exclude_fields": ["last_login", "password"],
        "m2m_fields": ["groups", "user_permissions"],
    },
    {"model": "auth.Group", "m2m_fields": ["permissions"]},
    {"model": "accounts.WriteKey", "exclude_fields": ["key_hash"]},
    {"model": "health.Scorecard", "exclude_fields": _UNTRACKED},
    {"model": "health.ScorecardMeasure"},
    {"model": "journeys.Playbook", "exclude_fields": _UNTRACKED},
    {"model": "journeys.PlaybookStep"},
    {"model": "journeys.PlaybookCondition"},
    {"model": "accounts.Contact", "exclude_fields": _UNTRACKED},
    {"model": "accounts.ContactEngagement", "exclude_fields": _UNTRACKED},
    {"model": "accounts.StripeCustomer"},
    {"model": "journeys.Endpoint", "exclude_fields": ["secret"]},
    {"model": "web.QuarterTarget"},
]

# Content-Security-Policy on every response: no inline script anywhere (charts draw from JSON in data attributes,
# static/js/charts.js), nothing loaded from another origin, no framing. Inline styles stay allowed: Plotly injects
# a <style> element and sets style attributes on the charts it draws.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "object-src": [NONE],
    }
}

# Staff must sign in to the admin with a TOTP code (a device added under "TOTP devices"); on in production.
ADMIN_REQUIRE_OTP = env_bool("ADMIN_REQUIRE_OTP", False)

ROOT_URLCONF = "csm_platform.urls"
WSGI_APPLICATION = "csm_platform.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csm_platform.navigation.navigation",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default serves pages while in-process tasks write: write-ahead logging lets readers go on during
    # a write, synchronous=NORMAL syncs at checkpoints rather than at every commit (safe in WAL mode), and IMMEDIATE
    # transactions take the write lock up front, so a transaction never fails upgrading its lock midway.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY;"
        " PRAGMA cache_size=-131072",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# The languages of the pages: each user's own (User.language), else the browser's Accept-Language, else the
# workspace's. The project's strings are in locale/, each app's in its own locale/ (.mo files: `make install`).
LANGUAGES = [("en", "English"), ("ko", "한국어")]
LANGUAGE_CODE = env.str("WORKSPACE_LANGUAGE", default="en")
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise environ.ImproperlyConfigured(f"WORKSPACE_LANGUAGE={LANGUAGE_CODE!r} is not one of: en, ko")
LOCALE_PATHS = [BASE_DIR / "locale"]
# Korean short dates as 2026. 12. 7. (Django's own formats otherwise).
FORMAT_MODULE_PATH = ["csm_platform.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# The workspace's reporting currency: every ACV/ARR figure is converted into it.
REPORTING_CURRENCY = env.str("REPORTING_CURRENCY", default="USD")

REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task whose worker process died (SIGKILL, out of memory) goes back to the queue instead of being acknowledged.
CELERY_TASK_REJECT_ON_WORKER_LOST = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only: the browsable API's forms would load every account and user into drop-downs. /api/docs/ documents.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # drf-spectacular's, plus the error responses (400/401/403/404/429) DRF gives each operation.
    "DEFAULT_SCHEMA_CLASS": "csm_platform.api.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CSM Platform API",
    "DESCRIPTION": "Accounts, contacts, contracts and usage of the customer success platform.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Request bodies get their own components (e.g. ContractRequest): what a client sends is described exactly
    # (no read-only fields; a required text field that may not be blank has minLength 1).
    "COMPONENT_SPLIT_REQUEST": True,
    # The schema and its docs page need a signed-in user or a token, like every other endpoint: every API client
    # has a token anyway, and an anonymous request would cost a schema generation (about 130 ms) for 50 KB.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI and Redoc from our own static files (drf-spectacular-sidecar): the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# Redis when configured (shared by every process: rate limits hold across gunicorn workers), else in-process.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Customer lifetime value (docs/concepts/renewals-and-value.md): gross margin m and annual discount rate r.
CLV_GROSS_MARGIN = env.float("CLV_GROSS_MARGIN", default=0.8)
CLV_DISCOUNT_RATE = env.float("CLV_DISCOUNT_RATE", default=0.1)

# Accounts per nightly recompute task (the night fans out in chunks of this size across the workers).
RECOMPUTE_CHUNK_SIZE = env.int("RECOMPUTE_CHUNK_SIZE", default=500)
# Hard time limits (seconds) of a chunk task and of the night's own task (fold, revenue, churn training). A chunk
# claimed longer ago than its limit was lost with its worker and may be claimed again; a running night with no
# progress for longer than the night's limit is resumed by the heal job (beat, and every worker that starts).
RECOMPUTE_CHUNK_TIME_LIMIT = env.int("RECOMPUTE_CHUNK_TIME_LIMIT", default=30 * 60)
RECOMPUTE_NIGHT_TIME_LIMIT = env.int("RECOMPUTE_NIGHT_TIME_LIMIT", default=60 * 60)
# Redis redelivers an unacknowledged (acks_late) task after this long: longer than the longest hard time limit, so
# a long night is never delivered twice while it runs.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 2 * max(RECOMPUTE_NIGHT_TIME_LIMIT, RECOMPUTE_CHUNK_TIME_LIMIT, CELERY_TASK_TIME_LIMIT)
}

# Tracking API: requests per second per write key (0 turns the limit off).
INGEST_RATE_LIMIT_PER_SECOND = env.int("INGEST_RATE_LIMIT_PER_SECOND", default=1000)
# Raw usage events are kept this many months (PostgreSQL drops older months whole, once their rollups are final;
# the rollups keep all history). 0 keeps every raw event.
USAGE_RAW_RETENTION_MONTHS = env.int("USAGE_RAW_RETENTION_MONTHS", default=13)

# The documentation (docs/, built into DOCS_ROOT by `make docs` and `make run`), served to signed-in users at
# /docs/. Each figure's "How is this computed?" link points into DOCS_URL: /docs/ by default, or the address of
# docs hosted elsewhere (the same build: pages end in .html). Always ends with a slash.
DOCS_URL = env.str("DOCS_URL", default="/docs/").rstrip("/") + "/"
DOCS_ROOT = Path(env.str("DOCS_ROOT", default=str(BASE_DIR / "site")))

# Links in emails (the morning digest) point here; mail goes to the console unless SMTP is configured.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="CSM Platform <csm@localhost>")

# Stripe (docs/integration-guide.md): the webhook endpoint's signing secret ("whsec_..."; empty refuses every event)
# and the customer metadata key whose value is the account's CRM id (Account.external_id).
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_ACCOUNT_METADATA_KEY = env.str("STRIPE_ACCOUNT_METADATA_KEY", default="crm_id")

# Outgoing webhooks (docs/integration-guide.md): each delivery waits WEBHOOK_TIMEOUT_SECONDS for an answer; a failed
# attempt is retried after WEBHOOK_RETRY_BASE_SECONDS, doubled each time (at most WEBHOOK_RETRY_MAX_SECONDS), up to
# WEBHOOK_MAX_ATTEMPTS attempts in all. A renewal "enters its window" WEBHOOK_RENEWAL_WINDOW_DAYS before its end.
WEBHOOK_TIMEOUT_SECONDS = env.int("WEBHOOK_TIMEOUT_SECONDS", default=10)
WEBHOOK_RETRY_BASE_SECONDS = env.int("WEBHOOK_RETRY_BASE_SECONDS", default=30)
WEBHOOK_RETRY_MAX_SECONDS = env.int("WEBHOOK_RETRY_MAX_SECONDS", default=60 * 60)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=6)
WEBHOOK_RENEWAL_WINDOW_DAYS = env.int("WEBHOOK_RENEWAL_WINDOW_DAYS", default=90)
