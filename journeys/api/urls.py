"""Registers the journeys viewsets on the one router (``csm_platform/api.py``): ``/api/survey-responses/``."""

from csm_platform.api import router

from . import views

router.register("survey-responses", views.SurveyResponseViewSet, basename="survey-response")
