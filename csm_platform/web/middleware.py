"""Times in the user's own zone: each request of a signed-in user activates their ``time_zone`` (forms read and
pages show times in it); anonymous requests keep the workspace's ``TIME_ZONE``."""

import contextlib
import zoneinfo

from django.utils import timezone


class UserTimeZoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        zone = getattr(user, "time_zone", "") if user is not None and user.is_authenticated else ""
        timezone.deactivate()
        if zone:
            # A name the system's zone database lacks keeps the workspace's zone.
            with contextlib.suppress(zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.activate(zoneinfo.ZoneInfo(zone))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
