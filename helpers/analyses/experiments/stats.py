"""Statistics of one sales experiment: effect, interval, test, power, sample size, verdict.

Pure functions on small inputs (counts, sums, sums of squares per arm or per cluster and arm;
raw outcomes only for the rank test), so that the heavy reading happens in the engine
(:mod:`helpers.analyses.experiments.model`). Every function returns an :class:`Effect` or plain numbers; none
reads configuration or data.

Conventions: the effect is **treatment minus control**, in the metric's own units (points of a
rate as a fraction, dollars of a mean). Tests are two-sided at level ``alpha``; intervals are at
``1 - alpha``. The power and sample-size formulas are the ones statsmodels uses
(``NormalIndPower`` with Cohen's *h* for rates, ``TTestIndPower`` with Cohen's *d* for means);
the tests check that they give the same numbers.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import optimize, stats

from helpers.core import intervals

__all__ = [
    "Effect", "ExperimentStatsError", "VERDICTS", "cluster_robust_difference", "clustered_units_needed", "cohens_h",
    "design_effect",
    "mde_means", "mde_rates", "n_per_arm_means", "n_per_arm_rates", "power_means", "power_rates", "rank_shift",
    "two_proportions", "verdict", "welch",
]

#: Verdict codes and what a leader reads.
VERDICTS: dict[str, str] = {
    "success": "success",
    "no_effect": "no effect",
    "worse": "worse than control",
    "inconclusive": "inconclusive",
    "pending": "running",
    "not_started": "planned",
}


class ExperimentStatsError(ValueError):
    """Inputs cannot give an estimate (e.g. an arm without units); the message says what is missing."""


@dataclass(frozen=True)
class Effect:
    """Treatment minus control, with its interval and test."""

    test: str  # two_proportions | welch | rank | cluster_robust
    effect: float
    ci_low: float
    ci_high: float
    p_value: float
    control: float  # control arm's level (rate, mean; for the rank test the median)
    treatment: float
    n_control: int
    n_treatment: int
    se: float = math.nan
    df: float = math.nan
    clusters_control: int | None = None
    clusters_treatment: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def _z(alpha: float) -> float:
    return float(stats.norm.isf(alpha / 2))


def _need(n_t: float, n_c: float, minimum: int = 1, what: str = "units with a measured outcome") -> None:
    if n_t < minimum or n_c < minimum:
        raise ExperimentStatsError(f"each arm needs at least {minimum} {what}; got treatment {int(n_t)}, "
                                   f"control {int(n_c)}")


# ============================================================================ effects
def two_proportions(x_t: float, n_t: float, x_c: float, n_c: float, *, alpha: float = 0.05) -> Effect:
    """Difference of two rates (0/1 outcomes): Newcombe's hybrid-score interval and the pooled z-test.

    Newcombe's interval (Wilson intervals of each rate combined) stays honest with few successes or
    rates near 0 or 1, where the textbook Wald interval collapses to a point. The p-value is the
    classic two-proportion z-test with the pooled rate (1 when neither arm varies).
    """
    _need(n_t, n_c)
    z = _z(alpha)
    p_t, p_c = x_t / n_t, x_c / n_c
    level = 2 * stats.norm.cdf(z) - 1
    l_t, u_t = intervals.wilson_interval(x_t, n_t, level=level)
    l_c, u_c = intervals.wilson_interval(x_c, n_c, level=level)
    diff = p_t - p_c
    low = diff - math.sqrt((p_t - l_t) ** 2 + (u_c - p_c) ** 2)
    high = diff + math.sqrt((u_t - p_t) ** 2 + (p_c - l_c) ** 2)
    pooled = (x_t + x_c) / (n_t + n_c)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / n_t + 1 / n_c))
    p_value = 1.0 if se0 == 0 else float(2 * stats.norm.sf(abs(diff) / se0))
    se = math.sqrt(p_t * (1 - p_t) / n_t + p_c * (1 - p_c) / n_c)
    return Effect("two_proportions", diff, low, high, p_value, p_c, p_t, int(n_c), int(n_t), se=se)


def welch(mean_t: float, var_t: float, n_t: float, mean_c: float, var_c: float, n_c: float, *,
          alpha: float = 0.05) -> Effect:
    """Difference of two means with unequal variances (Welch's t): interval and p-value.

    ``var_*`` are sample variances (ddof=1). Needs at least 2 units per arm.
    """
    _need(n_t, n_c, 2)
    diff = mean_t - mean_c
    a, b = var_t / n_t, var_c / n_c
    se = math.sqrt(a + b)
    if se == 0:  # every outcome equal within each arm: no spread to judge the difference by
        p_value = 1.0 if diff == 0 else 0.0
        return Effect("welch", diff, diff, diff, p_value, mean_c, mean_t, int(n_c), int(n_t), se=0.0)
    df = (a + b) ** 2 / ((a * a / (n_t - 1) if n_t > 1 else 0) + (b * b / (n_c - 1) if n_c > 1 else 0))
    t_crit = float(stats.t.isf(alpha / 2, df))
    p_value = float(2 * stats.t.sf(abs(diff) / se, df))
    return Effect("welch", diff, diff - t_crit * se, diff + t_crit * se, p_value, mean_c, mean_t, int(n_c), int(n_t),
                  se=se, df=df)


def _count_le(treat_sorted: np.ndarray, control_sorted: np.ndarray, d: float) -> int:
    """Number of pairs (i, j) with treatment_i - control_j <= d."""
    return int((len(control_sorted) - np.searchsorted(control_sorted, treat_sorted - d, side="left")).sum())


def _kth_difference(treat_sorted: np.ndarray, control_sorted: np.ndarray, k: int) -> float:
    """k-th smallest (1-based) of all pairwise differences treatment_i - control_j, without forming them.

    Bisection on the value: O((n_t + n_c) log n) per step, so arms of a million units are fine.
    """
    lo = float(treat_sorted[0] - control_sorted[-1])
    hi = float(treat_sorted[-1] - control_sorted[0])
    if _count_le(treat_sorted, control_sorted, lo) >= k:
        return lo
    for _ in range(200):
        mid = (lo + hi) / 2
        if mid <= lo or mid >= hi:
            break
        if _count_le(treat_sorted, control_sorted, mid) >= k:
            hi = mid
        else:
            lo = mid
    # snap to the actual difference: the smallest pairwise difference above lo (no float residue)
    j = np.searchsorted(control_sorted, treat_sorted - lo, side="left") - 1
    ok = j >= 0
    if not ok.any():
        return hi
    return float((treat_sorted[ok] - control_sorted[j[ok]]).min())


def rank_shift(treatment: np.ndarray, control: np.ndarray, *, alpha: float = 0.05) -> Effect:
    """Rank test for skewed money: Mann-Whitney p-value, Hodges-Lehmann shift and its interval.

    The effect is the Hodges-Lehmann estimate (median of all treatment - control differences): how
    much a typical deal moves, robust to a few huge deals. The interval is the distribution-free one
    from the Mann-Whitney statistic (normal approximation, no tie correction).
    """
    t = np.sort(np.asarray(treatment, dtype=float))
    c = np.sort(np.asarray(control, dtype=float))
    _need(len(t), len(c), 2)
    n_t, n_c = len(t), len(c)
    total = n_t * n_c
    test = stats.mannwhitneyu(t, c, alternative="two-sided", method="asymptotic")
    if total % 2:
        shift = _kth_difference(t, c, total // 2 + 1)
    else:
        shift = (_kth_difference(t, c, total // 2) + _kth_difference(t, c, total // 2 + 1)) / 2
    sd = math.sqrt(n_t * n_c * (n_t + n_c + 1) / 12)
    k = int(math.floor(total / 2 - _z(alpha) * sd))
    k = max(k, 1)
    low, high = _kth_difference(t, c, k), _kth_difference(t, c, total + 1 - k)
    return Effect("rank", shift, low, high, float(test.pvalue), float(np.median(c)), float(np.median(t)),
                  n_c, n_t)


def cluster_robust_difference(n: np.ndarray, total: np.ndarray, total_sq: np.ndarray, treated: np.ndarray,
                              cluster: np.ndarray, *, alpha: float = 0.05) -> Effect:
    """Difference of means (or rates) when units are grouped in clusters (e.g. leads of one rep).

    Input is one row per cluster and arm: units ``n``, sum of outcomes ``total`` and of squares
    ``total_sq``, whether the row is the ``treated`` arm, and its ``cluster`` label. The estimate is
    the plain difference of means (ordinary least squares of the outcome on a treatment dummy); its
    standard error is the cluster-robust sandwich (CR1, the small-sample factor G/(G-1) x (N-1)/(N-2),
    as statsmodels' ``cov_type="cluster"``), and the interval uses Student's t with G - 1 degrees of
    freedom, G the number of clusters. Units of one cluster may be in both arms.
    """
    n = np.asarray(n, dtype=float)
    total = np.asarray(total, dtype=float)
    treated = np.asarray(treated, dtype=bool)
    cluster = np.asarray(cluster)
    n_t, n_c = n[treated].sum(), n[~treated].sum()
    _need(n_t, n_c, 2)
    mean_t, mean_c = total[treated].sum() / n_t, total[~treated].sum() / n_c
    resid = total - n * np.where(treated, mean_t, mean_c)  # sum of residuals in each cluster-arm row
    labels, inverse = np.unique(cluster.astype(str), return_inverse=True)
    g = len(labels)
    if g < 2:
        raise ExperimentStatsError("cluster-robust intervals need at least 2 clusters (reps); got 1")
    s0 = np.bincount(inverse, weights=resid, minlength=g)
    s1 = np.bincount(inverse, weights=np.where(treated, resid, 0.0), minlength=g)
    meat = np.array([[np.dot(s0, s0), np.dot(s0, s1)], [np.dot(s1, s0), np.dot(s1, s1)]])
    n_all = n_t + n_c
    bread = np.linalg.inv(np.array([[n_all, n_t], [n_t, n_t]]))
    factor = g / (g - 1) * (n_all - 1) / (n_all - 2)
    var = factor * (bread @ meat @ bread)[1, 1]
    se = math.sqrt(max(var, 0.0))
    diff = mean_t - mean_c
    df = g - 1
    t_crit = float(stats.t.isf(alpha / 2, df))
    p_value = (1.0 if diff == 0 else 0.0) if se == 0 else float(2 * stats.t.sf(abs(diff) / se, df))
    clusters_t = len(np.unique(cluster[treated].astype(str)))
    clusters_c = len(np.unique(cluster[~treated].astype(str)))
    return Effect("cluster_robust", diff, diff - t_crit * se, diff + t_crit * se, p_value, mean_c, mean_t,
                  int(n_c), int(n_t), se=se, df=df, clusters_control=clusters_c, clusters_treatment=clusters_t)


def design_effect(clustered_se: float, naive_se: float) -> float:
    """How many times more units a clustered design needs than independent units: (SE ratio) squared, at least 1."""
    if not (naive_se > 0) or not math.isfinite(clustered_se):
        return 1.0
    return max(1.0, (clustered_se / naive_se) ** 2)


# ============================================================================ power and sample size
def cohens_h(p_treatment: float, p_control: float) -> float:
    """Cohen's h = 2 asin(sqrt(p1)) - 2 asin(sqrt(p2)), as statsmodels' ``proportion_effectsize``."""
    return 2 * math.asin(math.sqrt(p_treatment)) - 2 * math.asin(math.sqrt(p_control))


def _normal_power(h: float, n_t: float, n_c: float, alpha: float) -> float:
    nobs = 1.0 / (1.0 / n_t + 1.0 / n_c)
    crit = _z(alpha)
    shift = abs(h) * math.sqrt(nobs)
    return float(stats.norm.sf(crit - shift) + stats.norm.cdf(-crit - shift))


def _t_power(d: float, n_t: float, n_c: float, alpha: float) -> float:
    nobs = 1.0 / (1.0 / n_t + 1.0 / n_c)
    df = n_t + n_c - 2
    crit = float(stats.t.isf(alpha / 2, df))
    nc = abs(d) * math.sqrt(nobs)
    value = float(stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc))
    if not math.isfinite(value):  # scipy's noncentral t gives up for huge df or nc: the normal limit is exact enough
        value = float(stats.norm.sf(crit - nc) + stats.norm.cdf(-crit - nc))
    return value


def _target_rate(p_control: float, lift: float) -> float:
    return min(max(p_control + lift, 0.0), 1.0)


def power_rates(p_control: float, lift: float, n_t: float, n_c: float, *, alpha: float = 0.05) -> float:
    """Power of the two-proportion test to detect ``p_control -> p_control + lift`` with these arm sizes."""
    return _normal_power(cohens_h(_target_rate(p_control, lift), p_control), n_t, n_c, alpha)


def power_means(lift: float, sd: float, n_t: float, n_c: float, *, alpha: float = 0.05) -> float:
    """Power of the two-sample t-test to detect a difference ``lift`` when outcomes have spread ``sd``."""
    if not sd > 0:
        return math.nan
    return _t_power(lift / sd, n_t, n_c, alpha)


def _solve_n(power_of_n, power: float) -> float:
    """Smallest (fractional) n per arm reaching ``power``; inf when even 10^9 units do not."""
    lo = 2.0
    if power_of_n(lo) >= power:
        return lo
    hi = 4.0
    while power_of_n(hi) < power:  # bracket by doubling: the power functions are increasing in n
        lo, hi = hi, hi * 2
        if hi > 1e9:
            return math.inf
    return float(optimize.brentq(lambda n: power_of_n(n) - power, lo, hi, xtol=1e-10, rtol=1e-12))


def n_per_arm_rates(p_control: float, lift: float, *, alpha: float = 0.05, power: float = 0.8,
                    ratio: float = 1.0) -> float:
    """Treatment-arm units needed to detect ``lift`` with ``power`` (control arm = ``ratio`` x that).

    The same number as statsmodels' ``NormalIndPower().solve_power(proportion_effectsize(p_control + lift,
    p_control), nobs1=None, alpha=alpha, power=power, ratio=ratio)``; round up for a plan.
    """
    h = cohens_h(_target_rate(p_control, lift), p_control)
    if h == 0:
        return math.inf
    return _solve_n(lambda n: _normal_power(h, n, n * ratio, alpha), power)


def n_per_arm_means(lift: float, sd: float, *, alpha: float = 0.05, power: float = 0.8, ratio: float = 1.0) -> float:
    """Treatment-arm units needed (control = ``ratio`` x that), as ``TTestIndPower().solve_power``."""
    if not sd > 0 or lift == 0:
        return math.inf
    d = lift / sd
    return _solve_n(lambda n: _t_power(d, n, n * ratio, alpha), power)


def mde_rates(p_control: float, n_t: float, n_c: float, *, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest upward lift of a rate these arm sizes detect with ``power`` (nan if none below 100%)."""
    if n_t < 1 or n_c < 1:
        return math.nan
    base = 2 * math.asin(math.sqrt(p_control))
    h_max = math.pi - base
    if _normal_power(h_max, n_t, n_c, alpha) < power:
        return math.nan
    h = optimize.brentq(lambda x: _normal_power(x, n_t, n_c, alpha) - power, 1e-12, h_max, xtol=1e-12)
    return math.sin((h + base) / 2) ** 2 - p_control


def mde_means(sd: float, n_t: float, n_c: float, *, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest difference of means these arm sizes detect with ``power``, in the metric's units."""
    if not sd > 0 or n_t < 2 or n_c < 2:
        return math.nan
    d = optimize.brentq(lambda x: _t_power(x, n_t, n_c, alpha) - power, 1e-9, 1e3, xtol=1e-12)
    return d * sd


# ============================================================================ verdict
def verdict(effect: float, ci_low: float, ci_high: float, bar: float, *, status: str = "finished",
            enough_units: bool = True, assigned_to: str | None = None) -> tuple[str, str]:
    """The verdict against the pre-registered bar, and one sentence saying why.

    Rules, in order (the interval is at 1 - alpha):

    * ``not_started``: status ``planned``;
    * ``pending``: status ``running`` (the decision is due at the end; the page shows an interim reading);
    * ``inconclusive``: too few units (or clusters) for any verdict, or no estimate;
    * ``success``: the interval lies above zero (the effect is real) **and** the estimate reaches the bar;
    * ``worse``: the whole interval lies below zero: treatment did measurably worse than control
      (stop it; the page gives the estimate and its interval), a different decision from "no effect";
    * ``no_effect``: the whole interval lies below the bar: an effect as large as the bar is ruled out
      (this includes real but smaller lifts; an interval wholly below zero is ``worse`` instead);
    * ``inconclusive``: anything else: the interval still holds both "no effect" and "the bar" (underpowered).

    ``assigned_to="top_performers"`` adds the true-negative reading: a pilot on the best reps that
    fails means the idea is not feasible; one that succeeds still has to be shown on everyone.
    """
    if status == "planned":
        return "not_started", "Not started yet."
    if status == "running":
        return "pending", "Still running: the decision is due when it ends."
    if not enough_units or not all(math.isfinite(v) for v in (effect, ci_low, ci_high)):
        return "inconclusive", "Too few units for any verdict: the result could be anything."
    top = assigned_to == "top_performers"
    if ci_low > 0 and effect >= bar:
        why = "The lift is real and reaches the pre-registered bar."
        if top:
            why += " It was piloted with top performers: confirm it with the rest of the team before rolling out."
        return "success", why
    if ci_high < 0:
        why = "Treatment did worse than control: stop it."
        if top:
            why += " Even top performers did worse with it."
        return "worse", why
    if ci_high < bar:
        if ci_low > 0:
            why = "The lift is real but smaller than the pre-registered bar: not worth the change as planned."
        else:
            why = "An effect as large as the pre-registered bar is ruled out."
        if top:
            why += " True negative: even top performers could not make it work, so the idea is not feasible."
        return "no_effect", why
    return "inconclusive", ("Underpowered: the interval still includes both no effect and the pre-registered bar; "
                            "more units are needed.")


def clustered_units_needed(independent_needed: float, measured: float, deff: float,
                           clusters: int) -> tuple[float, int | None]:
    """Units needed when treatment goes to whole clusters (reps), and reps needed if more units cannot do it.

    The intra-cluster correlation is read off the observed design effect, ICC = (deff - 1) / (m - 1)
    with m units per cluster. G clusters of m' units are worth G m' / (1 + (m' - 1) ICC) independent
    units, which never exceeds G / ICC: when that is short of what the bar needs, more units from the
    same reps cannot decide it and the answer is the number of reps needed at the current size.
    Returns (units needed, or inf; reps needed in all, or None when the current reps suffice).
    """
    if not math.isfinite(independent_needed) or clusters < 1:
        return math.inf, None
    m = measured / clusters if clusters else 0.0
    icc = (deff - 1) / (m - 1) if m > 1 else 0.0
    if icc <= 0:
        return independent_needed, None
    if clusters / icc <= independent_needed:
        return math.inf, math.ceil(independent_needed * (1 + (m - 1) * icc) / m)
    per_cluster = independent_needed * (1 - icc) / (clusters - independent_needed * icc)
    return clusters * per_cluster, None
