"""The settled edge cases (docs/concepts), each on its own accounts added to the book for one night (rolled back after
each test): short terms refused, a missing exchange rate, money rounded once, sponsor engagement from dated
records, a score that shows 40 never being red, and a past night recomputed after later data arrived."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Account, Activity, Contact, Contract, ExchangeRate, Feature, Source, UsageEvent
from accounts.services import contract_create
from accounts.usage.services import usage_rollups_rebuild
from health.models import AccountSnapshot, RecomputeRun, RevenueSnapshot
from health.pipeline import recompute
from journeys.models import SurveyResponse

from . import reference
from .book import at

NIGHT = dt.date(2024, 6, 15)

pytestmark = pytest.mark.usefixtures("frozen")


def account(external_id: str, *contracts: tuple[str, str, str, str, int | None]) -> Account:
    """An account with contracts (start, end, currency, recurring value, seats)."""
    created = Account.objects.create(external_id=external_id, name=f"Edge {external_id}")
    for n, (start, end, currency, tcv, seats) in enumerate(contracts):
        Contract.objects.create(
            account=created,
            external_id=f"{external_id}-{n}",
            start_date=dt.date.fromisoformat(start),
            end_date=dt.date.fromisoformat(end),
            currency=currency,
            recurring_tcv=Decimal(tcv),
            seats=seats,
        )
    return created


@pytest.fixture
def scenario(book):
    """ROUND-ONCE: two 60-day contracts of 200.00 (ACV 1,216.666… each: 2,433.33 once rounded, 2,433.34 if each
    were rounded first). SPONSOR-FIELD: a sponsor whose overwritable ``last_engaged_at`` says 5 days ago, without
    any dated touch. NEAR40: exact health 39.57 (shown 40)."""
    rounding = account("ROUND-ONCE", *[("2024-05-05", "2024-07-03", "USD", "200.00", 5)] * 2)
    field = account("SPONSOR-FIELD", ("2024-01-01", "2024-12-31", "USD", "12000", 10))
    Contact.objects.create(
        account=field, name="Sponsor", is_executive_sponsor=True, last_engaged_at=at(NIGHT) - dt.timedelta(days=5)
    )
    near = account("NEAR40", ("2024-01-01", "2024-12-31", "USD", "12000", None))
    Activity.objects.create(account=near, kind="call", occurred_at=at("2024-05-08"), subject="call")
    SurveyResponse.objects.create(
        account=near, respondent="e:1", kind="nps", score=10, responded_at=at("2024-06-01"), source="api"
    )
    run = recompute(as_of=NIGHT)
    assert run.status == RecomputeRun.Status.SUCCEEDED
    return {"round": rounding.pk, "field": field.pk, "near": near.pk, "facts": reference.load_facts()}


def test_money_rounded_to_cents_once(scenario):
    facts = scenario["facts"]
    exact = reference.account_acv(facts, scenario["round"], NIGHT)
    per_contract = sum(reference.cents(reference.contract_acv(c)) for c in facts.by_account[scenario["round"]])
    assert (reference.cents(exact), per_contract) == (Decimal("2433.33"), Decimal("2433.34"))
    assert AccountSnapshot.objects.get(account_id=scenario["round"], as_of=NIGHT).acv == Decimal("2433.33")
    assert RevenueSnapshot.objects.get(as_of=NIGHT).arr == reference.revenue(facts, NIGHT).arr


def test_sponsor_engagement_from_dated_records_only(scenario):
    snapshot = AccountSnapshot.objects.get(account_id=scenario["field"], as_of=NIGHT)
    line = next(m for m in snapshot.measures if m["key"] == "executive_sponsor")
    assert reference.sponsor_engaged(scenario["facts"], scenario["field"], NIGHT) == 0
    assert line["x"] == 0


def test_a_score_shown_as_40_is_never_red(scenario):
    ref = reference.health(scenario["facts"], scenario["near"], NIGHT)
    assert 39.5 <= ref.exact < 40
    snapshot = AccountSnapshot.objects.get(account_id=scenario["near"], as_of=NIGHT)
    assert (snapshot.health, snapshot.band) == (40, "yellow")


def test_missing_rate_makes_that_acv_na_and_totals_say_so(book):
    missing = account("NO-CAD-RATE", ("2024-06-01", "2025-05-31", "CAD", "50000", 10))
    run = recompute(as_of=NIGHT)
    assert run.status == RecomputeRun.Status.SUCCEEDED, run.errors
    facts = reference.load_facts()
    expected = reference.revenue(facts, NIGHT)
    assert expected.excluded == [missing.pk]
    stored = dict(AccountSnapshot.objects.filter(as_of=NIGHT).values_list("account_id", "acv"))
    assert stored == {
        a: None if (v := reference.account_acv(facts, a, NIGHT)) is None else reference.cents(v) for a in stored
    }
    snapshot = AccountSnapshot.objects.get(account_id=missing.pk, as_of=NIGHT)
    assert snapshot.health == reference.health(facts, missing.pk, NIGHT).score
    revenue = RevenueSnapshot.objects.get(as_of=NIGHT)
    assert (revenue.arr, revenue.customers) == (expected.arr, expected.customers)
    assert missing.pk in {item["account_id"] for item in revenue.excluded}


@pytest.mark.parametrize("days, refused", [(27, True), (28, False)])
def test_short_terms_refused(book, days, refused):
    owner = Account.objects.get(pk=book.ids["NO-CONTRACT"])
    data = {
        "account": owner,
        "external_id": f"SHORT-{days}",
        "start_date": dt.date(2024, 6, 1),
        "end_date": dt.date(2024, 6, 1) + dt.timedelta(days=days - 1),
        "recurring_tcv": Decimal("10000"),
    }
    if refused:
        with pytest.raises(ValidationError), transaction.atomic():
            contract_create(data=data)
    else:
        contract_create(data=data)
    assert Contract.objects.filter(external_id=f"SHORT-{days}").exists() is not refused


@pytest.mark.parametrize("days, status", [(27, 400), (28, 201)])
def test_short_terms_refused_by_the_api(client, ada, book, days, status):
    client.force_login(ada)
    response = client.post(
        "/api/contracts/",
        {
            "account": book.ids["NO-CONTRACT"],
            "external_id": f"API-SHORT-{days}",
            "start_date": "2024-06-01",
            "end_date": (dt.date(2024, 6, 1) + dt.timedelta(days=days - 1)).isoformat(),
            "recurring_tcv": "10000.00",
            "currency": "USD",
        },
        content_type="application/json",
    )
    assert response.status_code == status, response.content


def test_recomputing_a_past_night_after_later_data_gives_the_same_snapshot(book):
    """Facts dated after the May night (a touch with the sponsor, an NPS answer, usage with a new key feature, a
    contract, a rate) change nothing when that night is recomputed."""
    may = dt.date(2024, 5, 31)
    fields = ("account_id", "acv", "health", "band", "measures")
    before = sorted(AccountSnapshot.objects.filter(as_of=may).values_list(*fields))
    eur = Account.objects.get(pk=book.ids["EUR-3YR"])
    sponsor = Contact.objects.create(account=eur, name="Late sponsor", is_executive_sponsor=True)
    Activity.objects.create(account=eur, kind="meeting", occurred_at=at("2024-06-03"), subject="QBR", contact=sponsor)
    SurveyResponse.objects.create(
        account=eur, respondent="late", kind="nps", score=0, responded_at=at("2024-06-02"), source="api"
    )
    Contract.objects.create(
        account=eur,
        external_id="LATE",
        start_date=dt.date(2024, 6, 1),
        end_date=dt.date(2025, 5, 31),
        recurring_tcv=Decimal(9000),
    )
    ExchangeRate.objects.create(currency="EUR", date=dt.date(2024, 6, 1), rate=Decimal("2.00"))
    source = Source.objects.get(name="spec")
    UsageEvent.objects.create(
        source=source,
        account=eur,
        user_id="late-user",
        event="brand_new_key",
        occurred_at=at("2024-06-01", 0),
        received_at=at("2024-06-01", 0),
        message_id="late-1",
    )
    usage_rollups_rebuild(account_ids=[eur.pk])
    Feature.objects.filter(name="brand_new_key").update(is_key=True)
    assert recompute(as_of=may).status == RecomputeRun.Status.SUCCEEDED
    assert sorted(AccountSnapshot.objects.filter(as_of=may).values_list(*fields)) == before
