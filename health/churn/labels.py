"""Turning a churn outcome column into 0/1, where 1 means the account churned.

The rule, in order:

1. Missing outcomes (NaN, None, empty strings) are not outcomes: those rows are left out of training.
2. Booleans: ``True`` is churn.
3. Numbers (or strings that all parse as numbers): ``{0, 1}`` is taken as is; any other pair of values maps
   the larger one to churn (``{-1, 1}``, ``{1, 2}``...).
4. Text: each value gets a polarity from churn words (yes, true, churned, exited, attrited, cancelled, lost,
   left...) and retention words (no, false, renewed, retained, stayed, active, existing...). Whole-value matches
   win; otherwise the first known word decides, and a negation (``not renewed``, ``did not churn``) flips it.
   The value that reads as churn is positive; failing that, the one that is not a retention word; failing that
   (two unknown words), the minority class is churn (ties: the later value in sorted order).
5. More than two distinct values is an error: the caller must say what churn means.
"""

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

CHURN_WORDS = frozenset(
    {
        "1", "yes", "y", "true", "t", "churn", "churned", "churner", "churning", "exited", "exit", "left",
        "leave", "lost", "cancel", "cancelled", "canceled", "cancellation", "attrited", "attrition", "lapsed",
        "terminated", "closed", "gone", "departed", "defected", "nonrenewal", "unsubscribed", "positive",
    }
)  # fmt: skip
RETENTION_WORDS = frozenset(
    {
        "0", "no", "n", "false", "f", "renew", "renewed", "renewal", "retained", "retain", "stayed", "stay",
        "active", "existing", "current", "kept", "won", "loyal", "continuing", "continued", "subscribed",
        "negative", "none",
    }
)  # fmt: skip
NEGATIONS = frozenset({"not", "no", "non", "never", "didn", "didnt", "dont", "don"})
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Outcomes:
    """Labelled rows (positions into the input) and their 0/1 outcome; ``positive`` names the churn value."""

    positions: np.ndarray
    y: np.ndarray
    positive: str
    n_unlabelled: int


def _polarity(value: str) -> int:
    """+1 reads as churn, -1 as retention, 0 unknown."""
    text = value.strip().lower()
    if text in CHURN_WORDS:
        return 1
    if text in RETENTION_WORDS:
        return -1
    words = _WORD.findall(text)
    negated = any(word in NEGATIONS for word in words) and len(words) > 1
    for word in words:
        if word in NEGATIONS:
            continue
        polarity = 1 if word in CHURN_WORDS else -1 if word in RETENTION_WORDS else 0
        if polarity:
            return -polarity if negated else polarity
    return 0


def _missing(values: pd.Series) -> np.ndarray:
    blank = values.map(lambda v: isinstance(v, str) and not v.strip())
    return (values.isna() | blank.astype(bool)).to_numpy()


def coerce_outcomes(churned: pd.Series) -> Outcomes:
    """Map an outcome column to 0/1 (1 = churned) by the rule in the module docstring."""
    missing = _missing(churned)
    positions = np.flatnonzero(~missing)
    values = churned.iloc[positions]
    if pd.api.types.is_bool_dtype(values.dtype):
        return Outcomes(positions, values.astype(bool).to_numpy().astype(int), "True", int(missing.sum()))
    numeric = pd.to_numeric(values, errors="coerce") if not isinstance(values.dtype, pd.CategoricalDtype) else None
    if numeric is not None and numeric.notna().all() and len(values):
        distinct = np.unique(numeric.to_numpy(dtype=float))
        _two_at_most(distinct)
        positive = 1.0 if set(distinct) <= {0.0, 1.0} else float(distinct.max())
        y = (numeric.to_numpy(dtype=float) == positive).astype(int)
        return Outcomes(positions, y, f"{positive:g}", int(missing.sum()))
    text = values.astype(str).str.strip()
    distinct = np.array(sorted(text.unique()))
    _two_at_most(distinct)
    positive = _positive_text(distinct, text)
    return Outcomes(positions, (text == positive).to_numpy().astype(int), positive, int(missing.sum()))


def _two_at_most(distinct: np.ndarray) -> None:
    if len(distinct) > 2:
        shown = ", ".join(map(str, distinct[:6]))
        raise ValueError(f"churned must have two values (churned/renewed); got {len(distinct)}: {shown}")


def _positive_text(distinct: np.ndarray, text: pd.Series) -> str:
    if len(distinct) == 0:
        return "1"
    polarities = {value: _polarity(value) for value in distinct}
    if len(distinct) == 1:
        (value,) = distinct
        return value if polarities[value] > 0 else f"not {value}"
    a, b = distinct
    for wanted in (1, -1):
        hits = [value for value in distinct if polarities[value] == wanted]
        if len(hits) == 1:
            return hits[0] if wanted == 1 else (b if hits[0] == a else a)
    counts = text.value_counts()
    return a if counts[a] < counts[b] else b
