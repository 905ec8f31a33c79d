"""Notebook 06: the sales-experiment review (registry, outcomes, effects, power, verdicts, pipeline).

HubSpot ran small sales experiments all the time: anyone could propose one; each had a clear
objective, a measurable success criterion written down in advance, the smallest design that could
tell, a named leader, and top performers in the pilot so that a failure is a *true negative*; the
pipeline of experiments was reviewed monthly. This module turns the ``experiments`` and
``experiment_assignments`` tables into that monthly review::

    review = ExperimentReview.from_config(config).fit(source, as_of=as_of)
    review.summary          # one row per experiment: effect, interval, p, power, verdict ...
    review.pipeline_table() # what the monthly review reads
    review.plot()           # effects against their pre-registered bars

The reading happens in the engine: one Ibis expression per experiment reduces its assignments
(joined, where needed, to CRM-derived outcomes from ``deals`` or ``activities``) to counts and
sums per arm (and per cluster when treatment was assigned per rep); only those small tables come
into pandas. The rank test for skewed money is the exception: it reads that experiment's outcomes
(one number per unit). The statistics are in :mod:`helpers.analyses.experiments.stats`; the rules are
documented in ``docs/experiments.md``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import ibis
import numpy as np
import pandas as pd

from helpers.analyses.experiments import stats as st
from helpers.analyses.experiments.wording import (TEST_LABELS, VERDICT_LABELS, _effect_text, _fmt, _missing, _next_step,
                                                  _note, _p, _pair, _pct, _slug, _styled)
from helpers.core.contract import TABLES
from helpers.core.estimator import Estimator
from helpers.data.reductions import _instant, _ts_literal

if TYPE_CHECKING:  # pragma: no cover
    from helpers.core.config import WorkbookConfig
    from helpers.data.engine import DataSource

__all__ = ["CRM_METRICS", "ExperimentDataError", "ExperimentReview", "ExperimentSettings", "derive_status", "experiment_registry",
           "power_curve"]

#: Metrics the workbook can compute from CRM tables when an assignment carries no outcome:
#: metric name -> (unit it applies to, table it needs, what counts).
CRM_METRICS: dict[str, tuple[str, str, str]] = {
    "close_rate": ("deal", "deals", "1 if the deal was won by the as-of date, 0 if lost; empty while open"),
    "win_rate": ("deal", "deals", "same as close_rate"),
    "mrr_per_deal": ("deal", "deals", "the deal's MRR (any status)"),
    "won_mrr_per_deal": ("deal", "deals", "the deal's MRR if won by the as-of date, 0 if lost; empty while open"),
    "connect_rate": ("lead", "activities", "1 if the lead had a connected call by the as-of date, else 0"),
    "demo_rate": ("lead", "activities", "1 if the lead had a demo meeting that took place by the as-of date, else 0"),
}
OUTCOME_SOURCES = ("given", "crm", "given_then_crm")
MAX_DECISION_DAYS = 730  # a decision further away than this is reported as "not within two years" (our choice)
MEAN_TESTS = ("welch", "rank", "auto")
RATE_TESTS = ("two_proportions",)


class ExperimentDataError(ValueError):
    """An experiment's data cannot be analysed as declared; the message names it and says how to fix it."""


# ============================================================================ registry
def derive_status(start: date | None, end: date | None, as_of: date, given: str | None = None) -> str:
    """``planned`` / ``running`` / ``finished``: the team's own ``status`` when given, else from the dates.

    Derived: planned if it starts after ``as_of``; finished if it has an end date on or before
    ``as_of``; running otherwise (started, no end date or ending later).
    """
    if isinstance(given, str) and given.strip():
        return given.strip()
    if start is None and end is None:  # an exported A/B table without dates: its results are all there is
        return "finished"
    if start is not None and start > as_of:
        return "planned"
    if end is not None and end <= as_of:
        return "finished"
    return "running"


def _day(value: Any) -> date | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return pd.Timestamp(value).date()


def experiment_registry(source: "DataSource", *, as_of: date) -> pd.DataFrame:
    """The experiments table as the review shows it (small table: read into pandas).

    Adds ``status`` (given or derived), and fills ``owner`` with "(no owner)" and ``assigned_to``
    with "random" where the export leaves them empty. Sorted by start date, then id.
    """
    reg = source.read("experiments") if source.has("experiments") else registry_from_assignments(source)
    reg["start_date"] = [_day(v) for v in reg["start_date"]]
    reg["end_date"] = [_day(v) for v in reg["end_date"]]
    reg["status"] = [derive_status(s, e, as_of, g) for s, e, g in zip(reg["start_date"], reg["end_date"], reg["status"])]
    reg["owner"] = reg["owner"].where(reg["owner"].notna() & (reg["owner"].astype(str).str.strip() != ""), "(no owner)")
    reg["assigned_to"] = reg["assigned_to"].where(reg["assigned_to"].notna(), "random")
    return reg.sort_values(["start_date", "experiment_id"], kind="stable", ignore_index=True)


def registry_from_assignments(source: "DataSource") -> pd.DataFrame:
    """The experiments of an export that has only assignments (an A/B table): one per ``experiment_id``.

    Each is named by its id, randomised per ``lead``, measured as a ``rate`` when every outcome is 0 or 1
    (else a ``mean``), with no pre-registered bar (``success_min_lift`` 0: any change beyond chance), no
    dates (so analysed as finished) and a hypothesis saying it was not registered.
    """
    a = source.table("experiment_assignments")
    out = a.group_by("experiment_id").aggregate(
        measured=a.outcome.count(), binary=a.outcome.isin([0.0, 1.0]).sum()).execute()
    columns = TABLES["experiments"].column_names
    reg = pd.DataFrame({c: pd.Series([None] * len(out), dtype=object) for c in columns})
    reg["experiment_id"] = out["experiment_id"].astype(str).to_numpy()
    reg["name"] = reg["experiment_id"]
    reg["hypothesis"] = "Not registered: the data holds only the assignments."
    reg["unit"] = "lead"
    reg["metric"] = "outcome"
    reg["metric_type"] = ["rate" if m > 0 and b == m else "mean"
                          for m, b in zip(out["measured"].fillna(0), out["binary"].fillna(0))]
    reg["success_min_lift"] = 0.0
    return reg


# ============================================================================ outcomes in the engine
def _crm_outcome_table(source: "DataSource", metric: str, as_of_ts) -> ibis.Table | None:
    """unit_id -> CRM-derived outcome for ``metric`` as of ``as_of_ts``; None if the table is absent."""
    unit, table, _ = CRM_METRICS[metric]
    if not source.has(table):
        return None
    cutoff = _ts_literal(as_of_ts)
    if table == "deals":
        d = source.table("deals")
        d = d.filter(d.created_at <= cutoff)
        closed = d.closed_at.notnull() & (d.closed_at <= cutoff)
        won = (d.status == "won") & closed
        lost = (d.status == "lost") & closed
        if metric in ("close_rate", "win_rate"):
            y = ibis.cases((won, 1.0), (lost, 0.0), else_=ibis.null("float64"))
        elif metric == "mrr_per_deal":
            y = d.mrr.cast("float64")
        else:
            y = ibis.cases((won, d.mrr.cast("float64")), (lost, 0.0), else_=ibis.null("float64"))
        return d.select(crm_unit=d.deal_id, crm_y=y)
    a = source.table("activities")
    a = a.filter(a.occurred_at <= cutoff)
    if metric == "connect_rate":
        hit = (a.activity_type == "call") & (a.outcome == "connected")
    else:
        hit = (a.meeting_kind == "demo") & (a.outcome != "no_show")
    flag = ibis.cases((hit, 1.0), else_=0.0)  # PostgreSQL casts a boolean to int4 only, not to bigint
    return a.group_by(crm_unit=a.lead_id).aggregate(crm_y=flag.max().cast("float64"))


def _outcome_expr(source: "DataSource", exp: pd.Series, *, outcome_source: str, clustered: bool, as_of_ts):
    """One experiment's units as (arm, cluster, given, y): y is the outcome the analysis uses."""
    a = source.table("experiment_assignments")
    a = a.filter(a.experiment_id == str(exp["experiment_id"]))
    metric = str(exp["metric"])
    crm = None
    if outcome_source != "given" and metric in CRM_METRICS and CRM_METRICS[metric][0] == exp["unit"]:
        crm = _crm_outcome_table(source, metric, as_of_ts)
    given = a.outcome.cast("float64")
    if crm is not None:
        j = a.left_join(crm, a.unit_id == crm.crm_unit)
        crm_y = j.crm_y
        if CRM_METRICS[metric][1] == "activities":  # a lead with no touch at all was not connected
            crm_y = crm_y.fill_null(0.0)
        given = j.outcome.cast("float64")
        y = crm_y if outcome_source == "crm" else given.coalesce(crm_y)
        base = j
    else:
        y = given if outcome_source != "crm" else ibis.null("float64")
        base = a
    cluster = (base.cluster_id.coalesce(ibis.literal("unit:") + base.unit_id) if clustered
               else ibis.literal(""))
    return base.select(arm=base.arm, cluster=cluster, given=given, y=y)


_EMPTY_AGG = pd.DataFrame({"arm": pd.Series(dtype=object), "cluster": pd.Series(dtype=object),
                           **{c: pd.Series(dtype="float64") for c in ("assigned", "n", "n_given", "s", "q", "c3",
                                                                      "n_bad_rate")}})


def _aggregate(units: ibis.Table) -> ibis.Table:
    y = units.y
    return units.group_by(["arm", "cluster"]).aggregate(
        assigned=units.count(), n=y.count(), n_given=units.given.count(), s=y.sum(), q=(y * y).sum(),
        c3=(y * y * y).sum(), n_bad_rate=units.count(where=y.notnull() & (y != 0.0) & (y != 1.0)))


# ============================================================================ the review
@dataclass(frozen=True)
class ExperimentSettings:
    """The ``[experiments]`` settings of the review (read by :meth:`from_config`)."""

    alpha: float = 0.05
    power: float = 0.8
    rate_test: str = "two_proportions"
    mean_test: str = "auto"
    skew_threshold: float = 2.0
    min_units_per_arm: int = 30
    min_clusters_per_arm: int = 10
    outcome_source: str = "given_then_crm"

    @classmethod
    def from_config(cls, config: "WorkbookConfig") -> "ExperimentSettings":
        """Settings from ``[experiments]`` (errors name the file and the key)."""
        r = config.settings
        return cls(alpha=r.number("experiments.alpha", minimum=0.0001, maximum=0.2),
                   power=r.number("experiments.power", minimum=0.5, maximum=0.999),
                   rate_test=r.choice("experiments.rate_test", RATE_TESTS),
                   mean_test=r.choice("experiments.mean_test", MEAN_TESTS),
                   skew_threshold=r.number("experiments.skew_threshold", minimum=0),
                   min_units_per_arm=int(r.number("experiments.min_units_per_arm", integer=True, minimum=2)),
                   min_clusters_per_arm=int(r.number("experiments.min_clusters_per_arm", integer=True, minimum=2)),
                   outcome_source=r.choice("experiments.outcome_source", OUTCOME_SOURCES))


class ExperimentReview(Estimator):
    """The monthly experiment review. ``fit(source, as_of=...)`` returns self; results end in ``_``.

    ``summary`` is one row per experiment; ``plot(ax=None)`` draws each effect and interval as a
    share of its pre-registered bar.
    """

    def __init__(self, *, alpha: float = 0.05, power: float = 0.8, rate_test: str = "two_proportions",
                 mean_test: str = "auto", skew_threshold: float = 2.0, min_units_per_arm: int = 30,
                 min_clusters_per_arm: int = 10, outcome_source: str = "given_then_crm"):
        if not 0 < alpha < 0.5:
            raise ValueError(f"alpha={alpha!r}: expected a significance level between 0 and 0.5, e.g. 0.05")
        if not 0 < power < 1:
            raise ValueError(f"power={power!r}: expected a probability between 0 and 1, e.g. 0.8")
        for name, value, allowed in (("rate_test", rate_test, RATE_TESTS), ("mean_test", mean_test, MEAN_TESTS),
                                     ("outcome_source", outcome_source, OUTCOME_SOURCES)):
            if value not in allowed:
                raise ValueError(f"{name}={value!r}: expected one of {', '.join(allowed)}")
        self.settings = ExperimentSettings(alpha, power, rate_test, mean_test, float(skew_threshold), int(min_units_per_arm),
                                  int(min_clusters_per_arm), outcome_source)

    @classmethod
    def from_config(cls, config: "WorkbookConfig") -> "ExperimentReview":
        """A review with the settings of ``[experiments]`` (:meth:`ExperimentSettings.from_config`)."""
        from dataclasses import asdict

        return cls(**asdict(ExperimentSettings.from_config(config)))

    # ------------------------------------------------------------------ fit
    def fit(self, source: "DataSource", *, as_of: date | str, strict: bool = False) -> "ExperimentReview":
        """Read, reduce and analyse every registered experiment as of ``as_of`` (a date: its end counts).

        An experiment whose data contradict its declaration (a rate outcome that is not 0 or 1)
        raises :class:`ExperimentDataError` with ``strict=True``; otherwise it gets the verdict
        ``invalid`` and a warning, and the others are still analysed.
        """
        as_of = pd.Timestamp(str(as_of)).date()
        self.as_of_ = as_of
        as_of_ts = _instant(as_of.isoformat(), end_of_day=True)
        self.registry_ = experiment_registry(source, as_of=as_of)
        a = source.table("experiment_assignments")
        shape = a.group_by("experiment_id").aggregate(units=a.count(), with_cluster=a.cluster_id.count()).execute()
        shape = shape.set_index("experiment_id")
        self.warnings_: list[str] = []
        rows = []
        for _, exp in self.registry_.iterrows():  # one small query per experiment (a handful a month)
            eid = str(exp["experiment_id"])
            with_cluster = int(shape["with_cluster"].get(eid, 0))
            units = int(shape["units"].get(eid, 0))
            clustered = with_cluster > 0
            if clustered and with_cluster < units:
                self.warnings_.append(f"{exp['name']} ({eid}): cluster_id is empty for {units - with_cluster:,} of "
                                      f"{units:,} units; those are treated as clusters of one.")
            agg = _EMPTY_AGG.copy()
            if units:
                expr = _outcome_expr(source, exp, outcome_source=self.settings.outcome_source, clustered=clustered,
                                     as_of_ts=as_of_ts)
                agg = _aggregate(expr).execute()
            metric = str(exp["metric"])
            if (not agg.empty and agg["assigned"].sum() > agg["n"].sum() and metric in CRM_METRICS
                    and self.settings.outcome_source != "given" and not source.has(CRM_METRICS[metric][1])):
                self.warnings_.append(f"{exp['name']} ({eid}): {int(agg['assigned'].sum() - agg['n'].sum()):,} units "
                                      f"have no outcome and the table {CRM_METRICS[metric][1]} is absent, so "
                                      f"{metric} cannot be computed from the CRM for them.")
            try:
                rows.append(self._analyse(source, exp, agg, clustered, as_of_ts))
            except ExperimentDataError as exc:
                if strict:
                    raise
                self.warnings_.append(str(exc))
                rows.append(self._row(exp, verdict="invalid", verdict_text=str(exc)))
        self.summary_ = pd.DataFrame(rows, columns=self._columns())
        return self

    @property
    def summary(self) -> pd.DataFrame:
        return self.summary_

    @staticmethod
    def _columns() -> list[str]:
        return ["experiment_id", "name", "owner", "status", "assigned_to", "unit", "metric", "metric_type",
                "success_min_lift", "start_date", "end_date", "outcome_source", "test", "clustered", "assigned",
                "n_control", "n_treatment", "clusters_control", "clusters_treatment", "control", "treatment",
                "effect", "ci_low", "ci_high", "ci_level", "p_value", "naive_ci_low", "naive_ci_high",
                "design_effect", "power", "mde", "units_needed", "units_more", "units_per_day", "decision_date",
                "days_more", "too_slow", "clusters_needed", "enough_units", "verdict", "verdict_text"]

    def _row(self, exp: pd.Series, **values: Any) -> dict[str, Any]:
        row = {c: None for c in self._columns()}
        for c in ("experiment_id", "name", "owner", "status", "assigned_to", "unit", "metric", "metric_type",
                  "success_min_lift", "start_date", "end_date"):
            row[c] = exp[c]
        row["ci_level"] = 1 - self.settings.alpha
        row.update(values)
        return row

    def _analyse(self, source: "DataSource", exp: pd.Series, agg: pd.DataFrame, clustered: bool,
                 as_of_ts) -> dict[str, Any]:
        s = self.settings
        eid, name, status = str(exp["experiment_id"]), str(exp["name"]), str(exp["status"])
        bar = float(exp["success_min_lift"])
        if status == "planned" and agg.empty:
            return self._row(exp, verdict="not_started", verdict_text=f"Starts {exp['start_date']}.",
                             assigned=0, n_control=0, n_treatment=0)
        is_rate = exp["metric_type"] == "rate"
        if is_rate and not agg.empty and agg["n_bad_rate"].sum() > 0:
            raise ExperimentDataError(
                f"{name} ({eid}) is a rate experiment but {int(agg['n_bad_rate'].sum()):,} outcomes are not 0 or 1: "
                "write 1 for success and 0 for failure in experiment_assignments.outcome, or declare metric_type "
                "'mean'.")
        arms = {arm: agg[agg["arm"] == arm] for arm in ("treatment", "control")}
        n = {k: float(v["n"].sum()) for k, v in arms.items()}
        tot = {k: float(v["s"].sum()) for k, v in arms.items()}
        sq = {k: float(v["q"].sum()) for k, v in arms.items()}
        c3 = {k: float(v["c3"].sum()) for k, v in arms.items()}
        n_given = float(agg["n_given"].sum()) if not agg.empty else 0.0
        measured = n["treatment"] + n["control"]
        outcome_source = ("none" if measured == 0 else "given" if n_given >= measured
                          else "crm" if n_given == 0 else "given + crm")
        clusters = {k: int((v["n"] > 0).sum()) if clustered else None for k, v in arms.items()}
        base = dict(assigned=int(agg["assigned"].sum()) if not agg.empty else 0, n_control=int(n["control"]),
                    n_treatment=int(n["treatment"]), clustered=clustered, outcome_source=outcome_source,
                    clusters_control=clusters["control"], clusters_treatment=clusters["treatment"])
        mean = {k: tot[k] / n[k] if n[k] else math.nan for k in n}
        var = {k: max(sq[k] - tot[k] ** 2 / n[k], 0.0) / (n[k] - 1) if n[k] > 1 else math.nan for k in n}

        # ---- effect, interval, test
        effect = naive = None
        test = s.rate_test if is_rate else "welch"
        if not is_rate and s.mean_test != "welch":
            skew = max((abs(_skewness(n[k], tot[k], sq[k], c3[k])) for k in n if n[k] > 2), default=0.0)
            if s.mean_test == "rank" or skew > s.skew_threshold:
                test = "rank"
        try:
            if is_rate:
                naive = st.two_proportions(tot["treatment"], n["treatment"], tot["control"], n["control"],
                                           alpha=s.alpha)
            else:
                naive = st.welch(mean["treatment"], var["treatment"], n["treatment"], mean["control"],
                                 var["control"], n["control"], alpha=s.alpha)
            if clustered:
                effect = st.cluster_robust_difference(agg["n"], agg["s"].fillna(0.0), agg["q"].fillna(0.0),
                                                      agg["arm"] == "treatment", agg["cluster"], alpha=s.alpha)
            elif test == "rank":
                values = _outcome_expr(source, exp, outcome_source=s.outcome_source, clustered=False,
                                       as_of_ts=as_of_ts)
                values = values.filter(values.y.notnull()).select("arm", "y").execute()
                effect = st.rank_shift(values.loc[values["arm"] == "treatment", "y"].to_numpy(),
                                       values.loc[values["arm"] == "control", "y"].to_numpy(), alpha=s.alpha)
            else:
                effect = naive
        except st.ExperimentStatsError as exc:
            base["verdict_text_extra"] = str(exc)

        # ---- power, minimum detectable effect, sample still needed
        p_c = mean["control"]
        sd = math.sqrt(((n["treatment"] - 1) * var["treatment"] + (n["control"] - 1) * var["control"])
                       / (measured - 2)) if n["treatment"] > 1 and n["control"] > 1 else math.nan
        ratio = n["control"] / n["treatment"] if n["treatment"] and n["control"] else 1.0
        deff = st.design_effect(effect.se, naive.se) if (clustered and effect and naive) else 1.0
        power = mde = needed = math.nan
        if n["treatment"] >= 1 and n["control"] >= 1:
            n_t_eff, n_c_eff = n["treatment"] / deff, n["control"] / deff
            if is_rate:
                power = st.power_rates(p_c, bar, n_t_eff, n_c_eff, alpha=s.alpha) if bar else math.nan
                mde = st.mde_rates(p_c, n_t_eff, n_c_eff, alpha=s.alpha, power=s.power)
                n_t_need = st.n_per_arm_rates(p_c, bar, alpha=s.alpha, power=s.power, ratio=ratio) if bar else math.inf
            else:
                power = st.power_means(bar, sd, n_t_eff, n_c_eff, alpha=s.alpha) if bar else math.nan
                mde = st.mde_means(sd, n_t_eff, n_c_eff, alpha=s.alpha, power=s.power)
                n_t_need = st.n_per_arm_means(bar, sd, alpha=s.alpha, power=s.power, ratio=ratio) if bar else math.inf
            needed = n_t_need * (1 + ratio)  # independent units
            if clustered:
                needed, clusters_needed = st.clustered_units_needed(needed, measured, deff, sum(clusters.values()))
                base["clusters_needed"] = clusters_needed
        units_more = max(0, math.ceil(needed - measured)) if math.isfinite(needed) else None

        # ---- accrual and the expected decision date
        start, end = exp["start_date"], exp["end_date"]
        last = min(self.as_of_, end) if end is not None else self.as_of_
        days = (last - start).days + 1 if start is not None and last >= start else 0
        per_day = measured / days if days > 0 else 0.0
        days_more = math.ceil(units_more / per_day) if (units_more is not None and per_day > 0) else None
        if days_more is not None and days_more > MAX_DECISION_DAYS:
            days_more = None  # "more than two years at this pace" is said instead of a far-off date
            base["too_slow"] = True
        decision = None
        if status == "running":
            if units_more == 0:
                decision = max(end, self.as_of_) if end is not None else self.as_of_
            elif days_more is not None:
                decision = self.as_of_ + timedelta(days=days_more)
                if end is not None and end > decision:
                    decision = end

        # ---- verdict
        enough = (n["treatment"] >= s.min_units_per_arm and n["control"] >= s.min_units_per_arm
                  and (not clustered or min(clusters.values()) >= s.min_clusters_per_arm))
        est = effect if effect is not None else None
        code, why = st.verdict(est.effect if est else math.nan, est.ci_low if est else math.nan,
                               est.ci_high if est else math.nan, bar, status=status, enough_units=enough,
                               assigned_to=str(exp["assigned_to"]))
        if not enough and code == "inconclusive":
            why = self._too_few_text(n, clusters, clustered)
        extra = base.pop("verdict_text_extra", None)
        if extra and est is None and enough:
            why = f"{why} ({extra})"
        return self._row(exp, **base, test=test if not clustered else "cluster_robust",
                         control=est.control if est else (mean["control"] if n["control"] else None),
                         treatment=est.treatment if est else (mean["treatment"] if n["treatment"] else None),
                         effect=est.effect if est else None, ci_low=est.ci_low if est else None,
                         ci_high=est.ci_high if est else None, p_value=est.p_value if est else None,
                         naive_ci_low=naive.ci_low if naive else None, naive_ci_high=naive.ci_high if naive else None,
                         design_effect=deff, power=power, mde=mde,
                         units_needed=math.ceil(needed) if math.isfinite(needed) else None, units_more=units_more,
                         units_per_day=per_day, decision_date=decision, days_more=days_more, enough_units=enough,
                         verdict=code, verdict_text=why)

    def _too_few_text(self, n: dict[str, float], clusters: dict[str, int | None], clustered: bool) -> str:
        s = self.settings
        short = []
        if min(n["treatment"], n["control"]) < s.min_units_per_arm:
            short.append(f"{int(n['treatment']):,} treatment and {int(n['control']):,} control units with an outcome "
                         f"(at least {s.min_units_per_arm} per arm needed)")
        if clustered and min(int(clusters["treatment"] or 0), int(clusters["control"] or 0)) < s.min_clusters_per_arm:
            short.append(f"{int(clusters['treatment'] or 0)} treatment and {int(clusters['control'] or 0)} control reps "
                         f"(clusters) (at least {s.min_clusters_per_arm} per arm needed)")
        return "Too few for a verdict: " + "; ".join(short or ["no estimate"]) + "."

    # ------------------------------------------------------------------ text and tables for the page
    def _rows(self):
        return (r for _, r in self.summary_.iterrows())

    def pipeline_table(self) -> pd.DataFrame:
        """The monthly review: every experiment, its status, its verdict or when a decision is due."""
        out = []
        for r in self._rows():
            out.append({"Experiment": r["name"], "Owner": r["owner"], "Status": r["status"],
                        "Assigned to": str(r["assigned_to"]).replace("_", " ").capitalize(),
                        "Verdict": str(VERDICT_LABELS.get(r["verdict"], r["verdict"])).capitalize(),
                        "Lift (interval)": _effect_text(r), "Bar": _fmt(r["success_min_lift"], r, signed=True),
                        "Next step": _next_step(r)})
        return pd.DataFrame(out, columns=["Experiment", "Owner", "Status", "Assigned to", "Verdict",
                                          "Lift (interval)", "Bar", "Next step"]).set_index("Experiment").rename_axis(None)

    def pipeline_view(self):
        """:meth:`pipeline_table` for the page: full sentences (no truncation), text from the data escaped."""
        return _styled(self.pipeline_table())

    def detail_view(self):
        """:meth:`detail_table` for the page, text from the data escaped."""
        return _styled(self.detail_table())

    def detail_table(self) -> pd.DataFrame:
        """Numbers behind each verdict: units, levels, effect, p, power at the bar, smallest detectable lift."""
        out = []
        for r in self._rows():
            out.append({"Experiment": r["name"], "Metric": r["metric"], "Test": TEST_LABELS.get(r["test"], r["test"] or "-"),
                        "Units (treatment / control)": _pair(r["n_treatment"], r["n_control"]),
                        "Reps (treatment / control)": _pair(r["clusters_treatment"], r["clusters_control"]),
                        "Control": _fmt(r["control"], r, level=True), "Treatment": _fmt(r["treatment"], r, level=True),
                        "p-value": _p(r["p_value"]), "Power at the bar": _pct(r["power"]),
                        "Smallest detectable lift": _fmt(r["mde"], r, signed=True)})
        return pd.DataFrame(out).set_index("Experiment").rename_axis(None) if out else pd.DataFrame()

    def headline(self) -> str:
        """One sentence for the index card, naming the experiments."""
        rows = list(self._rows())
        if not rows:
            return "No experiments are registered yet."
        groups: dict[str, list[str]] = {}
        for r in rows:
            groups.setdefault(r["verdict"], []).append(f"\u201c{r['name']}\u201d")
        parts = []
        for code, what in (("success", "met its pre-registered bar"), ("worse", "did worse than control"),
                           ("no_effect", "showed no effect worth the change"),
                           ("inconclusive", "is inconclusive"), ("pending", "is still running"),
                           ("not_started", "is planned"), ("invalid", "has invalid data")):
            names = groups.get(code, [])
            if names:
                shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
                verb = what if len(names) == 1 else what.replace("is ", "are ").replace("has ", "have ").replace(
                    "met its", "met their").replace("showed", "showed")
                parts.append(f"{shown} {verb}")
        return f"{len(rows)} experiment{'s' if len(rows) != 1 else ''} reviewed: " + "; ".join(parts) + "."

    def experiment_notes(self) -> str:
        """A plain-language paragraph per experiment (Markdown; text from the data is escaped by the caller)."""
        return "\n\n".join(_note(r, self.settings) for r in self._rows())

    def cluster_text(self) -> str:
        """For experiments assigned per rep: how much wider the honest interval is than a naive one."""
        lines = []
        for r in self._rows():
            if r["clustered"] and r["effect"] is not None and r["naive_ci_low"] is not None:
                honest = (r["ci_high"] - r["ci_low"]) / 2
                naive = (r["naive_ci_high"] - r["naive_ci_low"]) / 2
                lines.append(f"{r['name']}: treatment was given to whole reps ({_pair(r['clusters_treatment'], r['clusters_control'])} "
                             f"reps), so one rep's {r['unit']}s are not independent. Analysed per rep, the lift is "
                             f"{_fmt(r['effect'], r, signed=True)} \u00b1 {_fmt(honest, r)}; treating every {r['unit']} "
                             f"as independent would claim \u00b1 {_fmt(naive, r)}, {honest / naive:.1f} times too "
                             f"narrow (it would need {r['design_effect']:.1f} times the units for the same certainty).")
        return "\n\n".join(lines) or "No experiment was assigned per rep and measured per lead or deal."

    def findings(self) -> list[tuple[str, str]]:
        """(sentence, severity) per experiment that needs a decision or a caveat."""
        out = []
        for r in self._rows():
            code, name = r["verdict"], r["name"]
            if code == "success":
                out.append((f"Roll out \u201c{name}\u201d: {_effect_text(r)} against a bar of "
                            f"{_fmt(r['success_min_lift'], r, signed=True)}. {r['verdict_text']}", "action"))
            elif code == "worse":
                out.append((f"Stop \u201c{name}\u201d: it did worse than control ({_effect_text(r)}). "
                            f"{r['verdict_text']}", "action"))
            elif code == "no_effect":
                out.append((f"Stop \u201c{name}\u201d ({_effect_text(r)} against a bar of "
                            f"{_fmt(r['success_min_lift'], r, signed=True)}). {r['verdict_text']}", "info"))
            elif code == "inconclusive":
                out.append((f"\u201c{name}\u201d is inconclusive. {r['verdict_text']} {_next_step(r)}", "warning"))
            elif code == "pending":
                out.append((f"\u201c{name}\u201d is still running. {_next_step(r)}", "info"))
            elif code == "invalid":
                out.append((f"\u201c{name}\u201d could not be analysed: {r['verdict_text']}", "warning"))
        return out

    def verdict_lines(self) -> str:
        """``id: status, verdict`` per experiment (deterministic text for the notebook's checked cell)."""
        return "\n".join(f"{r['experiment_id']}: {r['status']}, {VERDICT_LABELS.get(r['verdict'], r['verdict'])}"
                         for r in self._rows())

    def caveats(self) -> list[str]:
        """Warnings for the results file: small samples, few clusters, data problems."""
        out = list(self.warnings_)
        for r in self._rows():
            if r["verdict"] in ("not_started", "invalid"):
                continue
            if r["enough_units"] is False:
                out.append(f"{r['name']}: small sample. {self._too_few_text_row(r)}")
            if r["test"] == "rank":
                out.append(f"{r['name']}: outcomes are skewed, so the lift is the typical (median) shift per "
                           f"{r['unit']} from a rank test, not the difference of averages.")
        return out

    def _too_few_text_row(self, r: pd.Series) -> str:
        return self._too_few_text({"treatment": r["n_treatment"] or 0, "control": r["n_control"] or 0},
                                  {"treatment": r["clusters_treatment"], "control": r["clusters_control"]},
                                  bool(r["clustered"]))

    def record(self, results) -> None:
        """Headline, key figure, one figure per experiment (effect, interval, n), findings, caveats, details."""
        results.headline(self.headline())
        decided = self.summary_[self.summary_["verdict"].isin(["success", "no_effect", "worse", "inconclusive"])]
        results.key_figure("experiments_succeeded", "Experiments that met their pre-registered bar, "
                           "of those decided", int((decided["verdict"] == "success").sum()), n=len(decided))
        level = 1 - self.settings.alpha
        for r in self._rows():
            if r["effect"] is None or pd.isna(r["effect"]):
                continue
            results.figure(f"effect_{_slug(r['experiment_id'])}", f"{r['name']}: lift of {r['metric']}",
                           float(r["effect"]), n=int(r["n_treatment"] + r["n_control"]),
                           ci=(float(r["ci_low"]), float(r["ci_high"])), ci_level=level)
        for text, severity in self.findings():
            results.finding(text, severity)
        for text in self.caveats():
            results.warn(text)
        details = self.summary_.copy()
        for col in ("start_date", "end_date", "decision_date"):
            details[col] = details[col].map(lambda d: d.isoformat() if isinstance(d, date) else None)
        results.table("experiments", details)

    # ------------------------------------------------------------------ plot
    # ------------------------------------------------------------------ one experiment (analyst widget)
    def _one(self, experiment_id: str) -> pd.Series:
        rows = self.summary_[self.summary_["experiment_id"].astype(str) == str(experiment_id)]
        if rows.empty:
            known = ", ".join(map(str, self.summary_["experiment_id"].head(10)))
            raise ExperimentDataError(f"no experiment {experiment_id!r} in the registry; known: {known}")
        return rows.iloc[0]

    def experiment_detail(self, experiment_id: str) -> pd.DataFrame:
        """One experiment in full, one line per fact (arms, lift, interval, p, power, sample still needed)."""
        r = self._one(experiment_id)
        more = "-" if _missing(r["units_more"]) else f"{int(r['units_more']):,}"
        facts = [("Hypothesis owner", r["owner"] or "-"), ("Status", r["status"]),
                 ("Assigned to", str(r["assigned_to"]).replace("_", " ")), ("Metric", r["metric"]),
                 ("Test", TEST_LABELS.get(r["test"], r["test"] or "-")),
                 ("Units (treatment / control)", _pair(r["n_treatment"], r["n_control"])),
                 ("Reps (treatment / control)", _pair(r["clusters_treatment"], r["clusters_control"])),
                 ("Control", _fmt(r["control"], r, level=True)), ("Treatment", _fmt(r["treatment"], r, level=True)),
                 (f"Lift ({r['ci_level']:.0%} interval)", _effect_text(r)),
                 ("Pre-registered bar", _fmt(r["success_min_lift"], r, signed=True)),
                 ("p-value", _p(r["p_value"])), ("Power at the bar", _pct(r["power"])),
                 ("Smallest detectable lift", _fmt(r["mde"], r, signed=True)),
                 ("Units needed in all", "-" if _missing(r["units_needed"]) else f"{int(r['units_needed']):,}"),
                 ("Units still needed", more),
                 ("Expected decision date", "-" if _missing(r["decision_date"]) else str(r["decision_date"])),
                 ("Verdict", f"{VERDICT_LABELS.get(r['verdict'], r['verdict'])}: {r['verdict_text']}")]
        return pd.DataFrame(facts, columns=["", str(r["name"])]).set_index("")

    def power_curve(self, experiment_id: str, *, points: int = 40) -> pd.DataFrame:
        """Power to detect the experiment's bar against the number of measured units: see :func:`power_curve`."""
        return power_curve(self._one(experiment_id), alpha=self.settings.alpha, power=self.settings.power,
                           points=points)

    def plot_power_curve(self, experiment_id: str, *, ax=None):
        """The power curve of one experiment, with the units measured so far and the target power marked."""
        from helpers.analyses.experiments.plots import plot_power_curve

        return plot_power_curve(self.power_curve(experiment_id), row=self._one(experiment_id),
                                target_power=self.settings.power, ax=ax)

    def explorer(self):
        """ipywidgets (JupyterLab only): pick an experiment, see its detail and its power curve."""
        from helpers.analyses.experiments.widgets import experiment_explorer

        return experiment_explorer(self)

    def plot(self, ax=None):
        """Each experiment's lift and interval as a share of its bar (0 = no change, 1 = the bar)."""
        from helpers.analyses.experiments.plots import plot_effects

        return plot_effects(self.summary_, ax=ax)


# ============================================================================ power curve
def power_curve(row: pd.Series | dict, *, alpha: float = 0.05, power: float = 0.8, points: int = 40,
                units: Any = None) -> pd.DataFrame:
    """Power to detect the pre-registered bar as measured units grow, for one row of the summary.

    The treatment:control ratio stays as measured so far and, for experiments assigned per rep,
    units are discounted by the measured design effect (as the review's own power figure is).
    Rates use the control level as the baseline; means use the pooled standard deviation,
    recovered exactly from the row's smallest detectable lift (which is proportional to it).
    Columns ``units`` (total over both arms, from 4 to at least twice the units needed or
    measured, or the given ``units``) and ``power``. ``power`` is the target power the row's
    smallest detectable lift was computed for. Empty when an arm has no unit yet, the bar is not
    positive or the spread cannot be recovered.
    """
    r = pd.Series(row)
    n_t, n_c = float(r.get("n_treatment") or 0), float(r.get("n_control") or 0)
    bar = float(r.get("success_min_lift") or 0)
    empty = pd.DataFrame({"units": pd.Series(dtype="float64"), "power": pd.Series(dtype="float64")})
    if n_t < 1 or n_c < 1 or not bar > 0:
        return empty
    deff = float(r.get("design_effect") or 1.0)
    deff = deff if math.isfinite(deff) and deff > 0 else 1.0
    share_t = n_t / (n_t + n_c)
    needed = r.get("units_needed")
    top = max(2 * (n_t + n_c), 2 * float(needed) if not _missing(needed) else 0.0, 20.0)
    units = np.unique(np.linspace(4, top, points).round()) if units is None else np.asarray(units, dtype=float)
    if r["metric_type"] == "rate":
        p_c = float(r["control"])
        if not 0 < p_c < 1:
            return empty
        curve = [st.power_rates(p_c, bar, u * share_t / deff, u * (1 - share_t) / deff, alpha=alpha) for u in units]
    else:
        mde_unit = st.mde_means(1.0, n_t / deff, n_c / deff, alpha=alpha, power=power)
        mde = r.get("mde")
        if _missing(mde) or not mde_unit > 0 or not float(mde) > 0:
            return empty
        sd = float(mde) / mde_unit
        curve = [st.power_means(bar, sd, u * share_t / deff, u * (1 - share_t) / deff, alpha=alpha) for u in units]
    return pd.DataFrame({"units": units.astype("float64"), "power": np.asarray(curve, dtype="float64")})


def _skewness(n: float, s: float, q: float, c3: float) -> float:
    """Sample skewness from the count, sum, sum of squares and sum of cubes."""
    if n < 3:
        return 0.0
    m = s / n
    m2 = q / n - m * m
    if m2 <= 0:
        return 0.0
    m3 = c3 / n - 3 * m * q / n + 2 * m ** 3
    return m3 / m2 ** 1.5

