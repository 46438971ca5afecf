"""Stages: the one service that moves accounts, milestones, and the funnel, time in stage, days to Adoption and
time to value against hand computations (on the page too)."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from accounts.models import Activity
from accounts.usage.services import usage_rollups_rebuild
from journeys.errors import JourneyError
from journeys.models import JourneySettings, StageChange, StageMilestone
from journeys.selectors.journey import current_stages, journey_funnel, time_to_value
from journeys.services import stage_change, stage_milestones_apply
from tests.factories import AccountFactory, ContractFactory, StageChangeFactory, UsageEventFactory
from tests.journeys.conftest import at

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2024, 6, 30)


def d(month: int, day: int, year: int = 2024) -> dt.date:
    return dt.date(year, month, day)


def path(stages, account, *steps):
    for name, day in steps:
        StageChangeFactory(account=account, to_stage=stages[name], changed_at=at(day))


def test_stage_change_records_who_when_why_and_logs_the_timeline(stages, alice):
    account = AccountFactory(owner=alice)
    first = stage_change(
        account_id=account.pk, to_stage_id=stages["Decision"].pk, changed_by_id=alice.pk, reason="Demo"
    )
    second = stage_change(
        account_id=account.pk,
        to_stage_id=stages["Purchase (onboarding)"].pk,
        changed_by_id=alice.pk,
        reason="Signed the order form",
    )
    assert (second.from_stage, second.to_stage, second.changed_by) == (
        stages["Decision"],
        stages["Purchase (onboarding)"],
        alice,
    )
    assert first.from_stage is None
    subjects = list(Activity.objects.filter(account=account, kind="stage_change").values_list("subject", "body"))
    assert ("Stage: Decision → Purchase (onboarding)", "Signed the order form") in subjects
    assert current_stages(as_of=second.changed_at.date(), account_ids=[account.pk]) == {
        account.pk: stages["Purchase (onboarding)"].pk
    }


def test_stage_change_refuses_bad_input(stages, alice):
    account = AccountFactory(owner=alice)
    StageChangeFactory(account=account, to_stage=stages["Adoption"], changed_at=at(d(6, 1)))
    with pytest.raises(JourneyError, match="already in Adoption"):
        stage_change(account_id=account.pk, to_stage_id=stages["Adoption"].pk, changed_by_id=None, reason="x")
    with pytest.raises(JourneyError, match="Say why"):
        stage_change(account_id=account.pk, to_stage_id=stages["Advocacy"].pk, changed_by_id=None, reason="  ")
    with pytest.raises(JourneyError, match="cannot be recorded before it"):
        stage_change(
            account_id=account.pk,
            to_stage_id=stages["Advocacy"].pk,
            changed_by_id=None,
            reason="Late entry",
            changed_at=at(d(5, 1)),
        )
    with pytest.raises(JourneyError, match="no stage"):
        stage_change(account_id=account.pk, to_stage_id=999_999, changed_by_id=None, reason="x")
    assert StageChange.objects.count() == 1


@pytest.fixture
def journeys(stages):
    """Five accounts' paths (and one after as_of), hand-computed in the test below."""
    a, b, c, dd, e, f = (AccountFactory() for _ in range(6))
    path(stages, a, ("Awareness", d(3, 1)), ("Research", d(3, 11)), ("Decision", d(3, 31)))
    path(stages, a, ("Purchase (onboarding)", d(4, 10)), ("Adoption", d(5, 10)))
    path(stages, b, ("Awareness", d(3, 1)), ("Research", d(3, 21)), ("Decision", d(4, 20)))
    path(stages, c, ("Research", d(4, 1)), ("Decision", d(4, 6)), ("Purchase (onboarding)", d(5, 6)))
    path(stages, dd, ("Awareness", d(6, 1)))
    path(stages, e, ("Purchase (onboarding)", d(1, 1)), ("Adoption", d(2, 1)), ("Advocacy", d(3, 1)))
    path(stages, f, ("Awareness", d(7, 5)))
    return a, b, c, dd, e, f


# Stage: (now, reached, conversion to next, median days in stage, completed stays).
EXPECTED_FUNNEL = {
    "Awareness": (1, 5, 4 / 5, 15, 2),  # stays 10 (a), 20 (b)
    "Research": (0, 4, 4 / 4, 20, 3),  # 20 (a), 30 (b), 5 (c)
    "Decision": (1, 4, 3 / 4, 20, 2),  # 10 (a), 30 (c)
    "Purchase (onboarding)": (1, 3, 2 / 3, 30.5, 2),  # 30 (a), 31 (e)
    "Adoption": (1, 2, 1 / 2, 29, 1),  # 29 (e)
    "Advocacy": (1, 1, None, None, 0),
}


def test_funnel_and_time_in_stage_match_a_hand_computation(journeys):
    funnel = journey_funnel(as_of=AS_OF)
    got = {
        row.stage.name: (
            row.current,
            row.reached,
            row.conversion_to_next,
            row.median_days_in_stage,
            row.completed_stays,
        )
        for row in funnel.rows
    }
    assert list(got) == list(EXPECTED_FUNNEL)
    for name, expected in EXPECTED_FUNNEL.items():
        assert got[name] == pytest.approx(expected), name
    # Days to Adoption (Kaplan-Meier): e 31 and a 70 reached; d 29, c 90, b 121 censored.
    # S(31) = 3/4 (4 at risk), S(70) = 3/4 × 2/3 = 1/2 → median 70; S never reaches 0.1 → p90 N/A.
    adoption = funnel.days_to_adoption
    assert (adoption.median, adoption.p90, adoption.reached, adoption.censored) == (70, None, 2, 3)


def test_the_journey_page_shows_the_hand_computed_figures(journeys, client, edna):
    client.force_login(edna)
    page = client.get(reverse("journeys:funnel"), {"as_of": "2024-06-30"}).content.decode()
    for name, (now, reached, conversion, median, stays) in EXPECTED_FUNNEL.items():
        row = re.search(rf'<tr data-stage="{re.escape(name)}">(.*?)</tr>', page, re.S).group(1)
        cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        percent = "—" if conversion is None else f"{round(conversion * 100)}%"
        if conversion is not None and reached < 5:
            percent += f" n = {reached}, too few to compare"
        median_text = "N/A" if median is None else f"{median:g}"
        if median is not None and stays < 5:
            median_text += f" n = {stays}, too few to compare"
        assert cells == [name, str(now), str(reached), percent, median_text, str(stays)], name
    assert re.search(r'id="days-to-adoption-median">\s*70\s*<', page)


def test_time_to_value_per_segment_with_censoring(stages):
    def customer(segment, start, adoption=None, churned_on=None):
        account = AccountFactory(segment=segment, status="churned" if churned_on else "active", churned_on=churned_on)
        ContractFactory(account=account, start_date=start, end_date=start + dt.timedelta(days=364))
        if adoption:
            path(stages, account, ("Adoption", adoption))
        return account

    customer("mid_touch", d(1, 1), adoption=d(1, 21))  # 20 days
    customer("mid_touch", d(2, 1), adoption=d(3, 12))  # 40 days
    customer("mid_touch", d(5, 1))  # still onboarding: censored at 60
    customer("mid_touch", d(3, 1), churned_on=d(4, 10))  # churned before value: censored at 40
    customer("tech_touch", d(1, 1), adoption=d(12, 15, 2023))  # value before the contract: 0 days
    rows = {row.segment: row.summary for row in time_to_value(as_of=AS_OF)}
    # mid-touch: S(20) = 3/4; at 40, Q's event with 3 at risk (the censored 40 counts): S = 1/2 → median 40.
    assert (rows["mid_touch"].median, rows["mid_touch"].p90) == (40, None)
    assert (rows["mid_touch"].reached, rows["mid_touch"].censored) == (2, 2)
    assert (rows["tech_touch"].median, rows["tech_touch"].p90) == (0, 0)
    assert "high_touch" not in rows


def test_time_to_value_from_a_value_event_and_the_milestone_that_moves_the_stage(stages):
    JourneySettings.objects.filter(pk=1).update(value_event="Report Shared")
    StageMilestone.objects.create(event_name="Report Shared", stage=stages["Adoption"])
    onboarding, ahead, moved_back = AccountFactory(), AccountFactory(), AccountFactory()
    for account in (onboarding, ahead, moved_back):
        ContractFactory(account=account, start_date=d(1, 1), end_date=d(12, 31))
        UsageEventFactory(account=account, event="Report Shared", occurred_at=at(d(1, 11)))
    path(stages, onboarding, ("Purchase (onboarding)", d(1, 1)))
    path(stages, ahead, ("Advocacy", d(1, 1)))
    path(stages, moved_back, ("Adoption", d(1, 5)), ("Purchase (onboarding)", d(1, 20)))
    usage_rollups_rebuild()

    assert stage_milestones_apply(as_of=d(1, 10)) == 0  # the event had not happened yet
    assert stage_milestones_apply(as_of=AS_OF) == 1
    assert stage_milestones_apply(as_of=AS_OF) == 0
    change = StageChange.objects.get(account=onboarding, source="milestone")
    assert (change.to_stage, change.changed_at, change.reason) == (
        stages["Adoption"],
        at(d(1, 11)),
        "Milestone: first Report Shared",
    )
    assert Activity.objects.filter(account=onboarding, kind="stage_change").count() == 1
    ttv = time_to_value(as_of=AS_OF)[0].summary
    assert (ttv.median, ttv.reached, ttv.censored) == (10, 3, 0)
