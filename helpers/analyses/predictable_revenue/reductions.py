"""Engine work of notebook 07: leads, deals and activities reduced to per-month, per-rep frames.

Every function is one Ibis expression (so DuckDB, PostgreSQL and Spark give the same frames; the
parity test runs each) and returns a pandas frame sorted by its keys with fixed dtypes. Only the
small per-month / per-deal results cross into pandas.

Lead kind: Predictable Revenue's seeds (referrals, word of mouth), nets (marketing) and spears
(outbound prospecting). The ``lead_type`` column wins when it holds one of the three; otherwise the
lead's ``source`` is looked up in ``[predictable_revenue.lead_kinds]``; anything else is ``unknown``.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ibis
import pandas as pd

from helpers.data.engine import DataSource
from helpers.core.periods import month_texts as _month_label
from helpers.data.reductions import _between, _finish, epoch_seconds, fetch

__all__ = ["KINDS", "deal_book", "lead_kind_lags", "lead_kind_months", "rep_meeting_opportunities",
           "rep_month_leads", "rep_week_connects"]

KINDS: tuple[str, ...] = ("seed", "net", "spear")


def _kind(leads: ibis.Table, source_kinds: Mapping[str, Sequence[str]]) -> ibis.Value:
    """seed/net/spear of each lead: its lead_type when one of the three, else its source's mapped kind."""
    by_source = [(leads.source.isin(list(sources)), ibis.literal(kind)) for kind, sources in source_kinds.items()
                 if sources]
    fallback = ibis.cases(*by_source, else_=ibis.literal("unknown")) if by_source else ibis.literal("unknown")
    return ibis.cases((leads.lead_type.isin(list(KINDS)), leads.lead_type), else_=fallback)


def _months_since_epoch(ts: ibis.Value) -> ibis.Value:
    return (ts.year() * 12 + ts.month() - 1).cast("int64")


def _first_won(source: DataSource) -> ibis.Table:
    deals = source.table("deals")
    won = deals.filter((deals.status == "won") & deals.lead_id.notnull() & deals.closed_at.notnull())
    return won.group_by("lead_id").aggregate(first_won_at=won.closed_at.min(), won_mrr=won.mrr.sum())


def _label(index: pd.Series) -> pd.Series:
    index = index.astype("int64")
    return _month_label(index // 12, index % 12 + 1)


def lead_kind_months(source: DataSource, source_kinds: Mapping[str, Sequence[str]], *,
                     end: Any = None) -> pd.DataFrame:
    """Leads created per month and kind, how many were won (ever, up to ``end``), their MRR and cycle.

    One row per ``month`` (of creation) and ``lead_kind``: ``leads``, ``won`` (leads with a won deal),
    ``won_mrr`` and ``cycle_days`` (sum over won leads of days from creation to the first win; divide by
    ``won`` for the mean). ``end`` (exclusive) keeps only leads and wins before it.
    """
    leads = _between(source.table("leads"), "created_at", None, end)
    won = _first_won(source)
    if end is not None:
        won = _between(won, "first_won_at", None, end)
    leads = leads.mutate(lead_kind=_kind(leads, source_kinds), _m=_months_since_epoch(leads.created_at))
    joined = leads.left_join(won, leads.lead_id == won.lead_id)
    seconds = epoch_seconds(joined.first_won_at) - epoch_seconds(joined.created_at)  # whole seconds: exact sums
    out = joined.group_by(["_m", "lead_kind"]).aggregate(
        leads=joined.count(), won=joined.first_won_at.count(), won_mrr=joined.won_mrr.sum(),
        cycle_seconds=seconds.sum())
    df = fetch(out)
    df["month"] = _label(df["_m"]) if len(df) else pd.Series(dtype="str")
    df["won_mrr"] = df["won_mrr"].fillna(0.0)
    df["cycle_days"] = df["cycle_seconds"].fillna(0).astype("int64") / 86400.0
    return _finish(df, {"month": "str", "lead_kind": "str", "leads": "int", "won": "int", "won_mrr": "float",
                        "cycle_days": "float"}, keys=("month", "lead_kind"))


def lead_kind_lags(source: DataSource, source_kinds: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Won leads per creation month, kind and months until the win (0 = won in the month it arrived).

    One row per ``month`` (creation), ``lead_kind`` and ``lag_months``: ``won`` and ``won_mrr``.
    """
    leads = source.table("leads")
    won = _first_won(source)
    leads = leads.mutate(lead_kind=_kind(leads, source_kinds), _m=_months_since_epoch(leads.created_at))
    joined = leads.inner_join(won, leads.lead_id == won.lead_id)
    joined = joined.mutate(lag_months=_months_since_epoch(joined.first_won_at) - joined._m)
    out = joined.group_by(["_m", "lead_kind", "lag_months"]).aggregate(won=joined.count(),
                                                                        won_mrr=joined.won_mrr.sum())
    df = fetch(out)
    df["month"] = _label(df["_m"]) if len(df) else pd.Series(dtype="str")
    return _finish(df, {"month": "str", "lead_kind": "str", "lag_months": "int", "won": "int", "won_mrr": "float"},
                   keys=("month", "lead_kind", "lag_months"))


def deal_book(source: DataSource, source_kinds: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Every deal with its owner, dates, status, MRR and the kind of lead it came from.

    One row per deal: ``deal_id``, ``rep_id``, ``created_at``, ``closed_at``, ``status``, ``mrr`` and
    ``lead_kind`` (``unknown`` for deals without a lead or without a leads table).
    """
    deals = source.table("deals")
    cols = ["deal_id", "rep_id", "created_at", "closed_at", "status", "mrr"]
    if source.has("leads"):
        leads = source.table("leads")
        leads = leads.select(lead_id=leads.lead_id, lead_kind=_kind(leads, source_kinds))
        joined = deals.left_join(leads, deals.lead_id == leads.lead_id)
        out = joined.select(*cols, lead_kind=joined.lead_kind.fill_null("unknown"))
    else:
        out = deals.select(*cols, lead_kind=ibis.literal("unknown"))
    df = fetch(out)
    return _finish(df, {"deal_id": "str", "rep_id": "str", "created_at": "ts", "closed_at": "ts", "status": "str",
                        "mrr": "float", "lead_kind": "str"}, keys=("deal_id",))


def rep_month_leads(source: DataSource, source_kinds: Mapping[str, Sequence[str]], *,
                    end: Any = None) -> pd.DataFrame:
    """Leads each rep was handed per month (owner, month of creation) and how many of them were won.

    One row per ``rep_id``, ``month``: ``leads``, ``inbound_leads`` (seeds and nets), ``won``.
    """
    leads = _between(source.table("leads"), "created_at", None, end)
    leads = leads.filter(leads.owner_rep_id.notnull())
    won = _first_won(source)
    if end is not None:
        won = _between(won, "first_won_at", None, end)
    leads = leads.mutate(_kind=_kind(leads, source_kinds), _m=_months_since_epoch(leads.created_at))
    joined = leads.left_join(won, leads.lead_id == won.lead_id)
    out = joined.group_by(rep_id=joined.owner_rep_id, _m=joined._m).aggregate(
        leads=joined.count(), inbound_leads=joined.count(where=joined._kind.isin(["seed", "net"])),
        won=joined.first_won_at.count())
    df = fetch(out)
    df["month"] = _label(df["_m"]) if len(df) else pd.Series(dtype="str")
    return _finish(df, {"rep_id": "str", "month": "str", "leads": "int", "inbound_leads": "int", "won": "int"},
                   keys=("rep_id", "month"))


def rep_week_connects(source: DataSource, *, start: Any = None, end: Any = None) -> pd.DataFrame:
    """Connected calls per rep per ISO week (weeks starting Monday, labelled by that Monday).

    One row per ``rep_id`` and ``week`` (a date) with ``connects``; weeks without a call are absent.
    """
    acts = _between(source.table("activities"), "occurred_at", start, end)
    calls = acts.filter(acts.activity_type == "call")
    day = calls.occurred_at.cast("date")
    week = day.truncate("W")
    calls = calls.mutate(week=week)
    out = calls.group_by(["rep_id", "week"]).aggregate(
        calls=calls.count(), connects=calls.count(where=calls.outcome == "connected"))
    df = fetch(out)
    return _finish(df, {"rep_id": "str", "week": "date", "calls": "int", "connects": "int"},
                   keys=("rep_id", "week"))


def rep_meeting_opportunities(source: DataSource, *, start: Any = None, end: Any = None) -> pd.DataFrame:
    """Meetings held -> qualified opportunities, per rep who held them (the SDR's hand-off).

    One row per ``rep_id``: ``leads_met`` (distinct leads with a meeting held by the rep in the window)
    and ``qualified`` (those with a deal opened at or after their first such meeting).
    """
    acts = _between(source.table("activities"), "occurred_at", start, end)
    held = acts.filter((acts.activity_type == "meeting") & (acts.outcome == "held"))
    met = held.group_by(["rep_id", "lead_id"]).aggregate(first_met=held.occurred_at.min())
    deals = source.table("deals")
    deals = deals.filter(deals.lead_id.notnull())
    opened = deals.group_by("lead_id").aggregate(last_opened=deals.created_at.max())
    joined = met.left_join(opened, met.lead_id == opened.lead_id)
    qualified = joined.last_opened.notnull() & (joined.last_opened >= joined.first_met)
    out = joined.group_by("rep_id").aggregate(leads_met=joined.count(), qualified=joined.count(where=qualified))
    df = fetch(out)
    return _finish(df, {"rep_id": "str", "leads_met": "int", "qualified": "int"}, keys=("rep_id",))
