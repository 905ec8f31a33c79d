"""Figures of notebook 00 (draw only: the numbers come from :mod:`helpers.analyses.sales_rates.model`)."""
from __future__ import annotations

from typing import Any

import pandas as pd

from helpers.core.intervals import error_bars


def plot_win_rates(win_rates: pd.DataFrame, *, ax: Any = None) -> Any:
    """Win rate per seller with its interval (the ``all`` row as a dashed line), sellers with closed deals."""
    import matplotlib.pyplot as plt

    sellers = win_rates[(win_rates["rep_id"] != "all") & (win_rates["closed"] > 0)]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.18 * max(8, len(sellers)) + 1.2))  # a row per seller, readable at page width
    rate = sellers["win_rate"].to_numpy() * 100
    ax.barh(sellers["name"], rate, xerr=error_bars(rate, sellers["ci_low"] * 100, sellers["ci_high"] * 100),
            color="#2c7fb8", capsize=3)
    total = win_rates.loc[win_rates["rep_id"] == "all", "win_rate"]
    if len(total) and pd.notna(total.iloc[0]):
        ax.axvline(total.iloc[0] * 100, color="#555555", linestyle="--", linewidth=1, label="all sellers")
        ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.invert_yaxis()
    ax.set_xlabel("Closed deals won (%), with 95% interval")
    ax.set_title("Win rate by seller", loc="left", fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_attempts(attempts: pd.DataFrame, *, ax: Any = None) -> Any:
    """Connect rate at each call attempt, with its interval, for attempts some lead reached."""
    import matplotlib.pyplot as plt

    data = attempts[attempts["reached"] > 0]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3))
    rate = data["connect_rate"].to_numpy() * 100
    ax.errorbar(data["attempt"], rate, yerr=error_bars(rate, data["connect_ci_low"] * 100,
                                                       data["connect_ci_high"] * 100),
                marker="o", color="#d95f02", capsize=3)
    ax.set_xlabel("Call attempt (the last one pools later calls)")
    ax.set_ylabel("Connected on it (%)")
    ax.set_title("Conversion by call attempt (95% intervals)", loc="left", fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    return ax
