"""The baseline of ``bench/pages``: the portfolio page (same view helpers, same template, same 50 rows of the
same filtered, sorted query) rendered from a list prepared once per server process, so the page's own reads are the
only difference from ``/portfolio/``."""

import time

from django.contrib.auth.decorators import login_required

from csm_platform.web.selectors.portfolio import portfolio_figures, portfolio_list
from csm_platform.web.views.dates import page_dates
from csm_platform.web.views.lists import PER_PAGE
from csm_platform.web.views.portfolio import PORTFOLIO, card_links

_prepared: dict = {}


def _prepare(request) -> dict:
    """The page's data read once: its 50 rows (a list) and its header figures."""
    as_of, today = page_dates(request)
    filterset = PORTFOLIO.filter(request, portfolio_list(user=request.user, as_of=as_of, today=today))
    table = PORTFOLIO.table(request, filterset.qs)
    return {
        "rows": [row.record for row in table.paginated_rows][:PER_PAGE],
        "figures": portfolio_figures(accounts=filterset.qs, as_of=as_of, today=today),
        "as_of": as_of,
        "today": today,
    }


@login_required
def baseline(request):
    """The portfolio page of ``request``'s query string from the prepared rows (the first request prepares them)."""
    key = request.GET.urlencode()
    if key not in _prepared:
        _prepared[key] = _prepare(request)
    prepared = _prepared[key]
    filterset = PORTFOLIO.filter(request, portfolio_list(user=request.user, as_of=None, today=prepared["today"]))
    filterset.form.is_valid()
    table = PORTFOLIO.table(request, prepared["rows"])
    return PORTFOLIO.render(
        request,
        {
            "title": "Portfolio",
            "filterset": filterset,
            "table": table,
            "figures": prepared["figures"],
            "cards": card_links(request.GET, prepared["figures"]),
            "assign_form": None,
            "as_of": prepared["as_of"],
            "today": prepared["today"],
        },
    )


class ServerTimeMiddleware:
    """``X-Server-Ms``: milliseconds from this middleware receiving the request to the response leaving it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Server-Ms"] = f"{(time.perf_counter() - started) * 1000:.2f}"
        return response
