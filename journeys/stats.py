"""Small statistics without heavy dependencies: the Kaplan-Meier estimator and its quantiles (time to value), and
the small-sample rule (docs/concepts/small-samples.md, "Small samples")."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

# Small samples (docs/concepts/small-samples.md): a median or rate over fewer accounts than this is shown with its
# n and marked "too few to compare", never as a bare number.
MIN_SAMPLE = 5


def too_few(n: int) -> bool:
    """Whether a median or rate over ``n`` accounts is too few to compare."""
    return n < MIN_SAMPLE


@dataclass(frozen=True)
class SurvivalStep:
    time: float
    at_risk: int
    events: int
    survival: float  # S(t) just after ``time``


def kaplan_meier(durations: Sequence[float], observed: Sequence[bool]) -> list[SurvivalStep]:
    """``S(t) = Π_{t_j ≤ t} (1 − d_j / n_j)`` over the distinct event times ``t_j``, where ``d_j`` subjects reach
    the event at ``t_j`` and ``n_j`` are still at risk (duration ≥ t_j). A censored subject (``observed`` False)
    counts as at risk up to and including its duration, the usual convention when ties mix events and censoring."""
    if len(durations) != len(observed):
        raise ValueError("durations and observed must have the same length")
    events = Counter(t for t, seen in zip(durations, observed, strict=True) if seen)
    remaining = sorted(durations)
    steps, survival, position = [], 1.0, 0
    for time in sorted(events):
        while position < len(remaining) and remaining[position] < time:
            position += 1
        at_risk = len(remaining) - position
        survival *= 1 - events[time] / at_risk
        steps.append(SurvivalStep(time=time, at_risk=at_risk, events=events[time], survival=survival))
    return steps


def survival_quantile(steps: Sequence[SurvivalStep], share_reached: float) -> float | None:
    """The first time at which at least ``share_reached`` of the subjects have had the event, i.e. the smallest
    ``t`` with ``S(t) ≤ 1 − share_reached`` (median: 0.5, p90: 0.9). None when the curve never gets there."""
    for step in steps:
        if step.survival <= 1 - share_reached + 1e-12:
            return step.time
    return None
