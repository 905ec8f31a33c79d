"""Small statistics of the lead value model: DeLong's AUC interval, calibration by deciles, Hosmer-Lemeshow.

Pure functions on arrays (tested against scipy and textbook values in tests/test_lead_value.py).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from helpers.core import intervals

__all__ = ["LeadValueError", "auc_delong", "calibration_table", "hosmer_lemeshow"]


class LeadValueError(ValueError):
    """The lead data cannot be valued as given; the message says what to change."""


def auc_delong(scores: Any, outcome: Any, level: float = 0.95) -> tuple[float, float, float]:
    """AUC (probability a random won lead scores above a random lost one; ties count half) and its
    DeLong confidence interval. Returns ``(auc, low, high)``.

    The AUC equals the Mann-Whitney U statistic of the won leads' scores divided by
    ``n_won * n_lost`` (the test suite pins it to ``scipy.stats.mannwhitneyu`` on the same scores).
    The variance is DeLong, DeLong and Clarke-Pearson (1988), computed from midranks.
    """
    s = np.asarray(scores, dtype=float)
    y = np.asarray(outcome, dtype=bool)
    pos, neg = s[y], s[~y]
    m, n = len(pos), len(neg)
    if m == 0 or n == 0:
        raise LeadValueError(f"an AUC needs both won and not-won leads; got {m} won and {n} not won. "
                             "Use a longer period or a larger holdout share.")
    tz = stats.rankdata(np.concatenate([pos, neg]))
    tx, ty = stats.rankdata(pos), stats.rankdata(neg)
    v10 = (tz[:m] - tx) / n
    v01 = 1.0 - (tz[m:] - ty) / m
    auc = float(v10.mean())
    var = (v10.var(ddof=1) / m if m > 1 else 0.0) + (v01.var(ddof=1) / n if n > 1 else 0.0)
    z = stats.norm.ppf(0.5 + level / 2)
    half = z * math.sqrt(max(var, 0.0))
    return auc, max(0.0, auc - half), min(1.0, auc + half)


def calibration_table(predicted: Any, outcome: Any, *, bins: int = 10, level: float = 0.95) -> pd.DataFrame:
    """Observed against predicted conversion by decile of the prediction (equal-count bins).

    One row per bin: ``bin`` (1 = lowest predictions), ``leads``, ``predicted`` (mean predicted
    probability), ``observed`` (share won), ``ci_low`` / ``ci_high`` (Wilson interval of the
    observed share) and ``expected_won`` / ``won``. A calibrated model has ``predicted`` inside
    the interval in most bins.
    """
    p = np.asarray(predicted, dtype=float)
    y = np.asarray(outcome, dtype=float)
    if len(p) == 0:
        raise LeadValueError("no leads to check calibration on")
    bins = max(1, min(bins, len(p)))
    order = np.argsort(p, kind="stable")
    group = np.empty(len(p), dtype=int)
    group[order] = np.arange(len(p)) * bins // len(p)
    df = pd.DataFrame({"bin": group + 1, "p": p, "y": y})
    out = df.groupby("bin").agg(leads=("y", "size"), predicted=("p", "mean"), won=("y", "sum"),
                                expected_won=("p", "sum")).reset_index()
    out["observed"] = out["won"] / out["leads"]
    out["ci_low"], out["ci_high"] = intervals.wilson_interval(out["won"], out["leads"], level=level)
    out["won"] = out["won"].astype("int64")
    return out[["bin", "leads", "predicted", "observed", "ci_low", "ci_high", "won", "expected_won"]]


def hosmer_lemeshow(table: pd.DataFrame) -> tuple[float, float]:
    """Hosmer-Lemeshow statistic and p-value from a :func:`calibration_table` (df = bins - 2)."""
    e, o, n = table["expected_won"].to_numpy(), table["won"].to_numpy(), table["leads"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        terms = (o - e) ** 2 / (e * (1 - e / n))
    stat = float(np.nansum(terms))
    dof = max(len(table) - 2, 1)
    return stat, float(stats.chi2.sf(stat, dof))
