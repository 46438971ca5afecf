"""Settings come from the environment; production refuses to start without its secrets."""

import os
import subprocess
import sys

import pytest

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "csm_platform.settings.production",
    "SECRET_KEY": "a-long-random-production-secret-" + "x" * 40,
    "ALLOWED_HOSTS": "csm.example.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
}


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    # A clean environment: browser tests in the same process set DJANGO_ALLOW_ASYNC_UNSAFE, which --deploy flags;
    # pytest sets DJANGO_SETTINGS_MODULE, whose absence some tests are about.
    dropped = {
        "SECRET_KEY",
        "DATABASE_URL",
        "DEBUG",
        "ALLOWED_HOSTS",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
        "DJANGO_SETTINGS_MODULE",
        "SECURE_HSTS_SECONDS",
    }
    base = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run([sys.executable, *args], env={**base, **env}, capture_output=True, text=True, timeout=120)


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return _run("manage.py", *args, env=env)


# A request straight to the WSGI application the way gunicorn calls it, over HTTPS behind the proxy; prints the
# settings module, DEBUG, the status, the HSTS header and whether the answer shows Django's debug page.
SERVE_ONE_REQUEST = """
import sys
from wsgiref.util import setup_testing_defaults
from django.conf import settings
from csm_platform.wsgi import application

environ = {"HTTP_HOST": sys.argv[1], "PATH_INFO": "/", "HTTP_X_FORWARDED_PROTO": "https"}
setup_testing_defaults(environ)
answer = {}
body = b"".join(application(environ, lambda status, headers: answer.update(status=status, headers=dict(headers))))
hsts = answer["headers"].get("Strict-Transport-Security")
print(settings.SETTINGS_MODULE, settings.DEBUG, answer["status"], hsts, b"settings" in body.lower(), sep="|")
"""


def _serve_one_request(host: str, **env: str) -> list[str]:
    result = _run("-c", SERVE_ONE_REQUEST, host, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1].split("|")


def test_production_check_deploy_reports_no_issues():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = _manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize("value", ["maybe", "ture", "2"])
def test_booleans_are_parsed_strictly(value):
    result = _manage("check", DEBUG=value)
    assert result.returncode != 0
    assert f"DEBUG='{value}' is not a boolean" in result.stderr


# Entry points: servers default to production, manage.py to local ---------------------------------------------------

SERVER = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_SETTINGS_MODULE"}


def test_gunicorn_without_a_settings_module_serves_production_and_no_debug_page():
    module, debug, status, _hsts, debug_page = _serve_one_request("attacker.example", **SERVER)
    assert (module, debug) == ("csm_platform.settings.production", "False")
    assert (status, debug_page) == ("400 Bad Request", "False")


@pytest.mark.parametrize("entry_point", ["csm_platform.wsgi", "csm_platform.asgi", "csm_platform.celery"])
def test_every_server_entry_point_defaults_to_production(entry_point):
    code = f"import {entry_point}; from django.conf import settings; print(settings.SETTINGS_MODULE, settings.DEBUG)"
    result = _run("-c", code, env=SERVER)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["csm_platform.settings.production", "False"]

    without_secret = {k: v for k, v in SERVER.items() if k != "SECRET_KEY"}
    result = _run("-c", code, env=without_secret)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_manage_py_keeps_the_local_settings():
    result = _manage("shell", "-c", "from django.conf import settings; print(settings.SETTINGS_MODULE)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "csm_platform.settings.local"


# HSTS -------------------------------------------------------------------------------------------------------------


def test_hsts_is_a_year_with_preload_in_production():
    _module, _debug, status, hsts, _page = _serve_one_request("csm.example.com", **SERVER)
    assert status == "302 Found"
    assert hsts == "max-age=31536000; includeSubDomains; preload"


def test_a_shorter_hsts_turns_preload_off():
    _module, _debug, _status, hsts, _page = _serve_one_request("csm.example.com", **SERVER, SECURE_HSTS_SECONDS="86400")
    assert hsts == "max-age=86400; includeSubDomains"
