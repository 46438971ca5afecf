"""Times and language of the user's own: each request of a signed-in user activates their ``time_zone`` (forms read
and pages show times in it) and their ``language``; anonymous requests keep the workspace's ``TIME_ZONE`` and the
language ``LocaleMiddleware`` chose."""

import contextlib
import zoneinfo

from django.utils import timezone, translation


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


class UserLanguageMiddleware:
    """A signed-in user's own language (``User.language``) over what ``LocaleMiddleware`` chose from the language
    cookie, the browser's Accept-Language or the workspace's ``LANGUAGE_CODE``; blank keeps that choice."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        language = getattr(user, "language", "") if user is not None and user.is_authenticated else ""
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)
