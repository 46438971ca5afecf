"""System status (admins): nightly runs, ingestion volume, quarantined events."""

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from .. import charts
from ..permissions import STATUS_ROLES, role_required
from ..selectors.status import system_status as status_read


@role_required(*STATUS_ROLES)
@require_GET
def system_status(request):
    status = status_read(today=timezone.localdate())
    return render(
        request, "web/status.html", {"status": status, "ingestion_chart": charts.ingestion_volume(status.ingestion)}
    )
