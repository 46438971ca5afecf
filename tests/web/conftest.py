"""Data for the page tests: a book of accounts with contracts and nightly snapshots, built set-based, on a fixed
evaluation date (the snapshots of 2024-06-30 are the latest; today is 2024-07-01)."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from accounts.models import Account, Contract
from health.models import AccountSnapshot, ChurnModelVersion
from journeys.models import Stage, StageChange, Task

AS_OF = dt.date(2024, 6, 30)
TODAY = dt.date(2024, 7, 1)
NOW = dt.datetime(2024, 7, 1, 9, 0, tzinfo=dt.UTC)
BANDS = [("red", 25.0, 0.62, "high"), ("yellow", 55.0, 0.3, "medium"), ("green", 85.0, 0.08, "low")]


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def receipt(*, mau: int, seats: int, health: float) -> list[dict]:
    """A snapshot receipt with the inputs the pages read (license utilization: MAU and seats)."""
    utilization = mau / seats
    score = max(0.0, min(100.0, 100 * (utilization - 0.2) / 0.6))
    return [
        {
            "key": "license_utilization",
            "x": utilization,
            "s": score,
            "weight": 20.0,
            "normalized_weight": 0.5,
            "contribution": 0.5 * score,
            "bad": 0.2,
            "good": 0.8,
            "inputs": {"mau": float(mau), "seats": float(seats)},
        },
        {
            "key": "engagement",
            "x": 20.0,
            "s": 2 * health - 0.5 * score,
            "weight": 20.0,
            "normalized_weight": 0.5,
            "contribution": health - 0.5 * score,
            "bad": 60.0,
            "good": 14.0,
            "inputs": {"last_touch": "2024-06-10"},
        },
    ]


def book(
    *, n: int, owner=None, ae=None, prefix: str = "BK", segment: str = "mid_touch", as_of: dt.date = AS_OF
) -> list[Account]:
    """``n`` accounts owned by ``owner`` (AE ``ae``), each with a one-year contract ending ``15 + 7i mod 350`` days
    after ``as_of`` (2024-07-15 … 2025-06-30 for AS_OF) and snapshots on ``as_of`` and 30 days before; bands
    cycle red, yellow, green and ACV cycles 12,000 × 1 … 5."""
    accounts = Account.objects.bulk_create(
        Account(
            external_id=f"{prefix}-{i:05d}",
            name=f"{prefix} Customer {i:05d}",
            owner=owner,
            account_executive=ae,
            segment=segment,
        )
        for i in range(n)
    )
    contracts, snapshots = [], []
    for i, account in enumerate(accounts):
        end = as_of + dt.timedelta(days=15 + (i * 7) % 350)
        contracts.append(
            Contract(
                account=account,
                external_id=f"{prefix}-CT-{i:05d}",
                start_date=end - dt.timedelta(days=364),
                end_date=end,
                recurring_tcv=Decimal(12000 * (i % 5 + 1)),
                seats=20,
            )
        )
        band, health, p, risk = BANDS[i % 3]
        for day, shift in ((as_of, 0.0), (as_of - dt.timedelta(days=30), 5.0)):
            snapshots.append(
                AccountSnapshot(
                    account=account,
                    as_of=day,
                    acv=Decimal(12000 * (i % 5 + 1)),
                    health=health - shift,
                    band=band,
                    measures=receipt(mau=4 + i % 10, seats=20, health=health),
                    churn_probability=p,
                    risk_band=risk,
                    churn_drivers=[["health", None]],
                )
            )
    Contract.objects.bulk_create(contracts)
    AccountSnapshot.objects.bulk_create(snapshots)
    return accounts


def stage_of(accounts: list[Account], stage_name: str) -> None:
    stage = Stage.objects.get(name=stage_name)
    StageChange.objects.bulk_create(
        StageChange(account=a, to_stage=stage, changed_at=NOW - dt.timedelta(days=40), reason="Onboarded")
        for a in accounts
    )


def open_task(account: Account, owner, *, due: dt.date) -> Task:
    return Task.objects.create(account=account, owner=owner, title="Call the sponsor", due_date=due, created_at=NOW)


@pytest.fixture
def churn_model(db):
    return ChurnModelVersion.objects.create(
        trained_at=NOW - dt.timedelta(days=2),
        as_of=AS_OF - dt.timedelta(days=2),
        kind="logistic",
        card={"kind": "logistic", "n_outcomes": 120, "backtest": {"roc_auc": 0.81, "holdout": "latest 20% by time"}},
        model=b"",
    )
