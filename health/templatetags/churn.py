"""``{% load churn %}``: which churn model scored a night, for the pages that show churn risk."""

import datetime as dt

from django import template
from django.utils.translation import gettext as _

from health.models import ChurnModelVersion
from health.services import latest_churn_model

register = template.Library()


@register.simple_tag
def churn_model_of_night(as_of: dt.date | None = None) -> ChurnModelVersion | None:
    """The model that scored the night ``as_of`` (the latest trained on or before it); without a date, the latest
    model. None when no model was trained: the risk then comes from the health fallback too."""
    if not as_of:
        return ChurnModelVersion.objects.defer("model").order_by("-as_of", "-trained_at").first()
    return latest_churn_model(as_of=as_of)


@register.simple_tag
def gate_failure(card: dict, failure: dict) -> str:
    """Why the churn model's quality gate (or its training) refused the learned model, in the reader's language,
    from the figures the card keeps (the card itself, written by a Django-free model, holds English)."""
    gate = card.get("gate") or {}
    thresholds = gate.get("thresholds") or {}
    test = failure.get("test")
    figures = {
        "auc": _number(gate.get("roc_auc"), 2),
        "fallback": _number(gate.get("fallback_roc_auc"), 2),
        "minimum": _number(thresholds.get("min_roc_auc"), 2),
        "gain": _number(thresholds.get("min_gain_over_fallback"), 2),
        "brier": _number(gate.get("brier"), 3),
        "base": _number(gate.get("brier_base_rate"), 3),
        "n": card.get("n_outcomes"),
        "churned": card.get("n_churned"),
    }
    if test == "roc_auc" and gate.get("roc_auc") is None:
        return _("The held-out renewals have one outcome only: the backtest ROC AUC is undefined.")
    messages = {
        "roc_auc": _("Backtest ROC AUC %(auc)s is below %(minimum)s."),
        "beats_fallback": _(
            "Backtest ROC AUC %(auc)s is not %(gain)s above the health fallback's %(fallback)s on the same renewals."
        ),
        "brier": _("Backtest Brier score %(brier)s is not below the base rate's %(base)s (no better than guessing)."),
        "backtest": _("No backtest: too few held-out renewals of each outcome."),
    }
    if test in messages:
        return messages[test] % figures
    if test == "outcomes":
        return fallback_reason(card)
    return failure.get("message", "")


@register.simple_tag
def fallback_reason(card: dict) -> str:
    """Why a model was not learned at all (too few renewal outcomes, or one outcome only), in the reader's
    language."""
    n, churned = card.get("n_outcomes"), card.get("n_churned")
    if n is None:
        return card.get("fallback_reason") or ""
    if churned in (0, n):
        return _("All %(n)s renewal outcomes are the same: with one outcome only there is nothing to learn.") % {"n": n}
    return _("Only %(n)s renewal outcomes: too few to learn from.") % {"n": n}


def _number(value, places: int) -> str:
    return "–" if value is None else f"{value:.{places}f}"
