"""A synthetic sales organisation with planted truth: ``sales-workbook sample``.

"Northwind Inbound" sells a marketing SaaS product to small businesses, mid-market and
enterprise companies through inbound account executives (AEs), with post-sale consultants
keeping customers. The generator simulates the company month by month and writes every table
of the data contract, plus ``ground_truth.json``: the facts it planted, so that every analysis
can be checked against a known answer.

What a sales leader can learn from the sample (and what the notebooks must recover):

* Hiring: only some scorecard traits drive later performance (coachability, curiosity and
  intelligence strongly, work ethic mildly, prior success weakly); aggressiveness, which the
  interviewers favour, drives nothing.
* Training: the final exam and stage certifications predict performance better than hiring
  scores do.
* Coaching: some reps have one weak funnel stage (connect, discovery, demo or close).
* Compensation: a few "pressure" sellers book a lot and lose a lot of it to churn; churn also
  differs by post-sale consultant and by billing term.
* Lead value: demo requests convert far better than ebook downloads; the sales team breaks the
  lead SLA on a recorded set of leads.
* Experiments: GPCT qualifying really raises the close rate; a voicemail experiment does
  nothing; a pricing experiment has a real lift smaller than its pre-registered bar.

Other truths than these, for testing the analyses on organisations nobody tuned them to, are opt-in
switches of :func:`generate_org` (``no_effects``, ``hires``, ``segment_cadence``, ``old_weak_stage``,
``experiment_harm``, ``weak_stages``; ``sales-workbook sample --no-effects`` etc.), each recorded in
``ground_truth.json``; see docs/sample-org.md. Off, the sample keeps every byte.

The whole simulation is vectorised with numpy; a Python loop runs once per month only, and each
month's tables are appended to the files at once, so thousands of reps fit in bounded memory.

The planted truth is in :mod:`helpers.data.sample_truth`, the once-per-organisation steps in
:mod:`helpers.data.sample_org`, the monthly simulation in :mod:`helpers.data.sample_month`; import
the public names from here.
"""
from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from helpers.core.config import SlaRules, load_config
from helpers.core.contract import SEGMENTS, TABLES
from helpers.paths import DEFAULT_CONFIG_FILE, SAMPLE_DATA_DIR
from helpers.data.sample_io import FORMATS, SampleFormatError, TableWriter, remove_existing_tables
from helpers.data.sample_month import _MonthSteps
from helpers.data.sample_org import _OrgSteps
from helpers.data.sample_revenue import _RevenueSteps
from helpers.data.sample_truth import (DAY, DEFAULT_END_MONTH, DEFAULT_FORMAT, DEFAULT_MONTHS, DEFAULT_REPS,
                                       DEFAULT_SEED, GROUND_TRUTH_FILE, HARM_CLOSE_MULTIPLIER, OFFERS,
                                       OLD_WEAK_STAGE_RECENT_MONTHS, Plants, SampleError, WARMUP_MONTHS, _date)

__all__ = ["generate_org", "cli_sample", "SampleError", "DEFAULT_SEED", "DEFAULT_REPS", "DEFAULT_MONTHS",
           "DEFAULT_END_MONTH", "DEFAULT_FORMAT", "GROUND_TRUTH_FILE"]


# ============================================================================ the generator
class _Generator(_OrgSteps, _MonthSteps, _RevenueSteps):
    def __init__(self, out_dir: Path, *, seed: int, reps: int, months: int, fmt: str, end_month: str,
                 config_path: Path | None, weak_stages: bool = True, revenue_roles: bool = False,
                 no_effects: bool = False, hires: int | None = None, segment_cadence: bool = False,
                 old_weak_stage: bool = False, experiment_harm: bool = False):
        if reps < 6:
            raise SampleError(f"reps={reps}: the sample needs at least 6 quota-carrying reps "
                              f"(a few per segment, a leaver and a new hire); pass --reps 6 or more")
        if months < 2:
            raise SampleError(f"months={months}: the sample needs at least 2 months of history; pass --months 2 or more")
        if fmt not in FORMATS:
            raise SampleFormatError(f"format {fmt!r} is not one the workbook reads: use one of {', '.join(FORMATS)}")
        if hires is not None and not 1 <= int(hires) <= reps:
            raise SampleError(f"hires={hires}: between 1 and reps ({reps}) of the reps can have hiring scorecards; "
                              f"pass --hires 1 to {reps}, or leave it out for every rep")
        if old_weak_stage and months < OLD_WEAK_STAGE_RECENT_MONTHS + 3:
            raise SampleError(f"months={months}: a weak stage only in leads older than the last "
                              f"{OLD_WEAK_STAGE_RECENT_MONTHS} months needs at least {OLD_WEAK_STAGE_RECENT_MONTHS + 3} "
                              f"months of history; pass --months {OLD_WEAK_STAGE_RECENT_MONTHS + 3} or more")
        if no_effects and (old_weak_stage or experiment_harm or revenue_roles):
            raise SampleError("no_effects plants no effect anywhere; it cannot be combined with old_weak_stage, "
                              "experiment_harm or revenue_roles, which plant effects (drop one of them)")
        try:
            end = np.datetime64(end_month, "M")
        except ValueError:
            raise SampleError(f"end_month={end_month!r} is not a month: write it as YYYY-MM, e.g. 2026-10") from None
        self.out_dir = Path(out_dir)
        self.seed, self.n_reps, self.months, self.fmt = int(seed), int(reps), int(months), fmt
        self.cfg = load_config(config_path if config_path is not None else DEFAULT_CONFIG_FILE)
        self.sla: SlaRules = self.cfg.sla
        self.traits = self.cfg.traits
        self.rng = np.random.default_rng(self.seed)
        self.end_month = end
        self.start_month = end - (self.months - 1)
        self.month_starts = np.arange(self.start_month - WARMUP_MONTHS, end + 2).astype("datetime64[s]").astype(np.int64)
        self.start_s = int(self.start_month.astype("datetime64[s]").astype(np.int64))
        self.as_of_excl = int((end + 1).astype("datetime64[s]").astype(np.int64))  # nothing at or after this
        self.as_of_day = self.as_of_excl // DAY - 1  # last day with data
        self.start_day = self.start_s // DAY
        self.attempts_by_seg = np.array([self.sla.follow_up_attempts[s] for s in SEGMENTS])
        self.counters = {"lead": 1, "activity": 1, "event": 1, "deal": 1, "customer": 1}
        self.truth: dict[str, Any] = {}
        self.weak_stages = bool(weak_stages)  # False: no planted weak funnel stage (a null org for tests)
        self.revenue_roles = bool(revenue_roles)  # True: notebook 07's roles, lead kinds, load effect, seasonality
        # other truths than the sample's (each off by default; off keeps every byte of the sample)
        self.no_effects = bool(no_effects)  # nothing has an effect anywhere (Plants.none())
        self.plants = Plants.none() if self.no_effects else Plants()
        if experiment_harm:
            self.plants = replace(self.plants, gpct_close_multiplier=HARM_CLOSE_MULTIPLIER)
        self.experiment_harm = bool(experiment_harm)
        self.n_hires = None if hires is None else int(hires)  # only the latest hires have scorecards
        self.segment_cadence = bool(segment_cadence)  # segments differ in connect rate and call spacing
        self.old_weak_stage = bool(old_weak_stage)  # the weak stages hold only in old leads
        self.old_weak_before_s = int((end - (OLD_WEAK_STAGE_RECENT_MONTHS - 1)).astype("datetime64[s]").astype(np.int64))

    def switches(self) -> dict[str, Any]:
        """The other-truth switches that are on, for ``ground_truth.json``'s ``generator`` (none: nothing added)."""
        on: dict[str, Any] = {}
        if not self.weak_stages:
            on["weak_stages"] = False
        if self.no_effects:
            on["no_effects"] = True
        if self.n_hires is not None:
            on["hires"] = self.n_hires
        if self.segment_cadence:
            on["segment_cadence"] = True
        if self.old_weak_stage:
            on["old_weak_stage"] = True
        if self.experiment_harm:
            on["experiment_harm"] = True
        return on

    # ------------------------------------------------------------------ run
    def run(self) -> dict[str, Any]:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        remove_existing_tables(self.out_dir)
        writers = {name: TableWriter(self.out_dir, name, self.fmt) for name in TABLES}
        self.build_org()
        if self.revenue_roles:
            self.plant_revenue_roles()
        hiring = self.hiring()
        self.plant_skills()
        training = self.training()
        quotas = self.quotas()
        self.experiments()
        n_total = len(self.org.rep_id)
        self.churn_acc = {"rep_n": np.zeros(n_total), "rep_p4": np.zeros(n_total), "cons_n": np.zeros(n_total),
                          "cons_p4": np.zeros(n_total), "billing_n": np.zeros(2), "billing_p4": np.zeros(2)}
        self.offer_acc = {"n": np.zeros(len(OFFERS)), "p": np.zeros(len(OFFERS)), "mrr": np.zeros(len(OFFERS))}
        self.sla_plants: dict[str, list[np.ndarray]] = {k: [] for k in (
            "first_touch", "free_trial_calls", "demo_request_touches", "follow_up_attempts")}
        self.sla_untouched: list[np.ndarray] = []
        try:
            for mi in range(-WARMUP_MONTHS, self.months):
                self.simulate_month(mi, writers)
            org = self.org
            writers["reps"].write({
                "rep_id": org.rep_id, "name": org.name, "team": org.team, "manager_id": org.manager_id,
                "role": org.role, "segment": org.segment, "hire_date": _date(org.hire_day),
                "leave_date": np.where(org.leave_day >= 0, _date(np.maximum(org.leave_day, 0)),
                                       np.datetime64("NaT", "D")),
            })
            if hiring:
                writers["hiring_scores"].write(hiring)
            writers["training_scores"].write(training)
            writers["quotas"].write(quotas)
            self._exp4_write(writers)
            defs = self.exp_defs + [self.exp4_def]
            ends = [self.exp_windows[e[0]][1] for e in self.exp_defs]
            writers["experiments"].write({
                "experiment_id": [e[0] for e in defs], "name": [e[1] for e in defs],
                "hypothesis": [e[2] for e in defs], "unit": [e[3] for e in defs],
                "metric": [e[4] for e in defs], "metric_type": [e[5] for e in defs],
                "success_min_lift": [float(e[6]) for e in defs],
                "start_date": _date([self.exp_windows[e[0]][0] for e in self.exp_defs] + [self.exp4["start_day"]]),
                "end_date": np.concatenate([_date(ends), [np.datetime64("NaT", "D")]]),
                "owner": self._exp_owners(len(defs)),
                "status": np.array(["finished" if d <= self.as_of_day else "running" for d in ends] + ["running"],
                                   dtype=object),
                "assigned_to": np.array(["random"] * len(self.exp_defs) + ["top_performers"], dtype=object),
            })
        finally:
            files = {name: writer.close() for name, writer in writers.items()}
        truth = self.ground_truth()
        truth["generator"].update(self.switches())
        if self.revenue_roles:
            truth["generator"]["revenue_roles"] = True
            truth["predictable_revenue"] = self.revenue_truth()
        truth["tables"] = {name: writers[name].rows for name in TABLES}
        gt_path = self.out_dir / GROUND_TRUTH_FILE
        gt_path.write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return {"out_dir": str(self.out_dir), "seed": self.seed, "reps": self.n_reps, "months": self.months,
                "format": self.fmt, "files": {k: str(v) for k, v in files.items()},
                "rows": truth["tables"], "ground_truth": str(gt_path)}



def generate_org(out_dir: str | Path, *, seed: int = DEFAULT_SEED, reps: int = DEFAULT_REPS,
                 months: int = DEFAULT_MONTHS, fmt: str = DEFAULT_FORMAT, end_month: str = DEFAULT_END_MONTH,
                 config_path: str | Path | None = None, weak_stages: bool = True,
                 revenue_roles: bool = False, no_effects: bool = False, hires: int | None = None,
                 segment_cadence: bool = False, old_weak_stage: bool = False,
                 experiment_harm: bool = False) -> dict[str, Any]:
    """Simulate the sample organisation and write every contract table plus ``ground_truth.json``.

    The same arguments always produce the same bytes. ``reps`` counts quota-carrying AEs (managers
    and consultants are added); ``months`` of history end with the last day of ``end_month``.
    ``config_path`` defaults to the project's ``workbook.toml`` (traits, SLA rules).
    ``weak_stages=False`` plants no weak funnel stage (``funnel.weak_stage_reps`` is empty), with
    the same random draws otherwise: an organisation on which coaching flags are false positives.
    ``revenue_roles=True`` adds notebook 07's plants (:mod:`helpers.data.sample_revenue`: market-response reps,
    SDRs, closers and account managers; seeds, nets and spears with different conversion and cycle; a lead-load
    effect; seasonal lead arrivals) in ``ground_truth.json`` under ``predictable_revenue``; without it every byte
    is as before.

    Other truths than the sample's, for testing the analyses on organisations nobody tuned them to (each off by
    default; off keeps every byte; each switch that is on is recorded in ``ground_truth.json``'s ``generator``):

    * ``no_effects=True``: nothing has an effect anywhere (:meth:`helpers.data.sample_truth.Plants.none`): no
      trait predicts performance and reps do not differ in ability at any stage (so no training score predicts
      either), interviewers are equally lenient, no weak stages, no pressure sellers, one churn hazard for every
      rep, consultant, segment and billing term, every first offer converts at the team's average rate, and
      every experiment's treatment equals its control.
    * ``hires=N``: only the N most recently hired reps (and the candidates interviewed since the first of them)
      have hiring scorecards (``hiring.n_hired``, ``hiring.reps_with_scorecards``); e.g. 18 hires out of 40 reps.
    * ``segment_cadence=True``: every rep of a segment connects with a multiple of the lead's connect probability
      (mid-market 0.8, enterprise 0.5) and spaces unanswered calls and emails further apart (1.5x, 2.5x); quotas
      follow the segment's expected rate. ``funnel.segment_cadence``. Not a weakness of any rep.
    * ``old_weak_stage=True``: the planted weak stages (same reps and stages) hold only in leads created before
      the last 6 months, and there at 0.3x (``funnel.old_weak_stage``: reps, ``recent_from``);
      ``funnel.weak_stage_reps`` is then empty. Needs ``months >= 9``.
    * ``experiment_harm=True``: EXP-01's treatment (GPCT qualifying) multiplies each deal's close probability by
      0.6 instead of 1.4: a treatment worse than control (``experiments.EXP-01.harm``).

    Returns a summary: the files written, their row counts and the ground-truth path.
    """
    gen = _Generator(Path(out_dir), seed=seed, reps=reps, months=months, fmt=fmt, end_month=end_month,
                     config_path=Path(config_path) if config_path is not None else None,
                     weak_stages=weak_stages, revenue_roles=revenue_roles, no_effects=no_effects, hires=hires,
                     segment_cadence=segment_cadence, old_weak_stage=old_weak_stage, experiment_harm=experiment_harm)
    return gen.run()


def cli_sample(seed: int | None, reps: int | None, months: int | None, out: str | Path | None,
               fmt: str | None, revenue_roles: bool = False, **truths: Any) -> int:
    """``sales-workbook sample``: write a sample organisation; returns the process exit code.

    ``truths``: :func:`generate_org`'s other-truth switches (``no_effects``, ``hires``, ``segment_cadence``,
    ``old_weak_stage``, ``experiment_harm``, ``weak_stages``) as the command line gave them.
    """
    out_dir = Path(out) if out is not None else SAMPLE_DATA_DIR
    try:
        summary = generate_org(out_dir, seed=DEFAULT_SEED if seed is None else seed,
                               reps=DEFAULT_REPS if reps is None else reps,
                               months=DEFAULT_MONTHS if months is None else months,
                               fmt=DEFAULT_FORMAT if fmt is None else fmt, revenue_roles=revenue_roles,
                               **truths)
    except (SampleError, SampleFormatError) as exc:
        print(f"sales-workbook sample: {exc}", file=sys.stderr)
        return 2
    rows = summary["rows"]
    print(f"Wrote a sample organisation to {summary['out_dir']} (seed {summary['seed']}, {summary['reps']} reps, "
          f"{summary['months']} months, {summary['format']}):")
    for name, count in rows.items():
        print(f"  {name:<24} {count:>12,} rows")
    print(f"Planted truth: {summary['ground_truth']}")
    return 0
