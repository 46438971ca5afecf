"""Churn risk modelling core: no database, no Django, any tabular data (see DOMAIN.md, "Churn risk").

``ChurnModel().fit(features, churned)`` on past renewal decisions, then ``predict_proba(features)`` (calibrated
probability of churn per row), ``explain(features)`` (signed per-column contributions in log-odds) and
``top_drivers(features)``; ``card`` is the model card stored with the model.

- Columns: ``health.churn.columns`` (types, dropped columns); outcomes: ``health.churn.labels`` (what counts as
  churn); candidates, cross-validation, calibration and contributions: ``health.churn.estimators``.
- Choice: logistic regression vs gradient boosting by cross-validated log loss, folds forward in time when a
  ``time_column`` is given; then ``CalibratedClassifierCV`` (sigmoid; isotonic with thousands of each class).
- Card: backtest on the latest 20% by time (or a stratified 20%): ROC AUC, Brier, log loss, calibration bins.
- Fallback: fewer than 30 outcomes or one class only: ``ChurnModel.health_fallback`` maps health to risk.
"""

from health.churn.model import DEFAULT_BASE_RATE, FALLBACK_MAPPING, MIN_OUTCOMES, ChurnModel

__all__ = ["DEFAULT_BASE_RATE", "FALLBACK_MAPPING", "MIN_OUTCOMES", "ChurnModel"]
