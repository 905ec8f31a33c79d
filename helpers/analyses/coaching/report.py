"""Notebook 03 in one call: everything the funnel-coaching page shows, computed from a report context.

``analysis = analyse(report, rep_id="")`` reduces the data in the engine, fits the weak-stage model,
builds the tables and follows up last month's focus; ``analysis.record(report.results)`` writes headline,
figures, findings, caveats and detail tables to the results file. With ``rep_id`` set the page is that rep's private view: the rep keeps
their name, every other rep is "Peer N", and the results file carries only that rep's rows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from helpers.analyses.coaching.model import (
    CoachingError,
    CoachingSettings,
    WeakStageModel,
    anonymise,
    coaching_plan,
    compute_stage_table,
    compute_submetrics,
    evidence_counts,
    fit_weak_stages,
    month_window,
    peel,
    progress,
    rep_month_submetrics,
    team_heatmap,
    to_won_table,
)
from helpers.analyses.coaching.followup import FocusFollowUp, follow_up
from helpers.core.intervals import wilson_interval
from helpers.data.reductions import rep_month_funnel

__all__ = ["CoachingAnalysis", "analyse", "cli_private_page", "publish_private_page", "render_private_page"]

MAX_LAYOUTS = 12  # three-chart layouts drawn on the page (flagged reps beyond this are in the table)


@dataclass
class CoachingAnalysis:
    month: str
    months: list[str]
    history: list[str]
    settings: CoachingSettings
    labels: dict[str, str]
    names: dict[str, str]
    private_rep: str
    funnel: pd.DataFrame
    stage_month: pd.DataFrame
    stage_window: pd.DataFrame
    to_won: pd.DataFrame
    model: WeakStageModel
    submetric_counts: pd.DataFrame
    submetrics: pd.DataFrame
    plan: pd.DataFrame
    heatmap: pd.DataFrame
    small_sample_n: int
    has_leads: bool
    notes: list[str] = field(default_factory=list)
    evidence: pd.DataFrame | None = None  # the counts the model judged (cohort table by default)
    comparison_text: str = ""  # whom each rep is compared with, one sentence for the page
    counting_text: str = ""  # how a lead is counted at a stage, one sentence for the page
    followup: FocusFollowUp | None = None  # last month's focus reviewed (set by :func:`analyse`)

    # ------------------------------------------------------------------ views
    def name(self, rep_id: str) -> str:
        return self.names.get(rep_id, rep_id)

    @property
    def flagged(self) -> pd.DataFrame:
        flags = self.model.flags_
        return flags[flags["flagged"]].sort_values(["p_value", "rep_id"], ignore_index=True)

    def shown_reps(self) -> list[str]:
        """Reps whose three-chart layout the page draws: the private rep, or the flagged reps."""
        if self.private_rep:
            return [self.private_rep]
        return self.flagged["rep_id"].head(MAX_LAYOUTS).tolist()

    def plan_table(self) -> pd.DataFrame:
        """The coaching plan as a manager reads it (private view: only that rep)."""
        plan = self.plan
        if self.private_rep:
            plan = plan[plan["rep_id"] == self.private_rep]
        shown = plan.assign(focus=plan["focus_stage"].map(lambda s: self.labels.get(s, s) if s else "none"))
        shown = shown.sort_values(["focus_stage", "rep"], ascending=[False, True])
        steady = shown[shown["focus"] == "none"]
        if not self.private_rep and len(steady) > 1:  # one row for the reps with nothing to coach, not 30 alike
            names = ", ".join(steady["rep"].astype(str))
            shown = pd.concat([shown[shown["focus"] != "none"], pd.DataFrame([{
                "rep": f"The other {len(steady)} reps", "focus": "none",
                "evidence": f"No stage is weak beyond normal variation: keep the current plan ({names}).",
                "skill": "", "skill_detail": "", "progress": ""}])], ignore_index=True)
        return shown.rename(columns={"rep": "Rep", "focus": "Focus stage", "evidence": "Evidence",
                                     "skill": "Skill to coach", "skill_detail": "Skill numbers",
                                     "progress": "Last month -> this month"})[
            ["Rep", "Focus stage", "Evidence", "Skill to coach", "Skill numbers", "Last month -> this month"]
        ].set_index("Rep").rename_axis(None)

    def heatmap_named(self) -> pd.DataFrame:
        grid = self.heatmap.rename(columns=self.labels)
        grid.index = [self.name(r) for r in grid.index]
        return grid

    def leaderboards(self, top: int = 10) -> pd.DataFrame:
        """Top reps per stage conversion over the evidence window (judged stages only), side by side."""
        s = self.model.summary[self.model.summary["judged"]]
        cols = {}
        for stage, grp in s.groupby("stage_order"):  # a handful of stages
            grp = grp.sort_values(["rate", "rep_id"], ascending=[False, True]).head(top)
            label = self.labels.get(grp["stage"].iloc[0], grp["stage"].iloc[0])
            cols[label] = [f"{self.name(r)} {100 * v:.0f}% (n={n})" for r, v, n in zip(grp["rep_id"], grp["rate"], grp["n"])]
        length = max((len(v) for v in cols.values()), default=0)
        table = pd.DataFrame({k: v + [""] * (length - len(v)) for k, v in cols.items()})
        table.index = np.arange(1, length + 1)
        return table

    def peel_table(self, rep_id: str) -> pd.DataFrame:
        flags = self.model.flags_.set_index("rep_id")
        stage = flags.loc[rep_id, "weak_stage"] if rep_id in flags.index else None
        if not isinstance(stage, str):
            return pd.DataFrame()
        pe = peel(self.submetrics, rep_id=rep_id, stage=stage, pairs=self.settings.sub_metrics)
        pe = pe.assign(look_here=pe["lagging"].map({True: "yes", False: ""}))
        return pe.rename(columns={"label": "Sub-metric", "value": "Rep", "team_median": "Team median",
                                  "team_q1": "Team Q1", "team_q3": "Team Q3", "percentile": "Percentile (100 best)",
                                  "n": "n", "look_here": "Bottom quartile"})[
            ["Sub-metric", "Rep", "Team Q1", "Team median", "Team Q3", "Percentile (100 best)", "n",
             "Bottom quartile"]].round(1).set_index("Sub-metric").rename_axis(None)

    def progress_for(self, rep_id: str) -> tuple[pd.DataFrame, str]:
        flags = self.model.flags_.set_index("rep_id")
        stage = flags.loc[rep_id, "weak_stage"] if rep_id in flags.index else None
        if not isinstance(stage, str):  # no flag: follow the stage with the lowest ratio
            s = self.model.summary
            s = s[(s["rep_id"] == rep_id) & s["ratio"].notna()].sort_values("ratio")
            stage = s["stage"].iloc[0] if len(s) else self.model.summary["stage"].iloc[0]
        prog = progress(self.funnel, rep_id=rep_id, stage=stage, months=self.history,
                        confidence_level=self.settings.confidence_level)
        return prog, self.labels.get(stage, stage)

    def show_layouts(self) -> None:
        """Display, for each shown rep: the evidence sentence, the three charts, the peeled sub-metrics
        and the focus metric month by month (the static version of the widgets)."""
        import matplotlib.pyplot as plt
        from IPython.display import Markdown, display

        from helpers.analyses.coaching.plots import plot_progress, plot_rep_layout
        from helpers.reporting.context import escape_markdown

        reps = self.shown_reps()
        if not reps:
            display(Markdown("No rep has a stage clearly weaker than their others this month: no layout to show."))
        for rep_id in reps:  # flagged reps, at most MAX_LAYOUTS
            display(Markdown(escape_markdown(self.layout_text(rep_id))))
            fig = plot_rep_layout(self.stage_month, self.stage_window, self.to_won, rep_id=rep_id,
                                  title=f"{self.name(rep_id)}: activity in {self.month}, conversion "
                                        f"{self.months[0]} to {self.months[-1]}")
            display(fig)
            plt.close(fig)
            peeled = self.peel_table(rep_id)
            if len(peeled):
                display(peeled)
            prog, label = self.progress_for(rep_id)
            fig2, ax = plt.subplots(figsize=(7, 2.8))
            plot_progress(prog, label=f"{self.name(rep_id)}: {label}", ax=ax)
            fig2.tight_layout()
            display(fig2)
            plt.close(fig2)
        hidden = len(self.flagged) - len(reps)
        if hidden > 0 and not self.private_rep:
            display(Markdown(f"{hidden} more flagged rep(s) are in the coaching plan above."))

    def flag_lines(self) -> str:
        """Deterministic text: the flagged reps' ids and stages (private view: only that rep's line)."""
        flagged = self.flagged[["rep_id", "weak_stage"]]
        if self.private_rep:
            flagged = flagged[flagged["rep_id"] == self.private_rep]
        return flagged.to_string(index=False) if len(flagged) else "no rep flagged"

    # ------------------------------------------------------------------ sentences
    def summary_text(self) -> str:
        flags = self.model.flags_
        judged = int((flags["stages_judged"] >= 2).sum())
        nf = int(flags["flagged"].sum())
        window = f"{self.months[0]} to {self.months[-1]}" if len(self.months) > 1 else self.months[0]
        if self.private_rep:
            row = flags.set_index("rep_id").loc[self.private_rep] if self.private_rep in set(flags["rep_id"]) else None
            who = self.name(self.private_rep)
            if row is None or row["stages_judged"] < 2:
                return f"{who}: too little data from {window} to judge any stage."
            if not row["flagged"]:
                return f"{who}: no stage is weak beyond normal variation ({window})."
            stage = self.labels.get(row["weak_stage"], row["weak_stage"])
            return (f"{who}: coach {stage} this month: {100 * row['rate']:.0f}% against the team's "
                    f"{100 * row['team_rate']:.0f}%, {row['ratio']:.2f}x what {who}'s other stages predict ({window}).")
        if judged == 0:
            return f"No rep has enough leads from {window} to judge a stage (at least {self.settings.min_previous_stage} needed)."
        text = (f"{nf} of {judged} reps have a stage clearly weaker than their other stages ({window}; at most "
                f"{self.settings.false_positive_rate:.0%} of reps without a real weakness are flagged by chance).")
        if nf:
            top = self.flagged.iloc[0]
            text += (f" Strongest evidence: {self.name(top['rep_id'])} at "
                     f"{self.labels.get(top['weak_stage'], top['weak_stage'])} ({top['ratio']:.2f}x).")
        return text

    def layout_text(self, rep_id: str) -> str:
        plan = self.plan.set_index("rep_id")
        if rep_id not in plan.index:
            return f"{self.name(rep_id)}: no funnel data in the window."
        row = plan.loc[rep_id]
        text = f"**{self.name(rep_id)}**: {row['evidence']}."
        if row["skill"]:
            text += f" Skill to coach: {row['skill']} ({row['skill_detail']})."
        if row["progress"]:
            text += f" Last month to this month: {row['progress']}."
        return text

    # ------------------------------------------------------------------ results file
    @property
    def summary(self) -> pd.DataFrame:
        """One row per rep: stages judged, whether a weak stage is flagged, which, and its evidence."""
        return self.model.flags_

    def record(self, recorder: Any) -> None:
        """Headline, key figure, team conversions, coaching findings, caveats, detail tables and last month's
        follow-up into ``recorder`` (``report.results``)."""
        rec = recorder
        flags = self.model.flags_
        judged = int((flags["stages_judged"] >= 2).sum())
        rec.headline(self.summary_text())
        if self.private_rep:
            rec.key_figure("rep_weak_stage", f"{self.name(self.private_rep)}: stage to coach",
                           self._private_focus(), n=None)
        else:
            rec.key_figure("reps_flagged", "Reps with a clearly weak stage", int(flags["flagged"].sum()), unit="reps",
                           n=judged)
        pooled = self.model.summary.groupby("stage", sort=False)[["k", "n"]].sum()
        lo, hi = wilson_interval(pooled["k"], pooled["n"], level=self.settings.confidence_level)
        for (stage, row), low, high in zip(pooled.iterrows(), lo, hi):  # a handful of stages
            rate = 100 * row["k"] / row["n"] if row["n"] else None
            rec.figure(f"team_conversion_{stage}", f"Team conversion to {self.labels.get(stage, stage)} "
                       f"(% of previous stage, {self.months[0]} to {self.months[-1]})", rate, unit="%",
                       n=int(row["n"]), ci=(100 * low, 100 * high) if row["n"] else None,
                       ci_level=self.settings.confidence_level if row["n"] else None)
        shown = self.flagged
        if self.private_rep:
            shown = shown[shown["rep_id"] == self.private_rep]
        for r in shown.itertuples(index=False):  # flagged reps (a handful)
            rec.finding(f"Coach {self.name(r.rep_id)} on {self.labels.get(r.weak_stage, r.weak_stage)}: "
                        f"{100 * r.rate:.0f}% of {int(r.n)} vs the team's {100 * r.team_rate:.0f}%, "
                        f"{r.ratio:.2f}x what the rep's other stages predict "
                        f"({self.settings.confidence_level:.0%} CI {r.ratio_low:.2f}-{r.ratio_high:.2f}).",
                        severity="action")
        for note in self.notes:
            rec.warn(note)
        rec.table("stage_conversions", self._details(self.model.summary))
        rec.table("coaching_plan", self._details(self.plan[["rep_id", "focus_stage", "evidence", "skill",
                                                            "skill_detail", "progress"]]))
        if self.followup is not None:
            self.followup.record(rec)

    def _private_focus(self) -> str:
        flags = self.model.flags_.set_index("rep_id")
        if self.private_rep in flags.index and flags.loc[self.private_rep, "flagged"]:
            return self.labels.get(flags.loc[self.private_rep, "weak_stage"], "")
        return "none"

    def _details(self, frame: pd.DataFrame) -> pd.DataFrame:
        if self.private_rep:
            frame = frame[frame["rep_id"] == self.private_rep]
        return frame.reset_index(drop=True)


def analyse(report: Any, *, rep_id: str = "", previous_results_dir: str = "") -> CoachingAnalysis:
    """Everything notebook 03 shows, for ``report.month`` (and one rep's private view when ``rep_id``), with
    last month's coaching focus followed up (its results file under the configured reports folder, or under
    ``previous_results_dir``)."""
    analysis = _analyse(report, rep_id=rep_id)
    analysis.followup = follow_up(report, analysis, previous_results_dir=previous_results_dir)
    return analysis


def _analyse(report: Any, *, rep_id: str = "") -> CoachingAnalysis:
    config, source = report.config, report.source
    settings = CoachingSettings.from_config(config)
    month = report.month
    months = month_window(month, settings.evidence_months)
    history = month_window(month, settings.progress_months)
    first = min(months[0], history[0])
    after = str(pd.Period(month, freq="M") + 1)
    reps = source.read("reps", columns=["rep_id", "name", "segment"])
    rep_id = (rep_id or "").strip()
    if rep_id and rep_id not in set(reps["rep_id"]):
        raise CoachingError(f"rep_id {rep_id!r} is not in the reps table; pass one of its rep_id values "
                            f"(e.g. {', '.join(reps['rep_id'].head(3))}) or leave it empty for the team view")
    funnel = rep_month_funnel(source, config, start=first, end=after)
    labels = {s.name: s.label for s in config.funnel_stages}
    if funnel.empty:
        raise CoachingError(f"no funnel activity between {first} and {month}: the activities and deals tables hold "
                            f"no rows in those months; pick a month inside the data's period")
    evidence = evidence_counts(source, config, settings, month=month)
    if settings.counts == "cohort":
        counting = _counting_text(evidence, labels, month)
    else:
        counting = ("Conversion is counted as monthly flows: the leads reaching each stage in a month over "
                    "those reaching the stage before it in the same month.")
    model, comparison = fit_weak_stages(evidence, months=months, settings=settings,
                                        rep_segments=dict(zip(reps["rep_id"], reps["segment"])))
    counts = rep_month_submetrics(source, start=first, end=after, sla_hours=config.sla.first_touch_hours)
    submetrics = compute_submetrics(counts, months=months)
    heat = team_heatmap(model, method=settings.shrinkage)
    names = dict(zip(reps["rep_id"], reps["name"]))
    if rep_id:
        names = anonymise(names, keep=rep_id, order=list(heat.index) + sorted(set(names) - set(heat.index)))
    plan = coaching_plan(model, submetrics, funnel, settings=settings, month=month, names=names, labels=labels)
    notes = []
    flags = model.flags_
    thin = flags[flags["stages_judged"] < 2]
    if len(thin):
        who = "this rep" if rep_id and rep_id in set(thin["rep_id"]) else f"{len(thin)} rep(s)"
        if not rep_id or rep_id in set(thin["rep_id"]):
            notes.append(f"Too little data to judge {who}: fewer than two stages had "
                         f"{settings.min_previous_stage} leads at the previous stage in {months[0]} to {months[-1]}; "
                         f"they are not flagged.")
    judged = int((flags["stages_judged"] >= 2).sum())
    if judged < config.small_sample_n:
        notes.append(f"The team comparison rests on {judged} reps (fewer than {config.small_sample_n}): the team's "
                     f"median and quartiles, and the normal variation between stages, are rough.")
    has_leads = source.has("leads")
    if not has_leads:
        notes.append("The leads table is absent: speed to first attempt and segment mix cannot be peeled.")
    if len(months) and months[0] < str(pd.Period(str(funnel["month"].min()), freq="M")):
        notes.append(f"The data start in {funnel['month'].min()}, after the {settings.evidence_months}-month window "
                     f"begins: the stages are judged on fewer months.")
    return CoachingAnalysis(
        month=month, months=months, history=history, settings=settings, labels=labels, names=names,
        private_rep=rep_id, funnel=funnel,
        stage_month=compute_stage_table(funnel, months=[month]), stage_window=compute_stage_table(funnel, months=months),
        to_won=to_won_table(funnel, months=months), model=model, submetric_counts=counts, submetrics=submetrics,
        plan=plan, heatmap=heat, small_sample_n=config.small_sample_n, has_leads=has_leads, notes=notes,
        evidence=evidence, comparison_text=comparison, counting_text=counting)


def _counting_text(cohort: pd.DataFrame, labels: dict[str, str], month: str) -> str:
    """One sentence: conversion counts leads whose outcome is known, with each stage's maturity time."""
    days = cohort.drop_duplicates("stage").sort_values("stage_order")
    parts = ", ".join(f"{labels.get(r.stage, r.stage)} {r.maturity_days:.0f} days"
                      for r in days.itertuples(index=False))
    if not parts:
        return "No lead had been at a stage long enough for its next step to be known."
    return (f"Conversion counts each lead once its outcome is known: leads that reached the previous stage "
            f"at least this long before the end of {month} ({parts}); newer leads are still in their cadence "
            f"and are left out rather than counted as not converting.")


def render_private_page(rep_id: str, *, month: str = "", config_path: str = "", data_dir: str = "",
                        out_dir: str | Path = "reports/private", previous_results_dir: str = "") -> Path:
    """Execute notebook 03 for one rep's private view and write its leadership HTML (no code, no
    analyst cells, peers anonymised) and results JSON to ``out_dir``; returns the HTML path.

    From a shell: ``python -m helpers.analyses.coaching.report R00021 --month 2026-10 --out reports/private``.
    """
    import re

    import nbformat
    import papermill

    from helpers import __version__
    from helpers.paths import KERNEL_NAME, NOTEBOOKS_DIR
    from helpers.reporting.context import REPORT_TITLES
    from helpers.reporting.html import render_report_html

    if not rep_id or not re.fullmatch(r"[A-Za-z0-9_.-]+", rep_id):
        raise CoachingError(f"rep_id {rep_id!r}: pass one rep's id (letters, digits, '_', '-', '.')")
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    stem = f"03_funnel_coaching_{rep_id}"
    executed, results = out / f"{stem}.ipynb", out / f"{stem}.json"
    from helpers.reporting.pipeline import CELL_TIMEOUT_SECONDS, scheduled_notebook

    papermill.execute_notebook(  # as a scheduled run does: analyst-only cells (widgets) left out, cells timed out
        scheduled_notebook(NOTEBOOKS_DIR / "03_funnel_coaching.ipynb"), str(executed), kernel_name=KERNEL_NAME,
        cwd=str(NOTEBOOKS_DIR), progress_bar=False, start_timeout=120, execution_timeout=CELL_TIMEOUT_SECONDS,
        parameters={"month": month, "as_of": "",  # paths resolved here: the kernel runs in notebooks/
                    "config_path": str(Path(config_path).resolve()) if config_path else "",
                    "data_dir": str(Path(data_dir).resolve()) if data_dir else "",
                    "results_path": str(results), "rep_id": rep_id,
                    "previous_results_dir": str(Path(previous_results_dir).resolve()) if previous_results_dir else ""})
    from helpers.core.results import load_results

    res = load_results(results)
    page = render_report_html(nbformat.read(executed, as_version=4), title=REPORT_TITLES["03_funnel_coaching"],
                              organisation=res.organisation, period=f"{res.month} (private page)",
                              footer=f"Sales Science Workbook {__version__} \u00b7 03_funnel_coaching (private)")
    html = out / f"{stem}.html"
    html.write_text(page, encoding="utf-8")
    executed.unlink()  # the executed notebook holds analyst-only outputs with every rep's numbers
    return html


def publish_private_page(rep_id: str, *, month: str = "", config_path: str | Path | None = None,
                         data_dir: str | Path | None = None, out_dir: str | Path | None = None) -> Path:
    """``sales-workbook report --rep R00021``: write ``<reports>/<YYYY-MM>/private/<rep_id>.html`` (and
    ``.json``), peers anonymised. Runs in a staging folder beside the month folders and moves each file in
    with ``os.replace``; the month's published files are never rewritten. ``<reports>`` is ``out_dir`` or
    the configured ``[output] dir``; last month's coaching focus is read from there too."""
    import os
    import shutil
    import tempfile

    from helpers.core.config import load_config
    from helpers.core.results import load_results

    from helpers.reporting.pipeline import FolderLock, clean_stale_temporaries

    config = load_config(config_path)
    root = Path(out_dir).resolve() if out_dir is not None else config.output_dir
    _check_private_month(config, month=month, data_dir=data_dir)  # a month outside the data: exit 2, no kernel
    root.mkdir(parents=True, exist_ok=True)
    lock = FolderLock(root).__enter__()  # a month's report run and a private page never write at once
    clean_stale_temporaries(root)
    staging = Path(tempfile.mkdtemp(prefix=".tmp-private-", dir=root))
    try:
        html = render_private_page(rep_id, month=month or "", config_path=str(config_path or ""),
                                   data_dir=str(data_dir or ""), out_dir=staging, previous_results_dir=str(root))
        results = html.with_suffix(".json")
        final = root / load_results(results).month / "private"
        final.mkdir(parents=True, exist_ok=True)
        os.replace(results, final / f"{rep_id}.json")
        os.replace(html, final / f"{rep_id}.html")  # the page last: it appears whole, with its results beside
        return final / f"{rep_id}.html"
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        lock.__exit__()


def _check_private_month(config: Any, *, month: str, data_dir: str | Path | None) -> None:
    """The monthly report's check of the month against the data (``check_month``), before any kernel starts."""
    from helpers.data.engine import open_source
    from helpers.reporting.pipeline import _resolve_dates, check_month

    if data_dir:
        config = config.with_data_dir(data_dir)
    with open_source(config, data_dir=config.data_dir if data_dir else None) as source:
        resolved, as_of_day = _resolve_dates(source, month=month or None, as_of=None, daily=False)
        check_month(source, month=resolved, as_of=as_of_day)


def cli_private_page(rep_id: str, *, month: str | None, config_path: Path | None, data_dir: Path | None,
                     out_dir: Path | None) -> int:
    """The ``--rep`` branch of ``sales-workbook report``: 0 on success, 2 on bad input (message on stderr)."""
    import sys

    from helpers.core.results import ResultsError

    from helpers.reporting.pipeline import ReportError

    try:
        print(publish_private_page(rep_id, month=month or "", config_path=config_path, data_dir=data_dir,
                                   out_dir=out_dir))
    except (CoachingError, ResultsError, ReportError) as exc:
        print(f"sales-workbook report --rep: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # papermill's PapermillExecutionError carries the notebook's own error
        print(f"sales-workbook report --rep: notebook 03 failed for {rep_id}: "
              f"{getattr(exc, 'ename', type(exc).__name__)}: {getattr(exc, 'evalue', exc)}", file=sys.stderr)
        return 1
    return 0


def _main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m helpers.analyses.coaching.report",
                                     description="Write one rep's private funnel-coaching page (peers anonymised).")
    parser.add_argument("rep_id")
    parser.add_argument("--month", default="")
    parser.add_argument("--config", default="")
    parser.add_argument("--data", default="")
    parser.add_argument("--out", default="reports/private")
    args = parser.parse_args(argv)
    print(render_private_page(args.rep_id, month=args.month, config_path=args.config, data_dir=args.data,
                              out_dir=args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
