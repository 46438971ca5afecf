"""What every list page shares: filter, sort and paginate a table, render the page or (htmx) its results only."""

import copy
from dataclasses import dataclass
from urllib.parse import urlencode

from django.shortcuts import render
from django.utils.translation import gettext as _
from django_tables2 import RequestConfig

from accounts.models import Team
from accounts.roles import Role, user_roles

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
        return self.filterset_class(request.GET, queryset=queryset, request=request)

    def table(self, request, rows, *, exclude: tuple[str, ...] = ()):
        request = _sane_paging(request)
        table = self.table_class(rows, exclude=exclude)
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
            "scopes": scopes(request),
        }
        if htmx and not htmx.history_restore_request:
            return render(request, self.fragment, context)
        return render(request, self.template, context)


@dataclass(frozen=True)
class Scope:
    label: str
    query: str  # the list's query string for this scope (the other filters kept)
    current: bool


SCOPE_FILTERS = ("owner", "team", "account_executive")


def user_team_id(user) -> int | None:
    """The team a manager leads, else the team the user belongs to."""
    if Role.MANAGER in user_roles(user):
        led = Team.objects.filter(manager=user).values_list("pk", flat=True).first()
        if led:
            return led
    return user.team_id


def landing_scope(user) -> dict[str, int]:
    """Where a bare list lands ("mine" by default): a CSM on their own accounts, a manager on their team's, an AE
    on the accounts they sell to; executives and admins on the whole book."""
    roles = user_roles(user)
    if Role.CSM in roles:
        return {"owner": user.pk}
    if Role.MANAGER in roles:
        team_id = user_team_id(user)
        return {"team": team_id} if team_id else {"owner": user.pk}
    if Role.ACCOUNT_EXECUTIVE in roles:
        return {"account_executive": user.pk}
    return {}


def scopes(request) -> list[Scope]:
    """The clear way to widen (or narrow) a list: mine, my team, the accounts I sell to, everyone; the other
    filters are kept."""
    user, roles = request.user, user_roles(request.user)
    options: list[tuple[str, dict]] = []
    if roles & {Role.CSM, Role.MANAGER}:
        options.append((_("Mine"), {"owner": user.pk}))
    team_id = user_team_id(user) if roles & {Role.CSM, Role.MANAGER} else None
    if team_id:
        options.append((_("My team"), {"team": team_id}))
    if Role.ACCOUNT_EXECUTIVE in roles:
        options.append((_("I sell to"), {"account_executive": user.pk}))
    options.append((_("Everyone"), {"owner": ""}))
    picked = {name: [v for v in request.GET.getlist(name) if v] for name in SCOPE_FILTERS}
    rest = [(k, v) for k, v in request.GET.lists() if k not in (*SCOPE_FILTERS, "page")]
    found = []
    for label, scope in options:
        wanted = {name: [str(scope[name])] if scope.get(name) else [] for name in SCOPE_FILTERS}
        query = urlencode([*scope.items(), *((k, item) for k, values in rest for item in values)])
        found.append(Scope(label=label, query=query, current=wanted == picked))
    return found


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
