"""Pages of the journeys app: thin views that parse input, call one selector or service, and render.

Reads start from ``Account.objects.visible_to``; writes need the model permission of the role and the object
scope (``permissions.py``, ``tasks_actionable_by``): an executive gets 403 on every POST.
"""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Account

from . import services
from .errors import JourneyError
from .forms import (
    CheckInForm,
    CommentForm,
    NextCheckInForm,
    OutcomeForm,
    OutcomeStatusForm,
    PlanSummaryForm,
    SnoozeForm,
    StageChangeForm,
    SurveyUploadForm,
    TaskEditForm,
    TaskForm,
    parse_as_of,
)
from .models import Playbook, Task
from .permissions import account_for_editing, account_for_reading, can_manage_playbooks
from .selectors.accounts import account_journey
from .selectors.journey import journey_funnel, time_to_value
from .selectors.playbooks import playbook_dry_run, playbook_effectiveness
from .selectors.surveys import detractor_answers, journey_settings_get, survey_summary, survey_trend
from .selectors.tasks import my_tasks as my_tasks_select
from .selectors.tasks import task_detail as task_detail_select
from .selectors.tasks import task_owner_choices, tasks_actionable_by, tasks_visible_to, with_account_context


def _today() -> dt.date:
    return timezone.now().date()


def _row_context(**context) -> dict:
    """What a task row needs besides the task: today and the default snooze day (a week on)."""
    today = _today()
    return {
        "today": today,
        "tomorrow": today + dt.timedelta(days=1),
        "snooze_default": today + dt.timedelta(days=7),
        **context,
    }


def _form_errors(form) -> str:
    return " ".join(f"{error}" for errors in form.errors.values() for error in errors)


def _back(request: HttpRequest, default: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(default)


def _visible_account_ids(request: HttpRequest, segment: str) -> list[int]:
    accounts = Account.objects.visible_to(request.user)
    if segment:
        accounts = accounts.filter(segment=segment)
    return list(accounts.values_list("pk", flat=True))


# Tasks ----------------------------------------------------------------------------------------------------------


@login_required
@require_GET
def my_tasks(request: HttpRequest) -> HttpResponse:
    tasks = my_tasks_select(user=request.user, today=_today())
    return render(request, "journeys/my_tasks.html", _row_context(tasks=tasks))


def _task_page(request: HttpRequest, task_id: int, *, form=None, edit_form=None, status: int = 200) -> HttpResponse:
    try:
        task = task_detail_select(task_id=task_id, user=request.user)
    except Task.DoesNotExist:
        raise Http404(_("There is no task %(id)s.") % {"id": task_id}) from None
    can_act = tasks_actionable_by(request.user).filter(pk=task.pk).exists()
    if edit_form is None and can_act and task.status == Task.Status.OPEN:
        initial = {"title": task.title, "due_date": task.due_date, "owner": task.owner_id}
        edit_form = TaskEditForm(initial=initial, owners=task_owner_choices(account_id=task.account_id))
    context = _row_context(task=task, form=form or CommentForm(), edit_form=edit_form, can_act=can_act)
    return render(request, "journeys/task_detail.html", context, status=status)


@login_required
def task_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    if request.method != "POST":
        return _task_page(request, task_id)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.task_comment_add(task_id=task_id, user=request.user, body=form.cleaned_data["body"])
        except JourneyError as error:
            form.add_error("body", str(error))
        else:
            messages.success(request, _("Comment added."))
            return redirect(f"{reverse('journeys:task_detail', args=[task_id])}#comments")
    return _task_page(request, task_id, form=form, status=400)


@login_required
def task_edit(request: HttpRequest, task_id: int) -> HttpResponse:
    """Change the title, due date or owner; an error is shown beside the form (GET goes to the task)."""
    if request.method != "POST":
        return redirect("journeys:task_detail", task_id=task_id)
    task = get_object_or_404(tasks_visible_to(request.user), pk=task_id)
    form = TaskEditForm(request.POST, owners=task_owner_choices(account_id=task.account_id))
    if form.is_valid():
        try:
            services.task_update(
                task_id=task_id,
                user=request.user,
                title=form.cleaned_data["title"],
                due_date=form.cleaned_data["due_date"],
                owner_id=form.cleaned_data["owner"].pk,
            )
        except JourneyError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Task saved."))
            return redirect("journeys:task_detail", task_id=task_id)
    return _task_page(request, task_id, edit_form=form, status=400)


def _task_action(request: HttpRequest, task_id: int, action) -> HttpResponse:
    """Run ``action`` (returns the task and a message). htmx gets the task's row back with the page's counters
    (swapped out of band), or the row with the refusal beside its forms; a plain form post gets the message and
    goes back."""
    try:
        task, message = action()
    except JourneyError as error:
        if request.htmx:
            task = get_object_or_404(
                with_account_context(Task.objects.select_related("account", "playbook"), today=_today()), pk=task_id
            )
            return render(request, "journeys/includes/task_row.html", _row_context(task=task, error=str(error)))
        messages.error(request, str(error))
        return _back(request, reverse("journeys:my_tasks"))
    if request.htmx:
        task = with_account_context(Task.objects.select_related("account", "playbook"), today=_today()).get(pk=task.pk)
        counts = my_tasks_select(user=request.user, today=_today())
        context = _row_context(task=task, tasks=counts, oob=True)
        return render(request, "journeys/includes/task_row_response.html", context)
    messages.success(request, message)
    return _back(request, reverse("journeys:my_tasks"))


@login_required
@require_POST
def task_done(request: HttpRequest, task_id: int) -> HttpResponse:
    def action():
        task = services.task_complete(task_id=task_id, user=request.user)
        return task, _("Done: %(title)s") % {"title": task.title}

    return _task_action(request, task_id, action)


@login_required
@require_POST
def task_snooze(request: HttpRequest, task_id: int) -> HttpResponse:
    form = SnoozeForm(request.POST)

    def action():
        until = form.cleaned_data["until"] if form.is_valid() else None
        task = services.task_snooze(task_id=task_id, user=request.user, until=until, today=_today())
        return task, _("Snoozed until %(day)s.") % {"day": until}

    return _task_action(request, task_id, action)


@login_required
@require_POST
def task_take(request: HttpRequest, task_id: int) -> HttpResponse:
    def action():
        task = services.task_take(task_id=task_id, user=request.user)
        return task, _("The task is yours: %(title)s") % {"title": task.title}

    return _task_action(request, task_id, action)


@login_required
def task_create(request: HttpRequest, account_id: int) -> HttpResponse:
    if request.method != "POST":
        return redirect("journeys:success_plan", account_id=account_id)
    account = account_for_editing(request.user, account_id, "journeys.add_task")
    form = TaskForm(request.POST)
    if form.is_valid():
        try:
            services.task_create(
                account_id=account.pk, owner_id=request.user.pk, created_by_id=request.user.pk, **form.cleaned_data
            )
        except JourneyError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Task created."))
    return _plan_result(request, account, "open-tasks", task_form=form)


# The account's journey: stage, success plan, check-ins -------------------------------------------------------------


def _can_record_check_in(user, account: Account) -> bool:
    if not user.has_perm("journeys.change_checkin"):
        return False
    if Account.objects.editable_by(user).filter(pk=account.pk).exists():
        return True
    return (
        tasks_actionable_by(user).filter(account=account, source=Task.Source.CHECK_IN, status=Task.Status.OPEN).exists()
    )


def _plan_page(request: HttpRequest, account: Account, *, status: int = 200, **forms) -> HttpResponse:
    journey = account_journey(account_id=account.pk, as_of=_today())
    user = request.user
    can_edit = (
        user.has_perm("journeys.change_successplan")
        and Account.objects.editable_by(user).filter(pk=account.pk).exists()
    )
    pending = journey.pending_check_ins
    context = {
        "account": account,
        "journey": journey,
        "can_edit": can_edit,
        "can_check_in": _can_record_check_in(user, account),
        "stage_form": StageChangeForm(),
        "summary_form": PlanSummaryForm(initial={"summary": journey.plan.summary if journey.plan else ""}),
        "outcome_form": OutcomeForm(),
        "outcome_statuses": OutcomeStatusForm.base_fields["status"].choices,
        "check_in_form": CheckInForm(initial={"check_in": pending[-1].pk if pending else None}),
        "next_check_in_form": NextCheckInForm(initial={"next_check_in": journey.next_check_in}),
        "task_form": TaskForm(initial={"due_date": _today() + dt.timedelta(days=7)}),
        "today": _today(),
        **forms,
    }
    return render(request, "journeys/success_plan.html", context, status=status)


def _plan_result(request: HttpRequest, account: Account, anchor: str, **forms) -> HttpResponse:
    """After a form of the success plan page: the page again (at the form's section without htmx); with errors,
    the page with the form and its errors (htmx swaps only that section, so the page does not jump to the top)."""
    if not any(form.errors for form in forms.values()):
        if request.htmx:
            # The page reloads where it is: every section (tasks, check-ins, timeline) shows the change.
            return HttpResponse(headers={"HX-Refresh": "true"})
        return redirect(f"{reverse('journeys:success_plan', args=[account.pk])}#{anchor}")
    return _plan_page(request, account, status=200 if request.htmx else 400, **forms)


@login_required
@require_GET
def success_plan(request: HttpRequest, account_id: int) -> HttpResponse:
    return _plan_page(request, account_for_reading(request.user, account_id))


@login_required
@require_GET
def account_panel(request: HttpRequest, account_id: int) -> HttpResponse:
    """An htmx fragment for the account page: stage, NPS, detractor comments, check-ins, open tasks."""
    account = account_for_reading(request.user, account_id)
    journey = account_journey(account_id=account.pk, as_of=_today())
    return render(request, "journeys/includes/account_panel.html", {"account": account, "journey": journey})


@login_required
def stage_change(request: HttpRequest, account_id: int) -> HttpResponse:
    if request.method != "POST":
        return redirect("journeys:success_plan", account_id=account_id)
    account = account_for_editing(request.user, account_id, "journeys.add_stagechange")
    form = StageChangeForm(request.POST)
    if form.is_valid():
        try:
            services.stage_change(
                account_id=account.pk,
                to_stage_id=form.cleaned_data["stage"].pk,
                changed_by_id=request.user.pk,
                reason=form.cleaned_data["reason"],
            )
        except JourneyError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Moved to %(stage)s.") % {"stage": form.cleaned_data["stage"]})
    return _plan_result(request, account, "stage-heading", stage_form=form)


@login_required
@require_POST
def plan_summary(request: HttpRequest, account_id: int) -> HttpResponse:
    account = account_for_editing(request.user, account_id, "journeys.change_successplan")
    form = PlanSummaryForm(request.POST)
    if form.is_valid():
        services.success_plan_update(account_id=account.pk, user=request.user, summary=form.cleaned_data["summary"])
        messages.success(request, _("Success plan saved."))
    return redirect("journeys:success_plan", account_id=account.pk)


@login_required
def outcome_add(request: HttpRequest, account_id: int) -> HttpResponse:
    if request.method != "POST":
        return redirect("journeys:success_plan", account_id=account_id)
    account = account_for_editing(request.user, account_id, "journeys.add_outcome")
    form = OutcomeForm(request.POST)
    if form.is_valid():
        owner = form.cleaned_data["owner"]
        try:
            services.outcome_create(
                account_id=account.pk,
                user=request.user,
                description=form.cleaned_data["description"],
                target_date=form.cleaned_data["target_date"],
                owner_id=owner.pk if owner else None,
            )
        except JourneyError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Outcome added."))
    return _plan_result(request, account, "plan-heading", outcome_form=form)


@login_required
@require_POST
def outcome_status(request: HttpRequest, account_id: int, outcome_id: int) -> HttpResponse:
    account = account_for_editing(request.user, account_id, "journeys.change_outcome")
    form = OutcomeStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
    else:
        try:
            services.outcome_status_set(
                outcome_id=outcome_id, account_id=account.pk, status=form.cleaned_data["status"]
            )
        except JourneyError as error:
            messages.error(request, str(error))
    return redirect("journeys:success_plan", account_id=account.pk)


@login_required
def check_in_record(request: HttpRequest, account_id: int) -> HttpResponse:
    if request.method != "POST":
        return redirect("journeys:success_plan", account_id=account_id)
    account = account_for_reading(request.user, account_id)
    if not _can_record_check_in(request.user, account):
        raise PermissionDenied
    form = CheckInForm(request.POST)
    if form.is_valid():
        try:
            services.check_in_record(
                account_id=account.pk,
                user=request.user,
                achieved=form.cleaned_data["achieved"],
                notes=form.cleaned_data["notes"],
                check_in_id=form.cleaned_data["check_in"],
            )
        except JourneyError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Check-in recorded."))
    return _plan_result(request, account, "check-in-heading", check_in_form=form)


@login_required
def next_check_in(request: HttpRequest, account_id: int) -> HttpResponse:
    """Schedule the plan's next check-in; the nightly job asks it (a task for the CSM) on that day, once."""
    if request.method != "POST":
        return redirect("journeys:success_plan", account_id=account_id)
    account = account_for_editing(request.user, account_id, "journeys.change_successplan")
    form = NextCheckInForm(request.POST)
    if form.is_valid():
        try:
            day = form.cleaned_data["next_check_in"]
            services.success_plan_next_check_in_set(account_id=account.pk, user=request.user, on=day, today=_today())
        except JourneyError as error:
            form.add_error("next_check_in", str(error))
        else:
            messages.success(request, _("Next check-in scheduled."))
    return _plan_result(request, account, "check-in-heading", next_check_in_form=form)


# Journey funnel, surveys, playbooks ----------------------------------------------------------------------------------


@login_required
@require_GET
def funnel(request: HttpRequest) -> HttpResponse:
    form, as_of, segment = parse_as_of(request.GET, _today())
    ids = _visible_account_ids(request, segment)
    return render(
        request,
        "journeys/funnel.html",
        {
            "form": form,
            "as_of": as_of,
            "funnel": journey_funnel(as_of=as_of, account_ids=ids),
            "ttv": time_to_value(as_of=as_of, account_ids=ids),
            "settings": journey_settings_get(),
        },
    )


@login_required
@require_GET
def surveys(request: HttpRequest) -> HttpResponse:
    form, as_of, segment = parse_as_of(request.GET, _today())
    ids = _visible_account_ids(request, segment)
    return render(
        request,
        "journeys/surveys.html",
        {
            "form": form,
            "as_of": as_of,
            "summary": survey_summary(as_of=as_of, account_ids=ids),
            "trend": survey_trend(as_of=as_of, account_ids=ids),
            "detractors": detractor_answers(as_of=as_of, account_ids=ids),
            "can_upload": request.user.has_perm("journeys.add_surveyresponse"),
        },
    )


@login_required
def survey_upload(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("journeys.add_surveyresponse"):
        raise PermissionDenied
    form, result = SurveyUploadForm(), None
    if request.method == "POST":
        form = SurveyUploadForm(request.POST, request.FILES)
        if form.is_valid():
            result = services.survey_responses_import_csv(
                file=form.cleaned_data["file"], created_by_id=request.user.pk, user=request.user
            )
            if not result.errors:
                messages.success(
                    request,
                    _("Imported %(created)s answers (%(duplicates)s already uploaded).")
                    % {"created": result.created, "duplicates": result.duplicates},
                )
                return redirect("journeys:surveys")
    return render(request, "journeys/survey_upload.html", {"form": form, "result": result})


@login_required
@require_GET
def playbooks(request: HttpRequest) -> HttpResponse:
    as_of = _today()
    items = list(
        Playbook.objects.prefetch_related("steps", "conditions__stage").select_related("stage").order_by("name")
    )
    effectiveness = playbook_effectiveness(playbook_ids=[p.pk for p in items], as_of=as_of)
    return render(
        request,
        "journeys/playbooks.html",
        {
            "rows": [(playbook, effectiveness[playbook.pk]) for playbook in items],
            "as_of": as_of,
            "can_dry_run": can_manage_playbooks(request.user),
        },
    )


@login_required
@require_GET
def playbook_dry_run_view(request: HttpRequest, playbook_id: int) -> HttpResponse:
    if not can_manage_playbooks(request.user):
        raise PermissionDenied
    playbook = get_object_or_404(Playbook, pk=playbook_id)
    form, as_of, _segment = parse_as_of(request.GET, _today())
    return render(
        request,
        "journeys/playbook_dry_run.html",
        {"playbook": playbook, "form": form, "as_of": as_of, "run": playbook_dry_run(playbook=playbook, as_of=as_of)},
    )
