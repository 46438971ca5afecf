"""Deciding, once at fit time, what each input column is, and turning any later frame into the same shape.

Every column becomes either **numeric** (float, NaN for missing) or **categorical** (str, NaN for missing):

- numbers, nullable ``Int64``/``Float64`` and booleans (0/1) are numeric;
- text where at least 95% of the non-blank values parse as numbers is numeric (the rest become missing: think of
  the blank ``TotalCharges`` of the public telco data set);
- datetimes, and text that parses as ISO dates, become numbers of days: days *before the row's time* when the
  model has a ``time_column`` (a signup date becomes tenure at the decision), else days since 1970-01-01;
  timedeltas become days; infinities and magnitudes beyond 1e150 are missing;
- anything else (object, string, category) is categorical; blank strings are missing.

Columns are dropped, with the reason kept for the model card, when they are entirely missing, constant
(one value and no missing), or identifier-like: text with more than half as many distinct values as rows
(ids, e-mails, free text) or named like an id with more than 20 values (``account_id``, ``customerID``), or
unique integers named like an id (``CustomerId``, ``RowNumber``, ``CLIENTNUM``) or forming a consecutive run.
At predict time missing columns are NaN and extra columns are ignored.
"""

import re

import numpy as np
import pandas as pd

NUMERIC_SHARE = 0.95
ID_TOKENS = frozenset({"id", "ids", "uuid", "guid", "key", "idx", "index", "rownum", "rownumber", "number", "no"})
STRICT_ID_TOKENS = frozenset({"id", "ids", "uuid", "guid", "key"})
ID_SUFFIXES = ("id", "num", "no", "number", "key")
BOOLEAN_TEXT = {"true": 1.0, "false": 0.0, "yes": 1.0, "no": 0.0}
EPOCH = pd.Timestamp("1970-01-01", tz="UTC")
DAY_SECONDS = 86_400.0
MAX_MAGNITUDE = 1e150  # beyond it a value is missing: infinities, and numbers whose squares overflow the scaler


def _text(series: pd.Series) -> pd.Series:
    """Strings with surrounding space removed; blanks and missing values become NaN."""
    values = series.astype(object)
    present = values.notna().to_numpy()
    text = np.full(len(values), np.nan, dtype=object)
    text[present] = values[present].astype(str).str.strip().to_numpy()
    text[text == ""] = np.nan
    return pd.Series(text, index=series.index, dtype=object)


def _parse_dates(series: pd.Series, *, strict: bool = True) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return pd.to_datetime(series, utc=True)
    text = _text(series)
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    if strict or parsed.notna().sum() >= NUMERIC_SHARE * text.notna().sum():
        return parsed
    return pd.to_datetime(text, format="mixed", errors="coerce", utc=True)


def time_values(series: pd.Series) -> pd.Series:
    """A time column as UTC datetimes when it holds dates, else as numbers (NaN/NaT when unknown)."""
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        return pd.Series(series.to_numpy(dtype="float64", na_value=np.nan), index=series.index)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return pd.to_datetime(series, utc=True)
    numbers = pd.to_numeric(_text(series), errors="coerce")
    if numbers.notna().sum() >= NUMERIC_SHARE * series.notna().sum() and numbers.notna().any():
        return numbers.astype("float64")
    return _parse_dates(series, strict=False)


def time_order_key(times: pd.Series) -> np.ndarray:
    """Sortable floats; unknown times sort first (treated as the oldest)."""
    if pd.api.types.is_datetime64_any_dtype(times.dtype):
        key = (times - EPOCH).dt.total_seconds().to_numpy(dtype="float64", na_value=np.nan)
    else:
        key = times.to_numpy(dtype="float64", na_value=np.nan)
    return np.where(np.isnan(key), -np.inf, key)


def _name_tokens(name: str) -> set[str]:
    return {token.lower() for token in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", name)}


def _source(series: pd.Series) -> str:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "timedelta"
    text = _text(series)
    present = text.notna().sum()
    if present and pd.to_numeric(text, errors="coerce").notna().sum() >= NUMERIC_SHARE * present:
        return "numeric_text"
    sample = pd.Series(text.dropna().unique()[:500])
    if len(sample) and _parse_dates(sample).notna().mean() >= NUMERIC_SHARE:
        return "date_text"
    return "categorical"


def convert(series: pd.Series, source: str, times: pd.Series | None) -> pd.Series:
    """One column as str/NaN (categorical) or finite floats/NaN (every other source), by its fit-time source."""
    if source == "categorical":
        return _text(series)
    numbers = _numbers(series, source, times)
    return pd.Series(np.where(np.abs(numbers) > MAX_MAGNITUDE, np.nan, numbers), index=series.index)


def _numbers(series: pd.Series, source: str, times: pd.Series | None) -> np.ndarray:
    if source in ("datetime", "date_text"):
        dates = _parse_dates(series)
        if times is not None and pd.api.types.is_datetime64_any_dtype(times.dtype):
            days = pd.Series(times.array - dates.array, index=series.index).dt.total_seconds() / DAY_SECONDS
        else:
            days = (dates - EPOCH).dt.total_seconds() / DAY_SECONDS
        return days.to_numpy(dtype="float64", na_value=np.nan)
    if pd.api.types.is_timedelta64_dtype(series.dtype):
        return (series.dt.total_seconds() / DAY_SECONDS).to_numpy(dtype="float64", na_value=np.nan)
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        return series.to_numpy(dtype="float64", na_value=np.nan)
    text = _text(series)
    numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    if source == "boolean":
        words = text.str.lower().map(BOOLEAN_TEXT).to_numpy(dtype="float64", na_value=np.nan)
        numbers = np.where(np.isnan(numbers), words, numbers)
    return numbers


def _named_like_an_id(name: str) -> bool:
    """An id token (``CustomerId``, ``RowNumber``) or a word ending like one (``CLIENTNUM``, ``custid``)."""
    tokens = _name_tokens(name)
    return bool(tokens & ID_TOKENS) or any(token.endswith(ID_SUFFIXES) for token in tokens)


def _drop_reason(name: str, source: str, values: pd.Series) -> str | None:
    present = values.dropna()
    if present.empty:
        return "entirely missing"
    distinct = present.nunique()
    if distinct <= 1 and len(present) == len(values):
        return "constant"
    if source == "categorical" and distinct > 10 and distinct > 0.5 * len(present):
        return f"identifier-like ({distinct} distinct values in {len(present)} rows)"
    if source == "categorical" and distinct > 20 and _name_tokens(name) & STRICT_ID_TOKENS:
        return f"identifier-like (named like an id, {distinct} distinct values)"
    if source in ("numeric", "numeric_text") and distinct == len(present) >= 20:
        integral = bool(np.all(np.mod(present.to_numpy(), 1) == 0))
        consecutive = integral and present.max() - present.min() + 1 == len(present)
        if integral and (consecutive or _named_like_an_id(name)):
            return "identifier-like (a unique integer per row)"
    return None


class FeatureSchema:
    """What each fit-time column is; ``transform`` gives the clean frame the estimators see."""

    def fit(self, frame: pd.DataFrame, times: pd.Series | None, *, skip: tuple = ()) -> "FeatureSchema":
        self.inputs: list = [column for column in frame.columns if column not in skip]
        self.sources: dict = {}
        self.dropped: dict = {}
        self.levels: dict = {}
        for column in self.inputs:
            source = _source(frame[column])
            values = convert(frame[column], source, times)
            reason = _drop_reason(str(column), source, values)
            if reason:
                self.dropped[column] = reason
            else:
                self.sources[column] = source
            if source == "categorical" and not reason:
                self.levels[column] = pd.Index(values.dropna().unique())
        self.used: list = list(self.sources)
        self.categorical: list = [column for column in self.used if self.sources[column] == "categorical"]
        self.numeric: list = [column for column in self.used if self.sources[column] != "categorical"]
        return self

    def transform(self, frame: pd.DataFrame, times: pd.Series | None) -> pd.DataFrame:
        """All-float frame with columns named by position (``x0``, ``x1``...), so any labels work with scikit-learn.

        A category becomes its fit-time level number (the encoders downstream see numbers, which is many times
        faster than strings); a level unseen at fit time is -1, a level no encoder has seen, so it is "unknown".
        """
        columns = {}
        for position, column in enumerate(self.used):
            series = frame[column] if column in frame.columns else pd.Series(np.nan, index=frame.index, dtype=object)
            values = convert(series, self.sources[column], times)
            if column in self.levels:
                codes = self.levels[column].get_indexer(values).astype("float64")
                codes[values.isna().to_numpy()] = np.nan
                columns[self.internal(position)] = codes
            else:
                columns[self.internal(position)] = values.to_numpy(dtype="float64")
        return pd.DataFrame(columns, index=frame.index)

    @staticmethod
    def internal(position: int) -> str:
        return f"x{position}"

    def internal_names(self, columns: list) -> list[str]:
        return [self.internal(self.used.index(column)) for column in columns]
