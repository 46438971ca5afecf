"""Account 360: the receipt in words, what moved, charts, contracts, contacts, timeline, churn risk; logging an
activity (only those who may edit the account); pinned queries."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType

from accounts.models import Account, Activity, Contract
from accounts.usage.services import usage_rollups_rebuild
from health.models import AccountSnapshot
from health.pipeline import recompute
from tests.factories import AccountFactory, ActivityFactory, ContactFactory, ContractFactory, UsageEventFactory
from tests.web.conftest import AS_OF, NOW, book, churn_model  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


@pytest.fixture
def account(alice, andy):
    """Usage every day for 60 days by u1, u2 in the last 20 days; 2 of 10 seats; a call 20 days before AS_OF; a
    sponsor who was last engaged 120 days ago. Scored on AS_OF − 30, AS_OF − 7 and AS_OF."""
    account = AccountFactory(name="Acme Corp", owner=alice, account_executive=andy, segment="mid_touch")
    ContractFactory(
        account=account,
        seats=10,
        recurring_tcv=Decimal("24000"),
        start_date=dt.date(2024, 1, 1),
        end_date=dt.date(2024, 12, 31),
    )
    day = AS_OF - dt.timedelta(days=59)
    while day <= AS_OF:
        UsageEventFactory(account=account, user_id="u1", event="Report Viewed", occurred_at=at(day))
        if day > AS_OF - dt.timedelta(days=20):
            UsageEventFactory(account=account, user_id="u2", event="Export Downloaded", occurred_at=at(day))
        day += dt.timedelta(days=1)
    ActivityFactory(
        account=account, kind=Activity.Kind.CALL, occurred_at=at(AS_OF - dt.timedelta(days=20)), author=alice
    )
    ContactFactory(
        account=account,
        name="Sam Sponsor",
        is_executive_sponsor=True,
        last_engaged_at=at(AS_OF - dt.timedelta(days=120)),
    )
    usage_rollups_rebuild()
    for days in (30, 7, 0):
        recompute(as_of=AS_OF - dt.timedelta(days=days))
    return account


def test_the_page_explains_the_score_in_words(client, edna, account):
    client.force_login(edna)
    response = client.get(f"/accounts/{account.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    # 2 of 10 seats: license utilization at its bad threshold, 0/100; its weight 20 of the 85 with data.
    assert (
        "License utilization scored 0/100 — 2 of 10 licensed seats active in the last 30 days (20%) — and adds 0.0 of "
        "its 23.5 points, pulling the score down 23.5 points." in page
    )
    assert "20 days since the last CSM touch (2024-06-10)" in page
    assert "NPS has no data (no data), so its weight goes to the other measures." in page
    receipt = response.context["page"].receipt
    snapshot = AccountSnapshot.objects.get(account=account, as_of=AS_OF)
    # The exact contributions add up to the unrounded score; the rounding line takes them to the whole score.
    assert sum(line.contribution or 0 for line in receipt.lines) == pytest.approx(63.171355, abs=1e-6)
    assert sum(line.points for line in receipt.lines if line.points is not None) + receipt.rounding == snapshot.health
    assert (snapshot.health, receipt.rounding) == (63, Decimal("-0.17"))
    assert "Rounding to a whole score" in page and "−0.17" in page
    assert receipt.lines[0].key == "license_utilization"  # the measure that cost the most points comes first


def test_what_moved_adds_up_to_the_change(client, edna, account):
    client.force_login(edna)
    movements = client.get(f"/accounts/{account.pk}/").context["page"].movements
    assert [m.days for m in movements] == [7, 30]
    for movement in movements:
        # The shares as shown and the rounding line add up to the change of the whole score, exactly.
        assert sum(points for _label, points in movement.shares) + movement.rounding == movement.change
        assert movement.end - movement.start == movement.change
    assert any(movement.rounding != 0 for movement in movements)


def test_charts_sponsor_warning_fallback_and_contracts(client, edna, account):
    client.force_login(edna)
    response = client.get(f"/accounts/{account.pk}/")
    page = response.content.decode()
    charts = response.context["charts"]
    assert all(charts[name] for name in ("health", "daily_users", "features", "seats", "acv"))
    assert page.count('<div class="chart" data-figure=') == 5
    assert "/static/vendor/plotly/plotly-finance.min.js" in page
    assert "No executive sponsor was engaged in the 90 days up to 06/30/2024." in page
    assert "Risk from health (fallback: too few renewal outcomes to train a model)." in page
    assert "USD 24,000" in page
    seats = response.context["page"].seats_vs_users
    assert list(seats["seats"])[-1] == 10
    assert list(seats["users"])[-1] == 2  # June: u1 and u2


def test_a_trained_model_shows_its_drivers_and_card(client, edna, alice, churn_model):  # noqa: F811
    (account,) = book(n=1, owner=alice)
    AccountSnapshot.objects.filter(account=account).update(
        churn_model=churn_model, churn_drivers=[["days_to_renewal", 0.42], ["usage_trend", -0.3]]
    )
    client.force_login(edna)
    page = client.get(f"/accounts/{account.pk}/").content.decode()
    assert "Risk from health" not in page
    assert "+0.42</span> Days to renewal — raises the risk" in page
    assert "−0.30</span> Usage trend — lowers the risk" in page
    assert f'href="/churn-models/{churn_model.pk}/"' in page
    card = client.get(f"/churn-models/{churn_model.pk}/")
    assert card.status_code == 200
    assert "0.81" in card.content.decode()


def test_an_account_never_scored_shows_helpful_empty_states(client, edna, alice):
    account = AccountFactory(owner=alice)
    client.force_login(edna)
    page = client.get(f"/accounts/{account.pk}/").content.decode()
    assert "No health receipt yet" in page
    assert "No contract yet." in page
    assert "Account created" in page  # the audit trail is on the timeline from the start
    assert "No executive sponsor: name one" in page


def test_the_owner_logs_a_call(client, alice, account):
    client.force_login(alice)
    response = client.post(
        f"/accounts/{account.pk}/activities/",
        {"kind": "call", "occurred_at": "2024-07-01T08:30", "subject": "Renewal prep", "body": "Talked seats."},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/{account.pk}/#timeline"
    activity = Activity.objects.get(subject="Renewal prep")
    assert (activity.author, activity.kind, activity.occurred_at) == (alice, "call", NOW.replace(hour=8, minute=30))
    page = client.get(response["Location"]).content.decode()
    assert "Activity logged." in page
    assert "Renewal prep" in page


def test_an_invalid_activity_is_shown_back_with_its_errors(client, alice, account):
    client.force_login(alice)
    response = client.post(f"/accounts/{account.pk}/activities/", {"kind": "call", "occurred_at": "2030-01-01T00:00"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "An activity cannot be logged in the future." in page
    assert "This field is required." in page
    assert not Activity.objects.filter(occurred_at__year=2030).exists()


def test_readers_see_no_form(client, bob, account):
    client.force_login(bob)
    response = client.get(f"/accounts/{account.pk}/")
    assert response.context["form"] is None
    assert "Log activity" not in response.content.decode()


# Session, user, latest date, account row, snapshot, current figures, contracts (rates: none, one currency), monthly
# users, group ARR, what moved ×2, health history, daily events, daily users, features, contacts, sponsor touches,
# sponsor fields, editable (roles, exists), forecast-editable (roles), reassign (roles), nav roles, the form's contact
# choices, and the timeline: activities and audit entries (the account's and its contracts') each read once, counted
# only past a page.
ACCOUNT_QUERIES = 25


@pytest.mark.parametrize("accounts", [10, 200])
def test_account_queries_do_not_grow_with_accounts(client, alice, accounts, django_assert_num_queries):
    book_accounts = book(n=accounts, owner=alice)
    ContactFactory(account=book_accounts[0], is_executive_sponsor=True)
    ActivityFactory(account=book_accounts[0], author=alice)
    client.force_login(alice)
    ContentType.objects.get_for_models(Account, Contract)  # cached per process: the audit trail's content types
    with django_assert_num_queries(ACCOUNT_QUERIES):
        response = client.get(f"/accounts/{book_accounts[0].pk}/")
    assert response.status_code == 200


@pytest.fixture
def carol(alpha_team):
    """Alice's teammate: a CSM of the same team, who may read but not change alice's accounts."""
    from accounts.roles import Role
    from tests.factories import UserFactory

    return UserFactory(username="carol", roles=[Role.CSM], team=alpha_team)


def test_a_csm_cannot_log_on_a_teammates_account(client, alice, carol):
    (account,) = book(n=1, owner=alice)
    client.force_login(carol)
    response = client.post(
        f"/accounts/{account.pk}/activities/", {"kind": "call", "occurred_at": "2024-07-01T08:00", "subject": "Hi"}
    )
    assert response.status_code == 403
    assert not Activity.objects.filter(account=account).exists()
    assert client.get(f"/accounts/{account.pk}/").context["form"] is None


@pytest.mark.parametrize(("days_before", "engaged"), [(89, True), (90, False)])
def test_the_sponsor_window_is_the_90_days_up_to_the_night(client, edna, alice, days_before, engaged):
    """(as_of − 90, as_of]: a touch with the sponsor 89 days before the night counts, 90 days before does not; the
    block reads the night, not today (a day later)."""
    (account,) = book(n=1, owner=alice)
    sponsor = ContactFactory(account=account, is_executive_sponsor=True)
    ActivityFactory(
        account=account,
        contact=sponsor,
        author=alice,
        kind=Activity.Kind.CALL,
        occurred_at=at(AS_OF - dt.timedelta(days=days_before), 18),
    )
    client.force_login(edna)
    page = client.get(f"/accounts/{account.pk}/").context["page"]
    assert page.contacts.sponsor_engaged is engaged


def test_a_scorecards_own_bands_band_the_score(client, edna, account):
    """The account scores 63: yellow by the default bands, red once its scorecard says red below 65."""
    from health.models import Scorecard
    from health.services import scorecard_publish

    scorecard = Scorecard.objects.get(segment="")
    Scorecard.objects.filter(pk=scorecard.pk).update(red_below=65, green_from=90)
    scorecard_publish(scorecard_id=scorecard.pk)
    recompute(as_of=AS_OF)
    client.force_login(edna)
    response = client.get(f"/accounts/{account.pk}/")
    assert (response.context["account"].health, response.context["account"].band) == (63, "red")
    assert '<span class="band band-red" title="Health band: Red">63</span>' in response.content.decode()
