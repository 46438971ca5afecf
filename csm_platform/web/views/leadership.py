"""The leadership dashboard (CS managers, executives, admins)."""

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from .. import charts
from ..permissions import LEADERSHIP_ROLES, role_required
from ..selectors.leadership import leadership
from ..selectors.portfolio import latest_snapshot_date


@role_required(*LEADERSHIP_ROLES)
@require_GET
def dashboard(request):
    page = leadership(as_of=latest_snapshot_date(), today=timezone.localdate())
    context = {
        "page": page,
        "charts": {
            "arr": charts.arr_by_month(page.by_month),
            "movements": charts.arr_waterfall(page.movements),
            "bridge": charts.ttm_waterfall(page.revenue.waterfall if page.revenue else {}),
            "retention": charts.retention_trend(page.by_month),
            "bands": charts.band_distribution(page.bands),
        },
    }
    return render(request, "web/leadership.html", context)
