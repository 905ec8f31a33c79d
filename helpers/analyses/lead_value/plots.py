"""Plots of notebook 05 (lead value, marketing's pacing, the sales SLA, speed to lead and attempts).

Every ``plot_x(data, *, ax=None) -> Axes`` draws on its Axes only (a new figure when ``ax`` is
None) and never calls ``plt.show()``; the compute modules of this folder import no matplotlib.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from helpers.analyses.lead_value.sla import RULE_LABELS, RULES
from helpers.core import intervals

if TYPE_CHECKING:  # pragma: no cover
    from helpers.analyses.lead_value.marketing import Pacing

__all__ = ["plot_attempt_curve", "plot_calibration", "plot_odds_ratios", "plot_pacing", "plot_speed_to_lead",
           "plot_violations_by_rep"]


def plot_odds_ratios(summary: pd.DataFrame, *, ax=None, top: int = 15):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.35 * min(top, len(summary)) + 1.2))
    shown = summary.assign(_size=np.abs(np.log(summary["odds_ratio"]))).nlargest(top, "_size").iloc[::-1]
    labels = [f"{f.replace('_', ' ')}: {lvl.replace('_', ' ')}" for f, lvl in zip(shown["factor"], shown["level"])]
    y = np.arange(len(shown))
    colours = np.where(shown["strong"], "#c0392b", "#7f8c8d")
    ax.errorbar(shown["odds_ratio"], y,
                xerr=intervals.error_bars(shown["odds_ratio"], shown["or_ci_low"], shown["or_ci_high"]),
                fmt="none", ecolor="#95a5a6")
    ax.scatter(shown["odds_ratio"], y, c=colours, zorder=3)
    ax.axvline(1, color="black", lw=0.8)
    ax.set_xscale("log")
    from helpers.reporting.present import plain_log_ticks

    plain_log_ticks(ax.xaxis)  # 0.5, 1, 2 ... not 10^0
    ax.set_yticks(y, labels)
    ax.set_xlabel("Odds of becoming a customer, times (vs the reference level; log scale)")
    ax.set_title("What makes a lead valuable (red: strong factor)", loc="left", fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_calibration(table: pd.DataFrame, *, ax=None):
    """Observed share won (with its interval) against mean predicted probability, by decile."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5))
    top = float(max(table["ci_high"].max(), table["predicted"].max())) * 1.05
    ax.plot([0, top], [0, top], color="black", lw=0.8, ls="--", label="perfect calibration")
    ax.errorbar(table["predicted"], table["observed"],
                yerr=intervals.error_bars(table["observed"], table["ci_low"], table["ci_high"]),
                fmt="o", color="#2c3e50", ecolor="#95a5a6", label="holdout leads by decile")
    ax.set_xlabel("Predicted chance of becoming a customer")
    ax.set_ylabel("Observed share that became customers")
    ax.set_title("Does the predicted chance match what happened?", loc="left", fontsize=11)
    ax.legend(frameon=False, loc="upper left")
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_pacing(result: Pacing, *, ax=None):
    """Cumulative lead value by day, the ideal line to the goal, and the projection with its interval."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    t = result.table
    days = np.arange(1, len(t) + 1)
    ax.plot([0, result.days_in_month], [0, result.goal], color="#7f8c8d", ls="--", label="ideal line to the goal")
    ax.plot(days, t["cumulative"], color="#2c3e50", lw=2, marker="o", ms=3, label="lead value so far")
    if result.days_elapsed < result.days_in_month:
        end = result.days_in_month
        ax.plot([days[-1], end], [result.to_date, result.projection], color="#2980b9", ls=":", label="projection")
        ax.errorbar([end], [result.projection], yerr=intervals.error_bars([result.projection], [result.projection_low],
                                                                [result.projection_high]),
                    fmt="o", color="#2980b9", capsize=4)
    ax.axhline(result.goal, color="#c0392b", lw=0.8)
    ax.set_xlim(0, result.days_in_month + 1)
    ax.set_xlabel("Day of the month")
    unit = "expected new MRR, $" if result.unit == "new_mrr" else "expected lifetime value, $"
    ax.set_ylabel(f"Cumulative lead value ({unit})")
    ax.set_title(f"Marketing's lead value in {pd.Timestamp(result.month + '-01'):%B %Y} vs the goal",
                 loc="left", fontsize=11)
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.legend(frameon=False, loc="upper left")
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_violations_by_rep(counts: pd.DataFrame, *, ax=None, top: int = 15):
    """Stacked horizontal bars: breaches per owner by rule (the owners with the most, at most ``top``)."""
    import matplotlib.pyplot as plt

    data = counts[counts["rep"] != "Total"].head(top).iloc[::-1]
    if ax is None:
        _, ax = plt.subplots(figsize=(8, max(2.5, 0.35 * len(data) + 1)))
    left = np.zeros(len(data))
    colours = ("#c0392b", "#e67e22", "#8e44ad", "#7f8c8d")
    for rule, colour in zip(RULES, colours):
        ax.barh(data["rep"], data[rule], left=left, color=colour, label=RULE_LABELS[rule])
        left += data[rule].to_numpy()
    ax.set_xlabel("Leads in breach")
    ax.set_title("\u201cDo not be on it\u201d: SLA breaches per rep", loc="left", fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    if len(data):
        ax.legend(frameon=False, fontsize=8, loc="lower right")
    return ax


def plot_speed_to_lead(table: pd.DataFrame, *, ax=None):
    """Win rate by time to first touch with its confidence interval (bars with error bars)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.2))
    data = table[table["leads"] > 0]
    rate = data["win_rate"].to_numpy() * 100
    # at 0 of n the Wilson bound equals the rate up to rounding, which matplotlib rejects as negative
    err = intervals.error_bars(rate, data["ci_low"].to_numpy() * 100, data["ci_high"].to_numpy() * 100)
    ax.bar(data["bucket"], rate, yerr=err, color="#2c7fb8", capsize=3)
    from helpers.reporting.present import wrap_tick_labels

    wrap_tick_labels(ax, axis="x", width=12)  # "5 min to 30 min" on its own lines, never run into its neighbour
    ax.set_ylabel("Leads that became customers (%)")
    ax.set_xlabel("Time from lead creation to first touch")
    ax.set_title("Speed to lead: conversion by time to first touch (95% intervals)", loc="left", fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_attempt_curve(curve: pd.DataFrame, *, cutoffs: pd.DataFrame | None = None, ax=None):
    """Connect rate by attempt number, one line per segment, with intervals and the configured SLA marked."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.5))
    colours = {"small_business": "#1b9e77", "mid_market": "#d95f02", "enterprise": "#7570b3"}
    for segment, g in curve[curve["at_risk"] > 0].groupby("segment"):
        c = colours.get(segment, "#555555")
        ax.plot(g["attempt"], g["connect_rate"] * 100, marker="o", color=c, label=segment.replace("_", " "))
        ax.fill_between(g["attempt"], g["connect_ci_low"] * 100, g["connect_ci_high"] * 100, color=c, alpha=0.15)
        if cutoffs is not None:
            conf = cutoffs.loc[cutoffs["segment"] == segment, "configured"]
            if len(conf) and pd.notna(conf.iloc[0]):
                ax.axvline(float(conf.iloc[0]) + 0.5, color=c, linestyle=":", linewidth=1)
    ax.set_xlabel("Attempt number (calls and emails; dotted: the SLA's last attempt)")
    ax.set_ylabel("Reached on this attempt (%)")
    ax.set_title("Chance of reaching a lead on each attempt (95% intervals)", loc="left", fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, fontsize=8)
    return ax
