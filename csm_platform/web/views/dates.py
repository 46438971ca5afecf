"""The two dates of every page: the evaluation date its figures are for, and today for its calendar items."""

import datetime as dt

from django.utils import timezone

from ..forms import EvaluationDateForm
from ..selectors.portfolio import evaluation_date


def picked_date(request) -> dt.date | None:
    """The ``as_of`` the user picked (None: none, or not a date the pages can use)."""
    form = EvaluationDateForm(request.GET)
    return form.cleaned_data["as_of"] if form.is_valid() else None


def page_dates(request) -> tuple[dt.date | None, dt.date]:
    """(evaluation date, today): the latest night, or the night on or before the picked ``as_of``."""
    return evaluation_date(picked=picked_date(request)), timezone.localdate()


def latest_night_shown(request, as_of: dt.date | None) -> bool:
    """Whether the page shows the latest night (no date picked, or the picked one falls on it): today's re-scored
    figures are shown beside it; a past night is shown as it was."""
    return picked_date(request) is None or as_of == evaluation_date(picked=None)
