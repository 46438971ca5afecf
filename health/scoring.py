"""The health arithmetic of docs/concepts/health-score.md, "Health score", vectorised over accounts with pandas.

Pure functions on DataFrames: no database. ``x`` holds one column per measure (raw inputs, NaN = no data),
one row per account; thresholds and weights come from the scorecard.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class MeasureSpec:
    """One line of a scorecard: ``s = 100 × clamp((x − bad) / (good − bad), 0, 1)`` with weight ``w > 0``."""

    key: str
    weight: float
    bad: float
    good: float


@dataclass(frozen=True)
class Bands:
    """Half-open bands: red [0, red_below), yellow [red_below, green_from), green [green_from, 100]."""

    red_below: float = 40.0
    green_from: float = 70.0


NA_BAND = "na"
RED, YELLOW, GREEN = "red", "yellow", "green"


def measure_scores(x: pd.DataFrame, specs: list[MeasureSpec]) -> pd.DataFrame:
    """``s_i`` for every account and measure; NaN where ``x_i`` is NaN (N/A). ``good < bad`` means lower is better."""
    scores = {}
    for spec in specs:
        raw = x[spec.key].astype(float) if spec.key in x else pd.Series(np.nan, index=x.index)
        scores[spec.key] = 100.0 * ((raw - spec.bad) / (spec.good - spec.bad)).clip(0.0, 1.0)
    return pd.DataFrame(scores, index=x.index)


def normalized_weights(scores: pd.DataFrame, specs: list[MeasureSpec]) -> pd.DataFrame:
    """``w̃_i = w_i / Σ_{j not N/A} w_j``, 0 for an N/A measure; all-N/A rows are all 0."""
    weights = pd.DataFrame({spec.key: float(spec.weight) for spec in specs}, index=scores.index)
    weights = weights.where(scores.notna(), 0.0)
    total = weights.sum(axis=1)
    return weights.div(total.where(total > 0), axis=0).fillna(0.0)


def health_scores(scores: pd.DataFrame, specs: list[MeasureSpec]) -> tuple[pd.Series, pd.DataFrame]:
    """``health = Σ w_i s_i / Σ w_i`` over measures that are not N/A; NaN when every measure is N/A.

    Returns the scores and each measure's contribution ``w̃_i s_i`` (they sum to the score).
    """
    weights = normalized_weights(scores, specs)
    contributions = weights * scores.fillna(0.0)
    health = contributions.sum(axis=1).where(scores.notna().any(axis=1))
    return health, contributions


def whole_score(score: float | None) -> int | None:
    """Rounding (docs/concepts/health-score.md): the health score rounded half up to a whole number, which is
    what is stored, shown, banded and trended. The exact score is first taken to 9 decimals, so float noise
    (39.99999999999999 for a score that is exactly 40 by the formula) never decides the whole number."""
    if score is None or pd.isna(score):
        return None
    return int(Decimal(repr(round(float(score), 9))).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def whole_scores(health: pd.Series) -> pd.Series:
    """``whole_score`` of every account (None where N/A)."""
    return health.map(whole_score).astype(object)


def health_band(score: float | None, bands: Bands = Bands()) -> str:
    if score is None or pd.isna(score):
        return NA_BAND
    if score < bands.red_below:
        return RED
    if score < bands.green_from:
        return YELLOW
    return GREEN


def health_bands(health: pd.Series, bands: Bands = Bands()) -> pd.Series:
    return health.map(lambda score: health_band(score, bands))


def attribution(
    *,
    scores_t0: Mapping[str, float | None],
    weights_t0: Mapping[str, float],
    scores_t1: Mapping[str, float | None],
    weights_t1: Mapping[str, float],
) -> dict[str, float]:
    """What moved between t0 and t1: ``Δ_i = w̃_i(t1) s_i(t1) − w̃_i(t0) s_i(t0)`` per measure.

    The weights are raw scorecard weights at each time; N/A scores (None/NaN) get normalized weight 0.
    The shares sum exactly (up to float rounding) to ``health(t1) − health(t0)``.
    """

    def contributions(scores: Mapping[str, float | None], weights: Mapping[str, float]) -> dict[str, float]:
        present = {k: float(v) for k, v in scores.items() if v is not None and not pd.isna(v)}
        total = sum(weights[k] for k in present)
        if total == 0:
            return {}
        return {k: weights[k] / total * s for k, s in present.items()}

    before, after = contributions(scores_t0, weights_t0), contributions(scores_t1, weights_t1)
    return {key: after.get(key, 0.0) - before.get(key, 0.0) for key in sorted(set(scores_t0) | set(scores_t1))}
