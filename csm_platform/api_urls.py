"""``/api/``: the router's endpoints, the OpenAPI schema and its docs (served offline), and token sign-in; any
other path under ``/api/`` is a JSON 404, like the API's own (not the site's HTML page)."""

from django.http import JsonResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

import accounts.api.urls  # noqa: F401  (registers the accounts viewsets on the router)
import csm_platform.web.api.urls  # noqa: F401  (registers the portfolio endpoint on the router)
import journeys.api.urls  # noqa: F401  (registers the survey responses endpoint on the router)

from .api import TokenView, router


@csrf_exempt  # like the API's own views: a PUT to an unknown path is a 404, not the CSRF failure page
def not_found(request, path):
    return JsonResponse({"detail": "Not found."}, status=404)


urlpatterns = [
    path("", include((router.urls, "api"))),  # names like "api:account-list"
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its page script as a file (docs/?script=): no inline script (Content-Security-Policy).
    # Our page (templates/api/docs.html) adds the page's language and the accessibility fixes of api_docs.css/js.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/docs.html"),
        name="api-docs",
    ),
    path("token/", TokenView.as_view(), name="api-token"),
    # Last, and only for paths ending in a slash, so that a missing slash is still redirected first.
    re_path(r"^(?P<path>.*/)$", not_found),
]
