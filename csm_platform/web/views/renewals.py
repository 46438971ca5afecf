"""Renewals: contracts ending in a window or a quarter, by state (open, renewed, churned), with value, health, risk,
the expected renewal value of the open ones and the AE's forecast (set on the forecast page, with its history);
totals per state and per forecast category; CSV export. Figures are for the evaluation date (``?as_of=``, else
the latest night); end dates and states are relative to today."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import Contract

from ..exports import table_csv_response
from ..filters import RenewalFilterSet, quarter_choices
from ..forms import ForecastForm
from ..models import SavedView
from ..selectors.renewals import (
    Renewals,
    RenewalState,
    forecast_history,
    forecast_row,
    quarter_attainment,
    renewals_read,
    row_from_rows,
)
from ..services import renewal_forecast_set
from ..tables import QuerysetRecords, RenewalTable
from .dates import page_dates
from .lists import ListPage, landing_scope

RENEWALS = ListPage(
    filterset_class=RenewalFilterSet,
    table_class=RenewalTable,
    template="web/renewals.html",
    fragment="web/includes/renewals_table.html",
    page=SavedView.Page.RENEWALS,
)
DEFAULT_WINDOW = "90"


def landing_filters(user) -> dict:
    """A bare /renewals/ shows the next 90 days of "mine" (``lists.landing_scope``: a CSM's own accounts, a
    manager's team, an AE's accounts; everyone for executives and admins)."""
    return {**landing_scope(user), "window": DEFAULT_WINDOW}


def quarter_links(query, *, today) -> list[dict]:
    """The quarter view: each quarter's link (its contracts, by state, other filters kept, window dropped)."""
    links = []
    for value, label in quarter_choices(today=today):
        chosen = query.copy()
        for name in ("window", "quarter", "page"):
            chosen.pop(name, None)
        chosen["quarter"] = value
        links.append({"label": label, "query": chosen.urlencode(), "current": query.get("quarter") == value})
    return links


def _filtered(request):
    """The filterset and the renewals it selects (``selectors.renewals.renewals_read``: from the night's stored rows
    when they are current for every contract selected, else read live)."""
    as_of, today = page_dates(request)
    filterset = RENEWALS.filter(request, Contract.objects.none())
    filterset.is_valid()  # the filters of a valid field apply, as for ``filterset.qs``
    renewals = renewals_read(user=request.user, as_of=as_of, today=today, narrow=filterset.filter_queryset)
    return filterset, renewals, as_of, today


def _table_data(renewals: Renewals, as_of):
    """The table's records: every row read live, or the stored rows' queryset, sorted and sliced in SQL."""
    if renewals.rows is not None:
        return renewals.rows
    return QuerysetRecords(
        renewals.contracts,
        count=renewals.totals.contracts,
        record=lambda contract: row_from_rows(contract, as_of=as_of),
    )


@login_required
@require_GET
def renewal_list_page(request):
    if not request.GET:
        return redirect(f"{reverse('web:renewals')}?{urlencode(landing_filters(request.user))}")
    filterset, renewals, as_of, today = _filtered(request)
    totals = renewals.totals
    quarter = filterset.form.cleaned_data.get("quarter") if filterset.form.is_valid() else ""
    return RENEWALS.render(
        request,
        {
            "filterset": filterset,
            "table": RENEWALS.table(request, _table_data(renewals, as_of)),
            "totals": totals,
            "attainment": quarter_attainment(quarter=quarter, totals=totals) if quarter else None,
            "quarters": quarter_links(request.GET, today=today),
            "as_of": as_of,
            "today": today,
        },
    )


@login_required
@require_GET
def renewal_export(request):
    """Exactly the filtered renewals (all pages), in the page's sort order, as CSV."""
    _filterset, renewals, as_of, today = _filtered(request)
    table = RenewalTable(_table_data(renewals, as_of), order_by=request.GET.get("sort"), request=request)
    return table_csv_response(table, name="renewals", today=today)


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("web:renewals")


@login_required
@require_http_methods(["GET", "POST"])
def forecast_edit(request, contract_id: int):
    """The contract's renewal (state, ACV, health, risk, expected value), its forecast and history (every reader);
    the form for its AE, their manager or an admin while the renewal is open (a renewed or churned contract offers
    no forecast: 400)."""
    as_of, today = page_dates(request)
    try:
        row = forecast_row(user=request.user, contract_id=contract_id, as_of=as_of, today=today)
    except Contract.DoesNotExist as missing:
        raise Http404(_("No such contract.")) from missing
    contract = row.contract
    form = None
    if request.method == "POST":
        if not contract.can_edit_forecast:
            raise PermissionDenied
        if not row.can_forecast:
            messages.error(
                request,
                _("This renewal is decided (%(state)s): it takes no forecast.")
                % {"state": RenewalState(row.state).label},
            )
            return render(request, "web/forecast.html", _forecast_context(request, row, None), status=400)
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
    elif row.can_forecast:
        current = row.forecast
        initial = {"amount": row.expected}
        if current:
            initial = {field: getattr(current, field) for field in ("category", "amount", "next_step", "note")}
        form = ForecastForm(initial=initial)
    return render(
        request,
        "web/forecast.html",
        _forecast_context(request, row, form),
        status=400 if form is not None and form.is_bound else 200,
    )


def _forecast_context(request, row, form) -> dict:
    return {
        "row": row,
        "contract": row.contract,
        "form": form,
        "history": forecast_history(contract_id=row.contract.pk),
        "next": _next_url(request),
    }
