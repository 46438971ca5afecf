"""What journeys adds to the health engine through its registries (health never imports journeys): the NPS
measure, the churn features "open high-priority tasks" and "NPS", and the nightly hook."""

import datetime as dt

import pandas as pd
from django.utils.translation import gettext_lazy as _

from health.measures import Measure, MeasureContext

from .selectors.surveys import nps_by_account
from .selectors.tasks import open_high_priority_tasks
from .services import journeys_nightly
from .webhooks.services import webhook_events_nightly


def nps_measure_inputs(ctx: MeasureContext) -> pd.DataFrame:
    """Account NPS on ``as_of`` (latest answer per contact in the settings' window; N/A without answers), with
    n, promoters, detractors and the window as the receipt's inputs."""
    return nps_by_account(as_of=ctx.as_of, account_ids=ctx.account_ids)


def nps_feature(as_of: dt.date, account_ids: list[int]) -> pd.Series:
    return nps_by_account(as_of=as_of, account_ids=account_ids)["x"]


def after_recompute(as_of: dt.date) -> dict:
    counts = journeys_nightly(as_of=as_of)
    counts["webhook_events"] = webhook_events_nightly(as_of=as_of)  # band changes, renewals, overdue tasks
    return counts


NPS_MEASURE = Measure(
    key="nps",
    label=_("NPS"),
    description=_("Account NPS: % promoters (9-10) − % detractors (0-6), latest answer per contact in 180 days."),
    bad=-20,
    good=50,
    weight=15,
    compute=nps_measure_inputs,
    unit="points",
)
FEATURES = {"open_high_priority_tasks": open_high_priority_tasks, "nps": nps_feature}
