"""Data quality on the pages: why an account's ACV is N/A (its snapshot's ``problems``), what a total leaves out
(``AcvBook.excluded``, ``RevenueSnapshot.excluded``, or the snapshots of the rows summed), and the open problems
of every account's latest snapshot for the status page. A missing rate (docs/concepts/contract-value.md): never 0,
never an exception, and every total says what it leaves out."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import OuterRef, Subquery

from accounts.models import Account
from accounts.selectors import missing_rate_reason
from health.models import AccountSnapshot

MISSING_RATE = "missing_exchange_rate"


def na_reason(problems: list[dict] | None, as_of: dt.date | None) -> str:
    """Why a snapshot's figures are N/A, in the words every total uses ("no GBP exchange rate on or before …");
    empty without problems."""
    reasons = []
    for problem in problems or ():
        if problem.get("kind") == MISSING_RATE and as_of is not None:
            reasons.append(missing_rate_reason(problem.get("currencies") or (), as_of))
        else:
            reasons.append(problem.get("message", ""))
    return "; ".join(reason for reason in reasons if reason)


@dataclass(frozen=True)
class Exclusions:
    """The accounts a total leaves out because their ACV is N/A, and the distinct reasons."""

    accounts: int = 0
    reasons: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.accounts > 0


def exclusions(reasons: Iterable[str]) -> Exclusions:
    """One reason per account left out."""
    items = list(reasons)
    return Exclusions(accounts=len(items), reasons=tuple(sorted(set(items))))


def book_exclusions(excluded: Iterable[dict]) -> Exclusions:
    """The ``excluded`` list of an ``AcvBook``, a ``Period`` or a ``RevenueSnapshot``."""
    return exclusions(item["reason"] for item in excluded)


@dataclass(frozen=True)
class OpenProblem:
    account: Account
    as_of: dt.date
    kind: str
    message: str
    fix: str


def open_problems() -> list[OpenProblem]:
    """Every problem of the accounts whose latest snapshot has problems, by account name (one query)."""
    latest = AccountSnapshot.objects.filter(account=OuterRef("account")).order_by("-as_of").values("pk")[:1]
    snapshots = (
        AccountSnapshot.objects.exclude(problems=[])
        .filter(pk=Subquery(latest))
        .select_related("account")
        .only("as_of", "problems", "account__name", "account__external_id")
        .order_by("account__name", "account_id")
    )
    return [
        OpenProblem(
            account=snapshot.account,
            as_of=snapshot.as_of,
            kind=problem.get("kind", ""),
            message=problem.get("message", ""),
            fix=problem.get("fix", ""),
        )
        for snapshot in snapshots
        for problem in snapshot.problems
    ]
