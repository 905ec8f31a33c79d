"""Charts for notebook 03 (funnel coaching). Each draws on the Axes it is given and returns it.

seaborn-style: ``plot_x(data, *, ax=None) -> Axes``; never ``plt.show()``. The data are the frames
of :mod:`helpers.analyses.coaching.model` (stage table, to-won table, model summary, heatmap, progress).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["plot_activity", "plot_conversion", "plot_gaps", "plot_heatmap", "plot_progress", "plot_rep_layout",
           "plot_to_won"]

REP = "#c0392b"
TEAM = "#7f8c8d"


def _ax(ax: Any, size: tuple[float, float] = (6, 3.5)) -> Any:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=size)
    return ax


def _tidy(ax: Any, title: str, ylabel: str) -> None:
    ax.set_title(title, loc="left", fontsize=10)
    ax.set_ylabel(ylabel)
    ax.spines[["top", "right"]].set_visible(False)


def _rep_vs_team(ax: Any, rows: pd.DataFrame, value: str, q1: str, med: str, q3: str, labels: list[str]) -> None:
    x = np.arange(len(rows))
    ax.bar(x - 0.2, rows[value].to_numpy(float), width=0.4, color=REP, label="this rep")
    ax.bar(x + 0.2, rows[med].to_numpy(float), width=0.4, color=TEAM, label="team median")
    err = np.vstack([rows[med] - rows[q1], rows[q3] - rows[med]]).astype(float)
    ax.errorbar(x + 0.2, rows[med].to_numpy(float), yerr=np.nan_to_num(err), fmt="none", ecolor="black",
                capsize=3, lw=1, label="team quartiles")
    ax.set_xticks(x)
    ax.set_xticklabels(labels, rotation=20, ha="right")
    ax.legend(fontsize=8, frameon=False)


def plot_activity(stage_table: pd.DataFrame, *, rep_id: str, ax: Any = None) -> Any:
    """Chart 1 of the book's layout: leads at each stage, the rep against the team's median and quartiles."""
    ax = _ax(ax)
    rows = stage_table[stage_table["rep_id"] == rep_id].sort_values("stage_order")
    _rep_vs_team(ax, rows, "leads", "team_leads_q1", "team_leads_median", "team_leads_q3",
                 rows["stage_label"].tolist())
    _tidy(ax, "Activity per stage", "leads")
    return ax


def plot_conversion(stage_table: pd.DataFrame, *, rep_id: str, ax: Any = None) -> Any:
    """Chart 2: conversion from the previous stage (%), the rep against the team's median and quartiles."""
    ax = _ax(ax)
    rows = stage_table[(stage_table["rep_id"] == rep_id) & stage_table["pct_of_previous"].notna()
                       ].sort_values("stage_order")
    rows = rows if len(rows) else stage_table[stage_table["rep_id"] == rep_id].iloc[1:]
    _rep_vs_team(ax, rows, "pct_of_previous", "team_pct_of_previous_q1", "team_pct_of_previous_median",
                 "team_pct_of_previous_q3", rows["stage_label"].tolist())
    _tidy(ax, "Conversion from the previous stage", "% of previous stage")
    return ax


def plot_to_won(to_won: pd.DataFrame, *, rep_id: str, ax: Any = None) -> Any:
    """Chart 3: chance that a lead at each stage becomes a customer, with its interval, vs the team."""
    ax = _ax(ax)
    rows = to_won[to_won["rep_id"] == rep_id].sort_values("stage_order")
    x = np.arange(len(rows))
    y = rows["pct_to_won"].to_numpy(float)
    err = np.vstack([y - rows["pct_low"].to_numpy(float), rows["pct_high"].to_numpy(float) - y])
    ax.bar(x - 0.2, y, width=0.4, color=REP, label="this rep")
    ax.errorbar(x - 0.2, y, yerr=np.nan_to_num(np.clip(err, 0, None)), fmt="none", ecolor="black", capsize=3, lw=1)
    ax.bar(x + 0.2, rows["team_pct_to_won"].to_numpy(float), width=0.4, color=TEAM, label="team")
    ax.set_xticks(x)
    ax.set_xticklabels([f"from {s}" for s in rows["stage_label"]], rotation=20, ha="right")
    ax.legend(fontsize=8, frameon=False)
    _tidy(ax, "Overall conversion to a customer", "% becoming customers")
    return ax


def plot_rep_layout(stage_month: pd.DataFrame, stage_window: pd.DataFrame, to_won: pd.DataFrame, *, rep_id: str,
                    title: str = "", fig: Any = None) -> Any:
    """The three charts side by side for one rep; returns the Figure."""
    import matplotlib.pyplot as plt

    if fig is None:
        fig = plt.figure(figsize=(13, 3.8))
    axes = fig.subplots(1, 3)
    plot_activity(stage_month, rep_id=rep_id, ax=axes[0])
    plot_conversion(stage_window, rep_id=rep_id, ax=axes[1])
    plot_to_won(to_won, rep_id=rep_id, ax=axes[2])
    if title:
        fig.suptitle(title, x=0.01, ha="left", fontsize=11)
    fig.tight_layout()
    return fig


def plot_heatmap(grid: pd.DataFrame, *, ax: Any = None, highlight: str | None = None) -> Any:
    """Reps x stage heatmap of conversion relative to the team (1.0 = team; log colour scale)."""
    import matplotlib.colors as mcolors

    ax = _ax(ax, (7, max(3, 0.17 * len(grid) + 1.3)))  # a row per rep, readable when the page fits it to 700 px
    values = grid.to_numpy(float)
    norm = mcolors.TwoSlopeNorm(vmin=0.5, vcenter=1.0, vmax=1.5)
    im = ax.imshow(np.clip(values, 0.5, 1.5), cmap="RdYlGn", norm=norm, aspect="auto")
    ax.set_xticks(range(grid.shape[1]))
    ax.set_xticklabels(list(grid.columns), rotation=20, ha="right")
    ax.set_yticks(range(grid.shape[0]))
    ax.set_yticklabels(list(grid.index), fontsize=8)
    for (i, j), v in np.ndenumerate(values):  # one label per cell of a reps x stages grid
        if np.isfinite(v):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7)
    if highlight is not None and highlight in list(grid.index):
        ax.get_yticklabels()[list(grid.index).index(highlight)].set_fontweight("bold")
    ax.figure.colorbar(im, ax=ax, fraction=0.04, label="conversion vs team (1 = team)")
    ax.set_title("Conversion at each stage relative to the team (shrunk toward the team; best reps on top)",
                 loc="left", fontsize=10)
    return ax


def plot_gaps(summary: pd.DataFrame, *, ax: Any = None) -> Any:
    """Each judged rep-stage: ratio to what the rep's other stages predict; flagged ones in red."""
    ax = _ax(ax, (7, 3.5))
    rows = summary[summary["ratio"].notna()]
    stages = rows.drop_duplicates("stage").sort_values("stage_order")["stage"].tolist()
    pos = rows["stage"].map({s: i for i, s in enumerate(stages)}).to_numpy(float)
    jitter = (pd.util.hash_pandas_object(rows["rep_id"], index=False).to_numpy() % 1000 / 1000 - 0.5) * 0.4
    colours = np.where(rows["flagged"], REP, TEAM)
    ax.scatter(pos + jitter, rows["ratio"], c=colours, s=18)
    ax.axhline(1.0, color="black", lw=0.8)
    ax.set_yscale("log")
    from helpers.reporting.present import plain_log_ticks

    plain_log_ticks(ax.yaxis)  # 0.5, 1, 2 ... not 10^0
    ax.set_xticks(range(len(stages)))
    ax.set_xticklabels(stages)
    _tidy(ax, "Each rep's stage vs what their other stages predict (red: flagged)", "ratio (log scale)")
    return ax


def plot_progress(prog: pd.DataFrame, *, label: str = "", ax: Any = None) -> Any:
    """The focus metric month by month: the rep (with interval) against the team median."""
    ax = _ax(ax, (7, 3))
    x = np.arange(len(prog))
    y = prog["pct"].to_numpy(float)
    err = np.vstack([y - prog["pct_low"].to_numpy(float), prog["pct_high"].to_numpy(float) - y])
    ax.errorbar(x, y, yerr=np.nan_to_num(np.clip(err, 0, None)), color=REP, marker="o", capsize=3, label="this rep")
    ax.plot(x, prog["team_median_pct"].to_numpy(float), color=TEAM, marker="s", label="team median")
    ax.set_xticks(x)
    ax.set_xticklabels(prog["month"].tolist(), rotation=30, ha="right")
    ax.legend(fontsize=8, frameon=False)
    _tidy(ax, f"{label or 'Focus metric'} month by month", "% of previous stage")
    return ax
