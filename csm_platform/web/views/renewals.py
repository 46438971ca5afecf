"""Renewals: contracts ending in a window or a quarter with value, health, risk, expected renewal value and the
AE's forecast category (set on the forecast page, with its history); totals per category; CSV export."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import Account, Contract
from accounts.roles import Role, user_roles

from ..exports import table_csv_response
from ..filters import RenewalFilterSet
from ..forms import ForecastForm
from ..models import SavedView
from ..selectors.portfolio import latest_snapshot_date
from ..selectors.renewals import forecast_contract, forecast_history, renewal_list, renewal_rows, renewal_totals
from ..services import renewal_forecast_set
from ..tables import RenewalTable
from .lists import ListPage

RENEWALS = ListPage(
    filterset_class=RenewalFilterSet,
    table_class=RenewalTable,
    template="web/renewals.html",
    fragment="web/includes/renewals_table.html",
    page=SavedView.Page.RENEWALS,
)
DEFAULT_WINDOW = "90"


def landing_filters(user) -> dict:
    """A bare /renewals/ shows the next 90 days; an AE lands on the renewals of the accounts they sell to."""
    if Role.ACCOUNT_EXECUTIVE in user_roles(user):
        return {"account_executive": user.pk, "window": DEFAULT_WINDOW}
    return {"window": DEFAULT_WINDOW}


def _filtered_rows(request):
    today = timezone.localdate()
    contracts = renewal_list(user=request.user, as_of=latest_snapshot_date(), today=today)
    filterset = RENEWALS.filter(request, contracts)
    return filterset, renewal_rows(contracts=filterset.qs, today=today), today


@login_required
@require_GET
def renewal_list_page(request):
    if not request.GET:
        return redirect(f"{reverse('web:renewals')}?{urlencode(landing_filters(request.user))}")
    filterset, rows, today = _filtered_rows(request)
    categories, overall = renewal_totals(rows)
    return RENEWALS.render(
        request,
        {
            "filterset": filterset,
            "table": RENEWALS.table(request, rows),
            "categories": categories,
            "overall": overall,
            "today": today,
        },
    )


@login_required
@require_GET
def renewal_export(request):
    """Exactly the filtered renewals (all pages), in the page's sort order, as CSV."""
    _filterset, rows, today = _filtered_rows(request)
    table = RenewalTable(rows, order_by=request.GET.get("sort"), request=request)
    return table_csv_response(table, name="renewals", today=today)


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("web:renewals")


@login_required
@require_http_methods(["GET", "POST"])
def forecast_edit(request, contract_id: int):
    """The contract's forecast and its history (every reader); the form for its AE, their manager or an admin."""
    try:
        contract = forecast_contract(user=request.user, contract_id=contract_id)
    except Contract.DoesNotExist as missing:
        raise Http404(_("No such contract.")) from missing
    can_forecast = Account.objects.forecast_editable_by(request.user).filter(pk=contract.account_id).exists()
    form = None
    if request.method == "POST":
        if not can_forecast:
            raise PermissionDenied
        form = ForecastForm(request.POST)
        if form.is_valid():
            renewal_forecast_set(contract_id=contract.pk, user_id=request.user.pk, **form.cleaned_data)
            messages.success(
                request,
                _("Forecast of %(contract)s set to %(category)s.")
                % {
                    "contract": contract.external_id,
                    "category": dict(form.fields["category"].choices)[form.cleaned_data["category"]],
                },
            )
            return redirect(_next_url(request))
    elif can_forecast:
        current = getattr(contract, "forecast", None)
        form = ForecastForm(initial={"category": current.category, "note": current.note} if current else None)
    return render(
        request,
        "web/forecast.html",
        {
            "contract": contract,
            "form": form,
            "history": forecast_history(contract_id=contract.pk),
            "next": _next_url(request),
        },
        status=400 if form is not None and form.is_bound else 200,
    )
