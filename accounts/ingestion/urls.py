"""The tracking API's exact paths, as the Segment clients call them (no trailing slash, no redirect)."""

from django.urls import path

from . import views

app_name = "ingestion"

urlpatterns = [
    path("v1/batch", views.tracking_api, {"kind": "batch"}, name="batch"),
    path("v1/track", views.tracking_api, {"kind": "track"}, name="track"),
    path("v1/identify", views.tracking_api, {"kind": "identify"}, name="identify"),
    path("v1/group", views.tracking_api, {"kind": "group"}, name="group"),
    path("v1/page", views.tracking_api, {"kind": "page"}, name="page"),
    path("v1/screen", views.tracking_api, {"kind": "screen"}, name="screen"),
]
