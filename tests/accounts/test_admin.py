"""The Django admin of the accounts app: every page answers, lists do not grow queries, roles hold."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.admin.core import ACV_TODAY_ATTR
from accounts.models import (
    Account,
    AccountFeatureUsage,
    AccountUserUsage,
    Contract,
    Feature,
    QuarantinedEvent,
    Team,
    UsageDay,
    UsageEvent,
    UsageFeatureDay,
    UsageUserDay,
    User,
    WriteKey,
)
from accounts.roles import Role
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    ContractFactory,
    ExchangeRateFactory,
    SourceFactory,
    TeamFactory,
    UsageEventFactory,
    UserFactory,
)

TODAY = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)

MODELS = [
    "user",
    "team",
    "account",
    "contact",
    "contract",
    "exchangerate",
    "activity",
    "source",
    "writekey",
    "usageevent",
    "quarantinedevent",
    "feature",
    "usageday",
    "usageuserday",
    "usagefeatureday",
    "accountfeatureusage",
    "accountuserusage",
]
# Written by ingestion only: the admin shows them but never adds them (write keys are issued by the add view).
INGESTED = [
    "usageevent",
    "quarantinedevent",
    "feature",
    "usageday",
    "usageuserday",
    "usagefeatureday",
    "accountfeatureusage",
    "accountuserusage",
]
ADDABLE = [name for name in MODELS if name not in INGESTED]


@pytest.fixture(autouse=True)
def today(time_machine):
    time_machine.move_to(TODAY, tick=False)


@pytest.fixture
def admin_logged_in(client, ada):
    client.force_login(ada)
    return client


@pytest.fixture
def book(alice, andy):
    """A few rows of every model, linked the way real data is."""
    accounts = [
        AccountFactory(name=f"Acme {n}", external_id=f"ACME-{n}", owner=alice, account_executive=andy) for n in range(3)
    ]
    acme = accounts[0]
    contacts = [ContactFactory(account=acme, is_champion=True, user_id="u-champion"), ContactFactory(account=acme)]
    first = ContractFactory(
        account=acme, external_id="CT-ACME-2023", start_date=dt.date(2023, 1, 1), end_date=dt.date(2023, 12, 31)
    )
    contracts = [
        first,
        ContractFactory(account=acme, external_id="CT-ACME-2024", kind=Contract.Kind.RENEWAL, renews=first),
    ]
    source = SourceFactory(name="Web app")
    events = [UsageEventFactory(account=acme, source=source, user_id="u-champion") for _ in range(3)]
    activities = [ActivityFactory(account=acme, author=alice, contact=contacts[0]) for _ in range(2)]
    rate = ExchangeRateFactory(currency="EUR", date=dt.date(2024, 1, 1), rate=Decimal("1.10"))
    return {
        **_usage_rows(acme, source),
        **{
            "user": alice,
            "team": alice.team,
            "account": acme,
            "accounts": accounts,
            "contact": contacts[0],
            "contract": contracts[1],
            "exchangerate": rate,
            "source": source,
            "usageevent": events[0],
            "activity": activities[0],
        },
    }


def _usage_rows(account: Account, source) -> dict:
    """The rows ingestion writes (no factories: only the admin tests build them by hand)."""
    day = TODAY.date()
    feature = Feature.objects.create(name=f"report_viewed_{account.pk}", first_seen_at=TODAY)
    return {
        "writekey": WriteKey.objects.create(source=source, prefix="wk_abc", key_hash=f"{account.pk:064d}"),
        "quarantinedevent": QuarantinedEvent.objects.create(
            source=source,
            message_id=f"q-{account.pk}",
            kind="track",
            user_id="u-unknown",
            group_id="acme-unknown",
            event="report_viewed",
            occurred_at=TODAY,
            received_at=TODAY,
            reason="unknown account",
        ),
        "feature": feature,
        "usageday": UsageDay.objects.create(account=account, day=day, events=3),
        "usageuserday": UsageUserDay.objects.create(account=account, user_id="u-champion", day=day, events=3),
        "usagefeatureday": UsageFeatureDay.objects.create(account=account, feature=feature, day=day, events=3),
        "accountfeatureusage": AccountFeatureUsage.objects.create(
            account=account, feature=feature, first_used_at=TODAY, last_used_at=TODAY, events=3
        ),
        "accountuserusage": AccountUserUsage.objects.create(
            account=account, user_id="u-champion", first_seen_at=TODAY, last_seen_at=TODAY, events=3
        ),
    }


def _url(model: str, view: str, *args) -> str:
    return reverse(f"admin:accounts_{model}_{view}", args=args)


# Every page answers ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_changelist_answers(admin_logged_in, book, model):
    response = admin_logged_in.get(_url(model, "changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1


@pytest.mark.parametrize("model", MODELS)
def test_changelist_search_answers(admin_logged_in, book, model):
    response = admin_logged_in.get(_url(model, "changelist"), {"q": "acme"})
    assert response.status_code == 200


@pytest.mark.parametrize("model", ADDABLE)
def test_add_page_answers(admin_logged_in, book, model):
    assert admin_logged_in.get(_url(model, "add")).status_code == 200


@pytest.mark.parametrize("model", INGESTED)
def test_ingested_rows_cannot_be_added(admin_logged_in, book, model):
    assert admin_logged_in.get(_url(model, "add")).status_code == 403


@pytest.mark.parametrize("model", MODELS)
def test_change_page_answers(admin_logged_in, book, model):
    response = admin_logged_in.get(_url(model, "change", book[model].pk))
    assert response.status_code == 200


def test_site_header_names_the_platform(admin_logged_in):
    response = admin_logged_in.get(reverse("admin:index"))
    assert response.status_code == 200
    assert "CSM Platform" in response.content.decode()


# Figures -----------------------------------------------------------------------------------------------------


def test_account_changelist_shows_acv_today_in_reporting_currency(admin_logged_in, db):
    acme = AccountFactory(name="Acme")
    ContractFactory(account=acme, recurring_tcv=Decimal("12000.00"))  # 2024, USD
    ContractFactory(account=acme, currency="EUR", recurring_tcv=Decimal("10000.00"))
    ContractFactory(account=acme, start_date=dt.date(2023, 1, 1), end_date=dt.date(2023, 12, 31))  # not live
    ExchangeRateFactory(currency="EUR", date=dt.date(2024, 1, 1), rate=Decimal("1.10"))
    AccountFactory(name="Zenith")  # no contract: no ACV

    response = admin_logged_in.get(_url("account", "changelist"))

    assert response.status_code == 200
    by_name = {
        account.name: getattr(account, ACV_TODAY_ATTR).get(account.pk) for account in response.context["cl"].result_list
    }
    assert by_name == {"Acme": Decimal("23000.00"), "Zenith": Decimal(0)}
    assert "23,000.00 USD" in response.content.decode()


def test_account_changelist_without_exchange_rate_warns_instead_of_failing(admin_logged_in, db):
    ContractFactory(account=AccountFactory(name="Acme"), currency="GBP")
    ContractFactory(account=AccountFactory(name="Zenith"), recurring_tcv=Decimal("6000.00"))

    response = admin_logged_in.get(_url("account", "changelist"))

    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [
        "ACV is N/A for 1 account(s) of this page: no GBP exchange rate on or before 2024-06-01."
    ]
    page = response.content.decode()
    assert "N/A: no GBP exchange rate on or before 2024-06-01" in page
    assert "6,000.00 USD" in page  # the other account still has its ACV


def test_account_change_page_shows_acv_today(admin_logged_in, db):
    contract = ContractFactory(recurring_tcv=Decimal("6000.00"))

    response = admin_logged_in.get(_url("account", "change", contract.account_id))

    assert "6,000.00 USD" in response.content.decode()


def test_contract_changelist_annualizes_each_row(admin_logged_in, db):
    ContractFactory(
        external_id="CT-2Y",
        start_date=dt.date(2024, 1, 1),
        end_date=dt.date(2025, 12, 31),
        recurring_tcv=Decimal("24000.00"),
        currency="EUR",
    )

    response = admin_logged_in.get(_url("contract", "changelist"))

    assert "12,000.00 EUR" in response.content.decode()


def test_team_changelist_counts_members(admin_logged_in, alice, mallory):
    response = admin_logged_in.get(_url("team", "changelist"))

    counts = {team.name: team.member_count for team in response.context["cl"].result_list}
    assert counts == {"Alpha": 2}


def test_team_change_page_lists_members(admin_logged_in, alice, alpha_team):
    response = admin_logged_in.get(_url("team", "change", alpha_team.pk))

    assert _url("user", "change", alice.pk) in response.content.decode()


def test_user_changelist_shows_roles_and_team(admin_logged_in, alice):
    response = admin_logged_in.get(_url("user", "changelist"), {"q": "alice"})

    content = response.content.decode()
    assert '<td class="field-roles">CSM</td>' in content
    assert '<td class="field-team nowrap">Alpha</td>' in content


# Query counts ------------------------------------------------------------------------------------------------


def _count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def _accounts_with_contracts(count: int) -> None:
    for _ in range(count):
        owner = UserFactory(team=TeamFactory())
        account = AccountFactory(owner=owner, account_executive=UserFactory(), parent=AccountFactory())
        ContractFactory(account=account)
        ContractFactory(account=account, currency="EUR")


def test_account_changelist_queries_do_not_grow_with_accounts(admin_logged_in, db):
    ExchangeRateFactory(currency="EUR", date=dt.date(2024, 1, 1), rate=Decimal("1.10"))
    url = _url("account", "changelist")
    _accounts_with_contracts(5)
    admin_logged_in.get(url)  # warm process-wide caches (content types)

    with_5 = _count_queries(admin_logged_in, url)
    _accounts_with_contracts(25)
    with_30 = _count_queries(admin_logged_in, url)

    assert with_30 == with_5
    # session, user, 2 permission sets, owner filter, 2 counts, the page, live contracts, rates, industry, region,
    # and the sidebar asking whether the journeys settings singleton exists yet
    assert with_30 <= 13
    assert Account.objects.count() == 60  # each account has a parent account


@pytest.mark.parametrize("model", [name for name in MODELS if name not in ("account", "exchangerate")])
def test_other_changelists_queries_do_not_grow(admin_logged_in, alice, model):
    url = _url(model, "changelist")

    def add_rows(count):
        for _ in range(count):
            team = TeamFactory(manager=UserFactory())
            user = UserFactory(team=team, roles=[Role.CSM])
            account = AccountFactory(owner=user)
            contact = ContactFactory(account=account)
            ContractFactory(account=account)
            source = SourceFactory(name=f"Source {account.pk}")
            UsageEventFactory(account=account, source=source)
            ActivityFactory(account=account, author=user, contact=contact)
            _usage_rows(account, source)

    add_rows(3)
    admin_logged_in.get(url)
    with_3 = _count_queries(admin_logged_in, url)
    add_rows(12)
    assert _count_queries(admin_logged_in, url) == with_3


# Autocomplete ------------------------------------------------------------------------------------------------


def test_account_autocomplete_finds_accounts_by_name(admin_logged_in, db):
    acme = AccountFactory(name="Acme Corp")
    AccountFactory(name="Globex")

    response = admin_logged_in.get(
        reverse("admin:autocomplete"),
        {"app_label": "accounts", "model_name": "contract", "field_name": "account", "term": "acm"},
    )

    assert response.status_code == 200
    assert response.json()["results"] == [{"id": str(acme.pk), "text": "Acme Corp"}]


def test_owner_autocomplete_finds_users(admin_logged_in, alice):
    response = admin_logged_in.get(
        reverse("admin:autocomplete"),
        {"app_label": "accounts", "model_name": "account", "field_name": "owner", "term": "alice"},
    )

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(alice.pk)]


# Admins manage users, teams and roles ------------------------------------------------------------------------


def test_admin_creates_team_and_user_with_role(admin_logged_in, mallory):
    response = admin_logged_in.post(_url("team", "add"), {"name": "Gamma", "manager": mallory.pk})
    assert response.status_code == 302
    gamma = Team.objects.get(name="Gamma")
    assert gamma.manager == mallory

    csm = Group.objects.get(name=Role.CSM)
    response = admin_logged_in.post(
        _url("user", "add"),
        {
            "username": "carol",
            "usable_password": "true",
            "password1": "a-long-Passphrase-42",
            "password2": "a-long-Passphrase-42",
            "first_name": "Carol",
            "last_name": "Danvers",
            "email": "carol@example.com",
            "groups": [csm.pk],
            "team": gamma.pk,
            "is_staff": "on",
        },
    )

    assert response.status_code == 302
    carol = User.objects.get(username="carol")
    assert carol.team == gamma
    assert carol.has_role(Role.CSM)
    assert carol.is_staff
    assert carol.check_password("a-long-Passphrase-42")


def test_admin_who_is_not_superuser_cannot_grant_superuser(admin_logged_in, ada, alice):
    response = admin_logged_in.get(_url("user", "change", alice.pk))
    form_data = {
        "username": "alice",
        "first_name": "Alice",
        "last_name": "Liddell",
        "email": "alice@example.com",
        "groups": [Group.objects.get(name=Role.MANAGER).pk],
        "is_active": "on",
        "is_staff": "on",
        "is_superuser": "on",
        "date_joined_0": "2024-01-01",
        "date_joined_1": "00:00:00",
    }
    assert response.status_code == 200

    response = admin_logged_in.post(_url("user", "change", alice.pk), form_data)

    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.has_role(Role.MANAGER)
    assert alice.is_staff
    assert not alice.is_superuser


# Roles are model-level permissions ---------------------------------------------------------------------------


def test_executive_views_but_cannot_add_or_change_accounts(client, edna, db):
    edna.is_staff = True
    edna.save()
    account = AccountFactory(name="Acme")
    client.force_login(edna)

    assert client.get(_url("account", "changelist")).status_code == 200
    assert client.get(_url("account", "change", account.pk)).status_code == 200
    assert client.get(_url("account", "add")).status_code == 403
    response = client.post(
        _url("account", "change", account.pk),
        {"external_id": account.external_id, "name": "Renamed", "segment": "mid_touch", "status": "active"},
    )
    assert response.status_code == 403
    account.refresh_from_db()
    assert account.name == "Acme"


def test_usage_events_are_read_only_but_admins_may_delete(admin_logged_in, db):
    event = UsageEventFactory()
    url = _url("usageevent", "change", event.pk)

    assert admin_logged_in.get(_url("usageevent", "add")).status_code == 403
    assert admin_logged_in.post(url, {"event": "tampered"}).status_code == 403

    response = admin_logged_in.post(_url("usageevent", "delete", event.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not UsageEvent.objects.filter(pk=event.pk).exists()


def test_admin_marks_key_features_from_the_list(admin_logged_in, db):
    feature = Feature.objects.create(name="report_viewed", first_seen_at=TODAY)

    response = admin_logged_in.post(
        _url("feature", "changelist"),
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": feature.pk,
            "form-0-label": "Reports",
            "form-0-is_key": "on",
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    feature.refresh_from_db()
    assert (feature.label, feature.is_key, feature.ignored) == ("Reports", True, False)


def test_admin_revokes_a_write_key(admin_logged_in, db):
    key = WriteKey.objects.create(source=SourceFactory(), prefix="wk_abc", key_hash="f" * 64)

    response = admin_logged_in.post(
        _url("writekey", "change", key.pk), {"revoked_at_0": "2024-06-01", "revoked_at_1": "12:00:00"}
    )

    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at == TODAY
    assert key.key_hash == "f" * 64


def test_admin_deletes_an_account_with_its_usage(admin_logged_in, db):
    account = AccountFactory()
    source = SourceFactory()
    UsageEventFactory(account=account, source=source)
    _usage_rows(account, source)
    url = _url("account", "delete", account.pk)

    confirm = admin_logged_in.get(url)
    assert confirm.status_code == 200
    assert not confirm.context["perms_lacking"]

    assert admin_logged_in.post(url, {"post": "yes"}).status_code == 302
    assert not Account.objects.filter(pk=account.pk).exists()
    assert not UsageDay.objects.exists()
