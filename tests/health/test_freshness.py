"""Fresh within minutes: an account whose events, contracts, contacts or touches changed is re-scored by the
intra-day refresh (current figures as of today); the night's snapshots stay the record."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from accounts.ingestion.services import write_key_create
from accounts.models import Activity, ChangedAccount
from accounts.services import activity_create, activity_delete, activity_update, contract_create
from health import pipeline
from health.models import AccountCurrent, AccountSnapshot
from tests.factories import AccountFactory, ContractFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2024, 6, 30)
FIGURES = ["acv", "health", "band", "measures", "churn_probability", "risk_band", "problems"]


@pytest.fixture(autouse=True)
def noon():
    with time_machine.travel(dt.datetime(2024, 6, 30, 12, tzinfo=dt.UTC), tick=False):
        yield


def test_new_events_put_the_account_in_the_changed_set_and_the_refresh_scores_it(client):
    account = AccountFactory(external_id="ACME")
    ContractFactory(account=account, seats=10)
    ChangedAccount.objects.all().delete()
    _, key = write_key_create(source_name="App")
    batch = {
        "writeKey": key,
        "batch": [
            {
                "type": "track",
                "messageId": f"m{n}",
                "userId": f"u{n}",
                "event": "Report Viewed",
                "timestamp": "2024-06-30T09:00:00Z",
                "context": {"groupId": "ACME"},
            }
            for n in range(4)
        ],
    }
    assert client.post("/v1/batch", data=batch, content_type="application/json").status_code == 200
    assert ChangedAccount.objects.filter(account=account).exists()

    refreshed = pipeline.current_figures_refresh()

    assert [account_id for account_id, _ in refreshed] == [account.pk]
    assert not ChangedAccount.objects.exists()
    current = AccountCurrent.objects.get(account=account)
    assert current.as_of == TODAY
    receipt = {m["key"]: m for m in current.measures}
    assert receipt["license_utilization"]["inputs"] == {"mau": 4.0, "seats": 10.0}


def test_current_figures_are_what_the_night_computes_for_today():
    account = AccountFactory()
    contract_create(
        data={
            "account": account,
            "external_id": "CT-1",
            "start_date": dt.date(2024, 1, 1),
            "end_date": dt.date(2024, 12, 31),
            "recurring_tcv": Decimal("12000"),
            "seats": 5,
        }
    )
    activity_create(
        account_id=account.pk, kind=Activity.Kind.CALL, author_id=None, occurred_at=dt.datetime.now(dt.UTC), subject="x"
    )

    pipeline.current_figures_refresh()
    pipeline.recompute(as_of=TODAY)

    current = AccountCurrent.objects.filter(account=account).values(*FIGURES).get()
    night = AccountSnapshot.objects.filter(account=account, as_of=TODAY).values(*FIGURES).get()
    assert current == night
    assert current["acv"] == Decimal("12000.00")


def test_a_failed_refresh_puts_its_accounts_back(monkeypatch):
    account = AccountFactory()
    ContractFactory(account=account)
    ChangedAccount.objects.create(account=account, changed_at=dt.datetime.now(dt.UTC))

    def broken(*, as_of, account_ids):
        raise RuntimeError("scoring failed")

    monkeypatch.setattr(pipeline, "account_current_write", broken)
    with pytest.raises(RuntimeError):
        pipeline.current_figures_refresh()

    assert ChangedAccount.objects.filter(account=account).exists()
    assert not AccountCurrent.objects.exists()


def test_an_admin_edit_of_a_contract_marks_its_account_changed(client, ada):
    contract = ContractFactory(seats=10)
    ChangedAccount.objects.all().delete()
    client.force_login(ada)
    form = {
        "external_id": contract.external_id,
        "account": contract.account_id,
        "kind": "new",
        "status": "active",
        "start_date": "2024-01-01",
        "end_date": "2024-12-31",
        "currency": "USD",
        "recurring_tcv": "12000.00",
        "one_time_fees": "0",
        "seats": "20",
    }
    response = client.post(reverse("admin:accounts_contract_change", args=[contract.pk]), form)

    assert response.status_code == 302
    assert ChangedAccount.objects.filter(account_id=contract.account_id).exists()


def test_the_first_change_is_kept_until_the_refresh():
    account = AccountFactory()
    first = dt.datetime(2024, 6, 30, 8, tzinfo=dt.UTC)
    ChangedAccount.objects.create(account=account, changed_at=first)
    ContractFactory(account=account)
    contract_create(
        data={
            "account": account,
            "external_id": "CT-2",
            "start_date": dt.date(2024, 1, 1),
            "end_date": dt.date(2024, 12, 31),
            "recurring_tcv": Decimal("100"),
        }
    )
    assert ChangedAccount.objects.get(account=account).changed_at == first


def test_editing_or_deleting_a_touch_marks_its_account_changed(alice):
    account = AccountFactory()
    activity = activity_create(
        account_id=account.pk,
        kind=Activity.Kind.CALL,
        author_id=alice.pk,
        occurred_at=dt.datetime(2024, 6, 29, tzinfo=dt.UTC),
        subject="Call",
    )
    ChangedAccount.objects.all().delete()
    activity_update(
        activity=activity, user_id=alice.pk, kind=Activity.Kind.MEETING, occurred_at=activity.occurred_at, subject="x"
    )
    assert ChangedAccount.objects.filter(account=account).exists()

    ChangedAccount.objects.all().delete()
    activity_delete(activity=activity, user_id=alice.pk)
    assert ChangedAccount.objects.filter(account=account).exists()
