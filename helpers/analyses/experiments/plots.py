"""Plots of notebook 06 (the experiment review), drawn from the review's summary.

Every ``plot_x(data, *, ax=None) -> Axes`` draws on its Axes only (a new figure when ``ax`` is
None) and never calls ``plt.show()``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["VERDICT_COLOURS", "plot_effects", "plot_power_curve"]

VERDICT_COLOURS = {"success": "#1e8449", "no_effect": "#7f8c8d", "worse": "#c0392b", "inconclusive": "#d68910",
                   "pending": "#2e86c1"}


def plot_effects(summary: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Each experiment's lift and interval as a share of its bar (0 = no change, 1 = the bar).

    ``summary`` is :attr:`ExperimentReview.summary` (one row per experiment); experiments without a
    measured effect or without a positive bar are left out.
    """
    import matplotlib.pyplot as plt

    from helpers.analyses.experiments.wording import VERDICT_LABELS

    rows = [r for _, r in summary.iterrows() if r["effect"] is not None and not pd.isna(r["effect"])
            and r["success_min_lift"] and r["success_min_lift"] > 0]
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.7 * max(len(rows), 1) + 1.4))
    colours = VERDICT_COLOURS
    for i, r in enumerate(rows):
        bar = float(r["success_min_lift"])
        colour = colours.get(r["verdict"], "#555555")
        ax.plot([r["ci_low"] / bar, r["ci_high"] / bar], [i, i], color=colour, lw=3, solid_capstyle="butt")
        ax.plot([r["effect"] / bar], [i], "o", color=colour, ms=8)
    ax.axvline(0, color="#333333", lw=1)
    ax.axvline(1, color="#1e8449", lw=1, ls="--")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([f"{r['name']}\n({VERDICT_LABELS.get(r['verdict'], r['verdict'])})" for r in rows])
    ax.invert_yaxis()
    ax.set_xlabel("Lift as a share of the pre-registered bar (0 = no change, 1 = the bar; line = interval)")
    ax.set_title("Did each experiment clear its bar?", loc="left", fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    if not rows:
        ax.text(0.5, 0.5, "No experiment has a measured effect yet", transform=ax.transAxes, ha="center")
    return ax


def plot_power_curve(curve: pd.DataFrame, *, row: pd.Series, target_power: float, ax: Axes | None = None) -> Axes:
    """One experiment's power curve (``curve``: ``units``, ``power``), with the units measured so far (from its
    summary ``row``) and the target power marked."""
    import matplotlib.pyplot as plt

    from helpers.analyses.experiments.wording import _fmt

    r = row
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    ax.set_title(f"{r['name']}: chance to detect the bar ({_fmt(r['success_min_lift'], r, signed=True)})",
                 loc="left", fontsize=11)
    if curve.empty:
        ax.text(0.5, 0.5, "No power curve: no units measured in one arm yet, or no bar", transform=ax.transAxes,
                ha="center")
        return ax
    ax.plot(curve["units"], curve["power"], color="#2e86c1", lw=2)
    ax.axhline(target_power, color="#1e8449", ls="--", lw=1, label=f"target power {target_power:.0%}")
    measured = float(r["n_treatment"] or 0) + float(r["n_control"] or 0)
    ax.axvline(measured, color="#333333", lw=1, label=f"measured so far: {measured:,.0f} units")
    ax.set_xlabel("Units with a measured outcome (both arms)")
    ax.set_ylabel("Power at the bar")
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower right", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return ax
