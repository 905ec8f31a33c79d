"""Speed to lead and the optimal number of attempts: how fast and how long to chase a lead.

Two questions from the sales SLA (seeds: call within the hour; 5 / 8 / 12 follow-up attempts
by segment; research quoted there: the odds of qualifying fall steeply when the first call
comes at 30 minutes instead of 5):

* **Speed to lead** -- the share of leads that became customers, by time to the first touch
  (buckets of ``[sla] speed_buckets_minutes``), with Wilson confidence intervals, and the odds
  ratio of each bucket against the fastest, adjusted for the lead's first offer (a logistic
  regression), because slow buckets can simply hold weaker offers.
* **Optimal attempts** -- for each segment and attempt number k (a call or an email): of the
  leads that got a k-th attempt without having been reached before, the share reached on it
  (the *connect rate*, a discrete hazard) and the share that were reached on it and went on to
  become customers (the *win rate of the attempt*). The expected value of the attempt is that
  win rate times the value of a customer (mean won MRR of the segment x
  ``customer_value_months``). The recommended cutoff is the last attempt before the first one
  that is surely not worth making: its connect rate's upper confidence bound is below
  ``min_connect_rate``, or its expected value's upper bound is below ``attempt_cost``.

Only leads created at least ``mature_lead_days`` before ``as_of`` are used, so that most of
their outcomes are known. The per-lead work runs in the engine (Ibis); pandas gets counts per
(segment, offer, speed bucket, attempt of first connect, attempts made, won).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis
import numpy as np
import pandas as pd

from helpers.data.reductions import CONNECT_OUTCOMES, _instant, _ts_literal, epoch_seconds
from helpers.core import intervals

if TYPE_CHECKING:  # pragma: no cover
    from helpers.core.config import WorkbookConfig
    from helpers.data.engine import DataSource

__all__ = ["AttemptAnalysis", "AttemptSettings", "Skipped", "SpeedToLeadError", "attempt_analysis", "attempt_counts",
           "attempt_curve", "recommended_cutoffs", "speed_to_lead"]

NEVER = "never touched"
_ATTEMPT_TYPES = ("call", "email")


class SpeedToLeadError(ValueError):
    """Inputs the analysis cannot use (bad buckets, no mature leads); the message says how to fix them."""


@dataclass(frozen=True)
class AttemptSettings:
    """``[sla]`` settings of the speed-to-lead and attempts analyses."""

    buckets_minutes: tuple[float, ...]
    mature_days: float
    max_attempt: int
    attempt_cost: float
    min_connect_rate: float
    customer_value_months: float
    follow_up_attempts: dict[str, int]

    @classmethod
    def from_config(cls, config: "WorkbookConfig") -> "AttemptSettings":
        """Read and check the settings; a bad value raises ConfigError naming the file and key."""
        s = config.settings
        edges = s.get("sla.speed_buckets_minutes")
        if (not isinstance(edges, list) or not edges or not all(isinstance(e, (int, float)) and not isinstance(e, bool)
                                                                and e > 0 for e in edges)
                or list(edges) != sorted(set(edges))):
            s.fail("sla.speed_buckets_minutes", edges, "a non-empty list of increasing positive minutes, e.g. [5, 30, 60]")
        return cls(
            buckets_minutes=tuple(float(e) for e in edges),
            mature_days=float(s.number("sla.mature_lead_days", minimum=0)),
            max_attempt=int(s.number("sla.max_attempt_analysed", integer=True, minimum=2)),
            attempt_cost=float(s.number("sla.attempt_cost", minimum=0)),
            min_connect_rate=float(s.number("sla.min_connect_rate", minimum=0, maximum=1)),
            customer_value_months=float(s.number("sla.customer_value_months", minimum=0)),
            follow_up_attempts=dict(config.sla.follow_up_attempts),
        )



def bucket_labels(edges: Sequence[float]) -> list[str]:
    """``[5, 30, 60]`` -> ``['within 5 min', '5 min to 30 min', '30 min to 1 h', 'over 1 h', 'never touched']``.

    Upper edges are inclusive: a first touch at exactly 5 minutes is "within 5 min"."""
    def fmt(m: float) -> str:
        return f"{m:g} min" if m < 60 else f"{m / 60:g} h"

    labels = [f"within {fmt(edges[0])}"]
    labels += [f"{fmt(lo)} to {fmt(hi)}" for lo, hi in zip(edges, edges[1:])]
    return labels + [f"over {fmt(edges[-1])}", NEVER]


def attempt_counts(source: "DataSource", *, as_of: Any, settings: AttemptSettings,
                   connect_outcomes: Sequence[str] = CONNECT_OUTCOMES) -> pd.DataFrame:
    """Counts of mature leads per (segment, first_offer, bucket, connect_attempt, attempts, won), from the engine.

    ``bucket``: index into :func:`bucket_labels` (time from creation to the first touch of any
    kind, upper edges inclusive). ``attempts``: calls and emails made (capped at
    ``max_attempt``). ``connect_attempt``: the number of the attempt that first reached the lead
    (a call ``connected`` or an email ``replied``, per ``connect_outcomes``), capped at
    ``max_attempt``; 0 if never reached by an attempt. ``won``: a deal won by ``as_of``.
    ``leads`` and ``won_mrr`` (MRR of the won deals) per group.
    """
    cutoff = _instant(as_of, end_of_day=True)
    cut = _ts_literal(cutoff)
    latest = _ts_literal(cutoff - pd.Timedelta(days=settings.mature_days))
    leads = source.table("leads")
    leads = leads.filter(leads.created_at <= latest)
    acts = source.table("activities")
    acts = acts.filter(acts.occurred_at <= cut)
    is_attempt = acts.activity_type.isin(list(_ATTEMPT_TYPES))
    touched = acts.filter(acts.lead_id.notnull())
    tried = touched.activity_type.isin(list(_ATTEMPT_TYPES))
    firsts = touched.group_by(_l2="lead_id").aggregate(
        first_touch_at=touched.occurred_at.min(),
        first_connect_at=touched.occurred_at.min(where=tried & touched.outcome.isin(list(connect_outcomes))),
        attempts=touched.count(where=tried))
    # the attempts up to the first connect: only attempts of leads that were reached go through the join
    reached = firsts.filter(firsts.first_connect_at.notnull()).select(_l1="_l2", _fc="first_connect_at")
    tries = acts.filter(is_attempt)
    joined = tries.inner_join(reached, tries.lead_id == reached._l1)
    upto = joined.group_by(_l4="_l1").aggregate(upto_connect=joined.count(where=joined.occurred_at <= joined._fc))
    per_lead = firsts.left_join(upto, firsts._l2 == upto._l4).select(
        "_l2", "first_touch_at", "first_connect_at", "attempts", "upto_connect")
    deals = source.table("deals")
    won = deals.filter((deals.status == "won") & deals.lead_id.notnull() & (deals.closed_at <= cut))
    won = won.group_by(_l3="lead_id").aggregate(won_mrr=won.mrr.sum())
    t = leads.left_join(per_lead, leads.lead_id == per_lead._l2).left_join(won, leads.lead_id == won._l3)
    minutes = (epoch_seconds(t.first_touch_at) - epoch_seconds(t.created_at)).cast("float64") / 60.0
    edges = settings.buckets_minutes
    bucket = ibis.cases((t.first_touch_at.isnull(), len(edges) + 1),
                        *((minutes <= e, i) for i, e in enumerate(edges)), else_=len(edges))
    k_max = settings.max_attempt
    attempts = t.attempts.fill_null(0)
    capped = ibis.cases((attempts > k_max, k_max), else_=attempts)
    connect = ibis.cases((t.first_connect_at.isnull(), 0), (t.upto_connect > k_max, k_max), else_=t.upto_connect)
    rows = t.select(segment=t.segment, first_offer=t.first_offer, bucket=bucket, connect_attempt=connect,
                    attempts=capped, won=t.won_mrr.notnull(), mrr=t.won_mrr.fill_null(0.0))
    grouped = rows.group_by("segment", "first_offer", "bucket", "connect_attempt", "attempts", "won").aggregate(
        leads=rows.count(), won_mrr=rows.mrr.sum())
    df = grouped.to_pandas()
    df = df.astype({"segment": "str", "first_offer": "str", "bucket": "int64", "connect_attempt": "int64",
                    "attempts": "int64", "won": "bool", "leads": "int64", "won_mrr": "float64"})
    return df.sort_values(["segment", "first_offer", "bucket", "connect_attempt", "attempts", "won"],
                          ignore_index=True)


def speed_to_lead(counts: pd.DataFrame, *, buckets_minutes: Sequence[float], level: float = 0.95,
                  min_n: int = 30) -> pd.DataFrame:
    """Conversion to customer by time to first touch, with Wilson intervals and offer-adjusted odds ratios.

    One row per bucket (fastest first, ``never touched`` last): ``bucket``, ``leads``, ``won``,
    ``win_rate``, ``ci_low``, ``ci_high``, ``odds_ratio`` (vs the fastest bucket with leads,
    adjusted for first offer by a binomial GLM on the counts; 1 for the reference),
    ``or_ci_low``, ``or_ci_high``, ``small_sample`` (fewer than ``min_n`` leads).
    """
    labels = bucket_labels(buckets_minutes)
    per = counts.groupby("bucket").apply(
        lambda g: pd.Series({"leads": g["leads"].sum(), "won": g.loc[g["won"], "leads"].sum()}),
        include_groups=False).reindex(range(len(labels)), fill_value=0)
    per = per.astype("int64").reset_index(names="bucket_index")
    per.insert(0, "bucket", [labels[i] for i in per["bucket_index"]])
    per["win_rate"] = per["won"] / per["leads"].where(per["leads"] > 0)
    per["ci_low"], per["ci_high"] = intervals.wilson_interval(per["won"], per["leads"], level=level)
    per["small_sample"] = per["leads"] < min_n
    ors = _adjusted_odds_ratios(counts, level=level)
    per = per.merge(ors, on="bucket_index", how="left")
    return per.drop(columns="bucket_index")


def _adjusted_odds_ratios(counts: pd.DataFrame, *, level: float) -> pd.DataFrame:
    """Odds ratio of winning per bucket vs the fastest populated bucket, adjusted for first offer."""
    import statsmodels.api as sm

    empty = pd.DataFrame({"bucket_index": pd.Series(dtype="int64"), "odds_ratio": pd.Series(dtype="float64"),
                          "or_ci_low": pd.Series(dtype="float64"), "or_ci_high": pd.Series(dtype="float64")})
    data = counts[counts["leads"] > 0]
    wins = data.groupby(["bucket", "first_offer"]).apply(
        lambda g: pd.Series({"n": g["leads"].sum(), "k": g.loc[g["won"], "leads"].sum()}), include_groups=False)
    wins = wins.reset_index()
    # a bucket or offer without any win (or without any loss) has no finite odds: leave it out
    usable_offers = wins.groupby("first_offer").apply(lambda g: 0 < g["k"].sum() < g["n"].sum(), include_groups=False)
    wins = wins[wins["first_offer"].map(usable_offers)]
    buckets = sorted(wins["bucket"].unique())
    if len(buckets) < 2 or wins.empty:
        return empty
    ref = buckets[0]
    X = pd.get_dummies(wins[["bucket", "first_offer"]].astype(str), drop_first=False, dtype=float)
    X = X.drop(columns=[f"bucket_{ref}", sorted(c for c in X if c.startswith("first_offer_"))[0]])
    X = sm.add_constant(X, has_constant="add")
    y = np.column_stack([wins["k"], wins["n"] - wins["k"]]).astype(float)
    try:
        fit = sm.GLM(y, X, family=sm.families.Binomial()).fit()
    except Exception:  # noqa: BLE001 - perfect separation etc.: report no adjusted ratio rather than a wrong one
        return empty
    ci = fit.conf_int(alpha=1 - level)
    rows = [{"bucket_index": int(ref), "odds_ratio": 1.0, "or_ci_low": np.nan, "or_ci_high": np.nan}]
    for b in buckets[1:]:
        name = f"bucket_{b}"
        bad = not np.isfinite(fit.bse[name]) or fit.bse[name] > 20  # a bucket without wins: no estimate
        rows.append({"bucket_index": int(b), "odds_ratio": np.nan if bad else float(np.exp(fit.params[name])),
                     "or_ci_low": np.nan if bad else float(np.exp(ci.loc[name, 0])),
                     "or_ci_high": np.nan if bad else float(np.exp(ci.loc[name, 1]))})
    return pd.DataFrame(rows)


def attempt_curve(counts: pd.DataFrame, *, settings: AttemptSettings, level: float = 0.95) -> pd.DataFrame:
    """Per segment and attempt number: connect rate, win rate of the attempt, expected value, with intervals.

    Columns: ``segment``, ``attempt`` (1..max; the last pools later attempts), ``at_risk``
    (leads that got this attempt without having been reached before), ``connects`` (reached on
    it), ``connect_rate`` and ``connect_ci_low/high``, ``wins`` (reached on it and became a
    customer), ``win_rate`` and ``win_ci_low/high`` (per attempt made), ``customer_value``
    (segment's mean won MRR x ``customer_value_months``), ``value_per_attempt`` and
    ``value_ci_low/high`` (win rate and its bounds x customer value).
    """
    k_max = settings.max_attempt
    value = _customer_values(counts, settings)
    rows = []
    for segment, g in counts.groupby("segment", sort=True):  # three segments, not rows
        ks = np.arange(1, k_max + 1)
        reached = g["connect_attempt"].to_numpy()
        made = g["attempts"].to_numpy()
        n = g["leads"].to_numpy()
        won = g["won"].to_numpy()
        at_risk = np.array([n[(made >= k) & ((reached == 0) | (reached >= k))].sum() for k in ks])
        connects = np.array([n[reached == k].sum() for k in ks])
        wins = np.array([n[(reached == k) & won].sum() for k in ks])
        rows.append(pd.DataFrame({"segment": segment, "attempt": ks, "at_risk": at_risk, "connects": connects,
                                  "wins": wins}))
    if not rows:
        raise SpeedToLeadError("no lead is old enough for the attempts analysis: lower [sla] mature_lead_days "
                               "or export a longer history")
    curve = pd.concat(rows, ignore_index=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        curve["connect_rate"] = curve["connects"] / curve["at_risk"].where(curve["at_risk"] > 0)
        curve["win_rate"] = curve["wins"] / curve["at_risk"].where(curve["at_risk"] > 0)
    curve["connect_ci_low"], curve["connect_ci_high"] = intervals.wilson_interval(curve["connects"], curve["at_risk"], level=level)
    curve["win_ci_low"], curve["win_ci_high"] = intervals.wilson_interval(curve["wins"], curve["at_risk"], level=level)
    curve["customer_value"] = curve["segment"].map(value).astype(float)
    for col, src in (("value_per_attempt", "win_rate"), ("value_ci_low", "win_ci_low"), ("value_ci_high", "win_ci_high")):
        curve[col] = curve[src] * curve["customer_value"]
    return curve


def _customer_values(counts: pd.DataFrame, settings: AttemptSettings) -> dict[str, float]:
    wins = counts[counts["won"]]
    overall = wins["won_mrr"].sum() / wins["leads"].sum() if wins["leads"].sum() else 0.0
    per = wins.groupby("segment").apply(lambda g: g["won_mrr"].sum() / g["leads"].sum(), include_groups=False)
    segments = counts["segment"].unique()
    return {s: float(per.get(s, overall)) * settings.customer_value_months for s in segments}


def recommended_cutoffs(curve: pd.DataFrame, *, settings: AttemptSettings, min_n: int = 30) -> pd.DataFrame:
    """The recommended number of attempts per segment, next to the configured SLA.

    Attempt k is *surely not worth making* when at least ``min_n`` leads reached it and its
    connect rate's upper bound is below ``min_connect_rate`` or its expected value's upper bound
    is below ``attempt_cost``. The cutoff is k - 1 for the first such k. If an attempt with
    fewer than ``min_n`` leads comes first, or none qualifies, there is no recommendation
    (``cutoff`` empty) and ``reason`` says why. Columns: ``segment``, ``configured``,
    ``cutoff``, ``reason``, ``stop_at`` (the first attempt not worth making).
    """
    out = []
    # no money known (no deal amounts, or all 0): an attempt's dollar value says nothing, only its connect rate
    valued = bool(pd.to_numeric(curve.get("value_ci_high", pd.Series(dtype=float)), errors="coerce").fillna(0)
                  .gt(0).any())
    for segment, g in curve.groupby("segment", sort=True):  # three segments
        g = g.sort_values("attempt")
        cutoff, stop_at, reason = None, None, ""
        for row in g.itertuples():  # at most max_attempt rows per segment
            if row.at_risk < min_n:
                reason = (f"only {row.at_risk} leads got attempt {row.attempt}: too few to judge whether "
                          f"it is worth making")
                break
            low_connect = row.connect_ci_high < settings.min_connect_rate
            low_value = valued and row.value_ci_high < settings.attempt_cost
            if row.attempt <= 1 and (low_connect or low_value):  # never "make 0 attempts": a degenerate number
                reason = ("even the first attempt looks not worth making, which says more about the data "
                          "(no connects or no value recorded) than about effort")
                break
            if low_connect or low_value:
                cutoff, stop_at = int(row.attempt) - 1, int(row.attempt)
                why = (f"its connect rate is at most {row.connect_ci_high:.1%}" if low_connect else
                       f"it is worth at most ${row.value_ci_high:,.2f}, less than the ${settings.attempt_cost:,.2f} "
                       "an attempt costs")
                reason = f"attempt {row.attempt} is not worth making: {why}"
                break
        else:
            reason = f"every attempt up to {int(g['attempt'].max())} is still worth making"
        out.append({"segment": segment, "configured": settings.follow_up_attempts.get(segment),
                    "cutoff": cutoff, "stop_at": stop_at, "reason": reason})
    frame = pd.DataFrame(out, columns=["segment", "configured", "cutoff", "stop_at", "reason"])
    return frame.astype({"cutoff": "Int64", "stop_at": "Int64", "configured": "Int64"})


# --------------------------------------------------------------------------- the report page
MONTHLY_ONLY = "Shown in the monthly report (this is the daily dashboard)."


@dataclass(frozen=True)
class Skipped:
    """Why the analyses are not on this page (daily mode, or no lead old enough); ``caveat``: the reason
    goes into the results file's caveats."""

    reason: str
    caveat: bool = False

    def speed_text(self) -> str:
        return self.reason

    def attempts_text(self) -> str:
        return self.reason

    def cutoff_table(self) -> None:
        return None

    def record(self, results: Any) -> None:
        if self.caveat:
            results.warn(self.reason)


@dataclass
class AttemptAnalysis:
    """Speed to lead and optimal attempts of one report, ready for the page and the results file."""

    settings: AttemptSettings
    speed: pd.DataFrame
    curve: pd.DataFrame
    cutoffs: pd.DataFrame
    mature_leads: int
    level: float
    min_n: int

    def speed_text(self) -> str:
        rows = self.speed[self.speed["leads"] > 0]
        if rows.empty:
            return "No lead is old enough yet to measure speed to lead."
        fast = rows.iloc[0]
        parts = [f"Of {self.mature_leads:,} leads created at least {self.settings.mature_days:g} days ago, "
                 f"{fast['win_rate']:.1%} of those touched {fast['bucket']} became customers "
                 f"({self.level:.0%} interval {fast['ci_low']:.1%} to {fast['ci_high']:.1%}, n = {int(fast['leads']):,})."]
        for _, r in rows.iloc[1:].iterrows():
            if pd.notna(r["odds_ratio"]):
                parts.append(f"Touched {r['bucket']}: {r['win_rate']:.1%} (n = {int(r['leads']):,}); odds "
                             f"{r['odds_ratio']:.2f} times the fastest once the offer is taken into account "
                             f"(interval {r['or_ci_low']:.2f} to {r['or_ci_high']:.2f}).")
        small = rows[rows["small_sample"]]
        if len(small):
            parts.append(f"Too few leads to judge: {', '.join(small['bucket'])} (fewer than {self.min_n} each).")
        clear = rows[(rows["or_ci_high"] < 1)]
        parts.append(f"Slower first touches convert measurably worse here ({', '.join(clear['bucket'])})." if len(clear)
                     else "In this data no slower bucket converts measurably worse than the fastest once the offer is "
                          "accounted for; keep the one-hour rule, which the research in the seeds supports.")
        return " ".join(parts)

    def attempts_text(self) -> str:
        parts = []
        for _, r in self.cutoffs.iterrows():
            seg = r["segment"].replace("_", " ")
            if pd.isna(r["cutoff"]):
                parts.append(f"{seg.capitalize()}: no recommendation ({r['reason']}); the SLA asks for {r['configured']}.")
            else:
                parts.append(f"{seg.capitalize()}: stop after {int(r['cutoff'])} attempts ({r['reason']}); "
                             f"the SLA asks for {r['configured']}.")
        return " ".join(parts)

    def cutoff_table(self) -> pd.DataFrame:
        return self.cutoffs.rename(columns={"segment": "Segment", "configured": "SLA attempts",
                                            "cutoff": "Recommended attempts", "reason": "Why"}
                                   ).drop(columns="stop_at").set_index("Segment").rename_axis(None)

    def record(self, results: Any) -> None:
        for _, r in self.cutoffs.iterrows():
            first = self.curve[(self.curve["segment"] == r["segment"]) & (self.curve["attempt"] == 1)]
            results.figure(f"optimal_attempts_{r['segment']}", f"Recommended attempts, {r['segment'].replace('_', ' ')}",
                           None if pd.isna(r["cutoff"]) else int(r["cutoff"]), unit="attempts",
                           n=int(first["at_risk"].iloc[0]) if len(first) else None)
            if pd.notna(r["cutoff"]) and pd.notna(r["configured"]) and int(r["cutoff"]) != int(r["configured"]):
                results.finding(f"{r['segment'].replace('_', ' ').capitalize()}: the data supports "
                                f"{int(r['cutoff'])} follow-up attempts, the SLA asks for {int(r['configured'])} "
                                f"({r['reason']}).", "info")
            if pd.isna(r["cutoff"]):
                results.warn(f"Attempts, {r['segment'].replace('_', ' ')}: {r['reason']}.")
        fast = self.speed[self.speed["leads"] > 0]
        if len(fast):
            f0 = fast.iloc[0]
            results.figure("win_rate_fastest_touch", f"Leads touched {f0['bucket']} that became customers",
                           float(f0["win_rate"]) * 100, unit="%", n=int(f0["leads"]),
                           ci=(float(f0["ci_low"]) * 100, float(f0["ci_high"]) * 100), ci_level=self.level)
        small = fast[fast["small_sample"]]
        if len(small):
            results.warn(f"Speed to lead: fewer than {self.min_n} leads in {', '.join(small['bucket'])}; "
                         "their conversion rates are shown with wide intervals.")
        results.table("speed_to_lead", self.speed)
        results.table("attempt_curve", self.curve)
        results.table("optimal_attempts", self.cutoffs)


def attempt_analysis(report: Any) -> "AttemptAnalysis | Skipped":
    """Run both analyses for a report; :class:`Skipped` in daily mode or when no lead is old enough."""
    if report.daily:
        return Skipped(MONTHLY_ONLY)
    settings = AttemptSettings.from_config(report.config)
    level, min_n = report.config.confidence_level, report.config.small_sample_n
    counts = attempt_counts(report.source, as_of=report.as_of, settings=settings)
    if counts.empty:
        reason = (f"No lead was created at least {settings.mature_days:g} days before {report.as_of}, so outcomes "
                  "are not known yet: speed to lead and attempts need a longer history (or a lower "
                  "[sla] mature_lead_days).")
        return Skipped(reason, caveat=True)
    speed = speed_to_lead(counts, buckets_minutes=settings.buckets_minutes, level=level, min_n=min_n)
    curve = attempt_curve(counts, settings=settings, level=level)
    cutoffs = recommended_cutoffs(curve, settings=settings, min_n=min_n)
    return AttemptAnalysis(settings, speed, curve, cutoffs, int(counts["leads"].sum()), level, min_n)
