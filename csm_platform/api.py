"""The one API router, the pagination every list shares, and the schema of the errors every operation can give.

Each app's ``<app>/api/urls.py`` registers its viewsets on ``router``; ``api_urls.py`` imports those modules
before it reads ``router.urls``.
"""

import re

from axes.helpers import get_lockout_message
from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import SAFE_METHODS
from rest_framework.routers import DefaultRouter

router = DefaultRouter()

# The bodies DRF answers a refused request with: ``{"detail": ...}`` (exceptions.APIException), and for invalid
# input each field's (or query parameter's) messages, ``non_field_errors`` for the input as a whole, or ``detail``
# when the body could not be parsed. A nested field's messages are an object keyed like the input.
ERROR_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": "Field (or query parameter) → messages; `non_field_errors` for the input as a whole; "
    "`detail` alone when the body could not be parsed.",
    "properties": {
        "detail": {"type": "string"},
        "non_field_errors": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}]},
}


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema plus the error responses DRF gives an operation, where it can give them:

    - 400 invalid input: a request body (parsed and validated), or a list's query parameters (filters, page size);
    - 401 missing or wrong credentials: every view that authenticates (a wrong token is refused even where none
      is needed);
    - 403 a write the role, the account's scope or the session's CSRF check refuses (reads here need only a user);
    - 404 an id that is not there or not visible, or a page past the last;
    - 429 a view with throttles.

    An operation's own ``extend_schema(responses=...)`` wins; a code it declares without a body gets this body.
    """

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, (description, schema) in self.error_responses().items():
            responses.setdefault(code, self._get_response_for_code(OpenApiResponse(schema, description), code))
        for code, response in responses.items():
            if code.startswith("4") and "content" not in response:
                schema = self.validation_error() if code == "400" else self.error()
                response["content"] = self._get_response_for_code(schema, code)["content"]
        return responses

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        """A decimal string's pattern needs a digit: drf-spectacular's accepts "", "-" and ".", which DRF refuses."""
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.DecimalField) and "pattern" in schema and field.max_whole_digits:
            whole, places = field.max_whole_digits, field.decimal_places
            schema["pattern"] = rf"^-?(?:\d{{1,{whole}}}(?:\.\d{{0,{places}}})?|\.\d{{1,{places}}})$"
        return schema

    def error_responses(self) -> dict[str, tuple[str, dict]]:
        error = self.error()
        is_list = self._is_list_view()
        errors = {}
        if self.method not in SAFE_METHODS or is_list:
            errors["400"] = ("Invalid input.", self.validation_error())
        if self.view.get_authenticators():
            errors["401"] = ("Not signed in: no token, or a wrong one.", error)
        if self.method not in SAFE_METHODS:
            errors["403"] = ("Not allowed to make this change.", error)
        if "{" in self.path or (is_list and self._get_paginator()):
            errors["404"] = ("Not found, or not visible to you; or a page past the last.", error)
        if self.view.get_throttles():
            errors["429"] = ("Too many requests.", error)
        return errors

    def error(self) -> dict:
        return self.component("Error", ERROR_SCHEMA)

    def validation_error(self) -> dict:
        return self.component("ValidationError", VALIDATION_ERROR_SCHEMA)

    def component(self, name: str, schema: dict) -> dict:
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema)
        self.registry.register_on_missing(component)
        return component.ref


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()


class TokenView(ObtainAuthToken):
    """``POST /api/token/``: a user's API token for their username and password. Failures count towards the same
    lockout as the web and admin logins; a locked-out user or address is answered 429."""

    @extend_schema(
        request=AuthTokenSerializer,
        responses={
            200: TokenResponseSerializer,
            400: OpenApiResponse(description="Wrong username or password, or one of them missing."),
            429: OpenApiResponse(description="Too many failed logins: locked out until unlocked or the lock expires."),
        },
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid() and getattr(request, "axes_locked_out", False):
            raise Throttled(detail=str(get_lockout_message()))
        return super().post(request, *args, **kwargs)


class Pagination(PageNumberPagination):
    """``PAGE_SIZE`` rows a page (settings); a client may ask for up to 500 with ``?page_size=`` (more gives 500).
    A page size that is not a whole number from 1 is answered 400 (DRF would silently ignore it); a page that is
    not there, 404."""

    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not re.fullmatch(r"[0-9]+", raw) or int(raw) < 1:
            raise ValidationError({self.page_size_query_param: ["A whole number from 1 is required."]})
        return min(int(raw), self.max_page_size)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] in (self.page_query_param, self.page_size_query_param):
                parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = f"Rows a page: {self.page_size} unless given, at most {self.max_page_size}."
        return parameters
