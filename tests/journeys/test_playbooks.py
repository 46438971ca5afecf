"""Playbooks: every trigger's occurrence, the filter, assignment and the pool, once per occurrence (re-runs create
nothing), dry runs write nothing, effectiveness against a hand computation, and the nightly hook."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Account
from health.models import AccountSnapshot
from health.pipeline import AFTER_RECOMPUTE, recompute
from journeys import health_hooks
from journeys.models import Playbook, PlaybookFiring, PlaybookStep, Task, Trigger
from journeys.selectors.playbooks import playbook_candidates, playbook_dry_run, playbook_effectiveness
from journeys.services import journeys_nightly, playbooks_evaluate, stage_change
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    ContractFactory,
    PlaybookFactory,
    PlaybookStepFactory,
    StageChangeFactory,
    SurveyResponseFactory,
    TaskFactory,
)
from tests.journeys.conftest import at

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2024, 6, 30)


def day(n: int) -> dt.date:
    """June 2024, day n (negative: days before June 1st)."""
    return dt.date(2024, 6, 1) + dt.timedelta(days=n - 1)


def snap(account, on: dt.date, band: str, health: float | None = None, **x) -> AccountSnapshot:
    measures = [{"key": key, "x": value} for key, value in x.items()]
    default = {"red": 30.0, "yellow": 55.0, "green": 80.0, "na": None}[band]
    return AccountSnapshot.objects.create(
        account=account,
        as_of=on,
        acv=Decimal("0"),
        band=band,
        health=default if health is None else health,
        measures=measures,
    )


def playbook(trigger=Trigger.HEALTH_RED, steps=1, **fields) -> Playbook:
    book = PlaybookFactory(trigger=trigger, **fields)
    for n in range(steps):
        PlaybookStepFactory(playbook=book, order=n + 1, title=f"Step {n + 1} for {{account}}", due_in_days=n + 2)
    return book


def keys(book: Playbook, as_of: dt.date = AS_OF) -> dict[int, str]:
    return {o.account_id: o.key for o in playbook_candidates(playbook=book, as_of=as_of)}


def test_health_red_fires_once_per_red_episode(alice):
    book = playbook(steps=2)
    a, b, c, d = (AccountFactory(owner=alice) for _ in range(4))
    snap(a, day(27), "yellow"), snap(a, day(28), "red"), snap(a, day(29), "red"), snap(a, day(30), "red")
    snap(b, day(19), "green"), snap(b, day(20), "red"), snap(b, day(21), "na"), snap(b, day(22), "red")
    snap(b, day(30), "red")
    snap(c, day(30), "green")
    snap(d, day(25), "red"), snap(d, day(26), "green"), snap(d, day(30), "red")

    assert keys(book, day(29)) == {a.pk: "red:2024-06-28"}
    assert playbooks_evaluate(as_of=day(29)) == {
        "playbooks_evaluated": 1,
        "playbook_firings": 1,
        "playbook_tasks": 2,
        "playbook_emails": 0,
    }
    # The next night: a's episode already fired; b (an N/A night does not end its episode) and d (red again) fire.
    assert keys(book) == {b.pk: "red:2024-06-20", d.pk: "red:2024-06-30"}
    assert playbooks_evaluate(as_of=AS_OF)["playbook_tasks"] == 4
    tasks = Task.objects.filter(account=a).order_by("due_date")
    assert [(t.title, t.due_date, t.owner_id) for t in tasks] == [
        (f"Step 1 for {a.name}", day(31), alice.pk),
        (f"Step 2 for {a.name}", dt.date(2024, 7, 2), alice.pk),
    ]


def test_rerunning_a_night_creates_nothing_new(alice):
    book = playbook(steps=2)
    account = AccountFactory(owner=alice)
    snap(account, AS_OF, "red")
    first = journeys_nightly(as_of=AS_OF)
    assert (first["playbook_firings"], first["playbook_tasks"]) == (1, 2)
    tasks = set(Task.objects.values_list("pk", "dedupe_key"))
    for _ in range(2):
        again = journeys_nightly(as_of=AS_OF)
        assert (again["playbook_firings"], again["playbook_tasks"]) == (0, 0)
    assert set(Task.objects.values_list("pk", "dedupe_key")) == tasks
    assert PlaybookFiring.objects.get().occurrence_key == f"red:{AS_OF.isoformat()}"
    assert book.tasks.count() == 2


def test_a_dry_run_writes_nothing(alice, bob):
    book = playbook(steps=2)
    a, b = AccountFactory(owner=alice, name="Acme"), AccountFactory(owner=bob, name="Bolt")
    snap(a, AS_OF, "red"), snap(b, AS_OF, "red")
    with CaptureQueriesContext(connection) as queries:
        counts = playbooks_evaluate(as_of=AS_OF, dry_run=True)
        rows = playbook_dry_run(playbook=book, as_of=AS_OF)
    writes = [q["sql"] for q in queries if q["sql"].lstrip().split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}]
    assert writes == []
    assert not any("FOR UPDATE" in q["sql"] for q in queries)
    assert counts == {"playbooks_evaluated": 1, "playbook_firings": 2, "playbook_tasks": 4, "playbook_emails": 0}
    assert [(r.account_name, r.occurrence_key) for r in rows.rows] == [
        ("Acme", "red:2024-06-30"),
        ("Bolt", "red:2024-06-30"),
    ]
    assert not Task.objects.exists() and not PlaybookFiring.objects.exists()
    assert playbooks_evaluate(as_of=AS_OF) == counts  # the real run fires exactly what the dry run listed


def test_health_drop_fires_the_night_the_fall_reaches_the_threshold():
    book = playbook(Trigger.HEALTH_DROP, threshold=20)
    a, b, c = AccountFactory(), AccountFactory(), AccountFactory()
    # a: 80 → 70 (−10) on the 29th, 80 → 55 (−25) tonight: starts tonight. b fell 25 already yesterday.
    snap(a, day(-1), "green", 80), snap(a, day(0), "green", 80), snap(a, day(29), "yellow", 70)
    snap(a, day(30), "yellow", 55)
    snap(b, day(-1), "green", 80), snap(b, day(0), "green", 80), snap(b, day(29), "yellow", 55)
    snap(b, day(30), "yellow", 50)
    snap(c, day(30), "red", 10)  # no snapshot 30 days before: N/A, no firing
    assert keys(book) == {a.pk: "drop:2024-06-30"}
    detail = {"health_drop": {"health": 55, "health_30_days_before": 80}}
    assert playbook_candidates(playbook=book, as_of=AS_OF)[0].detail == detail


def test_usage_trend_and_license_utilization_below_a_threshold():
    trend = playbook(Trigger.USAGE_TREND_BELOW, threshold=0.8)
    seats = playbook(Trigger.LICENSE_UTILIZATION_BELOW, threshold=0.3)
    a, b, c = AccountFactory(), AccountFactory(), AccountFactory()
    snap(a, day(29), "green", usage_trend=0.9, license_utilization=0.5)
    snap(a, day(30), "yellow", usage_trend=0.7, license_utilization=0.25)
    snap(b, day(29), "yellow", usage_trend=0.6, license_utilization=None)
    snap(b, day(30), "yellow", usage_trend=0.5, license_utilization=None)  # below since yesterday; no seats: N/A
    snap(c, day(30), "yellow", usage_trend=None, license_utilization=0.1)  # first night ever: it starts tonight
    assert keys(trend) == {a.pk: "usage_trend:2024-06-30"}
    assert keys(seats) == {a.pk: "license_utilization:2024-06-30", c.pk: "license_utilization:2024-06-30"}


def test_renewal_within_fires_once_per_contract_end():
    book = playbook(Trigger.RENEWAL_WITHIN, days=60)
    a, b = AccountFactory(), AccountFactory()
    ContractFactory(account=a, start_date=dt.date(2023, 8, 29), end_date=dt.date(2024, 8, 28))
    ContractFactory(account=b, start_date=dt.date(2024, 1, 1), end_date=dt.date(2024, 12, 31))
    assert keys(book) == {a.pk: "renewal:2024-08-28"}
    playbooks_evaluate(as_of=AS_OF)
    assert keys(book, day(31)) == {}
    ContractFactory(account=a, start_date=dt.date(2024, 8, 29), end_date=dt.date(2024, 10, 31), kind="renewal")
    assert keys(book, dt.date(2024, 9, 15)) == {a.pk: "renewal:2024-10-31"}


def test_no_touch_counts_from_the_last_touch_or_the_first_contract():
    book = playbook(Trigger.NO_TOUCH, days=30)
    touched, fresh, never = AccountFactory(), AccountFactory(), AccountFactory()
    ActivityFactory(account=touched, kind="call", occurred_at=at(day(-10)))
    ActivityFactory(account=touched, kind="note", occurred_at=at(day(29)))  # a note is not a touch
    ActivityFactory(account=fresh, kind="meeting", occurred_at=at(day(20)))
    ContractFactory(account=never, start_date=dt.date(2024, 5, 1), end_date=dt.date(2025, 4, 30))
    assert keys(book) == {touched.pk: "touch:2024-05-21", never.pk: "touch:never"}
    playbooks_evaluate(as_of=AS_OF)
    ActivityFactory(account=touched, kind="email", occurred_at=at(day(30)))
    assert keys(book, dt.date(2024, 7, 31)) == {touched.pk: "touch:2024-06-30", fresh.pk: "touch:2024-06-20"}


def test_no_engaged_executive_sponsor():
    book = playbook(Trigger.NO_EXECUTIVE_SPONSOR, days=90)
    engaged, lapsed, none, new = (AccountFactory() for _ in range(4))
    for account in (engaged, lapsed, none):
        ContractFactory(account=account, start_date=dt.date(2023, 1, 1), end_date=dt.date(2024, 12, 31))
    ContractFactory(account=new, start_date=dt.date(2024, 5, 1), end_date=dt.date(2025, 4, 30))  # customer < 90 days
    sponsor = ContactFactory(account=engaged, is_executive_sponsor=True)
    ActivityFactory(account=engaged, contact=sponsor, kind="meeting", occurred_at=at(day(1)))
    ContactFactory(account=lapsed, is_executive_sponsor=True, last_engaged_at=at(dt.date(2024, 3, 1)))
    assert keys(book) == {lapsed.pk: "sponsor:2024-03-01", none.pk: "sponsor:never"}


def test_stage_entered_fires_as_the_change_happens_and_not_again_at_night(stages, alice):
    book = playbook(Trigger.STAGE_ENTERED, trigger_stage=stages["Purchase (onboarding)"])
    account = AccountFactory(owner=alice)
    StageChangeFactory(account=account, to_stage=stages["Decision"], changed_at=at(day(1)))
    change = stage_change(
        account_id=account.pk, to_stage_id=stages["Purchase (onboarding)"].pk, changed_by_id=alice.pk, reason="Signed"
    )
    assert Task.objects.get().firing.occurrence_key == f"stage:{change.pk}"
    assert playbooks_evaluate(as_of=change.changed_at.date())["playbook_tasks"] == 0
    assert book.firings.count() == 1


def test_the_filter_segment_acv_and_stage(stages):
    book = playbook(segment=Account.Segment.HIGH_TOUCH, min_acv=Decimal("10000"), stage=stages["Adoption"])
    fits = AccountFactory(segment="high_touch")
    small = AccountFactory(segment="high_touch")
    other_segment = AccountFactory(segment="mid_touch")
    other_stage = AccountFactory(segment="high_touch")
    churned = AccountFactory(segment="high_touch", status="churned", churned_on=day(1))
    for account, tcv in ((fits, "12000"), (small, "6000"), (other_segment, "12000"), (other_stage, "12000")):
        ContractFactory(account=account, recurring_tcv=Decimal(tcv), start_date=dt.date(2024, 1, 1))
    for account in (fits, small, other_segment, churned):
        StageChangeFactory(account=account, to_stage=stages["Adoption"], changed_at=at(day(1)))
    StageChangeFactory(account=other_stage, to_stage=stages["Advocacy"], changed_at=at(day(1)))
    for account in (fits, small, other_segment, other_stage, churned):
        snap(account, AS_OF, "red")
    assert keys(book) == {fits.pk: "red:2024-06-30"}


def test_assignment_to_owner_ae_manager_and_the_pool(alice, mallory, andy):
    book = PlaybookFactory(trigger=Trigger.HEALTH_RED)
    for order, assignee in enumerate(PlaybookStep.Assignee.values, start=1):
        PlaybookStepFactory(playbook=book, order=order, title=assignee, assignee=assignee)
    owned = AccountFactory(owner=alice, account_executive=andy)
    pooled = AccountFactory(owner=None, account_executive=None, segment="tech_touch")
    snap(owned, AS_OF, "red"), snap(pooled, AS_OF, "red")
    playbooks_evaluate(as_of=AS_OF)
    owners = {(t.account_id, t.title): (t.owner_id, t.pool_segment) for t in Task.objects.all()}
    assert owners == {
        (owned.pk, "owner"): (alice.pk, ""),
        (owned.pk, "ae"): (andy.pk, ""),
        (owned.pk, "manager"): (mallory.pk, ""),
        (pooled.pk, "owner"): (None, "tech_touch"),
        (pooled.pk, "ae"): (None, "tech_touch"),
        (pooled.pk, "manager"): (None, "tech_touch"),
    }


def test_cooldown_keeps_an_account_from_firing_again_too_soon():
    book = playbook(Trigger.DETRACTOR, cooldown_days=30)
    account = AccountFactory()
    SurveyResponseFactory(account=account, score=2, responded_at=at(day(1)))
    playbooks_evaluate(as_of=day(1))
    SurveyResponseFactory(account=account, score=1, responded_at=at(day(20)))
    assert keys(book, day(20)) == {}
    SurveyResponseFactory(account=account, score=0, responded_at=at(dt.date(2024, 7, 2)))
    assert list(keys(book, dt.date(2024, 7, 2)).values())[0].startswith("detractor:")


def test_inactive_playbooks_and_playbooks_without_candidates():
    playbook(active=False)
    snap(AccountFactory(), AS_OF, "red")
    assert playbooks_evaluate(as_of=AS_OF) == {
        "playbooks_evaluated": 0,
        "playbook_firings": 0,
        "playbook_tasks": 0,
        "playbook_emails": 0,
    }


def test_effectiveness_matches_a_hand_computation(alice):
    book = playbook()
    fired = [AccountFactory(segment="mid_touch") for _ in range(2)]
    similar = [AccountFactory(segment="mid_touch") for _ in range(2)]
    other_segment = AccountFactory(segment="high_touch")
    start, later = dt.date(2024, 5, 1), dt.date(2024, 5, 31)
    # Fired: 30 → 50 (+20) and 20 → 30 (+10): mean +15. Similar (mid-touch, red on May 1st, not fired): 30 → 35
    # and 30 → 25: mean 0. The high-touch account (+50) is not similar.
    for account, before, after in ((fired[0], 30, 50), (fired[1], 20, 30), (similar[0], 30, 35), (similar[1], 30, 25)):
        snap(account, start, "red", before), snap(account, later, "yellow", after)
    snap(other_segment, start, "red", 10), snap(other_segment, later, "red", 60)
    for account in fired:
        PlaybookFiring.objects.create(playbook=book, account=account, occurrence_key="red:x", as_of=start)
    TaskFactory(
        playbook=book,
        source="playbook",
        account=fired[0],
        due_date=dt.date(2024, 5, 4),
        created_at=at(start),
        owner=alice,
        status="done",
        completed_at=at(dt.date(2024, 5, 4)),
    )
    TaskFactory(
        playbook=book,
        source="playbook",
        account=fired[1],
        due_date=dt.date(2024, 5, 4),
        created_at=at(start),
        owner=alice,
        status="done",
        completed_at=at(dt.date(2024, 5, 6)),
    )
    TaskFactory(
        playbook=book,
        source="playbook",
        account=fired[1],
        due_date=dt.date(2024, 5, 4),
        created_at=at(start),
        owner=alice,
    )
    stats = playbook_effectiveness(playbook_ids=[book.pk], as_of=AS_OF)[book.pk]
    assert (stats.firings, stats.accounts, stats.outcomes) == (2, 2, 2)
    assert (stats.tasks, stats.tasks_done, stats.tasks_done_on_time, stats.tasks_overdue) == (3, 2, 1, 1)
    assert stats.health_change_fired == pytest.approx(15.0)
    assert stats.health_change_similar == pytest.approx(0.0)
    assert stats.lift == pytest.approx(15.0)
    assert playbook_effectiveness(playbook_ids=[book.pk], as_of=dt.date(2024, 5, 20))[book.pk].outcomes == 0


def test_the_nightly_recompute_runs_the_journeys_hook(alice):
    assert health_hooks.after_recompute in AFTER_RECOMPUTE
    playbook(Trigger.NO_TOUCH, days=30)
    account = AccountFactory(owner=alice)
    ContractFactory(account=account, start_date=dt.date(2024, 1, 1), end_date=dt.date(2024, 12, 31))
    run = recompute(as_of=AS_OF, retrain=False)
    assert run.status == "succeeded", run.errors
    assert run.counts["playbook_firings"] == 1 and run.counts["check_ins"] == 0
    assert Task.objects.get().owner == alice


def test_the_management_command_runs_or_dry_runs_a_night(alice):
    playbook()
    snap(AccountFactory(owner=alice), AS_OF, "red")
    out = io.StringIO()
    call_command("evaluate_playbooks", "--as-of", "2024-06-30", "--dry-run", stdout=out)
    assert "playbook_firings: 1" in out.getvalue() and not Task.objects.exists()
    call_command("evaluate_playbooks", "--as-of", "2024-06-30", stdout=out)
    assert Task.objects.count() == 1
    with pytest.raises(CommandError, match="not an ISO date"):
        call_command("evaluate_playbooks", "--as-of", "yesterday")
