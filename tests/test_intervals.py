"""The shared Wilson interval and error-bar helper."""
from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from helpers.core.intervals import error_bars, wilson_interval


def test_wilson_matches_statsmodels_and_a_hand_value():
    """12 of 40 at 95%: 0.1807 to 0.4543, worked by hand from the score-interval formula."""
    k, n = np.array([0, 3, 12, 40]), np.array([5, 10, 40, 40])
    low, high = wilson_interval(k, n, level=0.95)
    ref_low, ref_high = proportion_confint(k, n, alpha=0.05, method="wilson")
    np.testing.assert_allclose(low, ref_low, atol=1e-12)
    np.testing.assert_allclose(high, ref_high, atol=1e-12)
    assert math.isclose(low[2], 0.1807, abs_tol=5e-5) and math.isclose(high[2], 0.4543, abs_tol=5e-5)


def test_wilson_is_nan_without_trials_and_narrows_with_confidence():
    low, high = wilson_interval([0], [0])
    assert np.isnan(low[0]) and np.isnan(high[0])
    l90, h90 = wilson_interval(12, 40, level=0.90)
    l99, h99 = wilson_interval(12, 40, level=0.99)
    assert l99 < l90 and h99 > h90



def test_two_numbers_in_give_two_numbers_out():
    """Scalar counts (a pass-mark band, one experiment arm) get plain numbers, equal to the vectorised result."""
    low, high = wilson_interval(7, 12, level=0.9)
    assert np.ndim(low) == 0 and isinstance(low, float) and isinstance(high, float)
    arr_low, arr_high = wilson_interval([7], [12], level=0.9)
    assert (low, high) == (arr_low[0], arr_high[0])
    assert all(np.isnan(v) and isinstance(v, float) for v in wilson_interval(0, 0))


def test_error_bars_are_never_negative():
    bars = error_bars([0.0, 50.0, np.nan], [1e-15, 40.0, np.nan], [10.0, 45.0, 3.0])
    assert bars.shape == (2, 3) and (bars >= 0).all()
    assert bars[:, 1].tolist() == [10.0, 0.0]  # a bound on the wrong side draws no bar


def test_rates_differ_across_groups_only_beyond_chance():
    """One chi-square test across groups (sellers' win rates, lead types, consultants). Reference by hand:
    10/100 vs 12/100 expects 11 and 89 per group, chi-square = 2/11 + 2/89 = 0.204 on 1 df, p = 0.651."""
    from helpers.core.intervals import rates_differ_p_value

    assert rates_differ_p_value([10, 12], [100, 100]) == pytest.approx(0.6513, abs=1e-3)
    assert rates_differ_p_value([150, 10, 0], [1000, 1000, 0]) < 1e-6  # a group without trials is left out
    assert rates_differ_p_value([0, 0], [50, 60]) is None and rates_differ_p_value([5], [50]) is None
    # 24 equal sellers: the extremes look far apart, the one test does not call it a difference
    rng = np.random.default_rng(3)
    won = rng.binomial(120, 0.2, size=24)
    assert won.max() / 120 - won.min() / 120 > 0.1 and rates_differ_p_value(won, [120] * 24) > 0.05
