"""Figures of notebook 07: draw only (``plot_x(data, *, ax=None) -> Axes``), no computing, no plt.show."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from helpers.core.intervals import error_bars

__all__ = ["plot_backtest", "plot_capacity", "plot_forecast", "plot_lead_load", "plot_lead_mix",
           "plot_system_or_people"]

KIND_COLOURS = {"seed": "#27ae60", "net": "#2980b9", "spear": "#c0392b", "unknown": "#95a5a6"}


def _axes(ax: Any, size: tuple[float, float] = (8, 3.5)) -> Any:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=size)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def _money(ax: Any) -> None:
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"${v:,.0f}"))


def plot_lead_mix(monthly: pd.DataFrame, *, ax: Any = None) -> Any:
    """Leads per month by kind (stacked bars): seeds, nets and spears."""
    from helpers.analyses.predictable_revenue.model import KIND_LABELS
    from helpers.reporting.present import legend_outside

    ax = _axes(ax)
    wide = monthly.pivot_table(index="month", columns="lead_kind", values="leads", aggfunc="sum", fill_value=0)
    bottom = np.zeros(len(wide))
    for kind in wide.columns:
        ax.bar(wide.index, wide[kind], bottom=bottom, label=KIND_LABELS.get(kind, str(kind)),
               color=KIND_COLOURS.get(kind, "#7f8c8d"))
        bottom += wide[kind].to_numpy()
    ax.set_ylabel("Leads created")
    ax.tick_params(axis="x", rotation=45)
    legend_outside(ax)  # beside the bars, never on top of them
    ax.set_title("Leads per month: seeds, nets and spears", loc="left", fontsize=11)
    return ax


def plot_lead_load(rep_months: pd.DataFrame, *, ceiling: float, ax: Any = None) -> Any:
    """Each rep-month's lead load against its conversion, with the book's ceiling."""
    ax = _axes(ax)
    rate = rep_months["won"] / rep_months["leads"].where(rep_months["leads"] > 0)
    ax.scatter(rep_months["leads"], rate * 100, s=12, alpha=0.5, color="#2c3e50")
    ax.axvline(ceiling, color="#c0392b", linestyle="--", linewidth=1)
    ax.text(ceiling, ax.get_ylim()[1], f" ceiling {ceiling:.0f}", color="#c0392b", va="top", fontsize=8)
    ax.set_xlabel("Leads handled in the month")
    ax.set_ylabel("Leads won (%)")
    ax.set_title("Lead load and conversion, one dot per rep-month", loc="left", fontsize=11)
    return ax


def plot_system_or_people(system: pd.DataFrame, *, under_bar: float, failing_bar: float, ax: Any = None) -> Any:
    """Share of reps under quota and failing per quarter, with their intervals and the book's bars."""
    ax = _axes(ax)
    x = np.arange(len(system))
    w = 0.38
    ax.bar(x - w / 2, system["under_share"] * 100, w, label="under quota", color="#e67e22",
           yerr=error_bars(system["under_share"] * 100, system["under_low"] * 100, system["under_high"] * 100))
    ax.bar(x + w / 2, system["failing_share"] * 100, w, label="failing", color="#c0392b",
           yerr=error_bars(system["failing_share"] * 100, system["failing_low"] * 100, system["failing_high"] * 100))
    ax.axhline(under_bar * 100, color="#e67e22", linestyle="--", linewidth=1)
    ax.axhline(failing_bar * 100, color="#c0392b", linestyle=":", linewidth=1)
    ax.set_xticks(x)
    ax.set_xticklabels(system["quarter"])
    ax.set_ylabel("Share of reps (%)")
    ax.legend(frameon=False, fontsize=8)
    ax.set_title("System or people: reps under quota and failing", loc="left", fontsize=11)
    return ax


def plot_forecast(data: dict[str, pd.DataFrame], *, ax: Any = None) -> Any:
    """Past bookings and the forecast with its 80% and 95% prediction intervals (a fan)."""
    ax = _axes(ax)
    history, f = data.get("history"), data["forecast"]
    if history is not None and len(history):
        ax.plot(history["month"], history["bookings"], marker="o", color="#2c3e50", label="booked")
    ax.fill_between(f["month"], f["low_95"], f["high_95"], color="#2980b9", alpha=0.15, label="95% interval")
    ax.fill_between(f["month"], f["low_80"], f["high_80"], color="#2980b9", alpha=0.3, label="80% interval")
    ax.plot(f["month"], f["forecast"], marker="o", color="#2980b9", linestyle="--", label="forecast")
    _money(ax)
    ax.tick_params(axis="x", rotation=45)
    ax.set_ylabel("New MRR booked")
    ax.legend(frameon=False, fontsize=8)
    ax.set_title("Bookings: history and forecast", loc="left", fontsize=11)
    return ax


def plot_backtest(backtest: pd.DataFrame, *, ax: Any = None) -> Any:
    """Each past month's forecast (made a month earlier) with its 80% interval, the naive one, and what happened."""
    ax = _axes(ax)
    x = backtest["month"]
    ax.errorbar(x, backtest["forecast"], yerr=error_bars(backtest["forecast"], backtest["low_80"],
                                                         backtest["high_80"]),
                fmt="o", color="#2980b9", capsize=3, label="forecast (80% interval)")
    ax.plot(x, backtest["actual"], "s", color="#2c3e50", label="actual")
    ax.plot(x, backtest["naive"], "x", color="#7f8c8d", label="naive (3-month mean)")
    _money(ax)
    ax.tick_params(axis="x", rotation=45)
    ax.legend(frameon=False, fontsize=8)
    ax.set_title("Backtest: forecasts made a month ahead vs what was booked", loc="left", fontsize=11)
    return ax


def plot_capacity(plan: pd.DataFrame, *, ax: Any = None) -> Any:
    """Needed vs now for each line of the capacity plan (leads, reps, closers), as a ratio of now."""
    ax = _axes(ax)
    p = plan[plan["now"].notna() & (plan["now"] > 0)]
    ratio = p["needed"] / p["now"]
    colours = ["#c0392b" if r > 1 else "#27ae60" for r in ratio]
    ax.barh(p["item"], ratio, color=colours)
    ax.axvline(1, color="#2c3e50", linewidth=1)
    ax.set_xlabel("Needed / now")
    ax.set_title("What the goal needs, against what the team has", loc="left", fontsize=11)
    return ax
