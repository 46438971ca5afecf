"""What every list page shares: filter, sort and paginate a table, render the page or (htmx) its results only."""

import copy
from dataclasses import dataclass

from django.shortcuts import render
from django_tables2 import RequestConfig

from ..models import SavedView

PER_PAGE = 50
MAX_PER_PAGE = 500


@dataclass
class ListPage:
    """A FilterSet over a queryset, shown by a table class."""

    filterset_class: type
    table_class: type
    template: str
    fragment: str
    page: str  # SavedView.Page

    def filter(self, request, queryset):
        return self.filterset_class(request.GET or None, queryset=queryset, request=request)

    def table(self, request, rows):
        request = _sane_paging(request)
        table = self.table_class(rows)
        RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
        return table

    def render(self, request, context: dict):
        """The whole page, or only its results fragment for an htmx request (not for a history restore)."""
        htmx = getattr(request, "htmx", None)
        query = request.GET.copy()
        query.pop("page", None)
        context = {
            **context,
            "querystring": query.urlencode(),
            "saved_views": SavedView.objects.filter(user=request.user, page=self.page),
            "saved_view_page": self.page,
        }
        if htmx and not htmx.history_restore_request:
            return render(request, self.fragment, context)
        return render(request, self.template, context)


def _sane_paging(request):
    """The request, without a ``per_page`` outside 1…``MAX_PER_PAGE`` (django-tables2 fails on 0 or less, and a huge
    one renders the whole book)."""
    try:
        wanted = int(request.GET.get("per_page", PER_PAGE))
    except ValueError:
        return request  # django-tables2 ignores what is not a number
    if 1 <= wanted <= MAX_PER_PAGE:
        return request
    sane = copy.copy(request)
    sane.GET = request.GET.copy()
    sane.GET.pop("per_page")
    return sane
