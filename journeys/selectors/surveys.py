"""Reads of surveys: NPS, CSAT and customer effort as docs/concepts/surveys.md, "Surveys", defines them.

- NPS = %promoters (9-10) − %detractors (0-6) over the **latest answer per respondent** in the window
  ``(as_of − window, as_of]`` (default 180 days); N/A without answers; always shown with n and the window.
- CSAT = share of 4-5 answers, customer effort = mean score (lower is better), over every answer in the window
  (they rate single interactions, so each answer counts).

A respondent is the contact, else the e-mail, else the answer itself (``SurveyResponse.respondent``).
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from csm_platform.dates import add_months, day_end, utc_date

from ..models import JourneySettings, SurveyResponse

PROMOTER_FROM, DETRACTOR_UP_TO = 9, 6
CSAT_SATISFIED_FROM = 4


def journey_settings_get() -> JourneySettings:
    """The workspace settings (the defaults when the row is missing, without writing it)."""
    return JourneySettings.objects.filter(pk=1).first() or JourneySettings(pk=1)


@dataclass(frozen=True)
class SurveyScore:
    kind: str
    value: float | None  # NPS −100..100, CSAT share 0..1, CES mean 1..7; None = N/A
    n: int
    window_days: int
    promoters: int = 0
    passives: int = 0
    detractors: int = 0


def nps_from_scores(scores: Iterable[int]) -> tuple[float | None, int, int, int]:
    """(NPS, promoters, passives, detractors) of 0-10 answers; NPS is None without answers. The one NPS formula:
    the survey pages, the account panel and the health measure (``nps_by_account``) all use it."""
    values = list(scores)
    promoters = sum(1 for s in values if s >= PROMOTER_FROM)
    detractors = sum(1 for s in values if s <= DETRACTOR_UP_TO)
    passives = len(values) - promoters - detractors
    if not values:
        return None, 0, 0, 0
    return 100.0 * (promoters - detractors) / len(values), promoters, passives, detractors


def latest_answers(frame: pd.DataFrame) -> pd.DataFrame:
    """Each respondent's latest answer per account, by the time it was given (the id only breaks a tie)."""
    if frame.empty:
        return frame
    return frame.sort_values(["responded_at", "id"]).drop_duplicates(["account_id", "respondent"], keep="last")


def _window(as_of: dt.date, window_days: int) -> tuple[dt.datetime, dt.datetime]:
    return day_end(as_of - dt.timedelta(days=window_days)), day_end(as_of)


def survey_rows(
    *,
    kind: str,
    start: dt.datetime,
    end: dt.datetime,
    account_ids: Iterable[int] | None = None,
    latest_per_respondent: bool = False,
) -> pd.DataFrame:
    """Answers of ``kind`` with ``start ≤ responded_at < end``: columns id, account_id, respondent, score,
    responded_at, comment, contact_id. ``latest_per_respondent`` keeps each respondent's latest answer (per account)."""
    rows = SurveyResponse.objects.filter(kind=kind, responded_at__gte=start, responded_at__lt=end)
    if account_ids is not None:
        rows = rows.filter(account_id__in=list(account_ids))
    columns = ["id", "account_id", "respondent", "score", "responded_at", "comment", "contact_id"]
    frame = pd.DataFrame.from_records(list(rows.order_by().values_list(*columns)), columns=columns)
    return latest_answers(frame) if latest_per_respondent else frame


def survey_score(
    *, kind: str, as_of: dt.date, window_days: int | None = None, account_ids: Iterable[int] | None = None
) -> SurveyScore:
    """NPS, CSAT or customer effort over the window ending on ``as_of`` (the settings' NPS window by default)."""
    window_days = window_days or journey_settings_get().nps_window_days
    start, end = _window(as_of, window_days)
    frame = survey_rows(
        kind=kind, start=start, end=end, account_ids=account_ids, latest_per_respondent=kind == SurveyResponse.Kind.NPS
    )
    return _score(kind, frame["score"].tolist(), window_days)


def _score(kind: str, scores: list[int], window_days: int) -> SurveyScore:
    if kind == SurveyResponse.Kind.NPS:
        value, promoters, passives, detractors = nps_from_scores(scores)
        return SurveyScore(kind, value, len(scores), window_days, promoters, passives, detractors)
    if not scores:
        return SurveyScore(kind, None, 0, window_days)
    if kind == SurveyResponse.Kind.CSAT:
        return SurveyScore(
            kind, sum(1 for s in scores if s >= CSAT_SATISFIED_FROM) / len(scores), len(scores), window_days
        )
    return SurveyScore(kind, sum(scores) / len(scores), len(scores), window_days)


def survey_summary(*, as_of: dt.date, account_ids: Iterable[int] | None = None) -> dict[str, SurveyScore]:
    ids = None if account_ids is None else list(account_ids)
    window_days = journey_settings_get().nps_window_days
    return {
        kind: survey_score(kind=kind, as_of=as_of, window_days=window_days, account_ids=ids)
        for kind in SurveyResponse.Kind.values
    }


def nps_by_account(*, as_of: dt.date, account_ids: Iterable[int], window_days: int | None = None) -> pd.DataFrame:
    """Account NPS on ``as_of``, indexed by account id: x (NPS, NaN = N/A), n, promoters, detractors, window_days.
    One query for all the accounts."""
    ids = list(account_ids)
    window_days = window_days or journey_settings_get().nps_window_days
    start, end = _window(as_of, window_days)
    frame = survey_rows(kind=SurveyResponse.Kind.NPS, start=start, end=end, account_ids=ids, latest_per_respondent=True)
    scores = frame.groupby("account_id")["score"].apply(list).to_dict() if not frame.empty else {}
    rows = []
    for account_id in ids:
        answers = scores.get(account_id, [])
        value, promoters, _passives, detractors = nps_from_scores(answers)
        rows.append((account_id, float("nan") if value is None else value, len(answers), promoters, detractors))
    result = pd.DataFrame.from_records(rows, columns=["account_id", "x", "n", "promoters", "detractors"])
    result = result.set_index("account_id").astype({"x": float, "n": int, "promoters": int, "detractors": int})
    result["window_days"] = window_days
    return result[["x", "n", "promoters", "detractors", "window_days"]]


@dataclass(frozen=True)
class MonthScores:
    month: dt.date
    nps: SurveyScore
    csat: SurveyScore
    ces: SurveyScore


def survey_trend(*, as_of: dt.date, months: int = 12, account_ids: Iterable[int] | None = None) -> list[MonthScores]:
    """Per calendar month up to ``as_of``'s (that month up to ``as_of``): the three scores over the month's answers
    (NPS: the latest answer per respondent within the month). Three queries in all."""
    ids = None if account_ids is None else list(account_ids)
    first = add_months(as_of.replace(day=1), -(months - 1))
    start, end = day_end(first - dt.timedelta(days=1)), day_end(as_of)
    frames = {kind: survey_rows(kind=kind, start=start, end=end, account_ids=ids) for kind in SurveyResponse.Kind}
    result, month = [], first
    while month <= as_of:
        following = add_months(month, 1)
        scores = {}
        for kind, frame in frames.items():
            in_month = frame
            if not frame.empty:
                days = frame["responded_at"].map(utc_date)
                in_month = frame[(days >= month) & (days < following)]
                if kind == SurveyResponse.Kind.NPS:
                    in_month = latest_answers(in_month)
            span = (min(following - dt.timedelta(days=1), as_of) - month).days + 1
            scores[kind] = _score(kind, in_month["score"].tolist() if not in_month.empty else [], span)
        result.append(MonthScores(month, scores["nps"], scores["csat"], scores["ces"]))
        month = following
    return result


def detractor_answers(
    *, as_of: dt.date, account_ids: Iterable[int] | None = None, with_comment: bool = True, limit: int = 50
) -> list[SurveyResponse]:
    """Detractors in the NPS window (each respondent's latest answer), newest first, with account and contact."""
    window_days = journey_settings_get().nps_window_days
    start, end = _window(as_of, window_days)
    frame = survey_rows(
        kind=SurveyResponse.Kind.NPS, start=start, end=end, account_ids=account_ids, latest_per_respondent=True
    )
    if frame.empty:
        return []
    frame = frame[frame["score"] <= DETRACTOR_UP_TO]
    if with_comment:
        frame = frame[frame["comment"].str.strip() != ""]
    ids = frame.sort_values(["responded_at", "id"], ascending=False)["id"].tolist()[:limit]
    answers = SurveyResponse.objects.filter(pk__in=ids).select_related("account", "contact")
    return sorted(answers, key=lambda answer: (answer.responded_at, answer.pk), reverse=True)
