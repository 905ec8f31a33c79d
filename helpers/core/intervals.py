"""Small interval helpers shared by every analysis: one Wilson interval, one way to draw error bars.

A sales leader reads "12 of 40 (18% to 45%)": the Wilson score interval stays honest for small
counts and for rates near 0 or 1, where the textbook interval collapses to a point.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats


def wilson_interval(successes: Any, n: Any, *, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for ``successes`` out of ``n``, vectorised, clipped to [0, 1]; NaN where n is 0.

    Arrays (or Series) in, arrays out; two numbers in, two numbers (``numpy.float64``) out. This is
    the workbook's only Wilson interval: analyses call it directly. Equals ``statsmodels.stats.proportion.proportion_confint(k, n, alpha=1 - level, method="wilson")``
    (tests/test_intervals.py checks it).
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
        low, high = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
    low, high = np.where(n > 0, low, np.nan), np.where(n > 0, high, np.nan)
    return (low[()], high[()]) if low.ndim == 0 else (low, high)


def error_bars(value: Any, low: Any, high: Any) -> np.ndarray:
    """``[[value - low], [high - value]]`` for matplotlib's ``xerr``/``yerr``: never negative, 0 where unknown.

    A bound can sit a rounding error past its estimate (a Wilson bound at 0 of n, a rate shown as a
    percentage), which matplotlib rejects; a missing bound draws no bar rather than failing the page.
    """
    value, low, high = (np.asarray(v, dtype=float) for v in (value, low, high))
    return np.nan_to_num(np.clip(np.vstack([value - low, high - value]), 0, None))


def rates_differ_p_value(successes: Any, n: Any) -> float | None:
    """Whether several groups' rates (sellers' win rates, lead types' conversion) differ beyond chance: the
    p-value of one chi-square test of homogeneity on the groups x (success, failure) table. One test for all
    groups, so naming the best and the worst of many is not a many-comparisons accident (the extremes of 24
    equal sellers often have intervals that do not overlap). None when it cannot be computed (fewer than two
    groups with trials, or no success or no failure at all)."""
    k = np.asarray(successes, dtype=float)
    total = np.asarray(n, dtype=float)
    keep = total > 0
    k, total = k[keep], total[keep]
    if len(k) < 2 or k.sum() == 0 or (total - k).sum() == 0:
        return None
    return float(stats.chi2_contingency(np.vstack([k, total - k]), correction=False)[1])
