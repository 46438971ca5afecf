"""The demo exercises the whole product: ``make run``'s sequence on a small book (load the demo, a few backfilled
nights, ``load_demo --after-backfill``) leaves active playbooks that fired, tasks done, open and overdue, survey
answers of every kind, a journey with time to value, success plans with check-ins and renewal forecasts, and every
role's landing pages show them instead of an empty state."""

import datetime as dt
import re
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from accounts.models import Account, User
from csm_platform.web.models import QuarterTarget, RenewalForecast, RenewalForecastChange, SavedView
from health.pipeline import recompute
from journeys.models import (
    CheckIn,
    Outcome,
    Playbook,
    PlaybookFiring,
    StageChange,
    SuccessPlan,
    SurveyResponse,
    Task,
    TaskComment,
)
from journeys.selectors.journey import journey_funnel, time_to_value
from journeys.selectors.surveys import survey_summary

TODAY = dt.date(2026, 7, 1)
NOW = dt.datetime(2026, 7, 1, 8, tzinfo=dt.UTC)
NIGHTS = [TODAY - dt.timedelta(days=n) for n in (22, 15, 8, 1)]  # a weekly backfill up to yesterday

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    """``make run`` in small: the demo as of today, weekly nights up to yesterday (the churn model is not retrained:
    it is not what this file checks), then the work done after the backfill."""
    with time_machine.travel(NOW, tick=False):
        out = StringIO()
        call_command("load_demo", "--accounts=40", "--days=60", stdout=out)
        for night in NIGHTS:
            recompute(as_of=night, retrain=False)
        call_command("load_demo", "--after-backfill", stdout=out)
        yield out.getvalue()


def test_the_demo_creates_every_kind_of_journey_data(demo):
    assert Playbook.objects.filter(active=True).count() == 8
    fired = set(PlaybookFiring.objects.values_list("playbook__name", flat=True))
    assert {"Renewal in 120 days", "No engaged executive sponsor"} <= fired and len(fired) >= 4

    tasks = Task.objects.exclude(source=Task.Source.MANUAL)
    done = tasks.filter(status=Task.Status.DONE)
    overdue = tasks.filter(status=Task.Status.OPEN, due_date__lt=TODAY)
    upcoming = tasks.filter(status=Task.Status.OPEN, due_date__gte=TODAY)
    assert done.count() >= 10 and overdue.count() >= 5 and upcoming.count() >= 3
    assert all(t.created_at.date() <= t.completed_at.date() < TODAY for t in done)
    assert not tasks.filter(created_at__date__gte=TODAY).exists()  # dated on the night that made them
    comments = TaskComment.objects.filter(task__in=tasks).select_related("task")
    assert comments.filter(task__status=Task.Status.DONE).exists()
    assert comments.filter(task__status=Task.Status.OPEN, task__due_date__lt=TODAY).exists()
    for comment in comments:  # by the task's owner, after the task was made, before it was done and before today
        assert comment.author_id == comment.task.owner_id
        assert comment.task.created_at <= comment.created_at < (comment.task.completed_at or NOW)
    written = comments.count()
    call_command("load_demo", "--after-backfill", stdout=StringIO())
    assert comments.count() == written  # a second run leaves the notes as they are
    assert tasks.filter(source=Task.Source.CHECK_IN).exists()

    answers = SurveyResponse.objects.all()
    by_kind = {kind: answers.filter(kind=kind).count() for kind in SurveyResponse.Kind.values}
    assert by_kind["nps"] >= 50 and by_kind["csat"] >= 50 and by_kind["ces"] >= 20
    assert not answers.filter(contact__isnull=True).exists() and not answers.filter(responded_at__date__gte=TODAY)
    assert answers.filter(kind="nps", score__lte=6).exclude(comment="").exists()
    summary = survey_summary(as_of=TODAY)
    assert summary["nps"].value is not None and summary["csat"].value is not None and summary["ces"].value is not None
    # Healthier accounts answer higher: the churned accounts' last answers are below the rest's.
    churned = answers.filter(kind="nps", account__status=Account.Status.CHURNED)
    active = answers.filter(kind="nps", account__status=Account.Status.ACTIVE)
    assert mean(churned.values_list("score", flat=True)) < mean(active.values_list("score", flat=True))

    customers = Account.objects.exclude(status=Account.Status.PROSPECT)
    assert set(StageChange.objects.values_list("account", flat=True).distinct()) == set(
        Account.objects.values_list("pk", flat=True)
    )
    prospects_stages = set(
        StageChange.objects.filter(account__status=Account.Status.PROSPECT).values_list("to_stage__name", flat=True)
    )
    assert prospects_stages and prospects_stages <= {"Awareness", "Research", "Decision"}
    funnel = journey_funnel(as_of=TODAY)
    assert all(row.reached for row in funnel.rows) and funnel.days_to_adoption.median is not None
    ttv = time_to_value(as_of=TODAY, account_ids=customers.values_list("pk", flat=True))
    assert ttv and all(row.summary.median is not None for row in ttv)

    plans = SuccessPlan.objects.all()
    assert plans.exists() and not plans.exclude(account__segment="high_touch").exists()
    assert Outcome.objects.filter(status=Outcome.Status.ACHIEVED).exists()
    assert CheckIn.objects.filter(answered_at__isnull=False).values("plan").distinct().count() >= 2

    forecasts = RenewalForecast.objects.select_related("contract")
    assert forecasts.count() >= 5 and len(set(forecasts.values_list("category", flat=True))) >= 2
    assert all(f.contract.end_date >= TODAY for f in forecasts) and all(f.next_step for f in forecasts)
    assert RenewalForecastChange.objects.count() >= forecasts.count()
    targets = dict(QuarterTarget.objects.values_list("quarter", "target"))
    assert {"2026-Q3", "2026-Q4"} <= set(targets) and all(target > 0 for target in targets.values())
    assert set(SavedView.objects.values_list("user__username", flat=True)) == {"csm", "manager", "ae"}


def test_every_role_lands_on_pages_with_data(demo, client):
    high_touch = (
        SuccessPlan.objects.filter(check_ins__isnull=False, account__tasks__status=Task.Status.OPEN)
        .values_list("account", flat=True)
        .first()
    )
    forecast = RenewalForecast.objects.values_list("contract", flat=True).first()
    common = ["web:portfolio", "journeys:funnel", "journeys:surveys", "journeys:playbooks", "web:renewals"]
    pages = {
        "csm": ["journeys:my_tasks", *common],
        "manager": ["journeys:my_tasks", *common],
        "ae": common,
        "exec": common,
        "admin": common,
    }
    with time_machine.travel(dt.datetime(2026, 7, 1, 9, tzinfo=dt.UTC), tick=False):
        for username, names in pages.items():
            client.force_login(User.objects.get(username=username))
            urls = [reverse(name) for name in names]
            if username in ("manager", "admin"):
                urls.append(reverse("journeys:success_plan", args=[high_touch]))
            if username in ("ae", "admin"):
                urls.append(reverse("web:forecast", args=[forecast]))
            for url in urls:
                response = client.get(url, follow=True)
                assert response.status_code == 200, (username, url)
                empty = re.findall(r'class="empty"[^>]*>([^<]*)<', response.content.decode())
                allowed = {"No detractor comments in the NPS window."}
                assert set(empty) <= allowed, (username, url, empty)
            rows = []  # each saved view opens, and one at least lists rows even in so small a book
            for view in SavedView.objects.filter(user__username=username):
                response = client.get(f"{reverse(f'web:{view.page}')}?{view.querystring}")
                assert response.status_code == 200, (username, view.name)
                rows.append(len(response.context["table"].rows))
            assert not rows or max(rows) > 0, (username, rows)
        client.force_login(User.objects.get(username="ae"))
        quarter = client.get(reverse("web:renewals"), {"quarter": "2026-Q3"})
        assert quarter.context["attainment"].ratio is not None  # the demo sets the quarter's target


def mean(values) -> float:
    values = list(values)
    return sum(values) / len(values)
