"""Success plans: outcomes, the check-in asked every N months as a task, and the answer kept and shown."""

import datetime as dt

import pytest
from django.urls import reverse

from accounts.models import Activity
from journeys.errors import JourneyError
from journeys.models import CheckIn, JourneySettings, Outcome, Task
from journeys.services import check_in_record, check_ins_schedule
from tests.factories import AccountFactory, SuccessPlanFactory
from tests.journeys.conftest import at

pytestmark = pytest.mark.django_db


def test_check_ins_are_asked_every_interval_once(alice):
    plan = SuccessPlanFactory(account=AccountFactory(owner=alice), created_at=at(dt.date(2024, 1, 15)))
    pooled = SuccessPlanFactory(account=AccountFactory(segment="tech_touch"), created_at=at(dt.date(2024, 1, 31)))
    SuccessPlanFactory(
        account=AccountFactory(status="churned", churned_on=dt.date(2024, 3, 1)), created_at=at(dt.date(2024, 1, 1))
    )
    assert check_ins_schedule(as_of=dt.date(2024, 7, 14)) == 0
    assert check_ins_schedule(as_of=dt.date(2024, 7, 31)) == 2
    assert check_ins_schedule(as_of=dt.date(2024, 7, 31)) == 0
    check_in = CheckIn.objects.get(plan=plan)
    assert (check_in.asked_on, check_in.task.owner, check_in.task.due_date) == (
        dt.date(2024, 7, 15),
        alice,
        dt.date(2024, 7, 29),
    )
    assert check_in.task.title == "Success plan check-in: has the customer achieved what they expected?"
    assert check_in.task.source == "check_in"
    pooled_task = CheckIn.objects.get(plan=pooled).task
    assert (pooled_task.owner, pooled_task.pool_segment) == (None, "tech_touch")
    # The next one comes six months after the last one asked; the interval is a setting.
    assert check_ins_schedule(as_of=dt.date(2025, 1, 14)) == 0
    JourneySettings.objects.update_or_create(pk=1, defaults={"check_in_interval_months": 3})
    assert check_ins_schedule(as_of=dt.date(2024, 10, 15)) == 1
    assert Task.objects.count() == 3


def test_recording_the_answer_closes_the_task_and_logs_it(alice):
    account = AccountFactory(owner=alice)
    plan = SuccessPlanFactory(account=account, created_at=at(dt.date(2024, 1, 15)))
    check_ins_schedule(as_of=dt.date(2024, 7, 15))
    check_in = check_in_record(account_id=account.pk, user=alice, achieved="partly", notes="Reports yes, SSO not yet")
    check_in.refresh_from_db()
    assert (check_in.plan, check_in.achieved, check_in.answered_by) == (plan, "partly", alice)
    assert check_in.task.status == "done" and check_in.task.completed_by == alice
    activity = Activity.objects.get(account=account)
    assert (activity.kind, activity.subject, activity.body) == (
        "note",
        "Success plan check-in: achieved partly",
        "Reports yes, SSO not yet",
    )
    # Nothing pending: an ad-hoc check-in asked today; a second one the same day is refused.
    ad_hoc = check_in_record(account_id=account.pk, user=alice, achieved="yes")
    assert ad_hoc.task is None and ad_hoc.asked_on == ad_hoc.answered_at.date()
    with pytest.raises(JourneyError, match="already recorded today"):
        check_in_record(account_id=account.pk, user=alice, achieved="no")
    with pytest.raises(JourneyError, match="yes, partly or no"):
        check_in_record(account_id=account.pk, user=alice, achieved="maybe")


def test_the_success_plan_page(alice, bob, edna, client, stages):
    account = AccountFactory(owner=alice, name="Acme")
    client.force_login(alice)
    url = reverse("journeys:success_plan", args=[account.pk])
    add = reverse("journeys:outcome_add", args=[account.pk])
    assert client.post(add, {"description": "Self-serve reporting", "target_date": "2024-09-30"}).status_code == 302
    outcome = Outcome.objects.get()
    assert (outcome.owner, outcome.plan.account) == (alice, account)
    status = reverse("journeys:outcome_status", args=[account.pk, outcome.pk])
    assert client.post(status, {"status": "achieved"}).status_code == 302
    check_in = reverse("journeys:check_in_record", args=[account.pk])
    assert client.post(check_in, {"achieved": "yes", "notes": "Live in all teams"}).status_code == 302
    stage = reverse("journeys:stage_change", args=[account.pk])
    assert client.post(stage, {"stage": stages["Adoption"].pk, "reason": "Reports live"}).status_code == 302
    page = client.get(url).content.decode()
    for text in ("Self-serve reporting", "Achieved", "Live in all teams", "Adoption", "Reports live"):
        assert text in page, text
    panel = client.get(reverse("journeys:account_panel", args=[account.pk])).content.decode()
    assert "Live in all teams" in panel and "Adoption" in panel

    for user in (bob, edna):
        client.force_login(user)
        assert client.get(url).status_code == 200
        for target, data in ((add, {}), (status, {"status": "missed"}), (check_in, {"achieved": "no"}), (stage, {})):
            assert client.post(target, data).status_code == 403, (user, target)
