from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from csm_platform.web.views.preferences import language_switch

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="web:portfolio", permanent=False)),
    path("admin/", admin.site.urls),
    path("auth/", include("django.contrib.auth.urls")),
    # The header's language switcher, for everyone (the login page too): Django's set_language, and the user's own.
    path("i18n/setlang/", language_switch, name="set_language"),
    path("api/", include("csm_platform.api_urls")),
    path("", include("accounts.ingestion.urls")),
    path("integrations/stripe/", include("accounts.integrations.stripe.urls")),
    path("", include("csm_platform.web.urls")),
    path("", include("journeys.urls")),
    path("imports/", include("accounts.imports.urls")),
]
