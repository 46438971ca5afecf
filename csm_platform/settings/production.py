"""Production: secrets come from the environment and have no defaults."""

from .base import *  # noqa: F403
from .base import env, env_bool

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# HSTS for a year, with preload: the browsers' preload lists take a site only with a max-age of a year or more, so
# a shorter SECURE_HSTS_SECONDS (e.g. while rolling HTTPS out) turns preload off.
HSTS_PRELOAD_MIN_SECONDS = 31_536_000
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=HSTS_PRELOAD_MIN_SECONDS)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS >= HSTS_PRELOAD_MIN_SECONDS
SECURE_CONTENT_TYPE_NOSNIFF = True
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
# Staff sign in to the admin with a TOTP code; ADMIN_REQUIRE_OTP=false only while enrolling the first device.
ADMIN_REQUIRE_OTP = env_bool("ADMIN_REQUIRE_OTP", True)
