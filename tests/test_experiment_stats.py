"""Statistics of one experiment, against outside references (statsmodels, scipy, published numbers, brute force)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_effectsize, proportions_ztest

from helpers.analyses.experiments import stats as st
from helpers.analyses.experiments.model import derive_status
from helpers.analyses.experiments.stats import clustered_units_needed as _clustered_units_needed


# ----------------------------------------------------------------------------- effects
def test_newcombe_interval_matches_the_published_example():
    """Newcombe (1998), Statistics in Medicine 17:873, example (a): 56/70 vs 48/80, method 10 gives
    0.0524 to 0.3339 for the difference 0.2 (numbers from the paper's table, not from code)."""
    e = st.two_proportions(56, 70, 48, 80)
    assert e.effect == pytest.approx(0.2)
    assert (round(e.ci_low, 4), round(e.ci_high, 4)) == (0.0524, 0.3339)


@pytest.mark.parametrize("x_t,n_t,x_c,n_c", [(60, 400, 45, 410), (0, 35, 3, 40), (30, 30, 12, 31), (5, 1000, 9, 1200)])
def test_two_proportions_match_statsmodels(x_t, n_t, x_c, n_c):
    e = st.two_proportions(x_t, n_t, x_c, n_c, alpha=0.05)
    low, high = confint_proportions_2indep(x_t, n_t, x_c, n_c, method="newcomb", compare="diff", alpha=0.05)
    assert (e.ci_low, e.ci_high) == pytest.approx((low, high), abs=1e-12)
    _, p = proportions_ztest([x_t, x_c], [n_t, n_c])
    assert e.p_value == pytest.approx(p, rel=1e-9)
    assert e.ci_low < e.ci_high  # never a zero-width interval, even with no successes in an arm


def test_two_proportions_with_no_variation_is_not_significant():
    e = st.two_proportions(0, 50, 0, 50)
    assert e.p_value == 1.0 and e.effect == 0 and e.ci_low < 0 < e.ci_high


def test_welch_matches_scipy():
    rng = np.random.default_rng(3)
    a, b = rng.lognormal(6, 0.8, 140), rng.lognormal(6.1, 0.5, 90)
    e = st.welch(a.mean(), a.var(ddof=1), len(a), b.mean(), b.var(ddof=1), len(b), alpha=0.1)
    ref = stats.ttest_ind(a, b, equal_var=False)
    ci = ref.confidence_interval(confidence_level=0.9)
    assert e.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert (e.ci_low, e.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-9)


def test_rank_shift_is_the_median_pairwise_difference_with_its_order_statistic_interval():
    rng = np.random.default_rng(5)
    t, c = rng.lognormal(5, 1, 41) + 20, rng.lognormal(5, 1, 36)
    e = st.rank_shift(t, c, alpha=0.05)
    diffs = np.sort(np.subtract.outer(t, c).ravel())  # brute force over all 1,476 pairs
    assert e.effect == pytest.approx(np.median(diffs), rel=1e-9)
    k = math.floor(len(diffs) / 2 - stats.norm.isf(0.025) * math.sqrt(41 * 36 * 78 / 12))
    assert (e.ci_low, e.ci_high) == pytest.approx((diffs[k - 1], diffs[len(diffs) - k]), rel=1e-9)
    assert e.p_value == pytest.approx(stats.mannwhitneyu(t, c, method="asymptotic").pvalue)


def test_cluster_robust_matches_statsmodels_and_is_wider_than_the_naive_test():
    rng = np.random.default_rng(11)
    reps = np.repeat(np.arange(16), 60)
    treated = reps % 2 == 0
    rep_level = rng.normal(0, 0.12, 16)[reps]
    y = (rng.random(len(reps)) < 0.25 + 0.06 * treated + rep_level).astype(float)
    ols = sm.OLS(y, sm.add_constant(treated.astype(float))).fit(cov_type="cluster", cov_kwds={"groups": reps},
                                                                use_t=True)
    keys = reps * 2 + treated
    n = np.bincount(keys, minlength=32)
    s = np.bincount(keys, weights=y, minlength=32)
    rows = n > 0
    e = st.cluster_robust_difference(n[rows], s[rows], s[rows], (np.arange(32) % 2 == 1)[rows],
                                     (np.arange(32) // 2)[rows])
    assert e.effect == pytest.approx(ols.params[1])
    assert e.se == pytest.approx(ols.bse[1], rel=1e-9)
    assert (e.ci_low, e.ci_high) == pytest.approx(tuple(ols.conf_int()[1]), rel=1e-9)
    naive = st.two_proportions(y[treated].sum(), treated.sum(), y[~treated].sum(), (~treated).sum())
    assert e.ci_high - e.ci_low > naive.ci_high - naive.ci_low
    assert st.design_effect(e.se, naive.se) > 1


# ----------------------------------------------------------------------------- power and sample size
@pytest.mark.parametrize("p0,lift,n_t,n_c", [(0.2, 0.05, 400, 600), (0.35, 0.03, 3600, 3600), (0.05, 0.02, 90, 80)])
def test_rate_power_and_sample_size_match_statsmodels(p0, lift, n_t, n_c):
    h = proportion_effectsize(p0 + lift, p0)
    assert st.cohens_h(p0 + lift, p0) == pytest.approx(h)
    assert st.power_rates(p0, lift, n_t, n_c) == pytest.approx(
        NormalIndPower().power(h, n_t, 0.05, ratio=n_c / n_t), rel=1e-9)
    for ratio in (1.0, 2.0):
        assert st.n_per_arm_rates(p0, lift, power=0.8, ratio=ratio) == pytest.approx(
            NormalIndPower().solve_power(h, nobs1=None, alpha=0.05, power=0.8, ratio=ratio), rel=1e-6)
    mde = st.mde_rates(p0, n_t, n_c, power=0.8)
    assert NormalIndPower().power(proportion_effectsize(p0 + mde, p0), n_t, 0.05, ratio=n_c / n_t) == pytest.approx(0.8)


def test_rate_sample_size_pinned_by_hand():
    """20% -> 25%, two-sided 5% test, 80% power, equal arms. By hand: h = 2 asin(sqrt .25) - 2 asin(sqrt .2)
    = 0.119902; n per arm = 2 ((1.959964 + 0.841621) / h)^2 = 2 x 545.95 = 1,091.9 (the far tail adds
    nothing visible)."""
    assert st.n_per_arm_rates(0.2, 0.05) == pytest.approx(1091.9, abs=0.1)


@pytest.mark.parametrize("lift,sd,n_t,n_c", [(80, 500, 300, 250), (200, 900, 1300, 1290), (5, 4, 12, 15)])
def test_mean_power_and_sample_size_match_statsmodels(lift, sd, n_t, n_c):
    d = lift / sd
    assert st.power_means(lift, sd, n_t, n_c) == pytest.approx(TTestIndPower().power(d, n_t, 0.05, ratio=n_c / n_t),
                                                               rel=1e-9)
    assert st.n_per_arm_means(lift, sd) == pytest.approx(
        TTestIndPower().solve_power(d, nobs1=None, alpha=0.05, power=0.8), rel=1e-6)
    mde = st.mde_means(sd, n_t, n_c)
    assert TTestIndPower().power(mde / sd, n_t, 0.05, ratio=n_c / n_t) == pytest.approx(0.8)


def test_impossible_or_empty_plans_say_so():
    assert st.n_per_arm_means(0.0, 10) == math.inf
    assert st.n_per_arm_rates(0.3, 0.0) == math.inf
    assert math.isnan(st.power_means(10, 0.0, 50, 50))
    assert st.n_per_arm_means(1e-6, 1e3) == math.inf  # would need more than 10^9 units
    with pytest.raises(st.ExperimentStatsError, match="each arm needs at least 2"):
        st.welch(1, 1, 1, 1, 1, 5)


def test_clustered_sample_size_accounts_for_the_intra_cluster_correlation():
    # no correlation: clusters do not matter
    assert _clustered_units_needed(1000, 800, 1.0, 20) == (1000, None)
    # ICC 0.01 with 40 units per rep (deff 1.39): 20 reps of m' units are worth 20 m' / (1 + (m' - 1) 0.01)
    needed, reps = _clustered_units_needed(1000, 800, 1.39, 20)
    m = needed / 20
    assert reps is None and 20 * m / (1 + (m - 1) * 0.01) == pytest.approx(1000)
    # 20 reps can never be worth more than 20 / ICC = 2,000 independent units
    needed, reps = _clustered_units_needed(2500, 800, 1.39, 20)
    assert needed == math.inf and reps == math.ceil(2500 * 1.39 / 40)


# ----------------------------------------------------------------------------- verdicts
@pytest.mark.parametrize("effect,low,high,bar,code,words", [
    (0.10, 0.07, 0.13, 0.05, "success", "reaches the pre-registered bar"),
    (0.06, 0.01, 0.11, 0.05, "success", "real"),
    (0.00, -0.02, 0.02, 0.05, "no_effect", "ruled out"),
    (0.02, 0.01, 0.03, 0.05, "no_effect", "real but smaller"),
    (-0.05, -0.08, -0.02, 0.05, "worse", "did worse than control: stop it"),
    (-0.008, -0.013, -0.003, 0.01, "worse", "did worse"),  # issue 19: a significant harm is not "no effect"
    (-0.01, -0.03, 0.005, 0.05, "no_effect", "ruled out"),  # interval touches zero: not shown to be worse
    (0.04, -0.01, 0.09, 0.05, "inconclusive", "Underpowered"),
    (0.03, 0.01, 0.08, 0.05, "inconclusive", "Underpowered"),  # real, but may or may not reach the bar
    (0.10, -0.02, 0.22, 0.05, "inconclusive", "Underpowered"),  # big estimate, not yet real
])
def test_verdict_against_the_pre_registered_bar(effect, low, high, bar, code, words):
    got, why = st.verdict(effect, low, high, bar)
    assert got == code and words in why
    assert "significant" not in why


def test_verdict_needs_enough_units_and_a_finished_experiment():
    assert st.verdict(0.1, 0.07, 0.13, 0.05, enough_units=False)[0] == "inconclusive"
    assert st.verdict(0.1, 0.07, 0.13, 0.05, status="running")[0] == "pending"
    assert st.verdict(math.nan, math.nan, math.nan, 0.05, status="planned")[0] == "not_started"
    assert st.verdict(math.nan, math.nan, math.nan, 0.05)[0] == "inconclusive"


def test_true_negative_reading_for_pilots_on_top_performers():
    code, why = st.verdict(0.0, -0.02, 0.02, 0.05, assigned_to="top_performers")
    assert code == "no_effect" and "True negative" in why and "not feasible" in why
    code, why = st.verdict(0.1, 0.07, 0.13, 0.05, assigned_to="top_performers")
    assert code == "success" and "rest of the team" in why
    assert "True negative" not in st.verdict(0.0, -0.02, 0.02, 0.05, assigned_to="random")[1]


def test_status_from_the_team_or_from_the_dates():
    from datetime import date
    as_of = date(2026, 10, 31)
    assert derive_status(date(2026, 11, 5), None, as_of) == "planned"
    assert derive_status(date(2026, 9, 1), None, as_of) == "running"
    assert derive_status(date(2026, 9, 1), date(2026, 11, 30), as_of) == "running"
    assert derive_status(date(2026, 9, 1), date(2026, 10, 31), as_of) == "finished"
    assert derive_status(date(2026, 9, 1), None, as_of, "finished") == "finished"  # the team's word wins


# ----------------------------------------------------------------------------- coverage and harm by simulation
@pytest.mark.slow
def test_interval_coverage_and_verdicts_by_simulation():
    """1,000 simulated experiments per truth, 400 units per arm, control 20%, bar +5 points:
    the Newcombe interval covers the true lift in about 95% (docs/experiments.md); a true harm of -8 points
    is 'worse' in most (88%) and never 'success'; a true lift of 0 is 'worse' in 2.1%, 'success' in 3.9%."""
    rng = np.random.default_rng(19)
    n, base, bar = 400, 0.20, 0.05
    for lift in (0.0, 0.05, -0.08):
        xt = rng.binomial(n, base + lift, 1000)
        xc = rng.binomial(n, base, 1000)
        effects = [st.two_proportions(a, n, b, n) for a, b in zip(xt, xc)]
        covered = np.mean([e.ci_low <= lift <= e.ci_high for e in effects])
        assert 0.93 <= covered <= 0.97, (lift, covered)
        codes = [st.verdict(e.effect, e.ci_low, e.ci_high, bar)[0] for e in effects]
        if lift < 0:
            # 'worse' when the interval is wholly below 0; otherwise 'no effect' (the bar ruled out), never 'success'
            assert codes.count("worse") / len(codes) > 0.8 and "success" not in codes
        if lift == 0:
            assert codes.count("worse") / len(codes) <= 0.04 and codes.count("success") / len(codes) <= 0.05
