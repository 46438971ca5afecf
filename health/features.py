"""Churn-risk features of an account as known on a date (docs/concepts/churn-risk.md, "Churn risk"), point-in-time.

Every feature reads only data dated on or before ``as_of``: the same function builds training rows (as of 90
days before each past renewal) and tonight's scoring rows, so a feature must mean the same in both. Days to the
next renewal is left out for that reason: it is about 90 in every training row (they are taken 90 days before
each end) but anything from 0 to years at scoring, so a model would learn nothing from it and then extrapolate.
Other apps add features with ``register_feature`` (journeys adds open high-priority tasks) so that ``health``
never imports them.
"""

import datetime as dt
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from accounts import selectors as account_selectors
from accounts.models import Account

from .selectors import HealthResult, ScorecardDefinition, health_for_accounts, health_for_dates, scorecard_definitions

FeatureFunction = Callable[[dt.date, list[int]], pd.Series]
EXTRA_FEATURES: dict[str, FeatureFunction] = {}

# Days before a contract's end at which a renewal decision's features are taken.
DECISION_LEAD_DAYS = 90
# A renewal counts when the account still has a live contract this many days after the old one ended.
RENEWAL_GRACE_DAYS = 30


def register_feature(key: str, function: FeatureFunction) -> None:
    EXTRA_FEATURES[key] = function


def churn_features(
    *,
    as_of: dt.date,
    account_ids: Iterable[int],
    definitions: dict[str, ScorecardDefinition] | None = None,
    health_now: dict[int, HealthResult] | None = None,
    health_before: dict[int, float | None] | None = None,
    acv: account_selectors.AcvBook | None = None,
) -> pd.DataFrame:
    """One row per account: the health measures' raw inputs, health and its 30-day trend, ACV, seats, tenure,
    segment, and every registered extra feature, all as known on ``as_of``.
    ``health_now``: the caller's ``health_for_accounts`` on ``as_of``; ``health_before``: health 30 days earlier
    where the caller has it (the nightly snapshots); ``acv``: the caller's ``account_acv_book`` on ``as_of``
    (an ACV that is N/A is NaN); whatever is missing is computed."""
    ids = sorted(set(account_ids))
    index = pd.Index(ids, name="account_id")
    now = (
        health_for_accounts(as_of=as_of, account_ids=ids, definitions=definitions) if health_now is None else health_now
    )
    before = dict(health_before or {})
    missing = [a for a in ids if a not in before]
    if missing:
        computed = health_for_accounts(
            as_of=as_of - dt.timedelta(days=30), account_ids=missing, definitions=definitions
        )
        before.update({a: result.health for a, result in computed.items()})

    frame = pd.DataFrame(
        [{m["key"]: m["x"] for m in now[a].receipt} if a in now else {} for a in ids], index=index, dtype=float
    )
    frame["health"] = [now[a].health if a in now else np.nan for a in ids]
    frame["health"] = frame["health"].astype(float)
    then = pd.Series([before.get(a) for a in ids], index=index, dtype=float)
    frame["health_trend_30"] = frame["health"] - then

    if acv is None:
        acv = account_selectors.account_acv_book(as_of=as_of, account_ids=ids)
    frame["acv"] = [np.nan if acv.get(a) is None else float(acv.get(a)) for a in ids]
    seats = account_selectors.live_seats(as_of=as_of, account_ids=ids)
    frame["seats"] = [float(seats[a]) if a in seats else np.nan for a in ids]
    first = account_selectors.first_contract_starts(as_of=as_of, account_ids=ids)
    frame["tenure_days"] = [float((as_of - first[a]).days) if a in first else np.nan for a in ids]
    segments = dict(Account.objects.filter(pk__in=ids).values_list("pk", "segment"))
    frame["segment"] = pd.Series([segments.get(a, "") for a in ids], index=index, dtype="object")
    for key, function in sorted(EXTRA_FEATURES.items()):
        frame[key] = function(as_of, ids).reindex(index).astype(float)
    return frame


def renewal_decisions(*, as_of: dt.date) -> pd.DataFrame:
    """Past renewal decisions known on ``as_of``: one per (account, contract end date) whose outcome is known
    (the end plus the grace period has passed). ``churned`` = 1 when no contract is live ``RENEWAL_GRACE_DAYS``
    after the end, else 0. ``decided_on`` is the end date; ``features_on`` the Monday on or before
    ``DECISION_LEAD_DAYS`` before it."""
    cutoff = as_of - dt.timedelta(days=RENEWAL_GRACE_DAYS)
    ends = account_selectors.contract_end_dates(ended_on_or_before=cutoff)
    if not ends:
        return pd.DataFrame(columns=["account_id", "decided_on", "churned"])
    frame = pd.DataFrame(ends, columns=["account_id", "decided_on"]).drop_duplicates()
    check_days = frame["decided_on"] + dt.timedelta(days=RENEWAL_GRACE_DAYS)
    live = account_selectors.accounts_live_on_dates(pairs=list(zip(frame["account_id"], check_days, strict=True)))
    frame["churned"] = [0 if (a, d) in live else 1 for a, d in zip(frame["account_id"], check_days, strict=True)]
    # Features as of the Monday on or before 90 days ahead of the end: never later than the rule allows, and
    # decisions of one week share one computation.
    lead = frame["decided_on"] - dt.timedelta(days=DECISION_LEAD_DAYS)
    frame["features_on"] = [day - dt.timedelta(days=day.weekday()) for day in lead]
    return frame.sort_values(["decided_on", "account_id"]).reset_index(drop=True)


def training_rows(*, as_of: dt.date) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Features as of 90 days before each past renewal, its label, and its decision date (for time splits), all
    indexed by (account_id, decided_on) in decision order."""
    decisions = renewal_decisions(as_of=as_of)
    if decisions.empty:
        return pd.DataFrame(), pd.Series(dtype=int), pd.Series(dtype="datetime64[ns]")
    groups = [(features_on, group) for features_on, group in decisions.groupby("features_on", sort=True)]
    # Health on every features date and 30 days before it, read in one pass (hundreds of dates, few accounts each).
    definitions = scorecard_definitions()
    wanted: dict[dt.date, set[int]] = {}
    for features_on, group in groups:
        for day in (features_on, features_on - dt.timedelta(days=30)):
            wanted.setdefault(day, set()).update(group["account_id"])
    health = health_for_dates(wanted, definitions=definitions)
    parts = []
    for features_on, group in groups:
        ids = group["account_id"].tolist()
        before = health.get(features_on - dt.timedelta(days=30), {})
        features = churn_features(
            as_of=features_on,
            account_ids=ids,
            definitions=definitions,
            health_now=health.get(features_on, {}),
            health_before={a: before[a].health if a in before else None for a in ids},
        )
        features = features.loc[group["account_id"]].reset_index(drop=True)
        features.index = pd.MultiIndex.from_arrays([group["account_id"], group["decided_on"]])
        parts.append(features)
    index = pd.MultiIndex.from_frame(decisions[["account_id", "decided_on"]])
    features = pd.concat(parts).reindex(index)
    return (
        features,
        pd.Series(decisions["churned"].to_numpy(), index=index),
        pd.Series(pd.to_datetime(decisions["decided_on"]).to_numpy(), index=index),
    )
