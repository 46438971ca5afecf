"""The decision on ``/api/schema/`` and ``/api/docs/``: they need a token or a signed-in user, like the rest of the
API (every API client has a token; an anonymous request would cost a schema generation)."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_the_schema_and_its_docs_refuse_an_anonymous_request(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert b"CSM Platform API" not in response.content


def test_the_schema_is_served_to_a_token(edna):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=edna).key}")
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "CSM Platform API"


def test_the_docs_page_and_its_schema_are_served_to_a_signed_in_user(client, edna):
    client.force_login(edna)
    assert client.get("/api/docs/").status_code == 200
    assert client.get("/api/schema/").status_code == 200
