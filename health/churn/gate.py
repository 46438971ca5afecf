"""The churn model quality gate (docs/concepts/churn-risk.md): a learned model is used only when its backtest
shows skill; otherwise risk comes from the documented health fallback, and the card says which test failed.

On the held-out renewals of the backtest (the most recent ones, by time, when the model has a time column):

- ``roc_auc``: the model's ROC AUC is at least ``MIN_ROC_AUC``;
- ``beats_fallback``: it is at least ``MIN_GAIN_OVER_FALLBACK`` above the health fallback's ROC AUC on the same rows;
- ``brier``: its Brier score is below the base rate's (always predicting the training part's churn rate).

A backtest that could not be run, or whose held-out part has one outcome only, fails the gate too.
"""

MIN_ROC_AUC = 0.65
MIN_GAIN_OVER_FALLBACK = 0.02
THRESHOLDS = {"min_roc_auc": MIN_ROC_AUC, "min_gain_over_fallback": MIN_GAIN_OVER_FALLBACK}
FIGURES = (
    "holdout",
    "roc_auc",
    "fallback_roc_auc",
    "brier",
    "brier_base_rate",
    "n_train",
    "n_holdout",
    "n_churned_holdout",
)


def quality_gate(backtest: dict | None) -> dict:
    """``{"passed", "failed": [{"test", "message"}], "thresholds", <the backtest's figures>}``, JSON-ready."""
    backtest = backtest or {}
    figures = {key: backtest.get(key) for key in FIGURES}
    failed = [{"test": test, "message": message} for test, message in _failures(backtest)]
    return {"passed": not failed, "failed": failed, "thresholds": dict(THRESHOLDS), **figures}


def _failures(backtest: dict) -> list[tuple[str, str]]:
    if not backtest or "skipped" in backtest:
        return [("backtest", f"No backtest: {backtest.get('skipped', 'no held-out renewals')}.")]
    auc, fallback_auc = backtest.get("roc_auc"), backtest.get("fallback_roc_auc")
    failures = []
    if auc is None:
        failures.append(("roc_auc", "The held-out renewals have one outcome only: the backtest ROC AUC is undefined."))
    else:
        if auc < MIN_ROC_AUC:
            failures.append(("roc_auc", f"Backtest ROC AUC {auc:.2f} is below {MIN_ROC_AUC:.2f}."))
        if fallback_auc is not None and auc < fallback_auc + MIN_GAIN_OVER_FALLBACK:
            failures.append(
                (
                    "beats_fallback",
                    f"Backtest ROC AUC {auc:.2f} is not {MIN_GAIN_OVER_FALLBACK:.2f} above the health fallback's "
                    f"{fallback_auc:.2f} on the same renewals.",
                )
            )
    brier, base = backtest.get("brier"), backtest.get("brier_base_rate")
    if brier is not None and base is not None and not brier < base:
        failures.append(
            (
                "brier",
                f"Backtest Brier score {brier:.3f} is not below the base rate's {base:.3f} (no better than guessing).",
            )
        )
    return failures
