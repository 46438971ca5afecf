"""Reads of the health app: scorecard definitions, health computed on any date, snapshots, what moved."""

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from accounts.models import Account

from .measures import REGISTRY, measure_inputs
from .models import AccountSnapshot, ScorecardVersion
from .scoring import (
    Bands,
    MeasureSpec,
    attribution,
    health_bands,
    health_scores,
    measure_scores,
    normalized_weights,
    whole_scores,
)


@dataclass(frozen=True)
class ScorecardDefinition:
    version_id: int | None
    name: str
    version: int
    bands: Bands
    measures: tuple[MeasureSpec, ...]

    @classmethod
    def from_json(cls, definition: dict, *, version_id: int | None = None, name: str = "", version: int = 0):
        return cls(
            version_id=version_id,
            name=name,
            version=version,
            bands=Bands(float(definition["red_below"]), float(definition["green_from"])),
            measures=tuple(
                MeasureSpec(m["key"], float(m["weight"]), float(m["bad"]), float(m["good"]))
                for m in definition["measures"]
            ),
        )


def scorecard_definitions() -> dict[str, ScorecardDefinition]:
    """The published definition of each scorecard, keyed by segment ("" = the default scorecard)."""
    latest = {}
    versions = ScorecardVersion.objects.select_related("scorecard").order_by("scorecard_id", "-version")
    for version in versions:
        if version.scorecard.segment not in latest and version.version == version.scorecard.version:
            latest[version.scorecard.segment] = ScorecardDefinition.from_json(
                version.definition, version_id=version.pk, name=version.scorecard.name, version=version.version
            )
    return latest


def _clean(value):
    """JSON-safe numbers: NaN becomes None, numpy scalars become Python ones."""
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float | int) or hasattr(value, "item"):
        number = float(value)
        return None if math.isnan(number) else number
    return value


@dataclass(frozen=True)
class HealthResult:
    account_id: int
    health: int | None  # whole number, banded: what is stored and shown
    band: str
    scorecard_version_id: int | None
    receipt: list[dict]  # each measure's exact contribution; they sum to ``exact``
    exact: float | None = None

    @property
    def rounding(self) -> float | None:
        """The receipt's rounding line: whole score − Σ exact contributions."""
        return None if self.health is None or self.exact is None else self.health - self.exact


def health_for_accounts(
    *, as_of: dt.date, account_ids: Iterable[int], definitions: dict[str, ScorecardDefinition] | None = None
) -> dict[int, HealthResult]:
    """``health(a, as_of)`` with its receipt for every account, each scored by its segment's scorecard (else the
    default). Set-based: each measure's input is read once for all the accounts."""
    return health_for_dates({as_of: account_ids}, definitions=definitions).get(as_of, {})


def health_for_dates(
    accounts_by_date: Mapping[dt.date, Iterable[int]], *, definitions: dict[str, ScorecardDefinition] | None = None
) -> dict[dt.date, dict[int, HealthResult]]:
    """``health_for_accounts`` on several dates at once (the churn model's training rows: a few accounts on each
    of hundreds of past dates): each date's measure inputs are read set-based, then every (date, account) row is
    scored in one pass per scorecard. Returns ``{as_of: {account_id: HealthResult}}``."""
    definitions = scorecard_definitions() if definitions is None else definitions
    wanted = {as_of: sorted(set(ids)) for as_of, ids in accounts_by_date.items()}
    segments = dict(
        Account.objects.filter(pk__in={a for ids in wanted.values() for a in ids}).values_list("pk", "segment")
    )
    if not segments or not definitions:
        return {}
    keys = sorted({spec.key for definition in definitions.values() for spec in definition.measures})
    frames, explained = [], {key: {} for key in keys}
    for as_of, ids in sorted(wanted.items()):
        ids = [a for a in ids if a in segments]
        if not ids:
            continue
        inputs = measure_inputs(keys=keys, as_of=as_of, account_ids=ids)
        index = pd.MultiIndex.from_product([[as_of], ids], names=["as_of", "account_id"])
        frames.append(pd.DataFrame({key: inputs[key]["x"].reindex(ids).to_numpy() for key in keys}, index=index))
        for key in keys:
            for account_id, row in inputs[key].drop(columns="x").to_dict("index").items():
                explained[key][as_of, account_id] = row
    if not frames:
        return {}
    x = pd.concat(frames)

    by_segment: dict[str, list[tuple[dt.date, int]]] = {}
    for row in x.index:
        by_segment.setdefault(segments[row[1]], []).append(row)

    results: dict[dt.date, dict[int, HealthResult]] = {}
    for segment, members in by_segment.items():
        definition = definitions.get(segment) or definitions.get("")
        if definition is None:
            continue
        specs = list(definition.measures)
        rows_x = x.loc[members]
        scores = measure_scores(rows_x, specs)
        exact, contributions = health_scores(scores, specs)
        weights = normalized_weights(scores, specs)
        health = whole_scores(exact)
        bands = health_bands(health, definition.bands)
        rows = zip(
            members,
            scores.to_dict("records"),
            contributions.to_dict("records"),
            weights.to_dict("records"),
            rows_x.to_dict("records"),
            health.tolist(),
            exact.tolist(),
            bands.tolist(),
            strict=True,
        )
        for (as_of, account_id), s, c, w, raw, score, exact_score, band in rows:
            receipt = [
                {
                    "key": spec.key,
                    "x": _clean(raw[spec.key]),
                    "s": _clean(s[spec.key]),
                    "weight": spec.weight,
                    "normalized_weight": _clean(w[spec.key]),
                    "contribution": _clean(c[spec.key]),
                    "bad": spec.bad,
                    "good": spec.good,
                    "inputs": {name: _clean(value) for name, value in explained[spec.key][as_of, account_id].items()},
                }
                for spec in specs
            ]
            results.setdefault(as_of, {})[account_id] = HealthResult(
                account_id, score, band, definition.version_id, receipt, exact=_clean(exact_score)
            )
    return results


def measure_label(key: str) -> str:
    measure = REGISTRY.get(key)
    return str(measure.label) if measure else key


def what_moved(*, account_id: int, start: dt.date, end: dt.date) -> dict | None:
    """Per-measure shares of the health change between two snapshots, from their exact contributions, and the
    rounding line (the whole scores' change less the shares), so that shares + rounding = change exactly.
    None when either snapshot is missing or has no score."""
    snapshots = {s.as_of: s for s in AccountSnapshot.objects.filter(account_id=account_id, as_of__in=[start, end])}
    before, after = snapshots.get(start), snapshots.get(end)
    if before is None or after is None or before.health is None or after.health is None:
        return None

    def unpack(snapshot):
        return {m["key"]: m["s"] for m in snapshot.measures}, {m["key"]: m["weight"] for m in snapshot.measures}

    (s0, w0), (s1, w1) = unpack(before), unpack(after)
    weights0 = {key: w0.get(key, 0.0) for key in set(s0) | set(s1)}
    weights1 = {key: w1.get(key, 0.0) for key in set(s0) | set(s1)}
    shares = attribution(
        scores_t0={key: s0.get(key) for key in weights0},
        weights_t0=weights0,
        scores_t1={key: s1.get(key) for key in weights1},
        weights_t1=weights1,
    )
    change = after.health - before.health
    return {
        "start": before.health,
        "end": after.health,
        "change": change,
        "shares": shares,
        "rounding": change - sum(shares.values()),
    }


@dataclass(frozen=True)
class PreviewRow:
    account_id: int
    name: str
    current: float | None
    current_band: str
    proposed: float | None
    proposed_band: str

    @property
    def change(self) -> float | None:
        if self.current is None or self.proposed is None:
            return None
        return self.proposed - self.current


def scorecard_preview_accounts(*, segment: str) -> list[int]:
    """The accounts a scorecard scores: its segment's, or for the default every segment without its own
    (prospects are not scored)."""
    accounts = Account.objects.exclude(status=Account.Status.PROSPECT)
    if segment:
        accounts = accounts.filter(segment=segment)
    else:
        accounts = accounts.exclude(segment__in=[s for s in scorecard_definitions() if s])
    return list(accounts.order_by("pk").values_list("pk", flat=True))


def scorecard_preview(
    *, segment: str, proposed: ScorecardDefinition, as_of: dt.date, account_ids: Iterable[int]
) -> list[PreviewRow]:
    """What-if: the accounts scored by the published and by the proposed definition on ``as_of``, largest change
    first. Nothing is written."""
    published = scorecard_definitions()
    names = dict(Account.objects.filter(pk__in=list(account_ids)).values_list("pk", "name"))
    current = health_for_accounts(as_of=as_of, account_ids=names, definitions=published)
    preview = health_for_accounts(as_of=as_of, account_ids=names, definitions={segment: proposed, "": proposed})
    rows = [
        PreviewRow(
            account_id=account_id,
            name=names[account_id],
            current=current[account_id].health if account_id in current else None,
            current_band=current[account_id].band if account_id in current else "na",
            proposed=preview[account_id].health,
            proposed_band=preview[account_id].band,
        )
        for account_id in sorted(preview)
    ]
    return sorted(rows, key=lambda row: -abs(row.change or 0))
