from django.urls import path

from . import views

app_name = "stripe"
urlpatterns = [path("webhook/", views.stripe_webhook, name="webhook")]
