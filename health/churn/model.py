"""``ChurnModel``: fit on past renewal decisions, then score, explain and describe itself in a model card."""

import io
import math
import time
from datetime import UTC, datetime
from functools import partial, wraps

import joblib
import numpy as np
import pandas as pd
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from health.churn import estimators
from health.churn.columns import FeatureSchema, time_order_key, time_values
from health.churn.gate import quality_gate
from health.churn.labels import coerce_outcomes

MIN_OUTCOMES = 30
DEFAULT_BASE_RATE = 0.15
PRIOR_OUTCOMES = 10
HOLDOUT_SHARE = 0.2
HIGH_RISK = 0.5
MEDIUM_RISK = 0.2
LINEAR_PREFERENCE = 0.01
MAX_SELECTION_ROWS = 20_000
MIN_TREE_MINORITY = 20
HEALTH_NAMES = ("health_score", "health score", "healthscore")
FALLBACK_MAPPING = "p = clip(0.05 + 0.9 × (1 − health/100)², 0.01, 0.99); unknown health: the base rate"
CARD_VERSION = 2


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, estimators.PROBABILITY_FLOOR, 1 - estimators.PROBABILITY_FLOOR)
    return np.log(p / (1 - p))


def _plain(value):
    """JSON-ready: numpy scalars to Python, NaN/inf to None, tuples to lists, keys to strings."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(item) for item in value]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer | int):
        return int(value)
    if isinstance(value, np.floating | float):
        return float(value) if math.isfinite(value) else None
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.isoformat()
    return value if value is None or isinstance(value, str) else str(value)


def _calibration_table(y: np.ndarray, p: np.ndarray) -> list[dict]:
    """Up to 10 equal-count bins of predicted probability: mean predicted vs observed churn rate."""
    bins = max(1, min(10, len(y) // 20))
    return [
        {
            "mean_predicted": float(p[rows].mean()),
            "observed_rate": float(y[rows].mean()),
            "count": len(rows),
            "min_predicted": float(p[rows].min()),
            "max_predicted": float(p[rows].max()),
        }
        for rows in np.array_split(np.argsort(p, kind="stable"), bins)
        if len(rows)
    ]


def _thread_limited(method):
    """Run with at most ``n_threads`` OpenMP/BLAS threads: spinning thread pools on a busy machine (a Celery
    worker beside others) are many times slower than one thread."""

    @wraps(method)
    def limited(self, *args, **kwargs):
        with threadpool_limits(limits=self.n_threads):
            return method(self, *args, **kwargs)

    return limited


class ChurnModel:
    """Probability that an account churns at its next renewal, with signed per-feature drivers.

    ``fit(features, churned)`` learns from past renewal decisions (one row each); ``churned`` is 0/1, booleans or
    two labels (see ``health.churn.labels``), or the name of a column of ``features``. ``time_column`` names
    the column with each decision's date: it orders the cross-validation and the backtest, and is never a
    feature. With fewer than ``min_outcomes`` outcomes or one class only, or when the learned model fails the
    quality gate on its backtest (``health.churn.gate``), the model is the documented health fallback
    (``fallback`` is True and ``fallback_reason`` says why; the card's ``gate`` has the figures). After fit,
    ``card`` is the JSON-ready model card and ``kind`` is ``"logistic"``, ``"gradient_boosting"`` or
    ``"fallback"``. Probabilities are always within 1%-99%.
    """

    def __init__(
        self,
        random_state: int = 0,
        time_column: str | None = None,
        n_splits: int = 4,
        *,
        health_column: str = "health",
        candidates: tuple[str, ...] = estimators.KINDS,
        calibration: str = "auto",
        min_outcomes: int = MIN_OUTCOMES,
        n_threads: int | None = 1,
    ):
        self.random_state = random_state
        self.time_column = time_column
        self.n_splits = n_splits
        self.health_column = health_column
        self.candidates = tuple(candidates)
        self.calibration = calibration
        self.min_outcomes = min_outcomes
        self.n_threads = n_threads
        self.fallback = False
        self.fallback_reason: str | None = None
        self.kind: str | None = None
        self.card: dict = {}

    def __repr__(self) -> str:
        return f"ChurnModel(kind={self.kind!r}, random_state={self.random_state}, time_column={self.time_column!r})"

    # ----------------------------------------------------------------------------------------------- fitting

    @_thread_limited
    def fit(self, features: pd.DataFrame, churned, *, trained_at: datetime | None = None) -> "ChurnModel":
        started = time.perf_counter()
        if trained_at is not None and trained_at.tzinfo is None:
            raise ValueError("trained_at must be timezone-aware")
        trained_at = (trained_at or datetime.now(UTC)).astimezone(UTC)
        frame, labels = self._inputs(features, churned)
        outcomes = coerce_outcomes(labels)
        frame = frame.iloc[outcomes.positions]
        y = outcomes.y
        times = self._times(frame, fitting=True)
        self.columns_ = list(frame.columns)
        self.schema_ = FeatureSchema().fit(frame, times, skip=(self.time_column,))
        self.relative_dates_ = times is not None and pd.api.types.is_datetime64_any_dtype(times.dtype)
        n, churners = len(y), int(y.sum())
        shrunk = (churners + DEFAULT_BASE_RATE * PRIOR_OUTCOMES) / (n + PRIOR_OUTCOMES)
        self.base_rate_ = float(np.clip(shrunk, *estimators.PROBABILITY_RANGE))
        self.health_column_ = self._find_health(frame.columns)
        self.card = {
            "card_version": CARD_VERSION,
            "trained_at": trained_at.isoformat(),
            "n_outcomes": n,
            "n_churned": churners,
            "churn_rate": churners / n if n else None,
            "n_unlabelled_dropped": outcomes.n_unlabelled,
            "churn_label": outcomes.positive,
            "time_column": self.time_column,
            "features": self.schema_.used,
            "feature_sources": self.schema_.sources,
            "dropped_columns": self.schema_.dropped,
            "explanation_units": "log-odds of churn (positive raises risk)",
        }
        self.fallback_reason = self._fallback_reason(n, churners)
        self.fallback = self.fallback_reason is not None
        if self.fallback:
            self._fit_fallback(frame, y)
        else:
            self._fit_model(frame, y, times)
        self.card["fit_seconds"] = round(time.perf_counter() - started, 3)
        self.card = _plain(self.card)
        return self

    def _inputs(self, features, churned) -> tuple[pd.DataFrame, pd.Series]:
        frame = features if isinstance(features, pd.DataFrame) else pd.DataFrame(features)
        if frame.columns.has_duplicates:
            raise ValueError("features has duplicate column names")
        if isinstance(churned, str):
            if churned not in frame.columns:
                raise ValueError(f"churned {churned!r} is not a column of features")
            frame, churned = frame.drop(columns=[churned]), frame[churned]
        labels = churned if isinstance(churned, pd.Series) else pd.Series(np.asarray(churned).ravel())
        if len(labels) != len(frame):
            raise ValueError(f"features has {len(frame)} rows but churned has {len(labels)}")
        if isinstance(churned, pd.Series) and not labels.index.equals(frame.index):
            unique = not (labels.index.has_duplicates or frame.index.has_duplicates)
            if unique and set(labels.index) == set(frame.index):
                labels = labels.reindex(frame.index)
        labels = pd.Series(labels.array, index=frame.index, name=labels.name)
        if labels.name is not None and labels.name in frame.columns:
            frame = frame.drop(columns=[labels.name])  # the outcome itself (maybe recoded) left among the features
        if self.time_column is not None and self.time_column not in frame.columns:
            raise ValueError(f"time_column {self.time_column!r} is not a column of features")
        return frame, labels

    def _times(self, frame: pd.DataFrame, *, fitting: bool = False) -> pd.Series | None:
        if self.time_column is not None and self.time_column in frame.columns:
            return time_values(frame[self.time_column])
        if not fitting and self.relative_dates_:
            return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
        return None

    def _find_health(self, columns) -> str | None:
        wanted = {self.health_column.lower(), *HEALTH_NAMES}
        if self.health_column in columns:
            return self.health_column
        return next((column for column in columns if str(column).strip().lower() in wanted), None)

    def _fallback_reason(self, n: int, churners: int) -> str | None:
        if n < self.min_outcomes:
            return f"Only {n} renewal outcomes; at least {self.min_outcomes} are needed to learn from."
        if churners in (0, n):
            which = "churned" if churners else "renewed"
            return f"All {n} renewal outcomes {which}: with one class only there is nothing to learn."
        if not self.schema_.used:
            return "No usable feature columns: " + "; ".join(f"{c}: {r}" for c, r in self.schema_.dropped.items())
        return None

    def _fit_fallback(self, frame: pd.DataFrame, y: np.ndarray) -> None:
        self.kind = "fallback"
        self.card.update(
            kind=self.kind,
            fallback=True,
            fallback_reason=self.fallback_reason,
            gate={**quality_gate(None), "failed": [{"test": "outcomes", "message": self.fallback_reason}]},
            fallback_mapping=FALLBACK_MAPPING + "; no health column: the base rate for every row",
            health_column=self.health_column_,
            base_rate=self.base_rate_,
            selection=None,
            calibration=None,
            backtest=None,
        )
        if len(y):  # nothing is trained, so the mapping can be checked against every known outcome
            p = self._fallback_proba(frame)
            self.card["backtest"] = {
                "holdout": "all outcomes (nothing is trained in fallback)",
                "n_holdout": len(y),
                "n_churned_holdout": int(y.sum()),
                **estimators.evaluate(y, p),
                "calibration": _calibration_table(y, p),
            }

    def _fit_model(self, frame: pd.DataFrame, y: np.ndarray, times: pd.Series | None) -> None:
        schema, n = self.schema_, len(y)
        clean = schema.transform(frame, times)
        order = np.argsort(time_order_key(times), kind="stable") if times is not None else None
        kinds = self.candidates
        if len(kinds) > 1 and np.bincount(y, minlength=2).min() < MIN_TREE_MINORITY:
            kinds = tuple(kind for kind in kinds if kind != estimators.TREE)  # too few to learn interactions from
        makers = {kind: partial(estimators.build, kind, schema, n, self.random_state) for kind in kinds}
        sample = np.arange(n)
        if n > MAX_SELECTION_ROWS:  # choosing between two candidates does not need every row
            rng = np.random.default_rng(self.random_state)
            sample = np.sort(rng.choice(n, MAX_SELECTION_ROWS, replace=False))
        minority = int(np.bincount(y[sample], minlength=2).min())
        selection: dict = {
            "candidates": {},
            "metric": "log loss of out-of-fold predictions after Platt scaling",
            "n_rows": len(sample),
        }
        if len(makers) > 1 and minority >= 2:
            sample_order = np.argsort(time_order_key(times.iloc[sample]), kind="stable") if order is not None else None
            splits, selection["cv"] = estimators.cv_splits(y[sample], sample_order, self.n_splits, self.random_state)
            for kind, make in makers.items():
                selection["candidates"][kind] = estimators.cross_validate(make, clean.iloc[sample], y[sample], splits)
            self.kind = estimators.choose(selection["candidates"], LINEAR_PREFERENCE)
            selection["rule"] = f"lowest log loss; logistic unless beaten by more than {LINEAR_PREFERENCE:.0%}"
        else:
            self.kind = estimators.LINEAR if estimators.LINEAR in makers else self.candidates[0]
            selection["cv"] = None
            selection["rule"] = (
                f"one candidate (gradient boosting needs {MIN_TREE_MINORITY} outcomes of each class)"
                if len(makers) == 1
                else "too few outcomes of a class for cross-validation"
            )
        method = estimators.calibration_method(y, self.calibration)
        backtest = self._backtest(makers[self.kind], frame, clean, y, times, order, method)
        gate = quality_gate(backtest)
        if not gate["passed"]:
            self._fail_gate(gate, selection, backtest)
            return
        self.base_, self.calibrated_ = estimators.fit_calibrated(makers[self.kind], clean, y, method, self.random_state)
        self.slope_ = estimators.calibration_slope(self.base_, self.calibrated_, clean)
        if self.kind == estimators.LINEAR:
            prep = self.base_.named_steps["prep"]
            self.centre_ = prep.transform(clean).mean(axis=0)
            self.sources_ = estimators.source_matrix(prep, schema)
        typical_by_mode = {column for column, source in schema.sources.items() if source in ("categorical", "boolean")}
        reference = {
            name: clean[name].mode().iloc[0] if column in typical_by_mode else clean[name].median()
            for name, column in zip(schema.internal_names(schema.used), schema.used, strict=True)
        }
        self.reference_ = pd.DataFrame([reference]).astype(clean.dtypes.to_dict())
        self.card.update(
            kind=self.kind,
            fallback=False,
            fallback_reason=None,
            health_column=self.health_column_,
            base_rate=self.base_rate_,
            gate=gate,
            selection=selection,
            calibration=method if self.calibrated_ is not None else "none",
            backtest=backtest,
        )

    def _fail_gate(self, gate: dict, selection: dict, backtest: dict) -> None:
        """The learned candidate showed no skill on its backtest: risk comes from the health fallback, and the card
        keeps the candidate's selection and backtest beside the gate's failed tests."""
        self.fallback = True
        self.fallback_reason = "The learned model failed the quality gate: " + " ".join(
            failure["message"] for failure in gate["failed"]
        )
        self.card.update(
            kind="fallback",
            fallback=True,
            fallback_reason=self.fallback_reason,
            fallback_mapping=FALLBACK_MAPPING + "; no health column: the base rate for every row",
            rejected_kind=self.kind,
            health_column=self.health_column_,
            base_rate=self.base_rate_,
            gate=gate,
            selection=selection,
            calibration=None,
            backtest=backtest,
        )
        self.kind = "fallback"

    def _backtest(self, make, frame: pd.DataFrame, clean: pd.DataFrame, y: np.ndarray, times, order, method: str):
        """Fit on the older 80% (or a stratified 80%), score the rest, before the final fit on everything. The
        health fallback and the base rate are scored on the same held-out rows (the quality gate compares them)."""
        n = len(y)
        held = max(1, round(HOLDOUT_SHARE * n))
        if order is not None:
            train, test, how = order[:-held], order[-held:], "latest 20% by time"
        elif np.bincount(y, minlength=2).min() < 2:
            return {"holdout": "stratified random 20%", "skipped": "fewer than two outcomes of a class"}
        else:
            train, test = train_test_split(
                np.arange(n), test_size=HOLDOUT_SHARE, stratify=y, random_state=self.random_state
            )
            how = "stratified random 20%"
        if np.bincount(y[train], minlength=2).min() < 2:
            return {"holdout": how, "skipped": "the training part has fewer than two outcomes of a class"}
        base, calibrated = estimators.fit_calibrated(make, clean.iloc[train], y[train], method, self.random_state)
        p = estimators.probabilities(base, calibrated, clean.iloc[test])
        fallback = estimators.evaluate(y[test], self._fallback_proba(frame.iloc[test]))
        result = {
            "holdout": how,
            "n_train": len(train),
            "n_holdout": len(test),
            "n_churned_holdout": int(y[test].sum()),
            **estimators.evaluate(y[test], p),
            "brier_base_rate": estimators.evaluate(y[test], np.full(len(test), y[train].mean()))["brier"],
            "fallback_roc_auc": fallback["roc_auc"],
            "fallback_brier": fallback["brier"],
            "mean_predicted": float(p.mean()),
            "observed_rate": float(y[test].mean()),
            "calibration": _calibration_table(y[test], p),
        }
        if times is not None:
            result["holdout_from"] = times.iloc[test].min()
            result["holdout_to"] = times.iloc[test].max()
        return result

    # ----------------------------------------------------------------------------------------------- scoring

    def _frame(self, features) -> pd.DataFrame:
        if not hasattr(self, "columns_"):
            raise NotFittedError("ChurnModel is not fitted yet: call fit(features, churned) first")
        if isinstance(features, pd.Series):  # one row indexed by column name, or else one column
            row = features.index.isin(list(self.columns_)).any()
            features = features.to_frame().T if row else features.to_frame()
        frame = features if isinstance(features, pd.DataFrame) else pd.DataFrame(features)
        if frame.columns.has_duplicates:
            raise ValueError("features has duplicate column names")
        return frame

    def _clean(self, frame: pd.DataFrame) -> pd.DataFrame:
        return self.schema_.transform(frame, self._times(frame))

    @_thread_limited
    def predict_proba(self, features: pd.DataFrame) -> pd.Series:
        """Calibrated probability of churn per row, indexed like ``features``."""
        frame = self._frame(features)
        if self.fallback:
            p = self._fallback_proba(frame)
        elif len(frame) == 0:
            p = np.empty(0)
        else:
            p = estimators.probabilities(self.base_, self.calibrated_, self._clean(frame))
        return pd.Series(p, index=frame.index, name="churn_probability", dtype="float64")

    def _fallback_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Health through the mapping when the frame has a health column (even if training rows had none)."""
        health = self._find_health(frame.columns)
        if health is None:
            return np.full(len(frame), self.base_rate_)
        return self.health_fallback(frame[health], base_rate=self.base_rate_).to_numpy()

    @staticmethod
    def health_fallback(health, base_rate: float = DEFAULT_BASE_RATE) -> pd.Series:
        """The documented churn probability from a health score (0-100) when no model can be learned.

        ``p = clip(0.05 + 0.9 × (1 − health/100)², 0.01, 0.99)``: 0.05 at health 100, 0.275 at 50, 0.95 at 0,
        decreasing in health; the risk bands fall at health ≈ 29 (high below) and ≈ 59 (low above), close to
        the red/yellow/green health bands. Unknown health gets ``base_rate``.
        """
        series = health if isinstance(health, pd.Series) else pd.Series(np.atleast_1d(health))
        scores = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan).clip(0, 100)
        p = np.clip(0.05 + 0.9 * (1 - scores / 100) ** 2, *estimators.PROBABILITY_RANGE)
        return pd.Series(np.where(np.isnan(p), base_rate, p), index=series.index, name="churn_probability")

    @staticmethod
    def risk_band(probability: float | None) -> str | None:
        """high ≥ 0.5 > medium ≥ 0.2 > low; None for an unknown probability."""
        if probability is None or not math.isfinite(probability):
            return None
        return "high" if probability >= HIGH_RISK else "medium" if probability >= MEDIUM_RISK else "low"

    # ------------------------------------------------------------------------------------------- explaining

    @_thread_limited
    def explain(self, features: pd.DataFrame) -> pd.DataFrame:
        """Signed contributions in log-odds of churn, one column per fit-time input column, indexed like features.

        Positive raises the risk. Logistic model: coefficient × (encoded value − training mean), summed back over
        each column's one-hot/indicator columns, so a row's contributions add up to its log-odds minus the
        average account's. Gradient boosting: the drop in log-odds when the column is replaced by its typical
        value (median / most frequent), an occlusion approximation of SHAP values. Both are scaled by the
        calibration slope so the units are calibrated log-odds. Fallback: all on the health column
        (logit(p) − logit(base rate)), added if the training rows had none. The time column and dropped
        columns are always 0.
        """
        frame = self._frame(features)
        columns = list(self.columns_)
        health = self._find_health(frame.columns) if self.fallback else None
        if health is not None and health not in columns:
            columns.append(health)
        out = np.zeros((len(frame), len(columns)))
        if len(frame) and health is not None:
            out[:, columns.index(health)] = _logit(self._fallback_proba(frame)) - _logit(np.array(self.base_rate_))
        elif len(frame) and not self.fallback:
            clean = self._clean(frame)
            if self.kind == estimators.LINEAR:
                used = estimators.linear_contributions(self.base_, clean, self.centre_, self.sources_)
            else:
                used = estimators.occlusion_contributions(self.base_, clean, self.schema_, self.reference_)
            out[:, [columns.index(column) for column in self.schema_.used]] = used * self.slope_
        return pd.DataFrame(out, index=frame.index, columns=pd.Index(columns))

    def top_drivers(self, features: pd.DataFrame, n: int = 3) -> list[list[tuple[str, float]]]:
        """Per row, up to ``n`` (feature, signed contribution) pairs with the largest absolute contribution."""
        contributions = self.explain(features)
        values = contributions.to_numpy()
        names = [str(column) for column in contributions.columns]
        ranked = np.argsort(-np.abs(values), axis=1, kind="stable")[:, :n]
        return [
            [(names[j], round(float(row[j]), 4)) for j in order if row[j] != 0]
            for row, order in zip(values, ranked, strict=True)
        ]

    # ----------------------------------------------------------------------------------------- serialising

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        joblib.dump(self, buffer, compress=3)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "ChurnModel":
        """Load a model written by ``to_bytes``. Unpickling runs code: only load bytes this platform stored."""
        model = joblib.load(io.BytesIO(bytes(data)))
        if not isinstance(model, cls):
            raise TypeError(f"expected a ChurnModel, got {type(model).__name__}")
        return model
