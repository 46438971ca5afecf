"""The leadership dashboard (CS managers, executives, admins)."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from health.revenue import year_before

from .. import charts
from ..permissions import LEADERSHIP_ROLES, role_required
from ..selectors.leadership import leadership
from .dates import page_dates


@role_required(*LEADERSHIP_ROLES)
@require_GET
def dashboard(request):
    as_of, today = page_dates(request)
    page = leadership(as_of=as_of, today=today)
    context = {
        "page": page,
        "charts": {
            "arr": charts.arr_by_month(page.by_month),
            "movements": charts.arr_waterfall(page.movements),
            "bridge": charts.ttm_waterfall(
                page.revenue.bridge if page.revenue else None,
                start=year_before(page.as_of) if page.as_of else None,
                end=page.as_of,
            ),
            "retention": charts.retention_trend(page.retention),
            "bands": charts.band_distribution(page.bands),
        },
    }
    return render(request, "web/leadership.html", context)
