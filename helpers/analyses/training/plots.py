"""Plots of notebook 02 (do training scores predict success?), drawn from the analysis's tables.

Every ``plot_x(data, *, ax=None) -> Axes`` draws on its Axes only (a new figure when ``ax`` is
None) and never calls ``plt.show()``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from helpers.core import intervals

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from helpers.analyses.training.model import PredictiveComparison

__all__ = ["plot_certification_stages", "plot_comparison", "plot_correlations", "plot_exam_bands",
           "plot_exam_vs_success", "plot_predicted_vs_actual"]


def plot_correlations(corr: pd.DataFrame, *, metric: str | None = None, method: str = "pearson",
                      labels: Mapping[str, str] | None = None, ax: Axes | None = None) -> Axes:
    """Forest plot: each assessment's correlation with one metric, with its interval."""
    import matplotlib.pyplot as plt

    from helpers.reporting.present import figure_height, label

    rows = corr[corr["method"] == method]
    if metric is not None:
        rows = rows[rows["metric"] == metric]
    rows = rows.iloc[::-1]
    # sized for the rows drawn (one method, one metric), not for every row of ``corr``
    ax = ax if ax is not None else plt.subplots(figsize=(7, figure_height(len(rows), per_row=0.45)))[1]
    y = np.arange(len(rows))
    ax.errorbar(rows["r"], y, xerr=intervals.error_bars(rows["r"], rows["ci_low"], rows["ci_high"]), fmt="o",
                color="#2c3e50", ecolor="#7f8c8d", capsize=3)
    names = [(labels or {}).get(a) or label(a) for a in rows["assessment"]]
    ax.set_yticks(y, [f"{a} (n={n})" for a, n in zip(names, rows["n"])])
    ax.axvline(0, color="#c0392b", lw=1, ls="--")
    ax.set_xlim(-1, 1)
    ax.set_xlabel(f"{method.capitalize()} correlation with {(labels or {}).get(metric, metric) if metric else 'success'}"
                  " (bars: confidence interval)")
    ax.set_title("How closely each training score tracks success", loc="left", fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_comparison(comparison: PredictiveComparison, *, ax: Axes | None = None) -> Axes:
    """Cross-validated R² of each predictor set, with intervals (higher predicts new hires better)."""
    import matplotlib.pyplot as plt

    ax = ax if ax is not None else plt.subplots(figsize=(7, 3))[1]
    s = comparison.summary
    colours = {"hiring": "#95a5a6", "training": "#2980b9", "both": "#8e44ad"}
    y = np.arange(len(s))[::-1]
    ax.barh(y, s["cv_r2"], color=[colours[m] for m in s["model"]], height=0.6)
    ax.errorbar(s["cv_r2"], y, xerr=intervals.error_bars(s["cv_r2"], s["ci_low"], s["ci_high"]), fmt="none",
                ecolor="#2c3e50", capsize=4)
    ax.set_yticks(y, [f"{label} ({k} scores)" for label, k in zip(s["label"], s["predictors"])])
    ax.axvline(0, color="#2c3e50", lw=0.8)
    ax.set_xlabel("Share of differences in success predicted for hires the model has not seen (cross-validated R²)")
    ax.set_title(f"Which scores predict success (n = {comparison.n_} hires)", loc="left", fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_certification_stages(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Heat map: certification (rows) x funnel stage conversion (columns); paired cells outlined."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    grid = table.pivot(index="assessment", columns="stage_label", values="r")
    grid = grid.reindex(index=list(dict.fromkeys(table["assessment"])),
                        columns=list(dict.fromkeys(table["stage_label"])))
    ax = ax if ax is not None else plt.subplots(figsize=(1.4 * grid.shape[1] + 3, 0.6 * grid.shape[0] + 1.5))[1]
    ax.imshow(grid.to_numpy(dtype=float), cmap="RdBu", vmin=-1, vmax=1, aspect="auto")
    ax.set_xticks(range(grid.shape[1]), [f"into {c}" for c in grid.columns], rotation=20, ha="right")
    from helpers.reporting.present import label

    ax.set_yticks(range(grid.shape[0]), [label(a) for a in grid.index])
    values = grid.to_numpy(dtype=float)
    for (i, j), v in np.ndenumerate(values):
        ax.text(j, i, "" if np.isnan(v) else f"{v:+.2f}", ha="center", va="center", fontsize=9)
    paired = table[table["paired"]]
    for cert, label in zip(paired["assessment"], paired["stage_label"]):
        i, j = grid.index.get_loc(cert), grid.columns.get_loc(label)
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, lw=2.5, ec="#2c3e50"))
    ax.set_title("Certification vs stage conversion (outlined: the stage it covers)",
                 loc="left", fontsize=11)
    return ax


def plot_exam_bands(bands: pd.DataFrame, *, cutoff: float | None = None, metric_label: str | None = None,
                    ax: Axes | None = None) -> Axes:
    """Share of hires reaching the median success, by exam band, with intervals and the pass mark."""
    import matplotlib.pyplot as plt

    ax = ax if ax is not None else plt.subplots(figsize=(7, 3.2))[1]
    x = np.arange(len(bands))
    colours = ["#2980b9" if j else "#bdc3c7" for j in bands["judged"]]
    ax.bar(x, bands["share"].fillna(0), color=colours, width=0.6)
    shown = bands["n"] > 0
    ax.errorbar(x[shown], bands.loc[shown, "share"],
                yerr=intervals.error_bars(bands.loc[shown, "share"], bands.loc[shown, "share_ci_low"],
                                          bands.loc[shown, "share_ci_high"]),
                fmt="none", ecolor="#2c3e50", capsize=4)
    ax.axhline(0.5, color="#7f8c8d", ls=":", lw=1)
    ax.set_xticks(x, [f"{b}\n(n={n})" for b, n in zip(bands["band"], bands["n"])])
    if cutoff is not None:
        position = int(np.searchsorted(bands["low"].to_numpy(), cutoff, side="right")) - 1
        ax.axvline(position - 0.5, color="#c0392b", lw=2)
        ax.text(position - 0.45, 0.97, f"pass mark {cutoff:g}", color="#c0392b", va="top", fontsize=9)
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_ylabel(f"hires reaching the median\n{metric_label or bands.attrs.get('metric', 'success')}")
    ax.set_xlabel("Final-exam score band (grey: too few hires to judge)")
    ax.set_title("Success by final-exam score", loc="left", fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_predicted_vs_actual(predictions: pd.DataFrame, *, label: str, ax: Axes | None = None) -> Axes:
    """Out-of-fold predictions (hires the model had not seen) against what each hire achieved.

    ``predictions`` has a column ``actual`` and one per predictor set (``hiring``, ``training``);
    ``label`` names the success metric.
    """
    import matplotlib.pyplot as plt

    from helpers.analyses.training.model import PredictiveComparison

    ax = ax if ax is not None else plt.subplots(figsize=(5.5, 4.5))[1]
    pred = predictions
    colours = {"hiring": "#95a5a6", "training": "#2980b9"}
    for model in [m for m in ("hiring", "training") if m in pred.columns]:  # two series
        ax.scatter(pred[model], pred["actual"], s=22, color=colours[model], alpha=0.8,
                   label=PredictiveComparison.MODEL_NAMES[model])
    lims = [min(pred.min().min(), 0), pred.max().max()]
    ax.plot(lims, lims, color="#2c3e50", lw=0.8, ls="--")
    ax.set_xlabel(f"predicted {label}")
    ax.set_ylabel(f"actual {label}")
    ax.set_title("Predicted before the fact vs actual, per hire", loc="left", fontsize=11)
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_exam_vs_success(frame: pd.DataFrame, *, score: str, metric: str, median: float, cutoff: float | None,
                         label: str, ax: Axes | None = None) -> Axes:
    """Each hire's exam score (column ``score``) against their success (column ``metric``), with the
    median of all hires and the pass mark ``cutoff`` (None: no line)."""
    import matplotlib.pyplot as plt

    ax = ax if ax is not None else plt.subplots(figsize=(6.5, 3.8))[1]
    ax.scatter(frame[score], frame[metric], s=22, color="#2980b9")
    ax.axhline(median, color="#7f8c8d", ls=":", lw=1, label="median of all hires")
    if cutoff is not None:
        ax.axvline(cutoff, color="#c0392b", lw=2, label=f"pass mark {cutoff:g}")
    ax.set_xlabel("final-exam score (0-100)")
    ax.set_ylabel(label)
    ax.set_title("Final-exam score and later success, one dot per hire", loc="left", fontsize=11)
    ax.legend(frameon=False, fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    return ax
