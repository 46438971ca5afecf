"""Portfolio: the accounts table with filters, header figures that link to the rows they count, saved views, CSV
export, and reassigning the selected accounts (managers and admins)."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import Role, has_any_role
from accounts.services import account_assign
from health.models import AccountSnapshot

from ..exports import table_csv_response
from ..filters import PortfolioFilterSet
from ..forms import BulkAssignForm
from ..models import SavedView
from ..selectors.portfolio import (
    RENEWAL_HORIZON_DAYS,
    PortfolioFigures,
    portfolio_figures,
    portfolio_list,
    with_current,
)
from ..tables import PortfolioTable
from .dates import latest_night_shown, page_dates
from .lists import ListPage, landing_scope

PORTFOLIO = ListPage(
    filterset_class=PortfolioFilterSet,
    table_class=PortfolioTable,
    template="web/portfolio.html",
    fragment="web/includes/portfolio_table.html",
    page=SavedView.Page.PORTFOLIO,
)
ASSIGNERS = frozenset({Role.MANAGER, Role.ADMIN})
SCORED_BANDS = [AccountSnapshot.Band.RED, AccountSnapshot.Band.YELLOW, AccountSnapshot.Band.GREEN]


def landing_filters(user) -> dict[str, int]:
    """Where a bare /portfolio/ lands ("mine": ``lists.landing_scope``)."""
    return landing_scope(user)


def card_links(query: QueryDict, figures: PortfolioFigures) -> dict[str, dict]:
    """Each header figure's link and the number of rows it counts: the page's filters narrowed to exactly those
    rows (at risk: ``at_risk``; renewals: a window no wider than the figure's; median health: the scored bands)."""
    base = query.copy()
    base.pop("page", None)

    def narrowed(**changes: list[str]) -> str:
        narrow = base.copy()
        for name, values in changes.items():
            narrow.setlist(name, values)
        return narrow.urlencode()

    window = base.get("renewal", "")
    if not (window.isdigit() and int(window) <= RENEWAL_HORIZON_DAYS):
        window = str(RENEWAL_HORIZON_DAYS)
    bands = [band for band in base.getlist("band") if band] or SCORED_BANDS
    scored = [band for band in bands if band in SCORED_BANDS]
    return {
        "accounts": {"query": base.urlencode(), "rows": figures.accounts},
        "at_risk": {"query": narrowed(at_risk=["on"]), "rows": figures.accounts_at_risk},
        "renewals": {"query": narrowed(renewal=[window]), "rows": figures.renewals},
        "scored": {"query": narrowed(band=scored), "rows": figures.scored} if scored else None,
    }


def _portfolio(request):
    as_of, today = page_dates(request)
    filterset = PORTFOLIO.filter(request, portfolio_list(user=request.user, as_of=as_of, today=today))
    return filterset, as_of, today


@login_required
@require_GET
def portfolio(request):
    if not request.GET:
        landing = landing_filters(request.user)
        if landing:
            return redirect(f"{reverse('web:portfolio')}?{urlencode(landing)}")
    filterset, as_of, today = _portfolio(request)
    accounts = filterset.qs
    mine = filterset.form.is_valid() and list(filterset.form.cleaned_data.get("owner") or ()) == [request.user]
    can_assign = has_any_role(request.user, ASSIGNERS)
    # Today's re-scored health beside the night's, on the latest night only (a past night is shown as it was).
    rows = with_current(accounts, as_of=as_of) if latest_night_shown(request, as_of) else accounts
    table = PORTFOLIO.table(request, rows, exclude=() if can_assign else ("select",))
    figures = portfolio_figures(accounts=accounts, as_of=as_of, today=today)
    return PORTFOLIO.render(
        request,
        {
            "title": _("My portfolio") if mine else _("Portfolio"),
            "filterset": filterset,
            "table": table,
            "figures": figures,
            "cards": card_links(request.GET, figures),
            "assign_form": BulkAssignForm(auto_id="assign_%s") if can_assign else None,
            "as_of": as_of,
            "today": today,
        },
    )


@login_required
@require_GET
def portfolio_export(request):
    """Exactly the filtered rows (all pages), in the page's sort order, as CSV."""
    filterset, _as_of, today = _portfolio(request)
    table = PortfolioTable(filterset.qs, order_by=request.GET.get("sort"), exclude=("select",))
    return table_csv_response(table, name="portfolio", today=today)


@login_required
@require_POST
def portfolio_assign(request):
    """Give the selected accounts a new CSM and/or AE (managers within their team, admins anyone: the rules of
    ``accounts.managers.assignment_errors``); nothing changes unless every account may be changed."""
    if not has_any_role(request.user, ASSIGNERS):
        raise PermissionDenied
    form = BulkAssignForm(request.POST)
    back = request.headers.get("referer", "")  # the list as filtered now (htmx pushed its URL)
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = reverse("web:portfolio")
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(back)
    data = form.cleaned_data
    try:
        changed = account_assign(
            user=request.user,
            account_ids=[account.pk for account in data["accounts"]],
            **{name: data[name] for name in ("owner", "account_executive") if data[name] is not None},
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(back)
    messages.success(
        request, ngettext("%(n)s account reassigned.", "%(n)s accounts reassigned.", changed) % {"n": changed}
    )
    return redirect(back)
