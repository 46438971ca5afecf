"""Reads of usage: the usage metrics of docs/concepts/usage.md, "Usage", from the rollups (never from raw events).

Windows end at ``as_of`` inclusive: the current window (d−30, d] is the 30 days ``as_of − 29 … as_of``, the
previous window (d−60, d−30] the 30 days ``as_of − 59 … as_of − 30``. Days are UTC dates.
"""

import datetime as dt
from collections.abc import Iterable

import pandas as pd
from django.db.models import Count, Q, QuerySet, Sum

from csm_platform.dates import day_end

from ..models import AccountFeatureUsage, Feature, UsageDay, UsageFeatureDay, UsageUserDay
from ..selectors import contracts_live_on, live_seats

WINDOW_DAYS = 30

USAGE_METRIC_COLUMNS = [
    "events_30",
    "events_prev_30",
    "mau",
    "dau",
    "stickiness",
    "seats",
    "license_utilization",
    "key_features_used",
    "key_features_total",
    "feature_breadth",
    "usage_trend",
]


def usage_metrics(*, as_of: dt.date, account_ids: Iterable[int] | None = None) -> pd.DataFrame:
    """The usage metrics on ``as_of``, one row per account, indexed by ``account_id``:

    - ``events_30``, ``events_prev_30``: events in the current and in the previous window;
    - ``mau`` = distinct users in the current window; ``dau`` = Σ over its 30 days of daily distinct users / 30;
    - ``stickiness`` = dau / mau (N/A when mau = 0);
    - ``seats`` = Σ seats of the contracts live on ``as_of`` (N/A when none has seats);
      ``license_utilization`` = mau / seats, never capped at 1 (N/A without seats, or with 0 seats);
    - ``feature_breadth`` = ``key_features_used`` / ``key_features_total``: distinct key features used in the
      current window over the key features of the catalog as seen by ``as_of`` (non-ignored features marked key,
      or every non-ignored feature when none is marked);
    - ``usage_trend`` = events_30 / events_prev_30 (N/A when events_prev_30 = 0: no prior window is N/A, not
      infinite growth).

    Rows: ``account_ids``, or by default every account with usage up to ``as_of`` or a live contract; an account
    without usage has zero counts and N/A ratios. At most seven set-based queries, whatever the number of accounts.
    """
    start = as_of - dt.timedelta(days=WINDOW_DAYS - 1)
    prev_start = as_of - dt.timedelta(days=2 * WINDOW_DAYS - 1)
    days = UsageDay.objects.filter(day__range=(prev_start, as_of))
    user_days = UsageUserDay.objects.filter(day__range=(start, as_of))
    feature_days = UsageFeatureDay.objects.filter(day__range=(start, as_of), feature__ignored=False)
    contracts = contracts_live_on(as_of=as_of)
    if account_ids is None:
        ids = set(UsageDay.objects.filter(day__lte=as_of).values_list("account_id", flat=True).distinct())
        ids |= set(contracts.order_by().values_list("account_id", flat=True).distinct())
    else:
        ids = set(account_ids)
        days, user_days, feature_days = (rows.filter(account_id__in=ids) for rows in (days, user_days, feature_days))

    # The catalog as it stood on as_of: a feature first seen later cannot count against breadth (point-in-time).
    seen_by = day_end(as_of)
    catalog = Feature.objects.filter(ignored=False, first_seen_at__lt=seen_by).aggregate(
        total=Count("id"), marked=Count("id", filter=Q(is_key=True))
    )
    if catalog["marked"]:
        feature_days = feature_days.filter(feature__is_key=True)
    key_features_total = catalog["marked"] or catalog["total"]

    frame = pd.DataFrame(index=pd.Index(sorted(ids), name="account_id", dtype="int64"))
    # count(*), not count(id): the unique (account, day, user) index then answers the user-day query on its own.
    frame = frame.join(
        [
            _frame(
                days.values("account_id").annotate(
                    events_30=Sum("events", filter=Q(day__gte=start)),
                    events_prev_30=Sum("events", filter=Q(day__lt=start)),
                )
            ),
            _frame(user_days.values("account_id").annotate(mau=Count("user_id", distinct=True), user_days=Count("*"))),
            pd.Series(live_seats(as_of=as_of, account_ids=ids), name="seats", dtype=float).rename_axis("account_id"),
            _frame(feature_days.values("account_id").annotate(key_features_used=Count("feature_id", distinct=True))),
        ]
    )
    counts = ["events_30", "events_prev_30", "mau", "user_days", "key_features_used"]
    frame[counts] = frame[counts].fillna(0).astype("int64")
    frame["dau"] = frame["user_days"] / WINDOW_DAYS
    frame["stickiness"] = frame["dau"] / frame["mau"].where(frame["mau"] > 0)
    frame["license_utilization"] = frame["mau"] / frame["seats"].where(frame["seats"] > 0)
    frame["key_features_total"] = key_features_total
    frame["feature_breadth"] = frame["key_features_used"] / key_features_total if key_features_total else float("nan")
    frame["usage_trend"] = frame["events_30"] / frame["events_prev_30"].where(frame["events_prev_30"] > 0)
    return frame[USAGE_METRIC_COLUMNS]


def usage_daily(*, account_id: int, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Every day of ``start … end`` (inclusive) with the account's ``events`` and ``active_users`` (distinct
    users that day); days without usage are 0."""
    events = dict(UsageDay.objects.filter(account_id=account_id, day__range=(start, end)).values_list("day", "events"))
    users = dict(
        UsageUserDay.objects.filter(account_id=account_id, day__range=(start, end))
        .values("day")
        .annotate(active_users=Count("*"))
        .values_list("day", "active_users")
    )
    days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    return pd.DataFrame(
        {
            "day": days,
            "events": [events.get(day, 0) for day in days],
            "active_users": [users.get(day, 0) for day in days],
        }
    )


def usage_by_feature(*, account_id: int, start: dt.date, end: dt.date) -> pd.DataFrame:
    """The account's events per non-ignored feature over ``start … end`` (inclusive), most used first: columns
    ``feature_id``, ``feature`` (the label, or the event name) and ``events``."""
    rows = (
        UsageFeatureDay.objects.filter(account_id=account_id, day__range=(start, end), feature__ignored=False)
        .values("feature_id", "feature__name", "feature__label")
        .annotate(events=Sum("events"))
        .order_by("-events", "feature__name")
    )
    return pd.DataFrame(
        [(row["feature_id"], row["feature__label"] or row["feature__name"], row["events"]) for row in rows],
        columns=["feature_id", "feature", "events"],
    )


def feature_first_use(*, event_name: str, account_ids: Iterable[int] | None = None) -> dict[int, dt.datetime]:
    """``{account_id: first time the account sent event_name}`` for accounts that ever sent it (time to value)."""
    rows = AccountFeatureUsage.objects.filter(feature__name=event_name)
    if account_ids is not None:
        rows = rows.filter(account_id__in=set(account_ids))
    return dict(rows.values_list("account_id", "first_used_at"))


def _frame(rows: QuerySet) -> pd.DataFrame:
    """A ``.values("account_id").annotate(...)`` queryset as a float frame indexed by ``account_id``."""
    columns = ["account_id", *rows.query.annotations]
    return pd.DataFrame.from_records(list(rows), columns=columns).set_index("account_id").astype("float64")
