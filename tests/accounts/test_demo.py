"""``manage.py load_demo``: the demo cast, a realistic book of business, determinism, and the guards around
existing data. Sizes are small so the file runs in seconds."""

import datetime as dt
from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, Max, Q, Sum
from django.urls import reverse

from accounts import demo
from accounts.models import Account, Activity, Contact, Contract, ExchangeRate, Team, UsageDay, UsageEvent, User
from accounts.roles import Role
from accounts.selectors import account_acv_book, contract_term
from health.features import training_rows
from tests.factories import AccountFactory, UserFactory

AS_OF = dt.date(2026, 6, 30)

pytestmark = pytest.mark.django_db


def load(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", f"--as-of={AS_OF:%Y-%m-%d}", *args, stdout=out)
    return out.getvalue()


def fingerprint() -> dict[str, list]:
    """Every demo value that the seed decides (not ids, not creation times)."""
    return {
        "accounts": list(
            Account.objects.order_by("external_id").values_list(
                "external_id", "name", "domain", "segment", "industry", "region", "status", "churned_on",
                "owner__username", "account_executive__username", "parent__external_id",
            )
        ),
        "contracts": list(
            Contract.objects.order_by("external_id").values_list(
                "external_id", "account__external_id", "start_date", "end_date", "currency", "recurring_tcv",
                "one_time_fees", "seats", "kind", "renews__external_id", "auto_renew", "status",
            )
        ),
        "contacts": sorted(
            Contact.objects.values_list(
                "account__external_id", "name", "email", "title", "user_id", "is_champion", "is_executive_sponsor",
                "is_decision_maker", "is_billing", "is_end_user", "active", "last_engaged_at",
            )
        ),
        "activities": sorted(
            Activity.objects.values_list(
                "account__external_id", "kind", "author__username", "occurred_at", "subject", "contact__user_id"
            ),
            key=str,
        ),
        "events": list(
            UsageEvent.objects.order_by("message_id").values_list(
                "message_id", "account__external_id", "user_id", "event", "occurred_at", "received_at", "properties"
            )
        ),
        "rates": list(ExchangeRate.objects.order_by("date").values_list("currency", "date", "rate")),
    }  # fmt: skip


def test_demo_users_have_their_roles_and_log_in_with_the_demo_password(client):
    out = load("--accounts=20", "--days=7")

    by_role = {role: User.objects.filter(groups__name=role).count() for role in Role.values}
    assert by_role == {Role.CSM: 8, Role.MANAGER: 2, Role.ACCOUNT_EXECUTIVE: 3, Role.ADMIN: 1, Role.EXECUTIVE: 1}
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    for team, manager in (("Team North", "manager"), ("Team South", "manager2")):
        team = Team.objects.get(name=team)
        assert team.manager.username == manager
        assert team.members.filter(groups__name=Role.CSM).count() == 4
    for username in ("admin", "manager", "csm", "ae", "exec"):
        signed_in = client.post(reverse("login"), {"username": username, "password": demo.DEMO_PASSWORD})
        assert signed_in.status_code == 302 and "_auth_user_id" in client.session, username
        assert f"  {username} " in out
    assert "password 'demo'" in out
    assert "accounts" in out and "usage events" in out


def test_the_book_has_every_kind_of_customer_contract_contact_and_usage():
    load("--accounts=60", "--days=60")

    accounts = Account.objects.all()
    assert Counter(accounts.values_list("segment", flat=True)) == {"high_touch": 9, "mid_touch": 21, "tech_touch": 30}
    assert set(accounts.values_list("region", flat=True)) == set(demo.REGIONS)
    assert len(set(accounts.values_list("industry", flat=True))) >= 6
    assert accounts.filter(segment="tech_touch", owner__isnull=True).exists()
    assert not accounts.filter(segment="high_touch", owner__isnull=True).exclude(status="prospect").exists()
    assert accounts.filter(parent__isnull=False).exists()
    assert not accounts.filter(account_executive__isnull=True).exists()

    contracts = Contract.objects.all()
    assert set(contracts.values_list("currency", flat=True)) == {"USD", "EUR"}
    assert set(contracts.values_list("kind", flat=True)) == set(Contract.Kind.values)
    assert set(contracts.values_list("status", flat=True)) == set(Contract.Status.values)
    terms = Counter(contract_term(start_date=c.start_date, end_date=c.end_date) for c in contracts)
    assert all(term.denominator == 12 for term in terms)  # whole months: ACV is exact
    months = {term.numerator for term in terms}
    assert {6, 12} <= months and months & {24, 36}
    assert contracts.filter(one_time_fees__gt=0).exists()
    assert contracts.filter(end_date__range=(AS_OF + dt.timedelta(days=30), AS_OF + dt.timedelta(days=180))).exists()
    assert min(ExchangeRate.objects.values_list("rate", flat=True)) >= Decimal("1.05")
    assert max(ExchangeRate.objects.values_list("rate", flat=True)) <= Decimal("1.12")
    acv = account_acv_book(as_of=AS_OF).acv
    assert max(acv.values()) >= 1_000_000

    churned = accounts.filter(status="churned").annotate(last_end=Max("contracts__end_date"))
    assert churned.exists()
    for account in churned:
        assert account.churned_on == account.last_end + dt.timedelta(days=1) <= AS_OF
        assert account.pk not in acv
    assert set(acv) == set(accounts.filter(status="active").values_list("pk", flat=True))
    prospects = accounts.filter(status="prospect")
    assert prospects.exists() and not Contract.objects.filter(account__in=prospects).exists()

    contacts = accounts.annotate(
        people=Count("contacts"),
        champions=Count("contacts", filter=Q(contacts__is_champion=True)),
        sponsors=Count("contacts", filter=Q(contacts__is_executive_sponsor=True)),
    )
    assert all(3 <= a.people <= 10 for a in contacts)
    assert sum(a.champions > 0 for a in contacts) >= 0.7 * len(contacts)
    assert 0.6 * len(contacts) <= sum(a.sponsors > 0 for a in contacts) < len(contacts)
    assert Contact.objects.filter(is_executive_sponsor=True, active=False).exists()

    everything = UsageEvent.objects.all()
    assert not everything.filter(account__status="prospect").exists()
    assert everything.filter(occurred_at__date__gt=AS_OF).count() == 0
    # Before the last 60 days only the 90 days up to each past renewal's feature date (a churned account's too).
    windows = {
        (c.account_id, c.end_date - dt.timedelta(days=90 + (c.end_date - dt.timedelta(days=90)).weekday()))
        for c in contracts.filter(end_date__lt=AS_OF).exclude(kind="expansion")
    }
    older = UsageDay.objects.filter(day__lt=AS_OF - dt.timedelta(days=59)).values_list("account_id", "day")
    assert older.filter(account__status="churned").exists()
    assert all(any((a, f) in windows for f in (day + dt.timedelta(days=n) for n in range(90))) for a, day in older)
    events = everything.filter(occurred_at__date__gt=AS_OF - dt.timedelta(days=60))
    assert len(set(events.values_list("event", flat=True))) == len(demo.FEATURES)
    champion_ids = set(Contact.objects.filter(is_champion=True).exclude(user_id="").values_list("user_id", flat=True))
    assert champion_ids & set(events.values_list("user_id", flat=True).distinct())
    windows = events.values("account").annotate(
        recent=Count("id", filter=Q(occurred_at__date__gt=AS_OF - dt.timedelta(days=30))),
        previous=Count("id", filter=Q(occurred_at__date__lte=AS_OF - dt.timedelta(days=30))),
        mau=Count("user_id", distinct=True, filter=Q(occurred_at__date__gt=AS_OF - dt.timedelta(days=30))),
    )
    trends = [w["recent"] / w["previous"] for w in windows if w["previous"]]
    assert min(trends) < 0.7 and max(trends) > 1.15  # declining and growing accounts
    assert any(w["recent"] == 0 for w in windows)  # dormant accounts
    seats = {
        row["account"]: row["seats"]
        for row in contracts.filter(start_date__lte=AS_OF, end_date__gte=AS_OF)
        .exclude(status="cancelled")
        .values("account")
        .annotate(seats=Sum("seats"))
    }
    utilization = [w["mau"] / seats[w["account"]] for w in windows if w["account"] in seats]
    assert min(utilization) < 0.3 and max(utilization) > 1  # under-used licences and over-use
    assert 10 <= events.count() / (60 * 60) <= 40  # about 20 events per account-day
    assert UsageDay.objects.aggregate(total=Sum("events"))["total"] == everything.count()  # rollups rebuilt

    activities = Activity.objects.select_related("account")
    assert {"call", "meeting", "email", "note", "qbr"} <= set(activities.values_list("kind", flat=True))
    assert all(a.author_id == a.account.owner_id for a in activities)
    last_touch = accounts.filter(owner__isnull=False, status="active").annotate(last=Max("activities__occurred_at"))
    assert any(a.last is None or a.last.date() < AS_OF - dt.timedelta(days=60) for a in last_touch)


def test_renewal_chains_are_consistent():
    load("--accounts=60", "--days=1")

    contracts = {c.pk: c for c in Contract.objects.all()}
    renewed = Counter(c.renews_id for c in contracts.values() if c.renews_id)
    assert max(renewed.values()) == 1  # a contract is renewed at most once
    for contract in contracts.values():
        if contract.kind in (Contract.Kind.RENEWAL, Contract.Kind.CONTRACTION):
            previous = contracts[contract.renews_id]
            assert previous.account_id == contract.account_id
            assert previous.kind != Contract.Kind.EXPANSION
            assert previous.end_date + dt.timedelta(days=1) == contract.start_date
        else:
            assert contract.renews_id is None
        if contract.kind == Contract.Kind.EXPANSION:  # co-termed with the contract it extends
            assert any(
                c.account_id == contract.account_id
                and c.kind != Contract.Kind.EXPANSION
                and c.start_date < contract.start_date
                and c.end_date == contract.end_date
                for c in contracts.values()
            )
        expected = Contract.Status.ENDED if contract.end_date < AS_OF else Contract.Status.ACTIVE
        assert contract.status in (expected, Contract.Status.CANCELLED)
    for account in Account.objects.exclude(status="prospect"):
        first = account.contracts.order_by("start_date", "kind").first()
        assert first.kind == Contract.Kind.NEW
        assert account.contracts.filter(kind=Contract.Kind.NEW).count() == 1


def test_the_same_seed_gives_the_same_data_and_another_seed_does_not():
    load("--accounts=20", "--days=7", "--seed=7")
    first = fingerprint()
    load("--accounts=20", "--days=7", "--seed=7", "--reset")
    assert fingerprint() == first
    load("--accounts=20", "--days=7", "--seed=8", "--reset")
    assert fingerprint()["contracts"] != first["contracts"]


def test_the_usage_rate_scales_the_events_and_must_be_positive():
    load("--accounts=20", "--days=7")
    usual = UsageEvent.objects.count()
    load("--accounts=20", "--days=7", "--reset", "--events-per-user-day", str(demo.EVENTS_PER_USER_DAY * 3))
    tripled = UsageEvent.objects.count()

    assert 2.5 * usual < tripled < 3.5 * usual
    for rate in ("0", "-1", "nan", "inf"):
        with pytest.raises(CommandError, match="not a positive rate"):
            load("--accounts=5", "--days=1", "--reset", "--events-per-user-day", rate)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="compares COPY with the row-by-batch writer")
def test_copy_writes_the_same_events_as_the_batch_insert(monkeypatch):
    load("--accounts=15", "--days=7")
    copied = fingerprint()["events"]
    monkeypatch.setitem(demo.EVENT_WRITERS, "postgresql", demo.EVENT_WRITERS["sqlite"])
    load("--accounts=15", "--days=7", "--reset")
    assert fingerprint()["events"] == copied


def test_if_empty_does_nothing_when_accounts_exist():
    AccountFactory()

    out = load("--accounts=5", "--days=1", "--if-empty")

    assert "not loaded" in out
    assert Account.objects.count() == 1
    assert not User.objects.exists()


def test_existing_accounts_are_refused_without_reset():
    AccountFactory()

    with pytest.raises(CommandError, match="--reset"):
        load("--accounts=5", "--days=1")
    assert Account.objects.count() == 1


def test_reset_replaces_the_demo_data_and_keeps_everything_else():
    load("--accounts=10", "--days=3")
    own = AccountFactory(external_id="CRM-1")
    someone = UserFactory(username="someone")

    load("--accounts=6", "--days=3", "--reset")

    assert Account.objects.filter(external_id__startswith="DEMO-").count() == 6
    assert Account.objects.filter(pk=own.pk).exists() and User.objects.filter(pk=someone.pk).exists()
    assert User.objects.count() == len(demo.DEMO_USERS) + 1


def test_a_user_with_a_demo_name_is_never_taken_over():
    UserFactory(username="admin")

    with pytest.raises(CommandError, match="admin"):
        load("--accounts=5", "--days=1")
    assert not Account.objects.exists()
    assert User.objects.count() == 1


def test_a_failure_leaves_nothing_half_written(monkeypatch):
    def fail(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(demo, "activities_create", fail)

    with pytest.raises(RuntimeError):
        load("--accounts=5", "--days=1")
    assert not Account.objects.exists()
    assert not Contract.objects.exists()
    assert not User.objects.exists()


def test_renewal_outcomes_follow_the_trajectory_before_each_decision():
    """The generator's formula (accounts.demo.book) as the churn model reads it: features 90 days before each end."""
    load("--accounts=100", "--days=1")
    features, churned, _ = training_rows(as_of=AS_OF)

    assert len(features) >= 100 and 0.1 < churned.mean() < 0.5

    def rate(rows) -> float:
        assert rows.sum() >= 10
        return churned[rows].mean()

    utilization = features["license_utilization"]
    assert rate(utilization < 0.35) > rate(utilization > 0.6) + 0.2
    trend = features["usage_trend"]
    assert rate(trend < 0.9) > rate(trend > 1.05) + 0.15
    assert rate(features["executive_sponsor"] == 0) > rate(features["executive_sponsor"] == 1) + 0.15
    assert rate(features["engagement"] > 60) > rate(features["engagement"] <= 20) + 0.15
