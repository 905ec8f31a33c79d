"""Plots of trait discovery (notebook 01) a sales leader reads (the analyst's explorer is in widgets.py).

Every ``plot_x(data, *, ax=None) -> Axes`` draws on its Axes only (a new figure when ``ax`` is
None) and never calls ``plt.show()``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from helpers.analyses.success import SUCCESS_METRICS
from helpers.core.intervals import error_bars

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from helpers.analyses.hiring.model import TraitModel

GOOD, GREY, BAD = "#1f7a4d", "#8c8c8c", "#b03a2e"


def _axes(ax: "Axes | None", size: tuple[float, float] = (7, 3.6)) -> "Axes":
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=size)
    return ax


def _label(name: str) -> str:
    return name.replace("_", " ")


def plot_effects(summary: pd.DataFrame, *, ax: "Axes | None" = None, title: str = "", level: float = 0.95) -> "Axes":
    """Each trait's standardised effect with its interval; green = predicts success, grey = no detectable effect."""
    ax = _axes(ax)
    s = summary.dropna(subset=["effect"]).sort_values("effect")
    y = np.arange(len(s))
    colours = [GOOD if v == "predicts success" else BAD if v == "predicts worse success" else GREY
               for v in s["verdict"]]
    ax.hlines(y, s["ci_low"], s["ci_high"], colors=colours, lw=2)
    ax.scatter(s["effect"], y, color=colours, zorder=3)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, [_label(t) for t in s.index])
    ax.set_xlabel(f"Effect on success: SDs per SD of trait score ({level:.0%} interval)")
    ax.set_title(f"Which traits predict {title.lower() or 'success'}", loc="left", fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_leniency(leniency: pd.DataFrame, *, ax: "Axes | None" = None) -> "Axes":
    """Each interviewer's leniency (points above the average interviewer) with its interval."""
    ax = _axes(ax)
    d = leniency.dropna(subset=["leniency"]).sort_values("leniency")
    y = np.arange(len(d))
    ax.barh(y, d["leniency"], color=[BAD if v > 0 else "#2c6fbb" for v in d["leniency"]], alpha=0.8)
    ax.errorbar(d["leniency"], y, xerr=error_bars(d["leniency"], d["ci_low"], d["ci_high"]), fmt="none",
                ecolor="black", capsize=3)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, d["interviewer"])
    ax.set_xlabel("Points above (+) or below (-) the average interviewer, same candidates")
    ax.set_title("Interviewer leniency", loc="left", fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_score_distributions(candidates: pd.DataFrame, *, traits: list[str], ax: "Axes | None" = None) -> "Axes":
    """Box plots of each trait's score, hired vs not hired (the range restriction)."""
    ax = _axes(ax, (8, 3.6))
    hired = candidates["hired"]
    pos = np.arange(len(traits)) * 3.0
    data_h = [candidates.loc[hired, t].dropna() for t in traits]
    data_n = [candidates.loc[~hired, t].dropna() for t in traits]
    bh = ax.boxplot(data_h, positions=pos - 0.5, widths=0.8, patch_artist=True, showfliers=False)
    bn = ax.boxplot(data_n, positions=pos + 0.5, widths=0.8, patch_artist=True, showfliers=False)
    for box in bh["boxes"]:
        box.set_facecolor("#f0b27a")
    for box in bn["boxes"]:
        box.set_facecolor("#d5d8dc")
    ax.set_xticks(pos, [_label(t) for t in traits], rotation=20, ha="right")
    ax.set_ylabel("Average interview score")
    ax.legend([bh["boxes"][0], bn["boxes"][0]], ["hired", "not hired"], frameon=False, loc="lower right")
    ax.set_title("Interview scores of hires and of everyone else", loc="left", fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_predicted_vs_actual(model: "TraitModel", *, ax: "Axes | None" = None) -> "Axes":
    """Out-of-fold predicted vs actual success of each hire (in the metric's units)."""
    ax = _axes(ax, (5, 4))
    label = SUCCESS_METRICS[model.metric].label
    if not model.estimable_:
        ax.text(0.5, 0.5, "Too few hires for a model", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    p = model.cv_.predictions
    sd, mean = model.sd_[model.metric], model.mean_[model.metric]
    actual, pred = mean + sd * p["actual"], mean + sd * p["model"]
    ax.scatter(pred, actual, color="#2c6fbb", alpha=0.8)
    lo, hi = float(min(actual.min(), pred.min())), float(max(actual.max(), pred.max()))
    ax.plot([lo, hi], [lo, hi], color=GREY, lw=1, ls="--")
    ax.set_xlabel(f"Predicted from interview scores (hire left out)")
    ax.set_ylabel(f"Actual: {label.lower()}")
    ax.set_title("Predicted vs actual success per hire", loc="left", fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_cohort_effects(cohorts: pd.DataFrame, *, ax: "Axes | None" = None) -> "Axes":
    """Each trait's effect per hire-date cohort, with intervals: does the formula hold over time?"""
    ax = _axes(ax, (8, 3.8))
    names = list(dict.fromkeys(cohorts["cohort"]))
    traits = list(dict.fromkeys(cohorts["trait"]))
    width = 0.8 / max(len(names), 1)
    for i, name in enumerate(names):  # a few cohorts
        c = cohorts[cohorts["cohort"] == name].set_index("trait").reindex(traits)
        x = np.arange(len(traits)) + (i - (len(names) - 1) / 2) * width
        n = int(c["n"].max()) if c["n"].notna().any() else 0
        ax.errorbar(x, c["effect"], yerr=error_bars(c["effect"], c["ci_low"], c["ci_high"]), fmt="o",
                    capsize=2, label=f"{name} (n = {n})")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(np.arange(len(traits)), [_label(t) for t in traits], rotation=20, ha="right")
    ax.set_ylabel("Effect (SD per SD)")
    ax.legend(frameon=False, fontsize=8)
    ax.set_title("The formula re-run on successive hire cohorts", loc="left", fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    return ax
