"""``/api/portfolio/`` and ``/api/renewals/``: the pages' rows as JSON, filtered by the pages' own FilterSets, for
the same evaluation date (``?as_of=``: the night on or before it; default the latest)."""

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import mixins, viewsets
from rest_framework.filters import OrderingFilter
from rest_framework.permissions import IsAuthenticated

from accounts.models import Account, Contract
from csm_platform.api import Pagination

from ..filters import PortfolioFilterSet, RenewalFilterSet
from ..selectors.portfolio import portfolio_list
from ..selectors.renewals import renewal_list, renewal_rows
from ..views.dates import page_dates
from .serializers import PortfolioSerializer, RenewalSerializer


class PortfolioViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Every account the user may read, with its nightly snapshot on the evaluation date, CLV, stage, next
    renewal, last touch and open tasks. Filters are the portfolio page's; ``?ordering=`` sorts (``-health``,
    ``acv``, ...)."""

    serializer_class = PortfolioSerializer
    permission_classes = [IsAuthenticated]
    pagination_class = Pagination
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = PortfolioFilterSet
    ordering_fields = ["name", "health", "acv", "churn_probability", "next_renewal", "last_touch", "open_tasks"]
    ordering = ["name", "id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no database reads
            return Account.objects.none()
        as_of, today = page_dates(self.request)
        return portfolio_list(user=self.request.user, as_of=as_of, today=today)


class RenewalViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Contract renewals of the accounts the user may read, soonest first, with state, ACV, health, risk, the
    expected value of the open ones and the forecast (category, amount, next step). Filters are the renewals
    page's."""

    serializer_class = RenewalSerializer
    permission_classes = [IsAuthenticated]
    pagination_class = Pagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = RenewalFilterSet

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no database reads
            return Contract.objects.none()
        as_of, today = page_dates(self.request)
        return renewal_list(user=self.request.user, as_of=as_of, today=today)

    def list(self, request, *args, **kwargs):
        as_of, today = page_dates(request)
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        rows = renewal_rows(contracts=page, as_of=as_of, today=today)
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)
