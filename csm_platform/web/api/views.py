"""``/api/portfolio/``: the portfolio page's rows as JSON, filtered by the page's own FilterSet."""

from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import mixins, viewsets
from rest_framework.filters import OrderingFilter
from rest_framework.permissions import IsAuthenticated

from accounts.models import Account
from csm_platform.api import Pagination

from ..filters import PortfolioFilterSet
from ..selectors.portfolio import latest_snapshot_date, portfolio_list
from .serializers import PortfolioSerializer


class PortfolioViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Every account the user may read, with its latest nightly snapshot, stage, next renewal, last touch and
    open tasks. Filters are the portfolio page's; ``?ordering=`` sorts (``-health``, ``acv``, ...)."""

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
        return portfolio_list(user=self.request.user, as_of=latest_snapshot_date(), today=timezone.localdate())
