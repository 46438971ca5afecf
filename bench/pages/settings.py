"""Settings of the page bench's server: the local settings plus the baseline's URL and a server-time header. Only
``bench/pages/run.py`` uses them, so the baseline is never part of the shipped project."""

from csm_platform.settings.local import *  # noqa: F403
from csm_platform.settings.local import MIDDLEWARE

ROOT_URLCONF = "bench.pages.urls"
# First: the time Django spends on a request, middleware included, as the X-Server-Ms header.
MIDDLEWARE = ["bench.pages.baseline.ServerTimeMiddleware", *MIDDLEWARE]
