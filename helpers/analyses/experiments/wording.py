"""How the experiment review reads on the page: verdict and test labels, numbers in the metric's unit, next steps.

Pure text from one row of :attr:`ExperimentReview.summary` (no data access, no statistics).
"""
from __future__ import annotations

import math
from datetime import date
from typing import TYPE_CHECKING, Any

import pandas as pd

from helpers.reporting.present import words

if TYPE_CHECKING:  # pragma: no cover
    from helpers.analyses.experiments.model import ExperimentSettings


VERDICT_LABELS = {"success": "success", "no_effect": "no effect", "worse": "worse than control", "inconclusive": "inconclusive",
                  "pending": "pending", "not_started": "not started", "invalid": "invalid data"}
TEST_LABELS = {"two_proportions": "two proportions (Newcombe interval, z-test)", "welch": "Welch t",
               "rank": "rank test (Mann-Whitney, median shift)", "cluster_robust": "per-rep (cluster-robust) t"}
_MONEY = ("mrr", "revenue", "arr", "price", "value", "dollar", "amount")


def _styled(table: pd.DataFrame):
    """A Styler that shows whole cells and escapes HTML in values and labels (experiment names come from the data)."""
    return table.style.format(escape="html").format_index(escape="html", axis=0).format_index(escape="html", axis=1)


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in str(text).lower()).strip("_")


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and not math.isfinite(v)) or (not isinstance(v, str) and pd.isna(v))


def _fmt(v: Any, r: pd.Series, *, signed: bool = False, level: bool = False) -> str:
    """A value in the metric's units: rates as % (levels) or points (differences), money as $."""
    if _missing(v):
        return "-"
    v = float(v)
    sign = "+" if signed and v > 0 else ("\u2212" if v < 0 else "")
    a = abs(v)
    if r["metric_type"] == "rate":
        return f"{sign}{100 * a:.1f}%" if level else f"{sign}{100 * a:.1f} pts"
    money = any(k in str(r["metric"]).lower() for k in _MONEY)
    if money:
        return f"{sign}${a:,.0f}" if a >= 10 else f"{sign}${a:,.2f}"
    return f"{sign}{a:,.0f}" if a >= 100 else f"{sign}{a:,.3g}"


def _effect_text(r: pd.Series) -> str:
    if _missing(r["effect"]):
        return "-"
    return f"{_fmt(r['effect'], r, signed=True)} ({_fmt(r['ci_low'], r, signed=True)} to {_fmt(r['ci_high'], r, signed=True)})"


def _pair(a: Any, b: Any) -> str:  # noqa: D103
    return "-" if _missing(a) or _missing(b) else f"{int(a):,} / {int(b):,}"


def _pct(v: Any) -> str:
    return "-" if _missing(v) else f"{100 * float(v):.0f}%"


def _p(v: Any) -> str:
    if _missing(v):
        return "-"
    return "< 0.001" if v < 0.001 else f"{v:.3f}"


def _next_step(r: pd.Series) -> str:
    code = r["verdict"]
    if code == "not_started":
        return f"Starts {r['start_date']}."
    if code == "pending":
        if not _missing(r["clusters_needed"]):
            return (f"More {r['unit']}s from the same {_pair(r['clusters_treatment'], r['clusters_control'])} reps "
                    f"cannot settle it: about {int(r['clusters_needed']):,} reps in all would be needed to detect the bar.")
        if r["too_slow"]:
            return (f"At the current pace ({r['units_per_day']:.1f} measured {r['unit']}s a day) it would need more "
                    f"than two years to detect the bar: enlarge it or stop it.")
        if isinstance(r["decision_date"], date):
            return (f"Decision expected {r['decision_date']:%d %b %Y} at the current pace "
                    f"({r['units_per_day']:.1f} measured {r['unit']}s a day).")
        return f"No decision date yet: {r['unit']}s are not being measured fast enough to tell when."
    if code == "inconclusive":
        if not _missing(r["clusters_needed"]):
            return f"Re-run it with about {int(r['clusters_needed']):,} reps in all; more {r['unit']}s per rep will not do."
        if not _missing(r["units_more"]) and r["units_more"] > 0:
            pace = (f", about {int(r['days_more']):,} more days at the pace it ran" if not _missing(r["days_more"])
                    else ", more than two years at the pace it ran" if r["too_slow"] else "")
            return f"Needs about {int(r['units_more']):,} more measured {r['unit']}s{pace}."
        return "Re-run it with more units."
    if code == "success":
        return "Decide the roll-out."
    if code == "no_effect":
        return "Close it."
    if code == "worse":
        return "Stop it now and go back to what control does."
    return "-"


def _note(r: pd.Series, s: ExperimentSettings) -> str:
    head = (f"**{r['name']}** (owner {r['owner']}; {r['unit']}s; metric: {words(r['metric'])}; {r['status']}; "
            f"bar {_fmt(r['success_min_lift'], r, signed=True)}).")
    if r["verdict"] == "not_started":
        return f"{head} Planned: starts {r['start_date']}."
    if _missing(r["effect"]):
        return f"{head} No measured effect yet. {r['verdict_text']}"
    level = int(round(100 * (1 - s.alpha)))
    what = "median " if r["test"] == "rank" else ""
    body = (f" Treatment {what}{_fmt(r['treatment'], r, level=True)} vs control {_fmt(r['control'], r, level=True)} "
            f"({_pair(r['n_treatment'], r['n_control'])} {r['unit']}s): "
            # a rank test's lift is the typical treatment-minus-control gap (Hodges-Lehmann), not the medians' difference
            + ("typical gap between a treatment and a control " + str(r['unit']) + " "
               if r["test"] == "rank" else "lift ")
            + f"{_fmt(r['effect'], r, signed=True)}, "
            f"{level}% interval {_fmt(r['ci_low'], r, signed=True)} to {_fmt(r['ci_high'], r, signed=True)} "
            f"(p {_p(r['p_value'])}; {TEST_LABELS.get(r['test'], r['test'])}).")
    power = f" With these units the test had {_pct(r['power'])} power to detect the bar" if not _missing(r["power"]) else ""
    if power:
        power += (f"; the smallest lift it could reliably detect is {_fmt(r['mde'], r, signed=True)}."
                  if not _missing(r["mde"]) else "; no lift within the metric's range could be reliably detected.")
    label = VERDICT_LABELS.get(r["verdict"], r["verdict"])
    reading = " Interim reading, not a verdict." if r["verdict"] == "pending" else ""
    return f"{head}{body}{power} **Verdict: {label}.** {r['verdict_text']}{reading} {_next_step(r)}"
