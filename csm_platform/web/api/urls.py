"""Registers the portfolio and renewals endpoints on the one router (``csm_platform/api.py``)."""

from csm_platform.api import router

from . import views

router.register("portfolio", views.PortfolioViewSet, basename="portfolio")
router.register("renewals", views.RenewalViewSet, basename="renewals")
