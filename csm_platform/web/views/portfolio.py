"""Portfolio: the accounts table with filters, header figures, saved views, CSV export."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.models import Team
from accounts.roles import Role, user_roles

from ..exports import table_csv_response
from ..filters import PortfolioFilterSet
from ..models import SavedView
from ..selectors.portfolio import portfolio_figures, portfolio_list
from ..tables import PortfolioTable
from .dates import page_dates
from .lists import ListPage

PORTFOLIO = ListPage(
    filterset_class=PortfolioFilterSet,
    table_class=PortfolioTable,
    template="web/portfolio.html",
    fragment="web/includes/portfolio_table.html",
    page=SavedView.Page.PORTFOLIO,
)


def landing_filters(user) -> dict[str, int]:
    """Where a bare /portfolio/ lands: a CSM on their own accounts ('My portfolio'), a manager on their team's, an
    AE on the accounts they sell to; executives and admins on the whole book."""
    roles = user_roles(user)
    if Role.CSM in roles:
        return {"owner": user.pk}
    if Role.MANAGER in roles:
        team_id = Team.objects.filter(manager=user).values_list("pk", flat=True).first()
        return {"team": team_id} if team_id else {"owner": user.pk}
    if Role.ACCOUNT_EXECUTIVE in roles:
        return {"account_executive": user.pk}
    return {}


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
    mine = filterset.form.is_valid() and filterset.form.cleaned_data.get("owner") == request.user
    return PORTFOLIO.render(
        request,
        {
            "title": _("My portfolio") if mine else _("Portfolio"),
            "filterset": filterset,
            "table": PORTFOLIO.table(request, accounts),
            "figures": portfolio_figures(accounts=accounts, as_of=as_of, today=today),
            "as_of": as_of,
            "today": today,
        },
    )


@login_required
@require_GET
def portfolio_export(request):
    """Exactly the filtered rows (all pages), in the page's sort order, as CSV."""
    filterset, _as_of, today = _portfolio(request)
    table = PortfolioTable(filterset.qs, order_by=request.GET.get("sort"))
    return table_csv_response(table, name="portfolio", today=today)
