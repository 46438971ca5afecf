"""Test settings: real PostgreSQL and Redis when they answer, the embedded defaults otherwise.

``DATABASE_URL``/``REDIS_URL`` win when set (CI sets both). Unset, the local PostgreSQL
(127.0.0.1:5432, user postgres) and Redis (127.0.0.1:6379) are used if they are reachable.
"""

import os
import socket
from urllib.parse import urlsplit


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


if "DATABASE_URL" not in os.environ and _answers("127.0.0.1", 5432):
    os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/csm_platform"
if "REDIS_URL" not in os.environ and _answers("127.0.0.1", 6379):
    os.environ["REDIS_URL"] = "redis://127.0.0.1:6379/15"

# Under pytest -n (pytest-xdist) each worker process gets its own Redis database, as pytest-django gives it its own
# test database (suffix _gw0, _gw1...): one worker's purge or queued tasks never reach another's.
if os.environ.get("PYTEST_XDIST_WORKER") and os.environ.get("REDIS_URL"):
    _redis = urlsplit(os.environ["REDIS_URL"])
    _db = (int(_redis.path.strip("/") or 0) - int(os.environ["PYTEST_XDIST_WORKER"].removeprefix("gw"))) % 16
    os.environ["REDIS_URL"] = _redis._replace(path=f"/{_db}").geturl()

from .base import *  # noqa: E402, F403
from .base import DATABASES, env  # noqa: E402

SECRET_KEY = "test-only-secret-key"  # noqa: S105
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve static files straight from the finders: tests never run collectstatic.
WHITENOISE_AUTOREFRESH = True
# Tests dispatch tasks in-process; the worker test starts a real worker on REDIS_URL.
CELERY_TASK_ALWAYS_EAGER = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", default="test_csm_platform")}
