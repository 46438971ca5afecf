"""The admin site: Django's, with TOTP two-factor for staff when ``ADMIN_REQUIRE_OTP`` is on."""

from django.conf import settings
from django.contrib.admin import AdminSite as DjangoAdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite


class AdminSite(OTPAdminSite):
    """With ``ADMIN_REQUIRE_OTP`` the login form asks for a TOTP code and only a session verified by one may use the
    admin; without it (a local demo, enrolling the first device) it is Django's own password login."""

    def has_permission(self, request) -> bool:
        if settings.ADMIN_REQUIRE_OTP:
            return super().has_permission(request)
        return DjangoAdminSite.has_permission(self, request)

    @property
    def login_form(self):
        return OTPAdminAuthenticationForm if settings.ADMIN_REQUIRE_OTP else AdminAuthenticationForm

    @property
    def login_template(self):
        return OTPAdminSite.login_template if settings.ADMIN_REQUIRE_OTP else None
