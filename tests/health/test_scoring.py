"""The health arithmetic of docs/concepts/health-score.md on hand-computed examples."""

import math

import numpy as np
import pandas as pd
import pytest

from health.scoring import Bands, MeasureSpec, attribution, health_band, health_scores, measure_scores

SPECS = [
    MeasureSpec("usage_trend", weight=20, bad=0.5, good=1.1),
    MeasureSpec("license_utilization", weight=20, bad=0.2, good=0.8),
    MeasureSpec("engagement", weight=10, bad=60, good=14),  # lower is better
]


def _score(**x):
    frame = pd.DataFrame([{spec.key: x.get(spec.key, np.nan) for spec in SPECS}], index=[1])
    scores = measure_scores(frame, SPECS)
    health, contributions = health_scores(scores, SPECS)
    return scores.loc[1].to_dict(), health.loc[1], contributions.loc[1].to_dict()


def test_measure_scores_clamp_and_lower_is_better():
    scores, _, _ = _score(usage_trend=0.8, license_utilization=2.5, engagement=37)
    assert scores["usage_trend"] == pytest.approx(50.0)  # (0.8 − 0.5) / (1.1 − 0.5)
    assert scores["license_utilization"] == 100.0  # 250% utilization is clamped at 100
    assert scores["engagement"] == pytest.approx(50.0)  # (37 − 60) / (14 − 60)
    assert _score(engagement=90)[0]["engagement"] == 0.0


def test_na_measures_drop_out_and_weights_renormalize():
    scores, health, contributions = _score(usage_trend=0.8, engagement=14)  # utilization N/A (no seats)
    assert math.isnan(scores["license_utilization"])
    assert health == pytest.approx((20 * 50 + 10 * 100) / 30)  # 66.67, not (20×50 + 10×100) / 50
    assert contributions["license_utilization"] == 0.0
    assert sum(contributions.values()) == pytest.approx(health)


def test_all_na_is_na_not_zero():
    _, health, _ = _score()
    assert math.isnan(health)
    assert health_band(health) == "na"


@pytest.mark.parametrize(
    ("score", "band"),
    [(0, "red"), (39.999, "red"), (40, "yellow"), (69.999, "yellow"), (70, "green"), (100, "green")],
)
def test_bands_are_half_open(score, band):
    assert health_band(score) == band


def test_bands_are_configurable():
    assert health_band(55, Bands(red_below=60, green_from=80)) == "red"


def test_attribution_sums_exactly_to_the_change_even_when_a_measure_turns_na():
    scores_t0 = {"usage_trend": 80.0, "license_utilization": 30.0, "engagement": 100.0}
    scores_t1 = {"usage_trend": 20.0, "license_utilization": None, "engagement": 50.0}
    weights = {"usage_trend": 20, "license_utilization": 20, "engagement": 10}
    shares = attribution(scores_t0=scores_t0, weights_t0=weights, scores_t1=scores_t1, weights_t1=weights)
    health_t0 = (20 * 80 + 20 * 30 + 10 * 100) / 50  # 64
    health_t1 = (20 * 20 + 10 * 50) / 30  # 30
    assert sum(shares.values()) == pytest.approx(health_t1 - health_t0, abs=1e-12)
    assert shares["license_utilization"] == pytest.approx(-20 / 50 * 30)  # its whole old contribution is gone
    assert shares["usage_trend"] == pytest.approx(20 / 30 * 20 - 20 / 50 * 80)
