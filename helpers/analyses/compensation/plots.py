"""Plots of notebook 04 (commission on churn quartiles), drawn from the analysis's tables.

Every ``plot_x(data, *, ax=None) -> Axes`` draws on its Axes only (a new figure when ``ax`` is
None) and never calls ``plt.show()``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from helpers.core import intervals

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["QUARTILE_COLOURS", "plot_message", "plot_plan_costs", "plot_rep_churn", "plot_retention"]

QUARTILE_COLOURS = {1: "#1a9850", 2: "#91cf60", 3: "#fc8d59", 4: "#d73027"}


def plot_rep_churn(ranking: pd.DataFrame, *, names: dict[str, str] | None = None, ax: Axes | None = None) -> Axes:
    """Churn rate per rep with its interval, coloured by quartile; unranked reps in grey.

    ``ranking`` is :attr:`ChurnQuartiles.ranking_` (``rep_id``, ``churn_rate``, ``ci_low``, ``ci_high``,
    ``quartile``); ``names`` maps rep ids to the names shown.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, max(3, 0.22 * len(ranking))))
    data = ranking[ranking["churn_rate"].notna()].iloc[::-1]
    colours = QUARTILE_COLOURS
    y = np.arange(len(data))
    col = [colours.get(int(q), "#999999") if not pd.isna(q) else "#bbbbbb" for q in data["quartile"]]
    rate = data["churn_rate"].to_numpy() * 100
    err = intervals.error_bars(rate, data["ci_low"].to_numpy() * 100, data["ci_high"].to_numpy() * 100)
    ax.errorbar(rate, y, xerr=err, fmt="none", ecolor="#cccccc", lw=1)
    ax.scatter(rate, y, c=col, zorder=3, s=25)
    labels = [(names or {}).get(r, r) for r in data["rep_id"]]
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=7)
    ax.set_xlabel("Customers lost within the window (%), with 95% interval")
    ax.set_title("Churn by salesperson: green = best quartile, red = bottom, grey = not ranked", loc="left",
                 fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_retention(curves: dict[Any, pd.DataFrame], *, labels: dict[Any, str] | None = None,
                   colours: dict[Any, str] | None = None, ax: Axes | None = None) -> Axes:
    """Retention curves over months since the start (30.44-day months), with intervals.

    ``curves`` is :attr:`RetentionCurves.curves_`: per group, ``days``, ``retention``, ``ci_low``, ``ci_high``.
    """
    import matplotlib.pyplot as plt

    from helpers.analyses.compensation.churn import DAYS_PER_MONTH

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    for group, curve in curves.items():
        x = np.concatenate([[0.0], curve["days"].to_numpy() / DAYS_PER_MONTH])
        y = np.concatenate([[1.0], curve["retention"].to_numpy()])
        colour = (colours or {}).get(group)
        line = ax.step(x * 1, y * 100, where="post", label=(labels or {}).get(group, str(group)), color=colour)[0]
        lo = np.concatenate([[1.0], curve["ci_low"].to_numpy()])
        hi = np.concatenate([[1.0], curve["ci_high"].to_numpy()])
        ax.fill_between(x, lo * 100, hi * 100, step="post", alpha=0.12, color=line.get_color())
    ax.set_xlabel("Months since the customer started")
    ax.set_ylabel("Customers still paying (%)")
    ax.set_title("Customer retention (Kaplan-Meier, 95% band)", loc="left", fontsize=10)
    ax.legend(frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_plan_costs(summary: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Commission paid per $1 of retained MRR under each plan (``summary``: :attr:`PlanComparison.summary`)."""
    import matplotlib.pyplot as plt

    from helpers.analyses.compensation.model import PLAN_LABELS

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3))
    s = summary
    bars = ax.barh([PLAN_LABELS[p] for p in s.index], s["cost_per_retained_mrr"],
                   color=["#7f8c8d", "#1a9850", "#2c7fb8"])
    ax.bar_label(bars, labels=[f"${v:.2f}" for v in s["cost_per_retained_mrr"]], padding=3, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("Commission paid per $1 of MRR still paying at the as-of date")
    ax.set_title("What each plan would have cost on the same sales", loc="left", fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_message(text: str, *, ax: Axes | None = None) -> Axes:
    """A short sentence in place of a chart that cannot be drawn yet."""
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(8, 1.5)) if ax is None else (None, ax)
    ax.text(0.01, 0.5, text, va="center")
    ax.axis("off")
    return ax
