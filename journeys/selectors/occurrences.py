"""Why a playbook fires, in a plain sentence: "Renews on 3 Mar 2027, in 86 days; health 31 (red)".

An occurrence's detail holds each condition's inputs under its trigger (``selectors.playbooks.conditions_met``);
each trigger has one phrase, and the phrases are joined with semicolons.
"""

import datetime as dt
from collections.abc import Callable

from django.utils import dateformat
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from ..models import Trigger


def _day(value: str | None) -> str:
    return dateformat.format(dt.date.fromisoformat(value), "j M Y") if value else ""


def _percent(ratio: float) -> str:
    return f"{round(ratio * 100)}%"


def _health_red(detail: dict, as_of: dt.date) -> str:
    since = detail.get("red_since")
    if since and since != as_of.isoformat():
        return _("health %(health)s (red since %(day)s)") % {"health": detail["health"], "day": _day(since)}
    return _("health %(health)s (red)") % {"health": detail["health"]}


def _health_drop(detail: dict, as_of: dt.date) -> str:
    return _("health fell from %(before)s to %(now)s in 30 days") % {
        "before": detail["health_30_days_before"],
        "now": detail["health"],
    }


def _usage_trend(detail: dict, as_of: dt.date) -> str:
    ratio = detail["usage_trend"]
    if ratio < 1:
        return _("usage down %(share)s on the previous 30 days") % {"share": _percent(1 - ratio)}
    return _("usage at %(share)s of the previous 30 days") % {"share": _percent(ratio)}


def _license_utilization(detail: dict, as_of: dt.date) -> str:
    return _("%(share)s of the licensed seats in use") % {"share": _percent(detail["license_utilization"])}


def _renewal(detail: dict, as_of: dt.date) -> str:
    return _("renews on %(day)s, in %(days)s days") % {"day": _day(detail["renews_on"]), "days": detail["days"]}


def _detractor(detail: dict, as_of: dt.date) -> str:
    return _("NPS answer of %(score)s on %(day)s") % {"score": detail["score"], "day": _day(detail["responded_on"])}


def _no_sponsor(detail: dict, as_of: dt.date) -> str:
    if detail.get("last_engaged"):
        return _("no executive sponsor engaged since %(day)s") % {"day": _day(detail["last_engaged"])}
    return _("no executive sponsor ever engaged")


def _stage_entered(detail: dict, as_of: dt.date) -> str:
    return _("entered %(stage)s on %(day)s") % {"stage": detail["stage"], "day": _day(detail["entered_on"])}


def _no_touch(detail: dict, as_of: dt.date) -> str:
    if detail.get("last_touch"):
        return _("no CSM touch for %(days)s days (last on %(day)s)") % {
            "days": detail["days"],
            "day": _day(detail["last_touch"]),
        }
    return _("never touched by a CSM in %(days)s days as a customer") % {"days": detail["days"]}


def _stage_longer(detail: dict, as_of: dt.date) -> str:
    return _("in %(stage)s for %(days)s days, since %(day)s") % {
        "stage": detail["stage"],
        "days": detail["days"],
        "day": _day(detail["entered_on"]),
    }


PHRASES: dict[str, Callable[[dict, dt.date], str]] = {
    Trigger.HEALTH_RED: _health_red,
    Trigger.HEALTH_DROP: _health_drop,
    Trigger.USAGE_TREND_BELOW: _usage_trend,
    Trigger.LICENSE_UTILIZATION_BELOW: _license_utilization,
    Trigger.RENEWAL_WITHIN: _renewal,
    Trigger.DETRACTOR: _detractor,
    Trigger.NO_EXECUTIVE_SPONSOR: _no_sponsor,
    Trigger.STAGE_ENTERED: _stage_entered,
    Trigger.NO_TOUCH: _no_touch,
    Trigger.STAGE_LONGER_THAN: _stage_longer,
}


def occurrence_sentence(*, detail: dict, as_of: dt.date) -> str:
    """The occurrence's conditions as one sentence: the renewal first (it is what a CSM plans around), then the
    others by trigger."""
    order = sorted(detail, key=lambda trigger: (trigger != Trigger.RENEWAL_WITHIN, trigger))
    return capfirst("; ".join(PHRASES[trigger](detail[trigger], as_of) for trigger in order if trigger in PHRASES))
