"""The Kaplan-Meier estimator against a hand computation."""

import pytest

from journeys.stats import kaplan_meier, survival_quantile


def test_kaplan_meier_matches_a_hand_computation():
    # Six accounts: value reached on days 2, 3, 3, 8; two still onboarding, censored at 4 and 10.
    durations = [2, 3, 3, 4, 8, 10]
    observed = [True, True, True, False, True, False]
    steps = kaplan_meier(durations, observed)
    # t=2: 6 at risk, 1 event → 5/6; t=3: 5 at risk, 2 events → 5/6 × 3/5 = 1/2; the censored 4 leaves;
    # t=8: 2 at risk, 1 event → 1/2 × 1/2 = 1/4.
    assert [(s.time, s.at_risk, s.events) for s in steps] == [(2, 6, 1), (3, 5, 2), (8, 2, 1)]
    assert [s.survival for s in steps] == pytest.approx([5 / 6, 1 / 2, 1 / 4])
    assert survival_quantile(steps, 0.5) == 3  # S(3) = 0.5 ≤ 0.5
    assert survival_quantile(steps, 0.75) == 8
    assert survival_quantile(steps, 0.9) is None  # S never falls to 0.1: p90 not reached


def test_censoring_at_an_event_time_counts_the_censored_as_at_risk():
    steps = kaplan_meier([5, 5], [True, False])
    assert steps[0].at_risk == 2 and steps[0].survival == pytest.approx(0.5)


def test_no_events_and_mismatched_inputs():
    assert kaplan_meier([3, 4], [False, False]) == []
    assert survival_quantile([], 0.5) is None
    with pytest.raises(ValueError, match="same length"):
        kaplan_meier([1], [True, False])


def test_fewer_than_five_accounts_are_too_few_to_compare():
    from journeys.selectors.journey import KaplanMeierSummary
    from journeys.stats import MIN_SAMPLE, too_few

    assert (too_few(MIN_SAMPLE - 1), too_few(MIN_SAMPLE)) == (True, False)
    one = KaplanMeierSummary(median=1084, p90=None, reached=1, censored=0)
    assert (one.n, one.too_few) == (1, True)
    assert KaplanMeierSummary(median=30, p90=60, reached=3, censored=2).too_few is False
