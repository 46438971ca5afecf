"""The registry of health measures: what admins can put on a scorecard, each with its documented input.

A measure turns data known on ``as_of`` into a raw input ``x`` per account (NaN = no data) and the numbers that
explain it on screen. Inputs are computed set-based for a chunk of accounts at once. Other apps add measures
with ``register`` (journeys adds NPS from its surveys), so ``health`` never imports them.
"""

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from django.utils.translation import gettext_lazy as _

from accounts import selectors as account_selectors
from accounts.usage.selectors import usage_metrics


@dataclass
class MeasureContext:
    """What every measure of one computation shares: the date, the accounts and the frames read once."""

    as_of: dt.date
    account_ids: list[int]
    cache: dict = field(default_factory=dict)

    @cached_property
    def usage(self) -> pd.DataFrame:
        return usage_metrics(as_of=self.as_of, account_ids=self.account_ids).reindex(self.account_ids)


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    description: str
    # Default thresholds and weight for a new scorecard (docs/concepts/health-score.md's table).
    bad: float
    good: float
    weight: float
    # Returns a frame indexed by account id: column "x" and any explanatory columns (shown in the receipt).
    compute: Callable[[MeasureContext], pd.DataFrame]
    unit: str = ""


REGISTRY: dict[str, Measure] = {}


def register(measure: Measure) -> Measure:
    REGISTRY[measure.key] = measure
    return measure


def measure_choices() -> list[tuple[str, str]]:
    return [(key, str(measure.label)) for key, measure in sorted(REGISTRY.items())]


def _usage(*columns: str, x: str) -> Callable[[MeasureContext], pd.DataFrame]:
    def compute(ctx: MeasureContext) -> pd.DataFrame:
        frame = ctx.usage[list(columns)].copy()
        frame.insert(0, "x", ctx.usage[x])
        return frame

    return compute


def days_since_last_touch(ctx: MeasureContext) -> pd.DataFrame:
    """Days from the last CSM touch (call, meeting, email, QBR) on or before ``as_of`` to ``as_of``. Never
    touched: days since the first contract started (the account has waited that long); no contract either: N/A."""
    last_touch = account_selectors.last_touch_dates(as_of=ctx.as_of, account_ids=ctx.account_ids)
    first_start = account_selectors.first_contract_starts(as_of=ctx.as_of, account_ids=ctx.account_ids)
    frame = pd.DataFrame(index=pd.Index(ctx.account_ids, name="account_id"))
    frame["last_touch"] = pd.Series(last_touch, dtype="object")
    frame["first_contract_start"] = pd.Series(first_start, dtype="object")
    since = frame["last_touch"].where(frame["last_touch"].notna(), frame["first_contract_start"])
    frame["x"] = [float((ctx.as_of - day).days) if isinstance(day, dt.date) else np.nan for day in since]
    return frame[["x", "last_touch"]]


def executive_sponsor_engaged(ctx: MeasureContext) -> pd.DataFrame:
    """1 when an active executive sponsor was engaged in (as_of − 90 days, as_of], else 0."""
    engaged = account_selectors.accounts_with_engaged_sponsor(as_of=ctx.as_of, account_ids=ctx.account_ids, days=90)
    frame = pd.DataFrame(index=pd.Index(ctx.account_ids, name="account_id"))
    frame["x"] = [1.0 if account_id in engaged else 0.0 for account_id in ctx.account_ids]
    return frame


register(
    Measure(
        key="usage_trend",
        label=_("Usage trend"),
        description=_("Events in the last 30 days ÷ events in the 30 days before (N/A when the earlier is 0)."),
        bad=0.5,
        good=1.1,
        weight=20,
        compute=_usage("events_30", "events_prev_30", x="usage_trend"),
        unit="ratio",
    )
)
register(
    Measure(
        key="license_utilization",
        label=_("License utilization"),
        description=_("Monthly active users ÷ licensed seats on live contracts (N/A without seats)."),
        bad=0.2,
        good=0.8,
        weight=20,
        compute=_usage("mau", "seats", x="license_utilization"),
        unit="percent",
    )
)
register(
    Measure(
        key="feature_breadth",
        label=_("Feature breadth"),
        description=_("Share of key features used in the last 30 days."),
        bad=0.1,
        good=0.6,
        weight=15,
        compute=_usage("key_features_used", "key_features_total", x="feature_breadth"),
        unit="percent",
    )
)
register(
    Measure(
        key="stickiness",
        label=_("Stickiness"),
        description=_("Mean daily active users ÷ monthly active users over the last 30 days."),
        bad=0.05,
        good=0.3,
        weight=10,
        compute=_usage("dau", "mau", x="stickiness"),
        unit="percent",
    )
)
register(
    Measure(
        key="engagement",
        label=_("Engagement"),
        description=_("Days since the last CSM touch (call, meeting, email or QBR); lower is better."),
        bad=60,
        good=14,
        weight=10,
        compute=days_since_last_touch,
        unit="days",
    )
)
register(
    Measure(
        key="executive_sponsor",
        label=_("Executive sponsor"),
        description=_("An active executive sponsor engaged in the last 90 days (1) or not (0)."),
        bad=0,
        good=1,
        weight=10,
        compute=executive_sponsor_engaged,
        unit="flag",
    )
)


def measure_inputs(*, keys: Iterable[str], as_of: dt.date, account_ids: list[int]) -> dict[str, pd.DataFrame]:
    """Every requested measure's frame for the accounts; an unknown key (its app uninstalled) is all N/A."""
    ctx = MeasureContext(as_of=as_of, account_ids=account_ids)
    result = {}
    for key in keys:
        measure = REGISTRY.get(key)
        if measure is None:
            result[key] = pd.DataFrame({"x": np.nan}, index=pd.Index(account_ids, name="account_id"))
        else:
            result[key] = measure.compute(ctx)
    return result
