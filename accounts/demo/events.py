"""Usage events: generated set-based for a chunk of accounts (numpy arrays in a DataFrame), then written by the
database's writer in ``EVENT_WRITERS``: ``COPY`` on PostgreSQL, batched ``executemany`` on SQLite.

An active account uses the product over the last ``days`` days by its pattern. Older history is cheap: only the
90 days up to each past renewal decision's feature date are generated (what its features and its 30-day health
trend read), following the trajectory drawn for that decision (``book``): its users, features in use and monthly
growth."""

import datetime as dt
import io
import itertools
import json

import numpy as np
import pandas as pd
from django.db import connection
from psycopg2 import sql

from ..models import Account, Source, UsageEvent
from .book import Plan, product_user_id
from .constants import BATCH_SIZE, DECISION_WINDOW_DAYS, FEATURES, PLATFORM_SHARES, PLATFORMS, REGION_UTC_OFFSET


def _usage_levels(*, plans: list[Plan], ago: np.ndarray, dates: np.ndarray) -> np.ndarray:
    """Each account's daily level by its pattern (1 = its usual volume), accounts × days."""
    slope = np.array([p.slope for p in plans])[:, None]
    cutoff = np.array([p.cutoff for p in plans])[:, None]
    pattern = np.array([p.pattern for p in plans])[:, None]
    day_of_year = (dates - dates.astype("datetime64[Y]")).astype(int)
    day_of_month = (dates - dates.astype("datetime64[M]")).astype(int) + 1
    phase = (np.array([p.number for p in plans]) % 91)[:, None]
    levels = [
        np.maximum(0.15, 1.3 * np.exp(-slope * ago)),  # growing
        np.ones((len(plans), len(ago))),  # steady
        np.minimum(1.6, 0.3 * np.exp(slope * ago)),  # declining
        np.where(ago > cutoff, 0.6, 0.0),  # dormant
        1 + 0.45 * np.sin(2 * np.pi * (day_of_year + phase) / 91.3) + 0.35 * (day_of_month >= 25),  # seasonal
    ]
    return np.choose(pattern, [np.broadcast_to(level, (len(plans), len(ago))) for level in levels])


def _trajectories(*, plans: list[Plan], dates: np.ndarray, days: int, level: np.ndarray):
    """(days with usage, level, product users, features in use), accounts × days: the last ``days`` days of an
    active account by its pattern, and the window before each past decision by that decision's trajectory (level
    1 on its feature date, growing by e^g a month)."""
    shape = level.shape
    used = np.zeros(shape, dtype=bool)
    users = np.repeat(np.array([p.users for p in plans])[:, None], shape[1], axis=1)
    breadth = np.repeat(np.array([p.breadth for p in plans])[:, None], shape[1], axis=1)
    level = level.copy()
    for row, plan in enumerate(plans):
        if plan.account.status == Account.Status.ACTIVE:
            used[row, -days:] = True
        for decision in plan.decisions:
            offset = (dates - np.datetime64(decision.features_on, "D")).astype(int)
            window = (offset > -DECISION_WINDOW_DAYS) & (offset <= 0)
            used[row, window] = True
            level[row, window] = np.exp(decision.growth * offset[window] / 30)
            users[row, window] = decision.users
            breadth[row, window] = decision.breadth
    return used, level, users, breadth


def _usage_frame(*, rng: np.random.Generator, plans: list[Plan], days: int, as_of: dt.date) -> pd.DataFrame:
    """The chunk's events, vectorised: Poisson daily counts per account, users skewed to a few heavy ones, features
    from each account's own mix, times in the region's working day; sorted by account and time."""
    first_day = np.array([np.datetime64(p.contracts[0].start_date, "D") for p in plans])
    span = max(days, int((np.datetime64(as_of, "D") - first_day.min()).astype(int)) + 1)
    ago = np.arange(span - 1, -1, -1)
    dates = np.datetime64(as_of, "D") - ago
    used, level, users_by_day, breadth = _trajectories(
        plans=plans, dates=dates, days=days, level=_usage_levels(plans=plans, ago=ago, dates=dates)
    )
    age = (dates[None, :] - first_day[:, None]).astype(int)
    weekday = np.where((dates.astype(int) + 3) % 7 >= 5, 0.25, 1.0)
    base = users_by_day * np.array([p.rate for p in plans])[:, None]
    ramp = np.clip((age + 1) / 30, 0, 1)  # onboarding: nothing before the first contract, then a month's ramp
    counts = rng.poisson(np.where(used, base * level * weekday * ramp, 0) * rng.gamma(6, 1 / 6, size=level.shape))
    account, day = np.divmod(np.repeat(np.arange(counts.size), counts.ravel()), span)
    size = len(account)

    users = users_by_day.max(axis=1)
    skew = np.array([p.skew for p in plans])
    peak = np.maximum(np.where(used, level, 0).max(axis=1, keepdims=True), 1e-9)
    scale = np.sqrt(np.clip(level / peak, 0.2, 1))
    user = (users_by_day[account, day] * scale[account, day] * rng.random(size) ** skew[account]).astype(np.int64)
    popularity = np.array([weight for _, weight in FEATURES]) * rng.gamma(2, 0.5, size=(len(plans), len(FEATURES)))
    rank = np.argsort(np.argsort(-popularity, axis=1), axis=1)
    # One cumulative mix per account and number of features in use: the k most popular of the account's features.
    kept = np.where(rank[:, None, :] < np.arange(1, len(FEATURES) + 1)[None, :, None], popularity[:, None, :], 0)
    cumulative = np.cumsum(kept, axis=2) / kept.sum(axis=2, keepdims=True)
    mix = account * len(FEATURES) + breadth[account, day] - 1
    cumulative += np.arange(len(plans) * len(FEATURES)).reshape(len(plans), len(FEATURES))[:, :, None]
    feature = np.searchsorted(cumulative.ravel(), mix + rng.random(size), side="right") - mix * len(FEATURES)
    feature = np.clip(feature, 0, len(FEATURES) - 1)

    offset = np.array([REGION_UTC_OFFSET[p.account.region] for p in plans]) * 3600
    seconds = np.mod(rng.normal(13.5 * 3600, 3 * 3600, size) - offset[account], 86400).astype(np.int64)
    day_start = dates.astype("datetime64[us]").astype(np.int64)
    occurred = day_start[day] + seconds * 1_000_000 + rng.integers(0, 1_000_000, size)
    delay = 150_000 + rng.exponential(2_000_000, size) + (rng.random(size) < 0.01) * rng.uniform(0, 6 * 3600e6, size)
    platform = rng.choice(len(PLATFORMS), p=PLATFORM_SHARES, size=size)

    order = np.lexsort((occurred, account))
    account, user, feature, occurred, platform = (a[order] for a in (account, user, feature, occurred, platform))
    received = occurred + delay.astype(np.int64)
    sequence = np.arange(size) - np.repeat(np.cumsum(counts.sum(axis=1)) - counts.sum(axis=1), counts.sum(axis=1))
    numbers = np.array([p.number for p in plans])
    codes, user_index = np.unique(account * (users.max() + 1) + user, return_inverse=True)
    user_names = np.array(
        [product_user_id(numbers[c // (users.max() + 1)], c % (users.max() + 1)) for c in codes], dtype=object
    )
    return pd.DataFrame(
        {
            "account_id": np.array([p.account.pk for p in plans])[account],
            "user_id": user_names[user_index],
            "event": np.array([name for name, _ in FEATURES], dtype=object)[feature],
            "occurred_at": occurred,
            "received_at": received,
            "platform": platform,
            "message_id": [
                f"demo-{n:05d}-{s}" for n, s in zip(numbers[account].tolist(), sequence.tolist(), strict=True)
            ],
        }
    )


def usage_events_create(
    *, rng: np.random.Generator, plans: list[Plan], days: int, as_of: dt.date, source: Source
) -> int:
    """Generate and write the usage of the chunk's customers; returns the number of events."""
    active = [p for p in plans if p.contracts]
    if not active:
        return 0
    frame = _usage_frame(rng=rng, plans=active, days=days, as_of=as_of)
    EVENT_WRITERS[connection.vendor](frame=frame, source=source)
    return len(frame)


def _event_columns(*, frame: pd.DataFrame, source: Source, timestamps) -> dict[str, object]:
    """Every ``UsageEvent`` column but the id, with its values (an array, or one value for all rows): the demo's,
    or the field's default; ``timestamps`` turns epoch microseconds into the database's text."""
    properties = np.array([json.dumps({"platform": p}) for p in PLATFORMS], dtype=object)
    values = {
        "source": source.pk,
        "account": frame["account_id"].to_numpy(),
        "user_id": frame["user_id"].to_numpy(),
        "event": frame["event"].to_numpy(),
        "occurred_at": timestamps(frame["occurred_at"].to_numpy()),
        "received_at": timestamps(frame["received_at"].to_numpy()),
        "properties": properties[frame["platform"].to_numpy()],
        "message_id": frame["message_id"].to_numpy(),
    }
    fields = [f for f in UsageEvent._meta.concrete_fields if not f.primary_key]
    return {f.column: values[f.name] if f.name in values else f.get_default() for f in fields}


def _copy_text(value: object) -> str:
    """A constant column value in ``COPY``'s text format (demo values never hold tabs, newlines or backslashes)."""
    if value is None:
        return "\\N"
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def _events_copy(*, frame: pd.DataFrame, source: Source) -> None:
    """PostgreSQL: one ``COPY`` (text format) from an in-memory buffer."""
    columns = _event_columns(
        frame=frame,
        source=source,
        timestamps=lambda us: np.datetime_as_string(us.astype("datetime64[us]"), timezone="UTC"),
    )
    values = [
        v.tolist() if isinstance(v, np.ndarray) else itertools.repeat(_copy_text(v), len(frame))
        for v in columns.values()
    ]
    buffer = io.StringIO("".join("\t".join(map(str, row)) + "\n" for row in zip(*values, strict=True)))
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(UsageEvent._meta.db_table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with connection.cursor() as cursor:
        cursor.copy_expert(statement, buffer)


def _sqlite_timestamps(micros: np.ndarray) -> np.ndarray:
    """Django's SQLite text for UTC datetimes, ``YYYY-MM-DD HH:MM:SS[.ffffff]`` (no fraction on whole seconds)."""
    text = np.datetime_as_string(micros.astype("datetime64[us]")).tolist()
    whole = (micros % 1_000_000 == 0).tolist()
    return np.array([f"{t[:10]} {t[11:19] if w else t[11:]}" for t, w in zip(text, whole, strict=True)], dtype=object)


def _events_insert_sqlite(*, frame: pd.DataFrame, source: Source) -> None:
    """SQLite: one parameterised INSERT run by ``executemany`` per batch of rows. (``bulk_create`` spends ~250 µs
    per event in Django's per-field preparation: five minutes for the default demo.)"""
    columns = _event_columns(frame=frame, source=source, timestamps=_sqlite_timestamps)
    values = [v.tolist() if isinstance(v, np.ndarray) else itertools.repeat(v, len(frame)) for v in columns.values()]
    quote = connection.ops.quote_name
    statement = (
        f"INSERT INTO {quote(UsageEvent._meta.db_table)} ({', '.join(map(quote, columns))}) "  # noqa: S608 (names)
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    rows = zip(*values, strict=True)
    with connection.cursor() as cursor:
        while batch := list(itertools.islice(rows, BATCH_SIZE)):
            cursor.executemany(statement, batch)


EVENT_WRITERS = {"postgresql": _events_copy, "sqlite": _events_insert_sqlite}
