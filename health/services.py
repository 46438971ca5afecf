"""Writes of the health app: scorecard versions, nightly snapshots and churn models."""

import datetime as dt
import hashlib
import json
import pickle
from collections.abc import Iterable
from functools import lru_cache

import pandas as pd
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.selectors import AcvBook, account_acv_book, million_dollar_customers

from .churn import ChurnModel
from .features import churn_features, training_rows
from .models import (
    AccountCurrent,
    AccountSnapshot,
    ChurnModelVersion,
    RevenueSnapshot,
    Scorecard,
    ScorecardPreview,
    ScorecardVersion,
)
from .revenue import period_acv, retention_from_period, waterfall_from_period, year_before
from .selectors import (
    ScorecardDefinition,
    health_for_accounts,
    scorecard_definitions,
    scorecard_preview,
    scorecard_preview_accounts,
)

TOP_DRIVERS = 5
# Accounts scored per step of a what-if preview (its progress moves by this many).
PREVIEW_CHUNK = 250


def risk_band(probability: float | None) -> str:
    """docs/concepts/churn-risk.md's risk bands, as the churn model defines them; "" for an unknown probability."""
    return ChurnModel.risk_band(probability) or ""


@transaction.atomic
def scorecard_publish(*, scorecard_id: int) -> ScorecardVersion:
    """Freeze the scorecard's current measures and bands as its next version (snapshots point at versions)."""
    scorecard = Scorecard.objects.select_for_update().get(pk=scorecard_id)
    measures = list(scorecard.measures.order_by("measure"))
    if not measures:
        raise ValueError(f"Scorecard {scorecard.name!r} has no measures; add at least one before publishing.")
    scorecard.version += 1
    scorecard.save(update_fields=["version", "updated_at"])
    definition = {
        "red_below": float(scorecard.red_below),
        "green_from": float(scorecard.green_from),
        "measures": [
            {"key": m.measure, "weight": float(m.weight), "bad": float(m.bad), "good": float(m.good)} for m in measures
        ],
    }
    return ScorecardVersion.objects.create(scorecard=scorecard, version=scorecard.version, definition=definition)


@lru_cache(maxsize=4)
def _load_model(version_id: int) -> ChurnModel:
    return pickle.loads(ChurnModelVersion.objects.get(pk=version_id).model)  # noqa: S301 (our own stored model)


def latest_churn_model(*, as_of: dt.date) -> ChurnModelVersion | None:
    """The model that scores the night ``as_of``: the latest trained on or before it (its pickle left unread)."""
    return ChurnModelVersion.objects.filter(as_of__lte=as_of).defer("model").order_by("-as_of", "-trained_at").first()


def churn_model_train(*, as_of: dt.date) -> ChurnModelVersion:
    """Fit on every renewal decision known on ``as_of`` (features as of 90 days before each) and store the model
    with its card. Too few outcomes: the fitted model is the documented fallback from health, flagged as such."""
    features, churned, decided_on = training_rows(as_of=as_of)
    model = ChurnModel(random_state=0, time_column="decided_on" if not features.empty else None)
    if not features.empty:
        features = features.assign(decided_on=decided_on.to_numpy())
    model.fit(features, churned)
    card = {**model.card, "as_of": as_of.isoformat()}
    return ChurnModelVersion.objects.create(
        trained_at=timezone.now(),
        as_of=as_of,
        kind=card.get("kind", "fallback" if model.fallback else "model"),
        is_fallback=bool(model.fallback),
        card=card,
        model=pickle.dumps(model),
    )


def _churn_scores(*, as_of: dt.date, features: pd.DataFrame, model_version: ChurnModelVersion | None):
    """(probability, drivers) per account; without a trained model, the documented health fallback. Drivers: the
    ``TOP_DRIVERS`` largest signed contributions by absolute value, zeros left out."""
    if model_version is None:
        probabilities = ChurnModel.health_fallback(features["health"])
        return probabilities, {a: [["health", None]] for a in features.index}
    model = _load_model(model_version.pk)
    scoring = features.assign(decided_on=pd.Timestamp(as_of))
    probabilities = pd.Series(model.predict_proba(scoring), index=features.index)
    # The time column always contributes 0, so it is never among the drivers.
    top = model.top_drivers(scoring, n=TOP_DRIVERS)
    drivers = {a: [[name, value] for name, value in pairs] for a, pairs in zip(features.index, top, strict=True)}
    return probabilities, drivers


def account_figures(*, as_of: dt.date, account_ids: Iterable[int]) -> list[dict]:
    """ACV, health (with its receipt) and churn risk (with its drivers) of the accounts on ``as_of``, one dict of
    ``AccountFigures`` fields per account: what the night stores as snapshots and the day as current figures."""
    ids = sorted(set(account_ids))
    if not ids:
        return []
    definitions = scorecard_definitions()
    health = health_for_accounts(as_of=as_of, account_ids=ids, definitions=definitions)
    acv = account_acv_book(as_of=as_of, account_ids=ids)
    # docs/concepts/health-score.md: the trend reads the snapshot of 30 days before, where the night then was computed.
    month_ago = dict(
        AccountSnapshot.objects.filter(as_of=as_of - dt.timedelta(days=30), account_id__in=ids).values_list(
            "account_id", "health"
        )
    )
    features = churn_features(
        as_of=as_of, account_ids=ids, definitions=definitions, health_now=health, health_before=month_ago, acv=acv
    )
    model_version = latest_churn_model(as_of=as_of)
    probabilities, drivers = _churn_scores(as_of=as_of, features=features, model_version=model_version)
    rows = []
    for account_id in ids:
        result = health.get(account_id)
        probability = probabilities.get(account_id)
        probability = None if probability is None or pd.isna(probability) else float(probability)
        rows.append(
            {
                "account_id": account_id,
                "as_of": as_of,
                "acv": acv.get(account_id),
                "health": result.health if result else None,
                "band": result.band if result else AccountSnapshot.Band.NA,
                "scorecard_version_id": result.scorecard_version_id if result else None,
                "measures": result.receipt if result else [],
                "churn_probability": probability,
                "risk_band": risk_band(probability),
                "churn_drivers": drivers.get(account_id, []),
                "churn_model": model_version,
                "problems": data_quality_problems(book=acv, account_id=account_id),
            }
        )
    return rows


FIGURE_FIELDS = [
    "acv",
    "health",
    "band",
    "scorecard_version",
    "measures",
    "churn_probability",
    "risk_band",
    "churn_drivers",
    "churn_model",
    "problems",
    "computed_at",
]


def account_snapshots_write(*, as_of: dt.date, account_ids: Iterable[int]) -> int:
    """Upsert one snapshot per (account, as_of) with the accounts' figures: re-running a night overwrites, never
    duplicates."""
    rows = [AccountSnapshot(**figures) for figures in account_figures(as_of=as_of, account_ids=account_ids)]
    AccountSnapshot.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["account", "as_of"], update_fields=FIGURE_FIELDS, batch_size=1000
    )
    return len(rows)


def account_current_write(*, as_of: dt.date, account_ids: Iterable[int]) -> int:
    """Upsert the accounts' current figures, computed on ``as_of`` (today) as the night would."""
    rows = [AccountCurrent(**figures) for figures in account_figures(as_of=as_of, account_ids=account_ids)]
    AccountCurrent.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["account"], update_fields=["as_of", *FIGURE_FIELDS], batch_size=1000
    )
    return len(rows)


def data_quality_problems(*, book: AcvBook, account_id: int) -> list[dict]:
    """What keeps a figure of the account N/A on the book's date, and how to fix it (shown on the status page,
    the admin and the account page), in the active language: the workspace's in the nightly run."""
    if account_id not in book.missing:
        return []
    currencies = book.missing[account_id]
    words = {"currencies": ", ".join(currencies), "day": f"{book.rates_on:%Y-%m-%d}"}
    return [
        {
            "kind": "missing_exchange_rate",
            "currencies": list(currencies),
            "message": gettext("ACV is N/A: no %(currencies)s exchange rate on or before %(day)s.") % words,
            "fix": gettext(
                "Add a %(currencies)s exchange rate dated on or before %(day)s (admin, Exchange rates), then "
                "recompute the night."
            )
            % words,
        }
    ]


def revenue_snapshot_write(*, as_of: dt.date) -> RevenueSnapshot:
    """ARR, customer counts and trailing-twelve-month NRR, GRR, logo churn and waterfall (constant currency) on
    ``as_of`` (upsert). Accounts whose ACV is N/A are left out of every figure and listed in ``excluded``."""
    book = account_acv_book(as_of=as_of)
    period = period_acv(start=year_before(as_of), end=as_of, end_book=book)
    retention = retention_from_period(period)
    snapshot, _ = RevenueSnapshot.objects.update_or_create(
        as_of=as_of,
        defaults={
            "arr": book.total,
            "customers": sum(1 for value in book.acv.values() if value > 0),
            "million_customers": million_dollar_customers(book=book),
            "nrr": retention.nrr,
            "grr": retention.grr,
            "logo_churn": retention.logo_churn,
            "waterfall": waterfall_from_period(period).as_dict(),
            "excluded": book.excluded,
        },
    )
    return snapshot


def scorecard_preview_request(
    *, scorecard_id: int | None, segment: str, definition: dict, as_of: dt.date, user_id: int | None
) -> ScorecardPreview:
    """Ask for a what-if of ``definition`` on ``as_of``. The same definition of the same scorecard version on the
    same day is answered by the preview already asked (unless it failed); otherwise a new pending one, for the
    caller to queue (``scorecard_preview_compute``)."""
    version = Scorecard.objects.filter(pk=scorecard_id).values_list("version", flat=True).first() or 0
    fingerprint = hashlib.sha256(json.dumps(definition, sort_keys=True).encode()).hexdigest()
    same = ScorecardPreview.objects.filter(
        scorecard_id=scorecard_id, segment=segment, fingerprint=fingerprint, based_on_version=version, as_of=as_of
    ).exclude(status=ScorecardPreview.Status.FAILED)
    return same.first() or ScorecardPreview.objects.create(
        scorecard_id=scorecard_id,
        segment=segment,
        definition=definition,
        fingerprint=fingerprint,
        based_on_version=version,
        as_of=as_of,
        requested_by_id=user_id,
    )


def scorecard_preview_compute(*, preview_id: int) -> ScorecardPreview:
    """Score the preview's accounts by the published and the proposed definition, a chunk at a time (its progress
    is ``done`` of ``total``), and keep the rows, largest change first. Claimed with a conditional UPDATE, so a
    preview is computed once; a failure is recorded on it and re-raised."""
    claimed = ScorecardPreview.objects.filter(pk=preview_id, status=ScorecardPreview.Status.PENDING).update(
        status=ScorecardPreview.Status.RUNNING
    )
    preview = ScorecardPreview.objects.get(pk=preview_id)
    if not claimed:
        return preview
    try:
        proposed = ScorecardDefinition.from_json(preview.definition)
        ids = scorecard_preview_accounts(segment=preview.segment)
        ScorecardPreview.objects.filter(pk=preview_id).update(total=len(ids))
        rows = []
        for start in range(0, len(ids), PREVIEW_CHUNK):
            chunk = ids[start : start + PREVIEW_CHUNK]
            rows += scorecard_preview(
                segment=preview.segment, proposed=proposed, as_of=preview.as_of, account_ids=chunk
            )
            ScorecardPreview.objects.filter(pk=preview_id).update(done=start + len(chunk))
    except Exception as error:
        ScorecardPreview.objects.filter(pk=preview_id).update(
            status=ScorecardPreview.Status.FAILED, error=f"{type(error).__name__}: {error}", finished_at=timezone.now()
        )
        raise
    rows.sort(key=lambda row: -abs(row.change or 0))
    ScorecardPreview.objects.filter(pk=preview_id).update(
        status=ScorecardPreview.Status.DONE,
        rows=[
            {
                "account_id": row.account_id,
                "name": row.name,
                "current": row.current,
                "current_band": row.current_band,
                "proposed": row.proposed,
                "proposed_band": row.proposed_band,
                "change": row.change,
            }
            for row in rows
        ],
        finished_at=timezone.now(),
    )
    preview.refresh_from_db()
    return preview
