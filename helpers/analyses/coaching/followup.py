"""Notebook 03, "did last month's coaching move it?": read last month's coaching focus per rep from the
previous monthly results file and compare the focus stage's conversion then and now, against the team.

The previous results file is ``<reports>/<YYYY-MM of the month before>/03_funnel_coaching.json``, where
``<reports>`` is the configured ``[output] dir`` or the notebook parameter ``previous_results_dir``
(a reports folder holding ``YYYY-MM/`` folders, or the previous month's folder itself). Its detail table
``coaching_plan`` carries ``rep_id`` and ``focus_stage`` (empty: no focus). When the file is absent (first
run, or a run by hand without reports) the section says so and the page keeps the current behaviour.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from helpers.analyses.coaching.model import change_test, progress

__all__ = ["FocusFollowUp", "follow_up", "focus_review", "load_previous_focus", "previous_results_file"]

RESULTS_NAME = "03_funnel_coaching.json"
PLAN_TABLE = "coaching_plan"


def previous_results_file(month: str, *, output_dir: str | Path, override: str | Path = "") -> Path:
    """Where last month's results file of notebook 03 would be, for the report of ``month``.

    ``override`` (the notebook parameter ``previous_results_dir``) wins over ``output_dir``; either may be
    a reports folder (``<dir>/<previous month>/03_funnel_coaching.json``) or the previous month's folder
    itself (``<dir>/03_funnel_coaching.json``)."""
    base = Path(override).expanduser() if str(override).strip() else Path(output_dir)
    previous = str(pd.Period(month, freq="M") - 1)
    if (base / RESULTS_NAME).is_file():
        return base / RESULTS_NAME
    return base / previous / RESULTS_NAME


def load_previous_focus(path: str | Path, *, month: str) -> tuple[pd.DataFrame | None, str]:
    """Last month's focus per rep (columns ``rep_id``, ``focus_stage``, ``skill``) from a results file, or
    ``None`` with a sentence saying why not (absent, unreadable, another month, no plan table)."""
    from helpers.core.results import ResultsError, load_results

    path = Path(path)
    previous = str(pd.Period(month, freq="M") - 1)
    if not path.is_file():
        return None, (f"No results file from {previous} at {path}: this is the first monthly run here (or a run by "
                      f"hand); last month's coaching focus cannot be followed up.")
    try:
        res = load_results(path)
    except ResultsError as exc:
        return None, f"Last month's results file could not be read ({exc}); follow-up skipped."
    if res.month != previous:
        return None, (f"{path} is the report of {res.month or 'an unknown month'}, not of {previous}: "
                      f"follow-up skipped.")
    rows = res.details.get(PLAN_TABLE)
    frame = pd.DataFrame(rows if isinstance(rows, list) else [])
    if frame.empty or not {"rep_id", "focus_stage"} <= set(frame.columns):
        return None, (f"{path} has no '{PLAN_TABLE}' table with rep_id and focus_stage (written by an older "
                      f"version?): follow-up skipped.")
    frame["focus_stage"] = frame["focus_stage"].fillna("").astype(str)
    frame["skill"] = frame["skill"].fillna("").astype(str) if "skill" in frame else ""
    return frame[["rep_id", "focus_stage", "skill"]].reset_index(drop=True), ""


def focus_review(funnel: pd.DataFrame, previous: pd.DataFrame, *, month: str, confidence_level: float = 0.95,
                 names: dict[str, str] | None = None, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per rep who had a focus stage last month: that stage's conversion (% of previous stage)
    last month and this month with n, the two-sided pooled two-proportion z-test of the change, the team
    median's change over the same two months, and a sentence. Stages no longer configured are said so."""
    names, labels = names or {}, labels or {}
    months = [str(pd.Period(month, freq="M") - 1), month]
    stages = set(funnel["stage"])
    rows = []
    focus = previous[previous["focus_stage"].astype(str) != ""]
    for rec in focus.itertuples(index=False):  # one row per rep with a focus (tens)
        label = labels.get(rec.focus_stage, rec.focus_stage)
        row: dict[str, Any] = {"rep_id": rec.rep_id, "rep": names.get(rec.rep_id, rec.rep_id),
                               "focus_stage": rec.focus_stage, "skill": rec.skill, "before_pct": np.nan,
                               "n_before": 0, "after_pct": np.nan, "n_after": 0, "change_points": np.nan,
                               "team_change_points": np.nan, "vs_team_points": np.nan, "p_value": np.nan,
                               "moved": ""}
        if rec.focus_stage not in stages:
            row["verdict"] = f"{label} is not a funnel stage in this month's data or configuration: cannot compare."
            rows.append(row)
            continue
        ch = change_test(progress(funnel, rep_id=rec.rep_id, stage=rec.focus_stage, months=months,
                                  confidence_level=confidence_level))
        row.update(n_before=ch["n_before"], n_after=ch["n_after"], team_change_points=ch["team_change"])
        if ch["n_before"] and ch["n_after"]:
            before, after = 100 * _capped(funnel, rec.rep_id, rec.focus_stage, months[0]), \
                100 * _capped(funnel, rec.rep_id, rec.focus_stage, months[1])
            up = after > before
            moved = "within noise" if not ch["p_value"] < 1 - confidence_level else ("up" if up else "down")
            row.update(before_pct=before, after_pct=after, change_points=after - before, p_value=ch["p_value"],
                       moved=moved, vs_team_points=(after - before) - ch["team_change"])
            team = f"team median {ch['team_change']:+.0f} points" if np.isfinite(ch["team_change"]) else "team n/a"
            what = {"up": "improved beyond noise", "down": "fell beyond noise",
                    "within noise": "no change beyond noise"}[moved]
            row["verdict"] = (f"{label}: {before:.0f}% (n={ch['n_before']}) -> {after:.0f}% (n={ch['n_after']}), "
                              f"{what} (p={ch['p_value']:.2f}); {team}")
        else:
            row["verdict"] = f"{label}: no leads at the previous stage in {months[0] if not ch['n_before'] else months[1]}"
        rows.append(row)
    cols = ["rep_id", "rep", "focus_stage", "skill", "before_pct", "n_before", "after_pct", "n_after",
            "change_points", "team_change_points", "vs_team_points", "p_value", "moved", "verdict"]
    return pd.DataFrame(rows, columns=cols)


def _capped(funnel: pd.DataFrame, rep_id: str, stage: str, month: str) -> float:
    """k/n for one rep, stage and month with k capped at n (the proportion the change test uses)."""
    r = funnel[(funnel["rep_id"] == rep_id) & (funnel["stage"] == stage) & (funnel["month"] == month)]
    n = float(r["previous_stage_leads"].fillna(0).sum())
    return min(float(r["leads"].sum()), n) / n if n else float("nan")


@dataclass
class FocusFollowUp:
    """Last month's focus per rep, then vs now; ``review`` is None when there was nothing to read."""

    month: str
    path: Path
    review: pd.DataFrame | None
    note: str = ""
    private_rep: str = ""
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def previous_month(self) -> str:
        return str(pd.Period(self.month, freq="M") - 1)

    def rows(self) -> pd.DataFrame:
        if self.review is None:
            return pd.DataFrame()
        r = self.review
        return r[r["rep_id"] == self.private_rep].reset_index(drop=True) if self.private_rep else r

    def summary_text(self) -> str:
        if self.review is None:
            reason = self.note or "Last month's results are not in the reports folder, so its focus cannot be followed up."
            return (reason + " The coaching plan above shows each rep's focus stage last month and this month "
                    "instead.")
        r = self.rows()
        if r.empty:
            who = "This rep" if self.private_rep else "No rep"
            return f"{who} had a coaching focus in {self.previous_month}: nothing to follow up."
        judged = r[r["moved"] != ""]
        up, down = int((judged["moved"] == "up").sum()), int((judged["moved"] == "down").sum())
        if self.private_rep:
            return f"Last month's focus, {self.month} vs {self.previous_month}: {r['verdict'].iloc[0]}."
        return (f"{len(r)} rep(s) had a coaching focus in {self.previous_month}. At that stage, {up} improved beyond "
                f"noise, {down} fell beyond noise and {len(judged) - up - down} did not change beyond noise in "
                f"{self.month}" + (f"; {len(r) - len(judged)} had no leads to compare" if len(judged) < len(r) else "")
                + ". One month is short: read it with the progress chart.")

    def table(self) -> pd.DataFrame | None:
        """The follow-up rows as the page shows them; None when there is nothing to follow up (the sentence says why)."""
        r = self.rows()
        if r.empty:
            return None
        shown = r.assign(focus=r["focus_stage"].map(lambda s: self.labels.get(s, s)))
        return shown.rename(columns={
            "rep": "Rep", "focus": "Last month's focus", "skill": "Skill agreed", "before_pct": f"{self.previous_month} %",
            "after_pct": f"{self.month} %", "change_points": "Change (points)",
            "team_change_points": "Team median change", "p_value": "p", "verdict": "Verdict"})[
            ["Rep", "Last month's focus", "Skill agreed", f"{self.previous_month} %", "n_before", f"{self.month} %",
             "n_after", "Change (points)", "Team median change", "p", "Verdict"]].round(2).set_index("Rep").rename_axis(None)

    def record(self, recorder: Any) -> None:
        """The follow-up table (or why there is none) into ``recorder`` (``report.results``)."""
        rec = recorder
        if self.review is None:
            rec.warn(self.note)
            return
        rec.table("focus_follow_up", self.rows().drop(columns=["rep"]))


def follow_up(report: Any, analysis: Any, *, previous_results_dir: str = "") -> FocusFollowUp:
    """Read last month's coaching focus (configured reports folder, or ``previous_results_dir``) and review it."""
    path = previous_results_file(report.month, output_dir=report.config.output_dir, override=previous_results_dir)
    previous, note = load_previous_focus(path, month=report.month)
    review = None
    if previous is not None:
        review = focus_review(analysis.funnel, previous, month=report.month,
                              confidence_level=analysis.settings.confidence_level, names=analysis.names,
                              labels=analysis.labels)
    return FocusFollowUp(month=report.month, path=path, review=review, note=note, private_rep=analysis.private_rep,
                         labels=analysis.labels)
