"""The admin site: Django's, with TOTP two-factor for staff when ``ADMIN_REQUIRE_OTP`` is on."""

from django.conf import settings
from django.contrib.admin import AdminSite as DjangoAdminSite
from django_otp.admin import OTPAdminSite


class AdminSite(OTPAdminSite):
    """The login form asks for a TOTP code (a staff user with a device must give it); with ``ADMIN_REQUIRE_OTP``
    only a session verified by a code may use the admin."""

    def has_permission(self, request) -> bool:
        if settings.ADMIN_REQUIRE_OTP:
            return super().has_permission(request)
        return DjangoAdminSite.has_permission(self, request)
