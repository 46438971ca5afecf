"""The one API router and the pagination every list shares.

Each app's ``<app>/api/urls.py`` registers its viewsets on ``router``; ``api_urls.py`` imports those modules
before it reads ``router.urls``.
"""

from axes.helpers import get_lockout_message
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import Throttled
from rest_framework.pagination import PageNumberPagination
from rest_framework.routers import DefaultRouter

router = DefaultRouter()


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()


class TokenView(ObtainAuthToken):
    """``POST /api/token/``: a user's API token for their username and password. Failures count towards the same
    lockout as the web and admin logins; a locked-out user or address is answered 429."""

    @extend_schema(
        request=AuthTokenSerializer,
        responses={
            200: TokenResponseSerializer,
            400: OpenApiResponse(description="Wrong username or password."),
            429: OpenApiResponse(description="Too many failed logins: locked out until unlocked or the lock expires."),
        },
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid() and getattr(request, "axes_locked_out", False):
            raise Throttled(detail=str(get_lockout_message()))
        return super().post(request, *args, **kwargs)


class Pagination(PageNumberPagination):
    """``PAGE_SIZE`` rows a page (settings); a client may ask for up to 500 with ``?page_size=``."""

    page_size_query_param = "page_size"
    max_page_size = 500
