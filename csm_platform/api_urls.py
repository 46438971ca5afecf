"""``/api/``: the router's endpoints, the OpenAPI schema and its docs (served offline), and token sign-in."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

import accounts.api.urls  # noqa: F401  (registers the accounts viewsets on the router)
import csm_platform.web.api.urls  # noqa: F401  (registers the portfolio endpoint on the router)
import journeys.api.urls  # noqa: F401  (registers the survey responses endpoint on the router)

from .api import TokenView, router

urlpatterns = [
    path("", include((router.urls, "api"))),  # names like "api:account-list"
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("token/", TokenView.as_view(), name="api-token"),
]
