"""Middleware of the platform's own."""

from auditlog.middleware import AuditlogMiddleware as BaseAuditlogMiddleware
from django.utils.functional import SimpleLazyObject


class AuditlogMiddleware(BaseAuditlogMiddleware):
    """django-auditlog's, with the actor read when an entry is written rather than when the request arrives: the
    REST API authenticates a token in its view, after every middleware ran."""

    @staticmethod
    def _get_actor(request):
        return SimpleLazyObject(lambda: request.user)
