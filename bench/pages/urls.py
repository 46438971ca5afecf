"""The project's URLs plus the baseline page of the bench."""

from django.urls import path

from csm_platform.urls import urlpatterns as project

from .baseline import baseline

urlpatterns = [path("bench/baseline/", baseline), *project]
