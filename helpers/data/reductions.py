"""The heavy lifting: event-level tables reduced to small per-rep, per-lead, per-month frames.

Activities and lead events run to tens of millions of rows at a large company; the
statistics only ever need their per-rep-month or per-lead summaries. Each reduction
here is written **once** as an Ibis expression, so the same code runs inside DuckDB on a
data folder or inside PostgreSQL (or any Ibis backend) on a database: the engine does
the scanning and only the small result crosses into pandas.

Every function takes a :class:`helpers.data.engine.DataSource`, returns a pandas DataFrame
sorted by its keys with fixed dtypes (so results compare equal across engines), and
counts things rather than estimating them: confidence intervals belong to the
statistics that consume these tables, which get the counts (the ``n``) they need.

Time conventions: timestamps are UTC; months are ``"YYYY-MM"`` strings of the UTC
calendar; ``start`` is inclusive and ``end`` exclusive; a month string as a bound means
the first instant of that month; ``as_of`` given as a bare date means the end of that day.
"""
from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.datatypes as dt
import numpy as np
import pandas as pd

from helpers.core.contract import TABLES
from helpers.core.periods import month_texts
from helpers.data.engine import DataSource, DataSourceError, MissingTableError

if TYPE_CHECKING:  # pragma: no cover
    from helpers.core.config import FunnelStage, WorkbookConfig

__all__ = [
    "NoDataError",
    "data_period",
    "last_complete_month",
    "lead_engagement",
    "lead_outcomes",
    "lead_touch_summary",
    "leads_and_touches_known_at",
    "maturity_days_from",
    "rep_churn",
    "rep_cohort_funnel",
    "rep_month_activity",
    "rep_month_funnel",
    "stage_time_histogram",
]

UTC_TS = dt.Timestamp(timezone="UTC")
CONNECT_OUTCOMES: tuple[str, ...] = ("connected", "replied", "held")
"""Outcomes that mean the lead engaged in a two-way conversation: a connected call, an
email reply or a meeting that took place."""

_HOUR = pd.Timedelta(hours=1)


class NoDataError(DataSourceError):
    """The source holds none of the rows a reduction needs (e.g. no dated events at all)."""


# --------------------------------------------------------------------------- helpers
def _instant(value: Any, *, end_of_day: bool = False) -> pd.Timestamp:
    """A UTC instant from a timestamp, date, ``YYYY-MM-DD`` or ``YYYY-MM`` value."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}", value.strip()):
        return pd.Timestamp(value.strip() + "-01", tz="UTC")
    date_only = (isinstance(value, _dt.date) and not isinstance(value, _dt.datetime)) or (
        isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()) is not None)
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise ValueError(f"cannot read {value!r} as a date or time; write it as YYYY-MM-DD, "
                         f"YYYY-MM-DDTHH:MM:SSZ or YYYY-MM") from None
    if pd.isna(ts):
        raise ValueError(f"{value!r} is not a date or time; write it as YYYY-MM-DD")
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    if date_only and end_of_day:
        ts = ts + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    return ts


def _ts_literal(ts: pd.Timestamp) -> ibis.Value:
    return ibis.literal(ts.to_pydatetime(), type=UTC_TS)




def fetch(expr: ibis.Expr) -> pd.DataFrame:
    """An Ibis table expression's result as pandas, through Arrow.

    Ibis's own ``to_pandas`` on DuckDB turns every column holding a NULL into Python objects
    one value at a time (7-10x slower than the query on a million rows); Arrow's conversion
    is vectorised. Types are fixed afterwards by each reduction (``_finish``).
    """
    return expr.to_pyarrow().to_pandas()


def epoch_seconds(ts: ibis.Value) -> ibis.Value:
    """Whole seconds since 1970 (int64) of a timestamp, identical on every engine.

    Ibis's ``epoch_seconds`` keeps the fraction of a second on DuckDB and PostgreSQL but drops it
    on Spark (``unix_timestamp``); truncating to the second first makes all three agree.
    """
    return ts.truncate("s").epoch_seconds().cast("int64")


def _year_month(ts: ibis.Value) -> dict[str, ibis.Value]:
    return {"_year": ts.year(), "_month": ts.month()}


def _with_month(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df.insert(0, "month", month_texts(df.pop("_year"), df.pop("_month")))
    return df


_CASTS = {
    "str": lambda s: s.astype("str"),
    "int": lambda s: s.fillna(0).astype("int64"),
    "float": lambda s: s.astype("float64"),
    "bool": lambda s: s.fillna(False).astype("bool"),
    "ts": lambda s: pd.to_datetime(s, utc=True).astype("datetime64[us, UTC]"),
    "date": lambda s: pd.to_datetime(s).astype("datetime64[s]"),
}


def _finish(df: pd.DataFrame, dtypes: dict[str, str], keys: Sequence[str]) -> pd.DataFrame:
    """Columns in the given order with fixed dtypes, sorted by ``keys``, fresh index."""
    out = pd.DataFrame({col: _CASTS[kind](df[col]) for col, kind in dtypes.items()})
    # strings may be missing; keep them missing (not the text "nan")
    for col, kind in dtypes.items():
        if kind == "str":
            out.loc[df[col].isna().to_numpy(), col] = np.nan
    return out.sort_values(list(keys), kind="stable", ignore_index=True)


def _between(table: ibis.Table, column: str, start: Any, end: Any) -> ibis.Table:
    if start is not None:
        table = table.filter(table[column] >= _ts_literal(_instant(start)))
    if end is not None:
        table = table.filter(table[column] < _ts_literal(_instant(end)))
    return table


# --------------------------------------------------------------------------- activity
ACTIVITY_COUNTS = ("activities", "calls", "connects", "emails", "replies", "meetings", "meetings_held",
                   "no_shows", "discovery_meetings", "demo_meetings", "leads_worked")


def rep_month_activity(source: DataSource, *, start: Any = None, end: Any = None) -> pd.DataFrame:
    """How hard and how well each rep worked, month by month.

    One row per rep per month with activity: ``activities`` (all touches), ``calls``,
    ``connects`` (calls that reached the person), ``emails``, ``replies``, ``meetings``,
    ``meetings_held``, ``no_shows``, ``discovery_meetings`` and ``demo_meetings`` (touches of
    that meeting kind that took place, i.e. not a no-show; a connected call that was a
    discovery call counts), and ``leads_worked`` (distinct leads touched). Connect rate is
    ``connects / calls``; the counts are the ``n`` behind any rate.
    """
    acts = _between(source.table("activities"), "occurred_at", start, end)
    kind, outcome, meeting = acts.activity_type, acts.outcome, acts.meeting_kind
    took_place = outcome != "no_show"
    reduced = acts.group_by(rep_id=acts.rep_id, **_year_month(acts.occurred_at)).aggregate(
        activities=acts.count(),
        calls=acts.count(where=kind == "call"),
        connects=acts.count(where=(kind == "call") & (outcome == "connected")),
        emails=acts.count(where=kind == "email"),
        replies=acts.count(where=(kind == "email") & (outcome == "replied")),
        meetings=acts.count(where=kind == "meeting"),
        meetings_held=acts.count(where=(kind == "meeting") & (outcome == "held")),
        no_shows=acts.count(where=outcome == "no_show"),
        discovery_meetings=acts.count(where=(meeting == "discovery") & took_place),
        demo_meetings=acts.count(where=(meeting == "demo") & took_place),
        leads_worked=acts.lead_id.nunique(),
    )
    df = _with_month(fetch(reduced))
    return _finish(df, {"rep_id": "str", "month": "str", **{c: "int" for c in ACTIVITY_COUNTS}},
                   keys=("rep_id", "month"))


# --------------------------------------------------------------------------- funnel
def _stage_reached(source: DataSource, stage: FunnelStage, start: Any, end: Any) -> ibis.Table:
    """(rep_id, _year, _month, leads) for one stage: distinct leads reaching it."""
    if stage.deal_statuses:
        deals = source.table("deals")
        deals = deals.filter(deals.status.isin(list(stage.deal_statuses)))
        # a deal reaches "won"/"lost" when it closes; an open deal when it is created
        deals = deals.mutate(_at=ibis.coalesce(deals.closed_at, deals.created_at),
                             _lead=ibis.coalesce(deals.lead_id, "deal:" + deals.deal_id))
        deals = _between(deals, "_at", start, end)
        return deals.group_by(rep_id=deals.rep_id, **_year_month(deals._at)).aggregate(
            leads=deals._lead.nunique())
    acts = _between(source.table("activities"), "occurred_at", start, end)
    for column, values in (("activity_type", stage.activity_types), ("outcome", stage.outcomes),
                           ("meeting_kind", stage.meeting_kinds)):
        if values:  # a handful of filters from the configuration, not rows
            acts = acts.filter(acts[column].isin(list(values)))
    return acts.group_by(rep_id=acts.rep_id, **_year_month(acts.occurred_at)).aggregate(
        leads=acts.lead_id.nunique())


def rep_month_funnel(source: DataSource, config: WorkbookConfig, *, start: Any = None, end: Any = None,
                     shape: str = "long") -> pd.DataFrame:
    """Where each rep's leads stop, month by month, along the configured funnel.

    For every rep and month with any funnel activity, the number of distinct leads that
    reached each stage of ``config.funnel_stages`` that month (an activity matching the
    stage's filters, or a deal of the stage's status: open deals count when created,
    won/lost deals when closed), and the stage-to-stage conversion rate
    ``leads / previous_stage_leads``. These are monthly *flow* ratios (this month's demos
    over this month's discovery calls), the numbers a manager compares with the team's to
    find the step a rep needs coaching on; with few leads they are noisy, so the counts
    are kept as the ``n``. A flow ratio can exceed 1 when earlier months' leads convert.

    ``shape="long"`` (default): one row per rep, month and stage with ``stage_order``,
    ``stage``, ``stage_label``, ``leads``, ``previous_stage_leads`` (nullable Int64, empty
    for the first stage) and ``conversion_rate`` (NaN for the first stage or when the
    previous stage is 0). ``shape="wide"``: one row per rep-month, a column per stage and a
    ``<stage>_rate`` column per stage after the first.
    """
    if shape not in ("long", "wide"):
        raise ValueError(f"shape must be 'long' or 'wide', not {shape!r}")
    stages = tuple(config.funnel_stages)
    if not stages:
        raise ValueError("the configuration defines no funnel stages; add [[funnel.stages]] to workbook.toml")
    parts = [
        _stage_reached(source, stage, start, end).mutate(stage=ibis.literal(stage.name))
        for stage in stages  # one expression per configured stage
    ]
    counts = fetch(ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0])
    counts = _with_month(counts)
    names = [s.name for s in stages]
    grid_index = pd.MultiIndex.from_frame(counts[["rep_id", "month"]].drop_duplicates())
    wide = (counts.pivot_table(index=["rep_id", "month"], columns="stage", values="leads", aggfunc="sum")
            .reindex(index=grid_index, columns=names).fillna(0).astype("int64"))
    wide.columns.name = None
    if shape == "wide":
        out = wide.reset_index()
        dtypes = {"rep_id": "str", "month": "str", **{n: "int" for n in names}}
        for prev, name in zip(names, names[1:]):
            out[f"{name}_rate"] = out[name] / out[prev].where(out[prev] > 0)
            dtypes[f"{name}_rate"] = "float"
        return _finish(out, dtypes, keys=("rep_id", "month"))

    long = wide.reset_index().melt(id_vars=["rep_id", "month"], value_vars=names, var_name="stage",
                                   value_name="leads")
    order = {name: i for i, name in enumerate(names, start=1)}
    labels = {s.name: s.label for s in stages}
    long["stage_order"] = long["stage"].map(order).astype("int64")
    long["stage_label"] = long["stage"].map(labels)
    long = long.sort_values(["rep_id", "month", "stage_order"], ignore_index=True)
    previous = long.groupby(["rep_id", "month"], sort=False)["leads"].shift(1)
    long["previous_stage_leads"] = previous.astype("Int64")
    long["conversion_rate"] = long["leads"] / previous.where(previous > 0)
    out = _finish(long, {"rep_id": "str", "month": "str", "stage_order": "int", "stage": "str",
                         "stage_label": "str", "leads": "int", "conversion_rate": "float"},
                  keys=("rep_id", "month", "stage_order"))
    out.insert(out.columns.get_loc("conversion_rate"), "previous_stage_leads",
               long["previous_stage_leads"].to_numpy())
    return out


# --------------------------------------------------------------------------- funnel by cohort
def _stage_first_reach(source: DataSource, stage: FunnelStage, end: ibis.Value) -> ibis.Table:
    """(_lead, _at, _rep) per lead: the first time the lead reached ``stage`` before ``end``, and the rep of
    that first event (the smallest rep id when several reps logged it at the same instant)."""
    if stage.deal_statuses:
        deals = source.table("deals")
        deals = deals.filter(deals.status.isin(list(stage.deal_statuses)))
        events = deals.select(_lead=ibis.coalesce(deals.lead_id, "deal:" + deals.deal_id),
                              _at=ibis.coalesce(deals.closed_at, deals.created_at), _rep=deals.rep_id)
    else:
        acts = source.table("activities")
        for column, values in (("activity_type", stage.activity_types), ("outcome", stage.outcomes),
                               ("meeting_kind", stage.meeting_kinds)):
            if values:  # a handful of filters from the configuration, not rows
                acts = acts.filter(acts[column].isin(list(values)))
        events = acts.filter(acts.lead_id.notnull()).select(_lead=acts.lead_id, _at=acts.occurred_at,
                                                            _rep=acts.rep_id)
    events = events.filter(events._at.notnull() & (events._at < end))
    first = events.group_by("_lead").aggregate(_first=events._at.min())
    at_first = events.inner_join(first, (events._lead == first._lead) & (events._at == first._first))
    return at_first.group_by("_lead").aggregate(_at=at_first._at.min(), _rep=at_first._rep.min())


def _stage_transitions(source: DataSource, config: WorkbookConfig, end: ibis.Value) -> list[tuple[int, str, ibis.Table]]:
    """Per stage after the first: (order, name, table of leads that reached the previous stage with ``_rep``,
    ``_t0`` (first reach of the previous stage), ``_reached`` and ``_seconds`` (to the stage, >= 0))."""
    stages = tuple(config.funnel_stages)
    if not stages:
        raise ValueError("the configuration defines no funnel stages; add [[funnel.stages]] to workbook.toml")
    firsts = [_stage_first_reach(source, stage, end) for stage in stages]  # one expression per stage
    out = []
    for order, (prev, cur, stage) in enumerate(zip(firsts, firsts[1:], stages[1:]), start=2):
        nxt = cur.select(_lead2="_lead", _t1="_at")
        joined = prev.left_join(nxt, prev._lead == nxt._lead2)
        seconds = epoch_seconds(joined._t1) - epoch_seconds(joined._at)
        out.append((order, stage.name, joined.select(
            _lead="_lead", _rep="_rep", _t0="_at", _reached=joined._t1.notnull(),
            _seconds=ibis.greatest(seconds, ibis.literal(0, type="int64")))))
    return out


def stage_time_histogram(source: DataSource, config: WorkbookConfig, *, end: Any) -> pd.DataFrame:
    """How long leads take from one stage to the next: per stage after the first and whole day ``days``
    (time from first reaching the previous stage to first reaching this one, rounded up; 0 when the
    stage came first), the number of leads that made the step before ``end`` (exclusive). The maturity
    time of :func:`rep_cohort_funnel` is a percentile of this."""
    end_lit = _ts_literal(_instant(end))
    parts = []
    for order, name, t in _stage_transitions(source, config, end_lit):  # a handful of stages
        conv = t.filter(t._reached)
        days = ((conv._seconds.cast("float64") + 86399.0) / 86400.0).floor().cast("int64")
        conv = conv.mutate(_days=days)
        parts.append(conv.group_by("_days").aggregate(leads=conv.count()).mutate(
            stage_order=ibis.literal(order, type="int64"), stage=ibis.literal(name)))
    df = fetch(ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]).rename(columns={"_days": "days"})
    return _finish(df, {"stage_order": "int", "stage": "str", "days": "int", "leads": "int"},
                   keys=("stage_order", "days"))


def maturity_days_from(histogram: pd.DataFrame, *, quantile: float = 0.9, default_days: float = 90.0,
                       stages: Sequence[str] = ()) -> dict[str, float]:
    """Per stage: the ``quantile`` of days to reach it from the previous stage among the leads that did
    (from :func:`stage_time_histogram`); ``default_days`` for a stage of ``stages`` nobody reached. At least
    one day."""
    out: dict[str, float] = {name: float(default_days) for name in stages}
    for stage, grp in histogram.sort_values(["stage_order", "days"]).groupby("stage", sort=False):  # stages
        total = grp["leads"].sum()
        if total <= 0:
            out[stage] = float(default_days)
            continue
        cum = grp["leads"].cumsum().to_numpy()
        idx = int(np.searchsorted(cum, quantile * total - 1e-9))
        out[stage] = float(max(1, grp["days"].to_numpy()[min(idx, len(cum) - 1)]))
    return out


def rep_cohort_funnel(source: DataSource, config: WorkbookConfig, *, end: Any, start: Any = None,
                      maturity_days: dict[str, float] | float | None = None, maturity_quantile: float = 0.9,
                      mix_columns: Sequence[str] = ("segment", "source")) -> pd.DataFrame:
    """Stage-to-stage conversion counted per lead, only once each lead's outcome is known.

    For every stage after the first, rep, cohort month (the month the lead first reached the previous
    stage) and lead-mix cell: ``n`` = leads that first reached the previous stage in that month and are
    **mature** (at least the stage's maturity time passed between that moment and ``end``, exclusive), and
    ``k`` = those of them that reached the stage before ``end``. A lead still inside its cadence is left
    out instead of being counted as a failure (and a quick converter of the same age is left out too, so
    the rate is not biased upward). The rep is the one who first took the lead to the previous stage.

    ``maturity_days``: days per stage name (or one number for all); by default the ``maturity_quantile``
    of the days leads took to make the step (:func:`stage_time_histogram`, all history before ``end``).
    ``mix_columns``: columns of ``leads`` whose values form the lead-mix cells (``segment`` and
    ``lead_source`` in the output; empty when the table or the column is absent). Adds ``maturity_days``.
    """
    end_ts = _instant(end)
    end_lit = _ts_literal(end_ts)
    names = [s.name for s in config.funnel_stages][1:]
    if maturity_days is None:
        maturity = maturity_days_from(stage_time_histogram(source, config, end=end_ts), quantile=maturity_quantile,
                                      stages=names)
    elif isinstance(maturity_days, dict):
        maturity = {n: float(maturity_days.get(n, 90.0)) for n in names}
    else:
        maturity = {n: float(maturity_days) for n in names}
    wanted = list(mix_columns)
    lead_cols: dict[str, str] = {}
    if source.has("leads"):
        present = set(source.table("leads").columns)
        for out_name, col in zip(("segment", "lead_source"), wanted[:2]):
            if col and col in present:
                lead_cols[out_name] = col
    parts = []
    for order, name, t in _stage_transitions(source, config, end_lit):  # a handful of stages
        mature_before = _ts_literal(end_ts - pd.Timedelta(days=maturity.get(name, 90.0)))
        t = t.filter(t._t0 <= mature_before)
        if start is not None:
            t = t.filter(t._t0 >= _ts_literal(_instant(start)))
        if lead_cols:
            leads = source.table("leads")
            mix = leads.select(_lid=leads.lead_id, **{k: leads[v].cast("string") for k, v in lead_cols.items()})
            t = t.left_join(mix, t._lead == mix._lid)
        cells = {k: (t[k] if k in lead_cols else ibis.null().cast("string")) for k in ("segment", "lead_source")}
        parts.append(t.group_by(rep_id=t._rep, **_year_month(t._t0), **cells).aggregate(
            n=t.count(), k=t.count(where=t._reached)).mutate(
            stage_order=ibis.literal(order, type="int64"), stage=ibis.literal(name)))
    df = _with_month(fetch(ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]))
    df["maturity_days"] = df["stage"].map(maturity)
    return _finish(df, {"rep_id": "str", "month": "str", "stage_order": "int", "stage": "str", "segment": "str",
                        "lead_source": "str", "n": "int", "k": "int", "maturity_days": "float"},
                   keys=("rep_id", "month", "stage_order", "segment", "lead_source"))


# --------------------------------------------------------------------------- leads
def leads_and_touches_known_at(source: DataSource, cutoff: pd.Timestamp) -> tuple[ibis.Table, ibis.Table]:
    """What the CRM knew at ``cutoff`` (engine-side expressions, nothing fetched): the leads created at
    or before it, and the activities logged on those leads at or before it, each with its lead's
    ``_created_at``. Every "as known at" check of a lead (the SLA rules, speed to lead) starts here,
    so a report for a past date never sees the future."""
    cut = _ts_literal(cutoff)
    leads = source.table("leads")
    leads = leads.filter(leads.created_at <= cut)
    acts = source.table("activities")
    acts = acts.filter(acts.occurred_at <= cut)
    touches = acts.inner_join(leads.select(lead_id="lead_id", _created_at="created_at"), "lead_id")
    return leads, touches


def lead_touch_summary(source: DataSource, *, as_of: Any, call_window_days: float = 7.0,
                       connect_outcomes: Sequence[str] = CONNECT_OUTCOMES) -> pd.DataFrame:
    """How fast and how persistently every lead was worked, as known at ``as_of``.

    One row per lead created at or before ``as_of``, using only activities at or before
    ``as_of`` (so a report for a past date never sees the future): ``lead_id``,
    ``created_at``, ``first_offer``, ``segment``, ``owner_rep_id``, ``first_touch_at``,
    ``hours_to_first_touch`` (NaN while untouched), ``touches``, ``calls``,
    ``calls_within_window`` (calls in the first ``call_window_days`` after creation),
    ``connected`` (any touch with an outcome in ``connect_outcomes``), ``first_connect_at``,
    ``attempts_before_first_connect`` (touches before the first connect; all touches
    when never connected), ``last_touch_at``, ``age_hours`` and
    ``hours_since_last_touch`` at ``as_of``. These are the inputs of the sales SLA checks
    (speed to lead, free-trial calls, demo-request touches, follow-up persistence).
    """
    cutoff = _instant(as_of, end_of_day=True)
    leads, touched = leads_and_touches_known_at(source, cutoff)
    is_connect = touched.outcome.isin(list(connect_outcomes))
    firsts = touched.group_by("lead_id").aggregate(_first_connect_at=touched.occurred_at.min(where=is_connect))
    touched = touched.inner_join(firsts, "lead_id")
    is_call = touched.activity_type == "call"
    window_end = touched._created_at + ibis.interval(seconds=int(round(call_window_days * 86400)))
    first_connect = touched._first_connect_at
    per_lead = touched.group_by("lead_id").aggregate(
        first_touch_at=touched.occurred_at.min(),
        last_touch_at=touched.occurred_at.max(),
        touches=touched.count(),
        calls=touched.count(where=is_call),
        calls_within_window=touched.count(where=is_call & (touched.occurred_at <= window_end)),
        first_connect_at=first_connect.max(),
        attempts_before_first_connect=touched.count(
            where=first_connect.isnull() | (touched.occurred_at < first_connect)),
    )
    joined = leads.left_join(per_lead, leads.lead_id == per_lead.lead_id)
    summary = fetch(joined.select(
        "lead_id", "created_at", "first_offer", "segment", "owner_rep_id", "first_touch_at", "touches", "calls",
        "calls_within_window", "first_connect_at", "attempts_before_first_connect", "last_touch_at",
    ))
    summary["hours_to_first_touch"] = (summary["first_touch_at"] - summary["created_at"]) / _HOUR
    summary["connected"] = summary["first_connect_at"].notna()
    summary["age_hours"] = (cutoff - summary["created_at"]) / _HOUR
    summary["hours_since_last_touch"] = (cutoff - summary["last_touch_at"]) / _HOUR
    return _finish(summary, {
        "lead_id": "str", "created_at": "ts", "first_offer": "str", "segment": "str", "owner_rep_id": "str",
        "first_touch_at": "ts", "hours_to_first_touch": "float", "touches": "int", "calls": "int",
        "calls_within_window": "int", "connected": "bool", "first_connect_at": "ts",
        "attempts_before_first_connect": "int", "last_touch_at": "ts", "age_hours": "float",
        "hours_since_last_touch": "float",
    }, keys=("lead_id",))


EVENT_TYPES: tuple[str, ...] = TABLES["lead_events"].column("event_type").allowed or ()


def lead_engagement(source: DataSource) -> pd.DataFrame:
    """How much each lead engaged with marketing before and after sales got involved.

    One row per lead (every lead of ``leads`` when that table is present, with zeros for
    those who never engaged): a count column per event type of the contract
    (``page_view``, ``content_download``, ``demo_request`` ...), ``events`` in total, and
    ``first_event_at`` / ``last_event_at``. The input of the lead-scoring models.
    """
    events = source.table("lead_events")
    counts = {etype: events.count(where=events.event_type == etype) for etype in EVENT_TYPES}
    per_lead = events.group_by("lead_id").aggregate(
        events=events.count(), first_event_at=events.occurred_at.min(), last_event_at=events.occurred_at.max(),
        **counts)
    columns = ["lead_id", *EVENT_TYPES, "events", "first_event_at", "last_event_at"]
    if source.has("leads"):
        leads = source.table("leads").select("lead_id")
        per_lead = leads.left_join(per_lead, leads.lead_id == per_lead.lead_id).select(*columns)
    df = fetch(per_lead.select(*columns))
    return _finish(df, {"lead_id": "str", **{e: "int" for e in EVENT_TYPES}, "events": "int",
                        "first_event_at": "ts", "last_event_at": "ts"}, keys=("lead_id",))


def lead_outcomes(source: DataSource) -> pd.DataFrame:
    """Which leads became customers and what they are worth.

    One row per lead (every lead of ``leads`` when present, else every lead with a deal):
    ``deals`` opened, ``won_deals``, ``won`` (at least one won deal), ``won_mrr`` (MRR of
    its won deals, 0 if none) and ``first_won_at``. Joined to engagement it gives the
    value of a lead of each kind.
    """
    deals = source.table("deals")
    deals = deals.filter(deals.lead_id.notnull())
    is_won = deals.status == "won"
    per_lead = deals.group_by("lead_id").aggregate(
        deals=deals.count(), won_deals=deals.count(where=is_won), won_mrr=deals.mrr.sum(where=is_won),
        first_won_at=deals.closed_at.min(where=is_won))
    columns = ["lead_id", "deals", "won_deals", "won_mrr", "first_won_at"]
    if source.has("leads"):
        leads = source.table("leads").select("lead_id")
        per_lead = leads.left_join(per_lead, leads.lead_id == per_lead.lead_id).select(*columns)
    df = fetch(per_lead.select(*columns))
    df["won"] = df["won_deals"].fillna(0) > 0
    df["won_mrr"] = df["won_mrr"].fillna(0.0)
    return _finish(df, {"lead_id": "str", "deals": "int", "won_deals": "int", "won": "bool", "won_mrr": "float",
                        "first_won_at": "ts"}, keys=("lead_id",))


# --------------------------------------------------------------------------- churn
def rep_churn(source: DataSource, *, window_months: int, as_of: Any = None) -> pd.DataFrame:
    """Whose customers stay: churn within the first ``window_months`` by rep.

    The customers a rep closes (and, separately, the customers a consultant serves) are
    the evidence of whether they sell to customers who fit. One row per person per
    ``attribution`` (``closing_rep`` or ``consultant``): ``customers`` and ``mrr`` signed,
    ``customers_observed`` (whose first ``window_months`` months have fully elapsed by
    ``as_of``, so their outcome is known), ``churned_within_window`` (observed customers
    whose ``churn_date`` falls before ``start_date + window_months`` months),
    ``churn_rate`` = churned / observed (NaN when none observed) and ``churned_mrr``.
    Customers too recent to judge are left out of the rate rather than counted as
    retained. ``as_of`` defaults to the last date in the data.
    """
    if isinstance(window_months, bool) or not isinstance(window_months, (int, np.integer)) or window_months < 1:
        raise ValueError(f"window_months must be a whole number >= 1, not {window_months!r}")
    customers = source.table("customers")
    if as_of is None:
        as_of_ts = data_period(source)[1] if any(source.has(t) for t in _PERIOD_COLUMNS) else None
        if as_of_ts is None:
            latest = customers.aggregate(a=customers.start_date.max(), b=customers.churn_date.max()).to_pandas()
            as_of_ts = _instant(pd.Series(latest.iloc[0]).dropna().max(), end_of_day=True)
    else:
        as_of_ts = _instant(as_of, end_of_day=True)
    as_of_date = ibis.literal(as_of_ts.date(), type=dt.Date())
    window_end = customers.start_date + ibis.interval(months=int(window_months))
    observed = window_end <= as_of_date
    customers = customers.mutate(
        _observed=observed, _churned=observed & customers.churn_date.notnull() & (customers.churn_date < window_end))

    def by(person: str, label: str) -> ibis.Table:
        rows = customers.filter(customers[person].notnull())
        return rows.group_by(rep_id=rows[person]).aggregate(
            customers=rows.count(), mrr=rows.mrr.sum(),
            customers_observed=rows.count(where=rows._observed),
            churned_within_window=rows.count(where=rows._churned),
            churned_mrr=rows.mrr.sum(where=rows._churned),
        ).mutate(attribution=ibis.literal(label))

    both = fetch(ibis.union(by("closing_rep_id", "closing_rep"), by("consultant_id", "consultant"),
                            distinct=False))
    both["churned_mrr"] = both["churned_mrr"].fillna(0.0)
    both["churn_rate"] = both["churned_within_window"] / both["customers_observed"].where(
        both["customers_observed"] > 0)
    return _finish(both, {"attribution": "str", "rep_id": "str", "customers": "int", "mrr": "float",
                          "customers_observed": "int", "churned_within_window": "int", "churn_rate": "float",
                          "churned_mrr": "float"}, keys=("attribution", "rep_id"))


# --------------------------------------------------------------------------- period
_PERIOD_COLUMNS: dict[str, tuple[str, ...]] = {
    "activities": ("occurred_at",),
    "leads": ("created_at",),
    "deals": ("created_at", "closed_at"),
}


def data_period(source: DataSource) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last timestamp of the sales data (activities, leads, deals), in UTC.

    Tells a reader which period the report covers and decides the default month.
    """
    present = [t for t in _PERIOD_COLUMNS if source.has(t)]
    if not present:
        raise MissingTableError("activities", f"{source.description} (nor leads or deals)")
    firsts: list[pd.Timestamp] = []
    lasts: list[pd.Timestamp] = []
    for name in present:  # three small tables at most, one aggregate query each
        table = source.table(name)
        metrics = {}
        for col in _PERIOD_COLUMNS[name]:
            metrics[f"min_{col}"] = table[col].min()
            metrics[f"max_{col}"] = table[col].max()
        row = table.aggregate(**metrics).to_pandas().iloc[0]
        for col in _PERIOD_COLUMNS[name]:
            if pd.notna(row[f"min_{col}"]):
                firsts.append(pd.Timestamp(row[f"min_{col}"]).tz_convert("UTC"))
                lasts.append(pd.Timestamp(row[f"max_{col}"]).tz_convert("UTC"))
    if not firsts:
        raise NoDataError(f"{source.description} holds no dated rows in {', '.join(present)}; "
                          f"export at least one month of activities, leads or deals.")
    return min(firsts), max(lasts)


def last_complete_month(source: DataSource, *,
                        period: tuple[pd.Timestamp, pd.Timestamp] | None = None) -> str:
    """The latest calendar month the data covers to its last day, as ``"YYYY-MM"``.

    Data exported on the 14th of June ends mid-month, so the monthly report defaults to
    May; data reaching the 30th of June makes June complete. ``period``: the source's
    :func:`data_period`, when the caller has it already (it costs a query per table).
    """
    first, last = period if period is not None else data_period(source)
    next_day_month = (last + pd.Timedelta(days=1)).tz_localize(None).to_period("M")
    month = next_day_month - 1
    if month < first.tz_localize(None).to_period("M"):
        raise NoDataError(f"the data in {source.description} runs from {first:%Y-%m-%d} to {last:%Y-%m-%d} "
                          f"and covers no complete calendar month; export a longer period.")
    return str(month)
