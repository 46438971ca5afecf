from django.urls import path

from .views import account, docs, leadership, portfolio, preferences, renewals, saved_views, status

app_name = "web"

urlpatterns = [
    path("portfolio/", portfolio.portfolio, name="portfolio"),
    path("portfolio/export.csv", portfolio.portfolio_export, name="portfolio_export"),
    path("portfolio/assign/", portfolio.portfolio_assign, name="portfolio_assign"),
    path("saved-views/", saved_views.saved_view_create, name="saved_view_create"),
    path("saved-views/<int:pk>/delete/", saved_views.saved_view_remove, name="saved_view_delete"),
    path("accounts/<int:pk>/", account.account_detail, name="account"),
    path("accounts/<int:pk>/timeline/", account.timeline, name="timeline"),
    path("accounts/<int:pk>/activities/", account.activity_log, name="activity_log"),
    path("accounts/<int:pk>/activities/<int:activity_id>/", account.activity_edit, name="activity_edit"),
    path("accounts/<int:pk>/activities/<int:activity_id>/delete/", account.activity_remove, name="activity_delete"),
    path("accounts/<int:pk>/contacts/", account.contact_add, name="contact_add"),
    path("accounts/<int:pk>/contacts/<int:contact_id>/", account.contact_edit, name="contact_edit"),
    path("accounts/<int:pk>/assign/", account.account_reassign, name="account_assign"),
    path("churn-models/<int:pk>/", account.churn_model_card, name="churn_model"),
    path("renewals/", renewals.renewal_list_page, name="renewals"),
    path("renewals/export.csv", renewals.renewal_export, name="renewals_export"),
    path("renewals/<int:contract_id>/forecast/", renewals.forecast_edit, name="forecast"),
    path("leadership/", leadership.dashboard, name="leadership"),
    path("status/", status.system_status, name="status"),
    path("preferences/", preferences.preferences, name="preferences"),
    path("docs/", docs.documentation, name="docs"),
    path("docs/<path:path>", docs.documentation, name="docs_file"),
]
