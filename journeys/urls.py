from django.urls import path

from . import views

app_name = "journeys"

urlpatterns = [
    path("tasks/", views.my_tasks, name="my_tasks"),
    path("tasks/<int:task_id>/", views.task_detail, name="task_detail"),
    path("tasks/<int:task_id>/edit/", views.task_edit, name="task_edit"),
    path("tasks/<int:task_id>/done/", views.task_done, name="task_done"),
    path("tasks/<int:task_id>/snooze/", views.task_snooze, name="task_snooze"),
    path("tasks/<int:task_id>/take/", views.task_take, name="task_take"),
    path("accounts/<int:account_id>/success-plan/", views.success_plan, name="success_plan"),
    path("accounts/<int:account_id>/success-plan/summary/", views.plan_summary, name="plan_summary"),
    path("accounts/<int:account_id>/success-plan/outcomes/", views.outcome_add, name="outcome_add"),
    path(
        "accounts/<int:account_id>/success-plan/outcomes/<int:outcome_id>/status/",
        views.outcome_status,
        name="outcome_status",
    ),
    path("accounts/<int:account_id>/success-plan/check-ins/", views.check_in_record, name="check_in_record"),
    path("accounts/<int:account_id>/success-plan/next-check-in/", views.next_check_in, name="next_check_in"),
    path("accounts/<int:account_id>/stage/", views.stage_change, name="stage_change"),
    path("accounts/<int:account_id>/tasks/", views.task_create, name="task_create"),
    path("accounts/<int:account_id>/journey-panel/", views.account_panel, name="account_panel"),
    path("journey/", views.funnel, name="funnel"),
    path("surveys/", views.surveys, name="surveys"),
    path("surveys/upload/", views.survey_upload, name="survey_upload"),
    path("playbooks/", views.playbooks, name="playbooks"),
    path("playbooks/<int:playbook_id>/dry-run/", views.playbook_dry_run_view, name="playbook_dry_run"),
]
