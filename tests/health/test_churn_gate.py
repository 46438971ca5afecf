"""The churn model quality gate (docs/concepts/churn-risk.md): a learned model is used only when its
time-ordered backtest shows skill; otherwise risk comes from the health fallback, the card says which test failed,
and every page showing risk says so. Probabilities stay within 1%-99%."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from health.churn import ChurnModel
from health.churn.gate import MIN_GAIN_OVER_FALLBACK, MIN_ROC_AUC, quality_gate
from health.models import AccountSnapshot, ChurnModelVersion
from tests.web.conftest import AS_OF, NOW, book, frozen  # noqa: F401 (fixture)


def renewals(n: int, *, seed: int, signal: str) -> tuple[pd.DataFrame, pd.Series]:
    """Renewal decisions over three years, oldest first. ``signal``: ``"usage"`` (churn from utilization and
    sponsor engagement, which health sees only in part), ``"health"`` (churn from health alone) or ``"none"``."""
    rng = np.random.default_rng(seed)
    utilization = rng.uniform(0.05, 1.3, n)
    sponsor = (rng.random(n) < 0.6).astype(float)
    health = np.clip(30 + 40 * utilization + rng.normal(0, 20, n), 0, 100)
    logit = {
        "usage": -1.0 - 3.5 * (utilization - 0.6) - 1.5 * (sponsor - 0.6),
        "health": -1.2 - 0.08 * (health - 55),
        "none": np.full(n, -1.2),
    }[signal]
    churned = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame(
        {
            "health": health,
            "license_utilization": utilization,
            "executive_sponsor": sponsor,
            "segment": rng.choice(["high_touch", "mid_touch", "tech_touch"], n),
            "decided_on": pd.Timestamp("2022-01-01") + pd.to_timedelta(np.sort(rng.integers(0, 1100, n)), unit="D"),
        }
    )
    return frame, pd.Series(churned)


def fit(signal: str, *, n: int = 600, seed: int = 1) -> tuple[ChurnModel, pd.DataFrame]:
    frame, churned = renewals(n, seed=seed, signal=signal)
    return ChurnModel(time_column="decided_on", candidates=("logistic",)).fit(frame, churned), frame


def failed_tests(gate: dict) -> set[str]:
    return {failure["test"] for failure in gate["failed"]}


def test_a_model_that_learns_what_health_misses_passes_the_gate():
    model, frame = fit("usage")

    gate = model.card["gate"]
    assert gate["passed"] and gate["failed"] == []
    assert model.kind == "logistic" and not model.fallback
    assert gate["roc_auc"] >= MIN_ROC_AUC
    assert gate["roc_auc"] >= gate["fallback_roc_auc"] + MIN_GAIN_OVER_FALLBACK
    assert gate["brier"] < gate["brier_base_rate"]
    assert gate["n_holdout"] == 120 and gate["n_train"] == 480
    assert gate["holdout"] == "latest 20% by time"
    assert 0 < gate["n_churned_holdout"] < 120
    fallback = ChurnModel.health_fallback(frame["health"])
    assert not np.allclose(model.predict_proba(frame), fallback)


def test_random_outcomes_fail_the_gate_and_risk_comes_from_health():
    model, frame = fit("none")

    gate = model.card["gate"]
    assert not gate["passed"]
    assert "roc_auc" in failed_tests(gate)
    assert model.fallback and model.kind == "fallback" and model.card["kind"] == "fallback"
    assert model.card["rejected_kind"] == "logistic"
    assert model.card["fallback_reason"].startswith("The learned model failed the quality gate: Backtest ROC AUC")
    assert f"below {MIN_ROC_AUC:.2f}" in model.card["fallback_reason"]
    expected = ChurnModel.health_fallback(frame["health"], base_rate=model.base_rate_)
    np.testing.assert_allclose(model.predict_proba(frame), expected)
    assert model.top_drivers(frame.head(3), n=2)[0][0][0] == "health"


def test_a_model_no_better_than_health_fails_the_gate():
    model, _ = fit("health", n=1500)

    gate = model.card["gate"]
    assert gate["roc_auc"] >= MIN_ROC_AUC  # skilled, but the health mapping ranks the renewals as well
    assert failed_tests(gate) == {"beats_fallback"}
    assert model.fallback
    assert "above the health fallback's" in model.card["fallback_reason"]


def test_too_few_outcomes_record_a_failed_gate_with_the_reason():
    frame, churned = renewals(20, seed=3, signal="usage")
    model = ChurnModel(time_column="decided_on").fit(frame, churned)

    assert model.fallback
    assert failed_tests(model.card["gate"]) == {"outcomes"}
    assert "at least 30" in model.card["gate"]["failed"][0]["message"]


BACKTEST = {
    "holdout": "latest 20% by time",
    "roc_auc": 0.80,
    "fallback_roc_auc": 0.70,
    "brier": 0.10,
    "brier_base_rate": 0.15,
    "n_train": 400,
    "n_holdout": 100,
    "n_churned_holdout": 22,
}


@pytest.mark.parametrize(
    ("change", "failed"),
    [
        ({}, set()),
        ({"roc_auc": MIN_ROC_AUC, "fallback_roc_auc": 0.5}, set()),  # the thresholds themselves pass
        ({"roc_auc": 0.64, "fallback_roc_auc": 0.5}, {"roc_auc"}),
        ({"fallback_roc_auc": 0.79}, {"beats_fallback"}),
        ({"brier": 0.15}, {"brier"}),
        ({"brier": 0.2, "roc_auc": 0.6, "fallback_roc_auc": 0.5}, {"roc_auc", "brier"}),
        ({"roc_auc": None, "fallback_roc_auc": None}, {"roc_auc"}),
        ({"skipped": "the training part has fewer than two outcomes of a class"}, {"backtest"}),
    ],
)
def test_each_test_of_the_gate(change, failed):
    gate = quality_gate({**BACKTEST, **change})

    assert failed_tests(gate) == failed
    assert gate["passed"] is (not failed)
    assert gate["thresholds"] == {"min_roc_auc": MIN_ROC_AUC, "min_gain_over_fallback": MIN_GAIN_OVER_FALLBACK}
    assert gate["n_churned_holdout"] == 22


def test_the_failed_tests_carry_their_figures():
    gate = quality_gate({**BACKTEST, "roc_auc": 0.6, "fallback_roc_auc": 0.59, "brier": 0.2})

    messages = " ".join(failure["message"] for failure in gate["failed"])
    assert "0.60 is below 0.65" in messages
    assert "0.60 is not 0.02 above the health fallback's 0.59" in messages
    assert "0.200 is not below the base rate's 0.150" in messages
    assert quality_gate(None)["failed"][0]["test"] == "backtest"


def test_probabilities_are_never_zero_or_one():
    rng = np.random.default_rng(0)
    n = 400
    x = rng.normal(0, 1, n)
    churned = (x > 0).astype(int)  # perfectly separable: raw probabilities reach 0 and 1
    health = rng.uniform(0, 100, n)  # uninformative: the model beats the fallback
    frame = pd.DataFrame({"x": x * 50, "health": health, "decided_on": pd.date_range("2022-01-01", periods=n)})
    model = ChurnModel(time_column="decided_on", candidates=("logistic",)).fit(frame, churned)

    assert not model.fallback
    p = model.predict_proba(frame)
    assert p.min() == pytest.approx(0.01) and p.max() == pytest.approx(0.99)
    fallback = ChurnModel.health_fallback(pd.Series([0.0, 100.0, 250.0, -40.0, np.nan]))
    assert fallback.between(0.01, 0.99).all()
    failed, frame = fit("none")
    assert failed.predict_proba(frame.assign(health=[0.0, 100.0] * 300)).between(0.01, 0.99).all()


# ------------------------------------------------------------------------------------------------ the pages


@pytest.fixture
def failed_model(db):
    model, _ = fit("none")
    return ChurnModelVersion.objects.create(
        trained_at=NOW - dt.timedelta(days=2),
        as_of=AS_OF - dt.timedelta(days=2),
        kind=model.kind,
        is_fallback=model.fallback,
        card=model.card,
        model=b"",
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("frozen")
def test_every_page_showing_risk_says_it_comes_from_the_fallback_and_why(client, edna, alice, failed_model):
    (account,) = book(n=1, owner=alice)
    AccountSnapshot.objects.filter(account=account).update(churn_model=failed_model)
    client.force_login(edna)
    reason = failed_model.card["gate"]["failed"][0]["message"]
    assert "Backtest ROC AUC" in reason

    for url in (f"/accounts/{account.pk}/", "/portfolio/?owner=", "/renewals/?window=365"):
        page = client.get(url).content.decode()
        assert "Risk from health (fallback: the learned churn model failed its quality gate)." in page, url
        assert reason in page, url
        assert f'href="/churn-models/{failed_model.pk}/"' in page, url
    card = client.get(f"/churn-models/{failed_model.pk}/").content.decode()
    assert "Quality gate: failed" in card
    assert reason in card


@pytest.mark.django_db
@pytest.mark.usefixtures("frozen")
def test_pages_say_nothing_of_the_fallback_when_the_model_passed(client, edna, alice):
    model, _ = fit("usage")
    version = ChurnModelVersion.objects.create(
        trained_at=NOW, as_of=AS_OF, kind=model.kind, is_fallback=False, card=model.card, model=b""
    )
    (account,) = book(n=1, owner=alice)
    AccountSnapshot.objects.filter(account=account).update(churn_model=version)
    client.force_login(edna)

    for url in (f"/accounts/{account.pk}/", "/portfolio/?owner=", "/renewals/?window=365"):
        assert "Risk from health" not in client.get(url).content.decode(), url
    assert "Quality gate: passed" in client.get(f"/churn-models/{version.pk}/").content.decode()
