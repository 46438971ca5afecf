from django.urls import path

from .views import account, leadership, portfolio, renewals, saved_views, status

app_name = "web"

urlpatterns = [
    path("portfolio/", portfolio.portfolio, name="portfolio"),
    path("portfolio/export.csv", portfolio.portfolio_export, name="portfolio_export"),
    path("saved-views/", saved_views.saved_view_create, name="saved_view_create"),
    path("saved-views/<int:pk>/delete/", saved_views.saved_view_remove, name="saved_view_delete"),
    path("accounts/<int:pk>/", account.account_detail, name="account"),
    path("accounts/<int:pk>/activities/", account.activity_log, name="activity_log"),
    path("churn-models/<int:pk>/", account.churn_model_card, name="churn_model"),
    path("renewals/", renewals.renewal_list_page, name="renewals"),
    path("renewals/export.csv", renewals.renewal_export, name="renewals_export"),
    path("renewals/<int:contract_id>/forecast/", renewals.forecast_edit, name="forecast"),
    path("leadership/", leadership.dashboard, name="leadership"),
    path("status/", status.system_status, name="status"),
]
