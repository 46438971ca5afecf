"""The DB-free churn model core: any tabular data in, calibrated probabilities, signed drivers and a card out."""

import datetime as dt
import json
import pickle
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import NotFittedError
from sklearn.metrics import brier_score_loss, roc_auc_score

from health.churn import ChurnModel
from health.churn.labels import coerce_outcomes

TRAINED_AT = dt.datetime(2025, 3, 1, 6, 0, tzinfo=dt.UTC)


def telco_like(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """A frame shaped like the public telco churn data, with a known signal: month-to-month contracts, short
    tenure, low health, many open tasks and high charges raise churn. Indexed by account id, ordered by time."""
    rng = np.random.default_rng(seed)
    contract = rng.choice(["Month-to-month", "One year", "Two year"], n, p=[0.55, 0.25, 0.2])
    tenure = rng.integers(1, 72, n)
    monthly = rng.normal(65, 25, n).clip(18, 120).round(2)
    health = rng.uniform(0, 100, n)
    open_tasks = rng.poisson(1.5, n)
    logit = (
        -1.6
        + 1.3 * (contract == "Month-to-month")
        - 0.9 * (contract == "Two year")
        - 0.03 * (tenure - 36)
        - 0.035 * (health - 50)
        + 0.45 * (open_tasks - 1.5)
        + 0.012 * (monthly - 65)
    )
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    total = (monthly * tenure).round(2).astype(str)
    total[rng.random(n) < 0.02] = " "  # the blanks of the public data set
    health[rng.random(n) < 0.05] = np.nan
    decided_on = pd.Timestamp("2022-01-01") + pd.to_timedelta(np.sort(rng.integers(0, 900, n)), unit="D")
    frame = pd.DataFrame(
        {
            "customerID": [f"{rng.integers(1000, 9999)}-{i:05d}" for i in range(n)],
            "gender": rng.choice(["Female", "Male"], n),
            "SeniorCitizen": rng.integers(0, 2, n),
            "Partner": rng.choice(["Yes", "No"], n),
            "tenure": tenure,
            "Contract": contract,
            "PaymentMethod": rng.choice(["Electronic check", "Mailed check", "Bank transfer", "Credit card"], n),
            "InternetService": pd.Series(rng.choice(["DSL", "Fiber optic", None], n, p=[0.4, 0.45, 0.15])),
            "MonthlyCharges": monthly,
            "TotalCharges": total,
            "health": health,
            "open_tasks": open_tasks,
            "nps": pd.array(np.where(rng.random(n) < 0.3, None, rng.integers(0, 11, n)), dtype="Int64"),
            "auto_renew": pd.array(rng.random(n) < 0.5, dtype="boolean"),
            "signup_date": decided_on - pd.to_timedelta(tenure * 30, unit="D"),
            "region": "EMEA",
            "notes": [None] * n,
            "decided_on": decided_on,
        },
        index=pd.Index(range(10_000, 10_000 + n), name="account_id"),
    )
    return frame, pd.Series(np.where(churned, "Yes", "No"), index=frame.index, name="Churn")


def synthetic(n: int, *, seed: int = 0, positives: float = 0.3) -> tuple[pd.DataFrame, pd.Series]:
    X, y = make_classification(
        n_samples=n, n_features=10, n_informative=5, weights=[1 - positives], flip_y=0.02, random_state=seed
    )
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(10)])
    frame["segment"] = np.where(X[:, 0] + rng.normal(0, 1, n) > 0, "enterprise", rng.choice(["smb", "mid"], n))
    frame.loc[rng.random(n) < 0.1, "x1"] = np.nan
    frame.loc[rng.random(n) < 0.1, "segment"] = None
    return frame, pd.Series(y)


@pytest.fixture(scope="module")
def telco():
    frame, churned = telco_like(2500)
    return frame.iloc[:2000], churned.iloc[:2000], frame.iloc[2000:], churned.iloc[2000:]


@pytest.fixture(scope="module")
def telco_model(telco):
    train, churned, _, _ = telco
    return ChurnModel(time_column="decided_on").fit(train, churned, trained_at=TRAINED_AT)


def test_mixed_dtypes_fit_and_calibrated_predictions(telco, telco_model):
    _, _, test, churned = telco
    p = telco_model.predict_proba(test)
    assert not telco_model.fallback
    assert telco_model.kind in ("logistic", "gradient_boosting")
    assert p.index.equals(test.index) and p.between(0, 1).all() and p.notna().all()
    y = (churned == "Yes").astype(int)
    assert roc_auc_score(y, p) > 0.75
    assert brier_score_loss(y, p) < brier_score_loss(y, np.full(len(y), y.mean()))


def test_columns_are_typed_and_useless_ones_dropped(telco_model):
    card = telco_model.card
    assert card["dropped_columns"]["customerID"].startswith("identifier-like")
    assert card["dropped_columns"]["region"] == "constant"
    assert card["dropped_columns"]["notes"] == "entirely missing"
    sources = card["feature_sources"]
    assert sources["TotalCharges"] == "numeric_text"
    assert sources["signup_date"] == "datetime"  # days before the decision: the tenure
    assert sources["auto_renew"] == "boolean" and sources["nps"] == "numeric" and sources["Contract"] == "categorical"
    assert "decided_on" not in card["features"]


def test_explain_one_signed_column_per_input(telco, telco_model):
    _, _, test, _ = telco
    contributions = telco_model.explain(test)
    assert contributions.index.equals(test.index)
    assert list(contributions.columns) == list(test.columns)
    assert (contributions[["customerID", "region", "notes", "decided_on"]] == 0).all().all()
    many_tasks = test["open_tasks"] >= 4
    assert contributions.loc[many_tasks, "open_tasks"].mean() > 0
    health = contributions["health"]
    assert health[test["health"] < 20].mean() > 0 > health[test["health"] > 80].mean()


@pytest.mark.parametrize("kind", ["logistic", "gradient_boosting"])
def test_each_candidate_explains_with_the_right_sign(kind):
    frame, churned = telco_like(1200, seed=3)
    model = ChurnModel(candidates=(kind,)).fit(frame, churned)
    contributions = model.explain(frame)
    assert model.kind == kind
    month_to_month = frame["Contract"] == "Month-to-month"
    assert contributions.loc[month_to_month, "Contract"].mean() > contributions.loc[~month_to_month, "Contract"].mean()
    assert contributions.loc[frame["open_tasks"] >= 4, "open_tasks"].mean() > 0


def test_logistic_contributions_add_up_to_the_log_odds():
    frame, churned = synthetic(800, seed=2)
    model = ChurnModel(candidates=("logistic",)).fit(frame, churned)
    p = model.predict_proba(frame)
    rest = (np.log(p / (1 - p)) - model.explain(frame).sum(axis=1))[(p > 0.01) & (p < 0.99)]
    assert rest.std() < 1e-6  # contributions + a constant = calibrated log-odds (away from the probability clip)


def test_top_drivers_are_the_largest_signed_contributions(telco, telco_model):
    _, _, test, _ = telco
    drivers = telco_model.top_drivers(test.iloc[:5], n=3)
    contributions = telco_model.explain(test.iloc[:5])
    assert len(drivers) == 5
    for row, top in zip(contributions.itertuples(index=False), drivers, strict=True):
        assert 1 <= len(top) <= 3 and all(isinstance(name, str) for name, _ in top)
        assert abs(top[0][1]) == pytest.approx(np.abs(np.array(row)).max(), abs=1e-4)
    json.dumps(drivers)


def test_unseen_categories_missing_and_extra_columns_at_predict(telco, telco_model):
    _, _, test, _ = telco
    odd = test.drop(columns=["PaymentMethod", "health"]).assign(Contract="Three year", InternetService="Satellite")
    odd["brand_new_column"] = "x"
    p = telco_model.predict_proba(odd)
    assert p.between(0, 1).all() and p.index.equals(odd.index)
    contributions = telco_model.explain(odd)
    assert contributions["health"].nunique() == 1  # unknown for everyone: the same contribution for everyone
    assert list(contributions.columns) == list(test.columns)


def test_time_respecting_selection_and_backtest(telco, telco_model):
    train, _, _, _ = telco
    card = telco_model.card
    assert card["selection"]["cv"] == "time_series_split"
    assert set(card["selection"]["candidates"]) == {"logistic", "gradient_boosting"}
    backtest = card["backtest"]
    assert backtest["holdout"] == "latest 20% by time"
    assert backtest["n_holdout"] == 400 and backtest["n_train"] == 1600
    assert pd.Timestamp(backtest["holdout_from"]) >= train["decided_on"].sort_values().iloc[1599].tz_localize("UTC")
    assert 0.6 < backtest["roc_auc"] <= 1
    assert sum(row["count"] for row in backtest["calibration"]) == 400 and len(backtest["calibration"]) <= 10


def test_card_is_json_and_complete(telco_model):
    card = json.loads(json.dumps(telco_model.card, allow_nan=False))
    assert card["kind"] == telco_model.kind and card["fallback"] is False
    assert card["trained_at"] == "2025-03-01T06:00:00+00:00"
    assert card["n_outcomes"] == 2000 and 0 < card["n_churned"] < 2000
    assert card["churn_rate"] == pytest.approx(card["n_churned"] / 2000)
    assert card["churn_label"] == "Yes" and card["calibration"] in ("sigmoid", "isotonic")
    for key in ("roc_auc", "brier", "log_loss", "brier_base_rate", "calibration"):
        assert key in card["backtest"]


def test_naive_trained_at_is_refused():
    frame, churned = synthetic(100)
    with pytest.raises(ValueError, match="timezone-aware"):
        ChurnModel().fit(frame, churned, trained_at=dt.datetime(2025, 1, 1))  # noqa: DTZ001


def test_pickle_and_bytes_round_trips_predict_the_same(telco, telco_model):
    _, _, test, _ = telco
    for restored in (pickle.loads(pickle.dumps(telco_model)), ChurnModel.from_bytes(telco_model.to_bytes())):  # noqa: S301
        pd.testing.assert_series_equal(restored.predict_proba(test), telco_model.predict_proba(test))
        pd.testing.assert_frame_equal(restored.explain(test), telco_model.explain(test))


def test_same_random_state_same_model():
    frame, churned = synthetic(300, seed=4)
    first = ChurnModel(random_state=7).fit(frame, churned).predict_proba(frame)
    second = ChurnModel(random_state=7).fit(frame, churned).predict_proba(frame)
    pd.testing.assert_series_equal(first, second)


def test_quality_on_known_signal():
    frame, churned = synthetic(3000, seed=1)
    model = ChurnModel().fit(frame.iloc[:2000], churned.iloc[:2000])
    p, y = model.predict_proba(frame.iloc[2000:]), churned.iloc[2000:]
    assert roc_auc_score(y, p) >= 0.8
    assert brier_score_loss(y, p) < brier_score_loss(y, np.full(len(y), y.mean()))


def test_imbalanced_outcomes_give_sensible_probabilities():
    frame, churned = synthetic(5000, seed=5, positives=0.05)
    model = ChurnModel().fit(frame.iloc[:4000], churned.iloc[:4000])
    p, y = model.predict_proba(frame.iloc[4000:]), churned.iloc[4000:]
    assert abs(p.mean() - y.mean()) < 0.02
    assert roc_auc_score(y, p) >= 0.8


def test_few_outcomes_fall_back_to_health():
    frame, churned = telco_like(20)
    model = ChurnModel().fit(frame, churned)
    assert model.fallback and model.kind == "fallback" and model.card["kind"] == "fallback"
    assert "20" in model.fallback_reason and "30" in model.fallback_reason
    ordered = pd.DataFrame({"health": [0, 25, 50, 75, 100, np.nan]})
    p = model.predict_proba(ordered)
    assert p.iloc[:5].is_monotonic_decreasing and p.iloc[0] > 0.5 > p.iloc[4]
    assert p.iloc[5] == pytest.approx(model.card["base_rate"])
    contributions = model.explain(ordered)
    assert contributions["health"].iloc[0] > 0 > contributions["health"].iloc[4]
    assert (contributions.drop(columns="health") == 0).all().all()
    json.dumps(model.card, allow_nan=False)


def test_one_class_only_falls_back():
    frame, _ = telco_like(200)
    model = ChurnModel().fit(frame, pd.Series("No", index=frame.index))
    assert model.fallback and "one class" in model.fallback_reason
    assert model.card["n_outcomes"] == 200 and model.card["n_churned"] == 0
    assert model.predict_proba(frame).between(0.01, 0.99).all()


def test_fallback_without_health_is_the_base_rate():
    frame = pd.DataFrame({"seats": range(10)})
    model = ChurnModel().fit(frame, [0, 1] * 5)
    assert model.fallback
    assert model.predict_proba(frame).nunique() == 1
    assert model.predict_proba(frame).iloc[0] == pytest.approx((5 + 0.15 * 10) / 20)  # shrunk towards 0.15


def test_health_fallback_mapping_and_bands():
    p = ChurnModel.health_fallback(pd.Series([100, 70, 50, 40, 0, None], index=list("abcdef")))
    assert list(p.index) == list("abcdef")
    assert p["a"] == pytest.approx(0.05) and p["c"] == pytest.approx(0.275) and p["e"] == pytest.approx(0.95)
    assert p["a"] < p["b"] < p["c"] < p["d"] < p["e"] and p["f"] == pytest.approx(0.15)
    assert [ChurnModel.risk_band(v) for v in (0.5, 0.49, 0.2, 0.19, float("nan"))] == [
        "high",
        "medium",
        "medium",
        "low",
        None,
    ]


@pytest.mark.parametrize(
    ("labels", "churn"),
    [
        (["Yes", "No"], "Yes"),
        ([True, False], True),
        (["renewed", "churned"], "churned"),
        (["Existing Customer", "Attrited Customer"], "Attrited Customer"),
        (["stayed", "left"], "left"),
        (["did not renew", "renewed"], "did not renew"),
        ([0, 1], 1),
        ([1, 2], 2),
    ],
)
def test_outcome_labels_map_to_churn(labels, churn):
    values = pd.Series([labels[0]] * 6 + [labels[1]] * 4)
    outcomes = coerce_outcomes(values)
    assert list(outcomes.y) == [int(value == churn) for value in values]


def test_unknown_words_make_the_minority_churn_and_three_values_are_refused():
    assert list(coerce_outcomes(pd.Series(["a", "a", "a", "b"])).y) == [0, 0, 0, 1]
    with pytest.raises(ValueError, match="two values"):
        coerce_outcomes(pd.Series(["a", "b", "c"]))


def test_outcome_given_as_a_column_name_and_missing_outcomes_skipped():
    frame, churned = synthetic(400, seed=6)
    frame["Exited"] = churned.astype(float)
    frame.loc[:9, "Exited"] = np.nan
    model = ChurnModel().fit(frame, "Exited")
    assert model.card["n_outcomes"] == 390 and model.card["n_unlabelled_dropped"] == 10
    assert "Exited" not in model.card["features"]


def test_not_fitted_raises():
    with pytest.raises(NotFittedError):
        ChurnModel().predict_proba(pd.DataFrame({"health": [50]}))


def test_a_telco_sized_frame_fits_in_seconds():
    frame, churned = telco_like(5000, seed=9)
    started = time.perf_counter()
    model = ChurnModel(time_column="decided_on").fit(frame, churned)
    model.top_drivers(frame)
    assert time.perf_counter() - started < 30  # a few seconds on an idle machine; generous for a busy CI box


def test_a_feature_missing_from_the_oldest_decisions_does_not_break_time_ordered_folds():
    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame(
        {
            "decided_on": pd.date_range("2022-01-01", periods=n, freq="D"),
            "health": rng.uniform(0, 100, n),
            "usage_trend": rng.uniform(0, 2, n),
        }
    )
    frame.loc[: n - 21, "usage_trend"] = np.nan  # usage data exists for the latest 20 decisions only
    churned = pd.Series((rng.uniform(size=n) < 0.05 + 0.5 * (frame["health"] < 30)).astype(int))

    model = ChurnModel(time_column="decided_on").fit(frame, churned)

    assert model.predict_proba(frame).between(0, 1).all()


def test_a_numeric_column_with_a_handful_of_values_never_breaks_the_fit():
    rng = np.random.default_rng(0)
    n = 3000
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "rare": np.nan})
    churned = pd.Series((rng.random(n) < 1 / (1 + np.exp(-(2 * frame["a"] - 1.5)))).astype(int))
    for row in range(0, n, 300):  # early stopping's validation split must not be able to take every value
        frame["rare"] = np.nan
        frame.loc[[row, (row + 7) % n], "rare"] = 1.0

        model = ChurnModel(candidates=("gradient_boosting",)).fit(frame, churned)

        assert model.predict_proba(frame).between(0, 1).all()


def test_a_row_given_as_a_series_and_duplicate_columns_at_predict():
    frame, churned = synthetic(600, seed=4)
    model = ChurnModel().fit(frame, churned)

    one = model.predict_proba(frame.iloc[3])

    assert len(one) == 1
    assert one.iloc[0] == pytest.approx(model.predict_proba(frame.iloc[[3]]).iloc[0])
    with pytest.raises(ValueError, match="duplicate column names"):
        model.predict_proba(pd.concat([frame, frame[["segment"]]], axis=1))


def test_astronomic_numbers_are_missing_not_a_crash():
    frame, churned = synthetic(600, seed=5)
    frame["huge"] = frame["x0"] * 1e200

    model = ChurnModel().fit(frame, churned)

    assert model.predict_proba(frame).between(0, 1).all()


def test_a_column_named_like_the_outcome_is_the_outcome_not_a_feature():
    frame, churned = telco_like(800, seed=11)
    frame["Churn"] = churned  # "Yes"/"No" among the features, the outcome given recoded as booleans

    model = ChurnModel().fit(frame, (churned == "Yes").rename("Churn"))

    assert "Churn" not in model.card["features"]


def test_tree_contributions_are_each_column_occluded_in_turn():
    frame, churned = telco_like(900, seed=12)
    model = ChurnModel(candidates=("gradient_boosting",)).fit(frame, churned)
    contributions = model.explain(frame.iloc[:50])
    base = model.base_
    clean = model._clean(frame.iloc[:50])
    reference = model.reference_
    for column in ("tenure", "Contract", "open_tasks"):
        internal = model.schema_.internal(model.schema_.used.index(column))
        occluded = clean.copy()
        occluded[internal] = reference[internal].iloc[0]
        expected = base.decision_function(clean) - base.decision_function(occluded)
        assert np.abs(expected).max() > 0
        assert np.allclose(contributions[column], expected * model.slope_)


def test_unique_integers_named_like_an_id_are_dropped_other_numbers_kept():
    frame, churned = synthetic(500, seed=13)
    rng = np.random.default_rng(13)
    frame["CLIENTNUM"] = rng.choice(np.arange(700_000_000, 800_000_000), 500, replace=False)
    frame["custid"] = rng.choice(np.arange(10_000, 99_999), 500, replace=False)
    frame["balance"] = rng.choice(np.arange(1_000, 900_000), 500, replace=False)  # unique integers, not an id

    card = ChurnModel().fit(frame, churned).card

    assert card["dropped_columns"]["CLIENTNUM"].startswith("identifier-like")
    assert card["dropped_columns"]["custid"].startswith("identifier-like")
    assert "balance" in card["features"] and "balance" not in card["dropped_columns"]
