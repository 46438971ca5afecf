"""The REST API answers what its OpenAPI schema says (``.ci/schemathesis`` fuzzes it on a live server): every error
an operation can give is documented with the body DRF really sends, what the schema calls valid is accepted, and
what the API refuses the schema does not call valid. One test per bug the fuzzer found."""

import re

import jsonschema
import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.models import UsageEvent
from tests.factories import AccountFactory, ContractFactory, SourceFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def body_schema(schema, path: str, method: str, code: str) -> dict:
    """The response's JSON schema, with the components it refers to resolvable."""
    content = schema["paths"][path][method]["responses"][code]["content"]["application/json"]["schema"]
    return {**content, "components": schema["components"]}


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_every_operation_documents_the_errors_drf_can_answer(schema):
    for path, method, operation in operations(schema):
        codes = set(operation["responses"])
        assert "401" in codes, (method, path)
        if "{" in path:
            assert "404" in codes, (method, path)
        if method in ("post", "put", "patch"):
            assert {"400", "403"} <= codes, (method, path)
        if method == "get" and "{" not in path:  # lists: bad filters 400, a page past the last 404
            assert {"400", "404"} <= codes, (method, path)
        for code, response in operation["responses"].items():
            if code.startswith("4"):
                assert "application/json" in response["content"], (method, path, code)


def test_error_bodies_are_the_ones_documented(schema, edna):
    client = api(edna)
    cases = [
        (client.get("/api/accounts/0/"), "/api/accounts/{id}/", "get", "404"),
        (client.get("/api/accounts/", {"owner": "0"}), "/api/accounts/", "get", "400"),
        (client.get("/api/accounts/", {"page": "9"}), "/api/accounts/", "get", "404"),
        (client.post("/api/accounts/", {"name": "Acme"}, format="json"), "/api/accounts/", "post", "403"),
        (APIClient().get("/api/contracts/"), "/api/contracts/", "get", "401"),
        (client.post("/api/token/", {"username": "edna"}, format="json"), "/api/token/", "post", "400"),
    ]
    for response, path, method, code in cases:
        assert str(response.status_code) == code, (path, response.content)
        jsonschema.validate(response.json(), body_schema(schema, path, method, code))


def test_an_unparseable_body_is_a_documented_400(schema, ada):
    contract = ContractFactory()
    response = api(ada).generic("PATCH", f"/api/contracts/{contract.pk}/", "\x00", content_type="application/json")
    assert response.status_code == 400
    jsonschema.validate(response.json(), body_schema(schema, "/api/contracts/{id}/", "patch", "400"))


def test_an_unknown_api_path_is_a_json_404_not_the_sites_page(edna):
    """A path the router does not match (a detail id with a dot) fell through to the site's HTML 404 page, a
    content type the schema does not document (and a 500 where the page's static files were not collected)."""
    response = api(edna).get("/api/usage-events/-1.5e-183/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_a_write_to_an_unknown_api_path_is_a_json_404_not_the_csrf_page(edna):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(edna)
    response = client.put("/api/contracts/-1.5e-3/", {"status": "active"}, format="json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_a_missing_slash_is_still_redirected_first(edna):
    assert api(edna).get("/api/accounts").status_code == 301


@pytest.mark.parametrize("page_size", ["abc", "0", "-1", "1.5", ""])
def test_a_page_size_that_is_not_a_whole_number_from_1_is_refused(edna, page_size):
    """It was silently ignored (50 rows), so a client's typo went unnoticed."""
    response = api(edna).get("/api/accounts/", {"page_size": page_size})
    assert response.status_code == 400
    assert "page_size" in response.json()


def test_a_page_size_above_the_maximum_gives_the_maximum(edna):
    AccountFactory.create_batch(3)
    response = api(edna).get("/api/accounts/", {"page_size": "100000"})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 3


def test_the_first_page_is_1(schema):
    for path, method, operation in operations(schema):
        for parameter in operation.get("parameters", []):
            if parameter["name"] in ("page", "page_size"):
                assert parameter["schema"]["minimum"] == 1, (method, path)


def test_money_patterns_match_what_drf_accepts(schema):
    """The pattern drf-spectacular wrote accepted "" and "-", which the API refuses."""
    pattern = schema["components"]["schemas"]["ContractRequest"]["properties"]["recurring_tcv"]["pattern"]
    for refused in ("", "-", "."):
        assert not re.search(pattern, refused), refused
    for accepted in ("0", "12000", "12000.5", "12000.50", ".5"):
        assert re.search(pattern, accepted), accepted


def test_text_that_may_not_be_blank_says_so_in_the_request_schema(schema, ada):
    """``user_id: ""`` was schema-valid for a usage event and answered 400 'may not be blank'."""
    request = schema["components"]["schemas"]["UsageEventRequest"]
    for name in ("user_id", "event", "message_id", "source"):
        assert request["properties"][name]["minLength"] == 1, name
    token = schema["components"]["schemas"]["AuthTokenRequest"]
    assert token["properties"]["username"]["minLength"] == 1
    response = api(ada).post(
        "/api/usage-events/",
        {
            "source": SourceFactory().name,
            "account": AccountFactory().pk,
            "user_id": "",
            "event": "Report Viewed",
            "occurred_at": "2026-01-01T00:00:00Z",
            "message_id": "m-1",
        },
        format="json",
    )
    assert response.status_code == 400
    assert not UsageEvent.objects.exists()


def test_read_only_fields_are_not_in_request_bodies(schema):
    contact = schema["components"]["schemas"]["ContactRequest"]["properties"]
    assert "roles" not in contact and "created_at" not in contact and "id" not in contact


def test_the_token_endpoint_documents_its_lockout(schema):
    response = schema["paths"]["/api/token/"]["post"]["responses"]["429"]
    assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_a_wrong_token_is_a_documented_401_even_where_none_is_needed(schema):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token wrong")
    response = client.post("/api/token/", {"username": UserFactory().username, "password": "x"}, format="json")
    assert response.status_code == 401
    jsonschema.validate(response.json(), body_schema(schema, "/api/token/", "post", "401"))
