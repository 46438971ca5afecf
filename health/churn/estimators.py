"""The two candidate classifiers, their cross-validation, calibration and per-feature contributions.

- **logistic**: numbers are clipped to their fit-time 1st-99th percentiles (when they take more than 10
  values), median-imputed with a missing-indicator and standardised; categories (which arrive as level
  numbers, see ``FeatureSchema.transform``) are one-hot encoded (missing is its own category, levels rarer
  than ``max(5, 0.5% of rows)`` and beyond the 30 most frequent are grouped as infrequent, unseen levels go to
  that group or nowhere). Unweighted L2 logistic regression, so its probabilities start close to calibrated.
- **gradient_boosting**: ``HistGradientBoostingClassifier`` on the raw numbers (native missing values) and
  ordinal-coded categories (native categorical splits, at most 64 levels, unseen levels count as missing).
  Small trees, L2-regularised, with early stopping from 1,000 rows.

Candidates are compared on pooled out-of-fold scores after Platt scaling (the final model is calibrated too,
so this compares what will be shown). Folds respect time when the model has a time column.
"""

from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold, TimeSeriesSplit
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from sklearn.utils.validation import validate_data

from health.churn.columns import FeatureSchema

LINEAR = "logistic"
TREE = "gradient_boosting"
KINDS = (LINEAR, TREE)
ISOTONIC_MIN_MINORITY = 2_000
CALIBRATION_FOLDS = 3
LARGE_ROWS = 20_000
TWO_FOLD_CALIBRATION_ROWS = 5_000
PROBABILITY_FLOOR = 1e-4
PROBABILITY_RANGE = (0.01, 0.99)  # a probability is never shown as 0% or 100% (docs/concepts/churn-risk.md)
MIN_PRESENT = 20  # values a numeric column needs in the fit data for the trees (their largest min_samples_leaf)
OCCLUSION_ROWS = 200_000  # rows per prediction call when explaining: occluded copies of several columns at once


class Winsorize(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Clip each column to its fit-time quantiles (NaN stays NaN), so a few extreme values cannot dominate.

    Only columns with more than ``min_distinct`` values: a rare flag (0/1) or count must keep its rare values.
    """

    def __init__(self, quantile: float = 0.01, min_distinct: int = 10):
        self.quantile = quantile
        self.min_distinct = min_distinct

    def fit(self, X, y=None):
        values = validate_data(self, X, dtype="float64", ensure_all_finite="allow-nan")
        self.low_ = np.full(values.shape[1], -np.inf)
        self.high_ = np.full(values.shape[1], np.inf)
        for column in range(values.shape[1]):
            present = values[:, column][~np.isnan(values[:, column])]
            if len(np.unique(present)) > self.min_distinct:
                self.low_[column], self.high_[column] = np.quantile(present, [self.quantile, 1 - self.quantile])
        return self

    def transform(self, X):
        values = validate_data(self, X, dtype="float64", ensure_all_finite="allow-nan", reset=False)
        return np.clip(values, self.low_, self.high_)


class EmptyColumnsAsZero(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Columns with (almost) no value in the fit data become 0 (a constant the trees ignore): a fold trained on the
    oldest decisions may predate a feature (usage data that starts later), and the binner cannot bin nothing. Fewer
    than ``MIN_PRESENT`` values count as none: no leaf could hold them, and early stopping's own validation split
    could take them all, leaving the binner nothing again."""

    def fit(self, X, y=None):
        values = validate_data(self, X, dtype="float64", ensure_all_finite="allow-nan")
        self.empty_ = (~np.isnan(values)).sum(axis=0) < MIN_PRESENT
        return self

    def transform(self, X):
        values = validate_data(self, X, dtype="float64", ensure_all_finite="allow-nan", reset=False).copy()
        values[:, self.empty_] = 0.0
        return values


def _min_frequency(n_rows: int) -> int:
    return max(5, int(np.ceil(0.005 * n_rows)))


def build(kind: str, schema: FeatureSchema, n_rows: int, random_state: int) -> Pipeline:
    """An unfitted candidate: a pipeline from the clean frame (``schema.transform``) to a classifier."""
    numeric = schema.internal_names(schema.numeric)
    categorical = schema.internal_names(schema.categorical)
    if kind == LINEAR:
        parts = []
        if numeric:
            steps = make_pipeline(
                Winsorize(),
                SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                StandardScaler(),
            )
            parts.append(("num", steps, numeric))
        if categorical:
            encoder = OneHotEncoder(
                handle_unknown="infrequent_if_exist",
                min_frequency=_min_frequency(n_rows),
                max_categories=30,
                sparse_output=False,
            )
            parts.append(("cat", encoder, categorical))
        prep = ColumnTransformer(parts, sparse_threshold=0, verbose_feature_names_out=False)
        return Pipeline([("prep", prep), ("model", LogisticRegression(max_iter=2000))])
    if kind != TREE:
        raise ValueError(f"unknown candidate {kind!r}; choose from {KINDS}")
    parts = [("num", EmptyColumnsAsZero(), numeric)] if numeric else []
    if categorical:
        encoder = OrdinalEncoder(
            handle_unknown="use_encoded_value",
            unknown_value=np.nan,
            min_frequency=_min_frequency(n_rows),
            max_categories=64,
        )
        parts.append(("cat", encoder, categorical))
    small, large = n_rows < 1000, n_rows >= LARGE_ROWS
    model = HistGradientBoostingClassifier(
        learning_rate=0.1,
        max_iter=50 if small else 500,
        max_leaf_nodes=8 if small else 31 if large else 15,
        min_samples_leaf=10 if small else 20,
        l2_regularization=1.0,
        early_stopping=not small,
        categorical_features=[False] * len(numeric) + [True] * len(categorical) if categorical else None,
        random_state=random_state,
    )
    return Pipeline([("prep", ColumnTransformer(parts, sparse_threshold=0)), ("model", model)])


def cv_splits(y: np.ndarray, order: np.ndarray | None, n_splits: int, random_state: int) -> tuple[list, str]:
    """Forward-chaining folds over ``order`` (positions sorted by time) when given, else stratified folds.

    A time fold whose training part lacks two outcomes of each class is skipped; with none left, stratified.
    """
    if order is not None:
        splits = []
        for train, test in TimeSeriesSplit(n_splits=max(2, n_splits)).split(order):
            if np.bincount(y[order[train]], minlength=2).min() >= 2:
                splits.append((order[train], order[test]))
        if splits:
            return splits, "time_series_split"
    folds = max(2, min(n_splits, int(np.bincount(y, minlength=2).min())))
    stratified = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    return list(stratified.split(np.zeros(len(y)), y)), "stratified_kfold"


def evaluate(y: np.ndarray, p: np.ndarray) -> dict:
    """ROC AUC (None with one class), Brier score and log loss of probabilities ``p`` against outcomes ``y``."""
    return {
        "roc_auc": float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else None,
        "brier": float(brier_score_loss(y, p, labels=[0, 1])),
        "log_loss": float(log_loss(y, np.clip(p, PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR), labels=[0, 1])),
    }


def cross_validate(make: Callable[[], Pipeline], clean: pd.DataFrame, y: np.ndarray, splits: list) -> dict:
    """Pooled out-of-fold scores: raw, and after a Platt scaling of the pooled decision values."""
    decision = np.full(len(y), np.nan)
    proba = np.full(len(y), np.nan)
    for train, test in splits:
        model = make().fit(clean.iloc[train], y[train])
        decision[test] = model.decision_function(clean.iloc[test])
        proba[test] = model.predict_proba(clean.iloc[test])[:, 1]
    scored = ~np.isnan(decision)
    target, raw = y[scored], proba[scored]
    calibrated = raw
    if len(np.unique(target)) == 2:
        platt = LogisticRegression(C=1e4).fit(decision[scored].reshape(-1, 1), target)
        calibrated = platt.predict_proba(decision[scored].reshape(-1, 1))[:, 1]
    scores = evaluate(target, calibrated)
    scores.update(log_loss_uncalibrated=evaluate(target, raw)["log_loss"], n_scored=int(scored.sum()))
    scores["n_folds"] = len(splits)
    return scores


def choose(scores: dict, linear_preference: float) -> str:
    """Lowest calibrated CV log loss; the logistic model wins unless beaten by more than ``linear_preference``."""
    best = min(scores, key=lambda kind: scores[kind]["log_loss"])
    close = LINEAR in scores and scores[best]["log_loss"] >= scores[LINEAR]["log_loss"] * (1 - linear_preference)
    return LINEAR if close else best


def calibration_method(y: np.ndarray, requested: str) -> str:
    """Sigmoid (Platt) unless asked otherwise; isotonic only with thousands of outcomes in each class."""
    if requested != "auto":
        return requested
    return "isotonic" if np.bincount(y, minlength=2).min() >= ISOTONIC_MIN_MINORITY else "sigmoid"


def fit_calibrated(make: Callable[[], Pipeline], clean: pd.DataFrame, y: np.ndarray, method: str, random_state: int):
    """(classifier fitted on all rows, its calibrator or None).

    ``CalibratedClassifierCV(ensemble=False)``: the calibrator learns from out-of-fold decision values of stratified
    folds (3, or 2 from 5,000 rows), the classifier is refit on everything, so one classifier explains every
    prediction.
    """
    minority = int(np.bincount(y, minlength=2).min())
    if method == "none" or minority < 2:
        return make().fit(clean, y), None
    wanted = CALIBRATION_FOLDS if len(y) < TWO_FOLD_CALIBRATION_ROWS else 2
    folds = StratifiedKFold(n_splits=min(wanted, minority), shuffle=True, random_state=random_state)
    calibrated = CalibratedClassifierCV(make(), method=method, cv=folds, ensemble=False).fit(clean, y)
    return calibrated.calibrated_classifiers_[0].estimator, calibrated


def probabilities(base: Pipeline, calibrated, clean: pd.DataFrame) -> np.ndarray:
    """Probability of churn per row, within ``PROBABILITY_RANGE``."""
    model = calibrated if calibrated is not None else base
    return np.clip(model.predict_proba(clean)[:, 1], *PROBABILITY_RANGE)


def source_matrix(prep: ColumnTransformer, schema: FeatureSchema) -> np.ndarray:
    """(encoded columns × source columns) 0/1 matrix: which input column each encoded column comes from.

    Encoded names are ``x3`` (number), ``missingindicator_x3`` (its indicator) or ``x3_<level>`` (one-hot).
    """
    internal = schema.internal_names(schema.used)
    mapping = np.zeros((0, len(internal)))
    rows = []
    for name in prep.get_feature_names_out():
        source = name.removeprefix("missingindicator_").split("_", 1)[0]
        rows.append(np.eye(len(internal))[internal.index(source)])
    return np.vstack(rows) if rows else mapping


def calibration_slope(base: Pipeline, calibrated, clean: pd.DataFrame) -> float:
    """d(calibrated log-odds) / d(classifier decision value) on the training rows, to put contributions in
    calibrated log-odds. Exact for sigmoid calibration (a straight line), a least-squares slope for isotonic."""
    if calibrated is None:
        return 1.0
    decision = base.decision_function(clean)
    p = calibrated.predict_proba(clean)[:, 1]
    inside = (p > 1e-9) & (p < 1 - 1e-9)
    if inside.sum() < 2 or np.ptp(decision[inside]) == 0:
        return 1.0
    return float(np.polyfit(decision[inside], np.log(p[inside] / (1 - p[inside])), 1)[0])


def linear_contributions(base: Pipeline, clean: pd.DataFrame, centre: np.ndarray, sources: np.ndarray):
    """coefficient × (encoded value − its training mean), summed over each source column's encoded columns."""
    weighted = (base.named_steps["prep"].transform(clean) - centre) * base.named_steps["model"].coef_[0]
    return weighted @ sources


def occlusion_contributions(base: Pipeline, clean: pd.DataFrame, schema: FeatureSchema, reference: pd.DataFrame):
    """decision(row) − decision(row with this column set to its reference value), one column at a time.

    Works on the encoded matrix; the occluded copies of as many columns as fit in ``OCCLUSION_ROWS`` rows go
    through one prediction call, so a wide model does not pay one call per column.
    """
    prep, model = base.named_steps["prep"], base.named_steps["model"]
    encoded = prep.transform(clean)
    typical = prep.transform(reference)[0]
    order = schema.internal_names(schema.numeric) + schema.internal_names(schema.categorical)
    columns = [order.index(schema.internal(position)) for position in range(len(schema.used))]
    rows = len(clean)
    full = model.decision_function(encoded)
    out = np.zeros((rows, len(columns)))
    per_call = max(1, OCCLUSION_ROWS // max(rows, 1))
    for start in range(0, len(columns), per_call):
        group = columns[start : start + per_call]
        occluded = np.tile(encoded, (len(group), 1))
        for k, column in enumerate(group):
            occluded[k * rows : (k + 1) * rows, column] = typical[column]
        out[:, start : start + len(group)] = (full - model.decision_function(occluded).reshape(len(group), rows)).T
    return out
