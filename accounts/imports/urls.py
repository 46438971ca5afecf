from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("", views.import_start, name="start"),
    path("<int:pk>/", views.import_run, name="run"),
    path("<int:pk>/undo/", views.import_undo, name="undo"),
]
