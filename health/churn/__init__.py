"""Churn risk modelling core: no database, no Django, any tabular data (see docs/concepts/churn-risk.md, "Churn risk").

``ChurnModel().fit(features, churned)`` on past renewal decisions, then ``predict_proba(features)`` (calibrated
probability of churn per row), ``explain(features)`` (signed per-column contributions in log-odds) and
``top_drivers(features)``; ``card`` is the model card stored with the model.

- Columns: ``health.churn.columns`` (types, dropped columns); outcomes: ``health.churn.labels`` (what counts as
  churn); candidates, cross-validation, calibration and contributions: ``health.churn.estimators``.
- Choice: logistic regression vs gradient boosting by cross-validated log loss, folds forward in time when a
  ``time_column`` is given; then ``CalibratedClassifierCV`` (sigmoid; isotonic with thousands of each class).
- Card: backtest on the latest 20% by time (or a stratified 20%): ROC AUC, Brier, log loss, calibration bins,
  and the health fallback's and the base rate's scores on the same rows.
- Quality gate (``health.churn.gate``): the learned model is used only with a backtest ROC AUC of at least 0.65,
  0.02 above the fallback's, and a Brier score below the base rate's.
- Fallback: fewer than 30 outcomes, one class only, or a failed gate: ``ChurnModel.health_fallback`` maps health
  to risk. Every probability is within 1%-99%.
"""

from health.churn.model import DEFAULT_BASE_RATE, FALLBACK_MAPPING, MIN_OUTCOMES, ChurnModel

__all__ = ["DEFAULT_BASE_RATE", "FALLBACK_MAPPING", "MIN_OUTCOMES", "ChurnModel"]
