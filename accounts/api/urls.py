"""Registers the accounts viewsets on the one router (``csm_platform/api.py``)."""

from csm_platform.api import router

from . import views

router.register("accounts", views.AccountViewSet, basename="account")
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("contracts", views.ContractViewSet, basename="contract")
router.register("usage-events", views.UsageEventViewSet, basename="usage-event")
