"""The OpenAPI schema generates without a warning, and its docs page works offline (no CDN)."""

import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from drf_spectacular.drainage import reset_generator_stats

pytestmark = pytest.mark.django_db


def test_schema_generates_valid_without_warnings(tmp_path):
    reset_generator_stats()  # warnings are counted process-wide
    schema_file = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(schema_file))
    text = schema_file.read_text()
    for path in ("/api/accounts/", "/api/contacts/{id}/", "/api/contracts/", "/api/usage-events/", "/api/token/"):
        assert f"  {path}:" in text


def test_schema_is_served(client, edna):
    client.force_login(edna)
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "CSM Platform API"


def test_docs_page_uses_only_our_static_files(client, edna):
    client.force_login(edna)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "://" not in html  # no absolute URL at all: nothing is fetched from elsewhere
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(url.endswith("swagger-ui-bundle.js") for url in assets)
    assets.remove("/api/docs/?script=")  # the page's own script, served by the view (no inline script: the CSP)
    assert client.get("/api/docs/?script=")["Content-Type"].startswith("application/javascript")
    for url in assets:
        assert url.startswith(settings.STATIC_URL) or url.startswith(f"/{settings.STATIC_URL}"), url
        assert finders.find(url.split(settings.STATIC_URL, 1)[1]), f"{url} is not one of our static files"
