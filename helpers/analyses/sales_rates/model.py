"""Sales rates from the data every sales organisation has: deals, leads and a call log.

Real exports are thin: a CRM's closed deals with the seller and the outcome, a lead list with its
deals, a dialler's call log with outcomes. These reductions need only that (each runs in the engine
and returns one small row per group), so a sales leader learns the basics from any of them:

* :func:`win_rate_by_seller` - closed deals won per seller (``deals``: ``rep_id``, ``status``); money
  (won MRR) only where deal amounts exist. No dates needed: without ``closed_at`` every closed deal counts.
* :func:`funnel_by` - leads -> leads with a deal -> leads won, by owner (the lead's ``owner_rep_id``, else
  its deal's rep) or by ``source`` (``leads`` + ``deals.lead_id``, no activities).
* :func:`conversion_by_attempt` - from a call log: of the leads still unconnected when they got call
  ``k``, how many connected at call ``k``, and how many of those became customers.
* :func:`lead_win_probability` - a lead's value as its chance of becoming a customer, by a lead attribute;
  in dollars (chance x mean won MRR) only when deal amounts exist.

Every rate comes with its count and a Wilson interval (:func:`helpers.core.intervals.wilson_interval`).
Leads and deals dated after ``as_of`` are left out; rows without a date are kept (the data has none).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.datatypes as dt
import numpy as np
import pandas as pd

from helpers.core.intervals import wilson_interval

if TYPE_CHECKING:  # pragma: no cover
    from helpers.data.engine import DataSource

__all__ = ["ALL", "conversion_by_attempt", "funnel_by", "lead_win_probability", "win_rate_by_seller"]

#: The label of the row that pools every group.
ALL = "all"


def _cutoff(as_of: Any) -> Any:
    """Exclusive end of the day ``as_of`` as a timestamp literal (None: no cutoff)."""
    if as_of is None:
        return None
    day = as_of.date() if isinstance(as_of, datetime) else as_of if isinstance(as_of, date) \
        else pd.Timestamp(str(as_of)).date()
    return ibis.literal(datetime.combine(day + timedelta(days=1), datetime.min.time()), type=dt.Timestamp())


def _up_to(table: ibis.Table, column: str, as_of: Any) -> ibis.Table:
    end = _cutoff(as_of)
    return table if end is None else table.filter(table[column].isnull() | (table[column] < end))


def _rates(df: pd.DataFrame, k: str, n: str, prefix: str, level: float) -> pd.DataFrame:
    with np.errstate(invalid="ignore", divide="ignore"):
        df[f"{prefix}rate"] = (df[k] / df[n].where(df[n] > 0)).astype("float64")
    df[f"{prefix}ci_low"], df[f"{prefix}ci_high"] = wilson_interval(df[k], df[n], level=level)
    return df


def _money_known(deals: ibis.Table) -> bool:
    """Whether any deal carries a positive amount (an absent mrr column reads as all-empty)."""
    return bool(deals.aggregate(n=(deals.mrr > 0).sum())
                .to_pandas()["n"].fillna(0).iloc[0] > 0)


def win_rate_by_seller(source: "DataSource", *, as_of: Any = None, level: float = 0.95) -> pd.DataFrame:
    """Closed deals and the share won, per seller, plus an ``all`` row (first).

    Columns: ``rep_id``, ``name``, ``closed``, ``won``, ``win_rate``, ``ci_low``, ``ci_high``, ``won_mrr``
    (NaN when no deal carries an amount), ``open``. Open deals are not in the rate. Deals closed after
    ``as_of`` are left out (when ``closed_at`` exists).
    """
    d = _up_to(source.table("deals"), "closed_at", as_of)
    money = _money_known(d)
    closed = d.status.isin(["won", "lost"])
    won = d.status == "won"
    per = d.group_by("rep_id").aggregate(closed=closed.sum(), won=won.sum(), open=(d.status == "open").sum(),
                                         won_mrr=d.mrr.sum(where=won))
    df = per.to_pandas().astype({"rep_id": "str"})
    for col in ("closed", "won", "open"):
        df[col] = df[col].fillna(0).astype("int64")
    df["won_mrr"] = df["won_mrr"].astype("float64").fillna(0.0) if money else np.nan
    reps = source.read("reps", columns=["rep_id", "name"]) if source.has("reps") else pd.DataFrame(
        columns=["rep_id", "name"])
    df = df.merge(reps, on="rep_id", how="left")
    df["name"] = df["name"].fillna(df["rep_id"])
    df = df.sort_values(["closed", "rep_id"], ascending=[False, True], ignore_index=True)
    total = pd.DataFrame([{"rep_id": ALL, "name": "All sellers", "closed": int(df["closed"].sum()),
                           "won": int(df["won"].sum()), "open": int(df["open"].sum()),
                           "won_mrr": float(df["won_mrr"].sum()) if money else np.nan}])
    df = pd.concat([total, df], ignore_index=True)
    df = _rates(df, "won", "closed", "win_", level).rename(
        columns={"win_rate": "win_rate", "win_ci_low": "ci_low", "win_ci_high": "ci_high"})
    return df[["rep_id", "name", "closed", "won", "win_rate", "ci_low", "ci_high", "won_mrr", "open"]]


def _lead_outcomes(source: "DataSource", as_of: Any) -> ibis.Table:
    """One row per lead created by ``as_of``: its owner (else its deal's rep), source, and deal / won flags."""
    leads = _up_to(source.table("leads"), "created_at", as_of)
    deals = _up_to(source.table("deals"), "created_at", as_of)
    per_lead = deals.filter(deals.lead_id.notnull()).group_by(_lid=deals.lead_id).aggregate(
        _deal_rep=deals.rep_id.min(), _won=(deals.status == "won").max(),
        _won_mrr=deals.mrr.sum(where=deals.status == "won"))
    j = leads.left_join(per_lead, leads.lead_id == per_lead._lid)
    return j.select(lead_id=j.lead_id, owner=j.owner_rep_id.coalesce(j._deal_rep), source=j.source,
                    first_offer=j.first_offer, lead_type=j.lead_type, segment=j.segment,
                    has_deal=j._lid.notnull(), won=j._won.fill_null(False), won_mrr=j._won_mrr)


def funnel_by(source: "DataSource", by: str = "owner", *, as_of: Any = None, level: float = 0.95) -> pd.DataFrame:
    """Leads -> leads with a deal -> leads won, per ``owner`` (rep) or per ``source``; ``all`` row first.

    Needs ``leads`` and ``deals`` (linked by ``deals.lead_id``), no activities. Columns: the group
    (``group``, and ``name`` for owners), ``leads``, ``with_deal``, ``won``, ``deal_rate`` (leads with a deal
    / leads), ``win_rate`` (won / leads with a deal) and ``lead_win_rate`` (won / leads), each with
    ``*_ci_low`` / ``*_ci_high``. Leads without an owner (or source) form the group ``unassigned``.
    """
    if by not in ("owner", "source"):
        raise ValueError(f"funnel_by(by={by!r}): choose 'owner' or 'source'")
    t = _lead_outcomes(source, as_of)
    per = t.group_by(group=t[by].fill_null("unassigned")).aggregate(
        leads=t.count(), with_deal=t.has_deal.sum(), won=t.won.sum())
    df = per.to_pandas().astype({"group": "str"})
    for col in ("leads", "with_deal", "won"):
        df[col] = df[col].fillna(0).astype("int64")
    df = df.sort_values(["leads", "group"], ascending=[False, True], ignore_index=True)
    total = pd.DataFrame([{"group": ALL, "leads": int(df["leads"].sum()), "with_deal": int(df["with_deal"].sum()),
                           "won": int(df["won"].sum())}])
    df = pd.concat([total, df], ignore_index=True)
    if by == "owner":
        reps = source.read("reps", columns=["rep_id", "name"]).set_index("rep_id")["name"]
        df["name"] = df["group"].map(reps).fillna(df["group"].replace({ALL: "All reps"}))
    df = _rates(df, "with_deal", "leads", "deal_", level)
    df = _rates(df, "won", "with_deal", "win_", level)
    df = _rates(df, "won", "leads", "lead_win_", level)
    return df


def conversion_by_attempt(source: "DataSource", *, as_of: Any = None, max_attempt: int = 10,
                          connected: tuple[str, ...] = ("connected",), level: float = 0.95) -> pd.DataFrame:
    """From a call log: connect rate at each call attempt, and how often a connect at that attempt is won.

    Calls are a lead's activities of type ``call`` (a call log without ``activity_type`` is all calls),
    numbered 1, 2, ... by time. Attempt ``k`` (calls beyond ``max_attempt`` pooled into the last row):
    ``reached`` = leads that got a k-th call while still unconnected; ``connected`` = leads whose first
    connect was call k; ``connect_rate`` = connected / reached; ``won`` = those leads that became customers
    (a won deal of the lead); ``won_rate`` = won / connected. Also ``never_connected_won``: leads won without
    any connected call (in ``attrs``). Needs ``activities.outcome``; wins need ``deals.lead_id``.
    """
    acts = source.table("activities")
    acts = _up_to(acts, "occurred_at", as_of)
    calls = acts.filter(acts.activity_type == "call")
    w = ibis.window(group_by=calls.lead_id, order_by=[calls.occurred_at, calls.activity_id])
    numbered = calls.select(lead_id=calls.lead_id, k=ibis.row_number().over(w) + 1,
                            hit=calls.outcome.isin(list(connected)).fill_null(False))
    per_lead = numbered.group_by("lead_id").aggregate(
        calls=numbered.count(), first_connect=numbered.k.min(where=numbered.hit))
    if source.has("deals"):
        deals = source.table("deals")
        won = deals.filter((deals.status == "won") & deals.lead_id.notnull()).select(_wl=deals.lead_id).distinct()
        per_lead = per_lead.left_join(won, per_lead.lead_id == won._wl).select(
            "calls", "first_connect", won=lambda t: t._wl.notnull())
    else:
        per_lead = per_lead.mutate(won=ibis.literal(False))
    cap = int(max_attempt)
    # leads by (calls made while unconnected, capped) and (first connect, capped): a small table
    reached_upto = ibis.least(per_lead.first_connect.fill_null(per_lead.calls), cap)
    first_capped = ibis.ifelse(per_lead.first_connect.isnull(), ibis.null(dt.int64),  # LEAST skips NULLs
                               ibis.least(per_lead.first_connect, cap))
    reduced = per_lead.group_by(upto=reached_upto, fc=first_capped,
                                won=per_lead.won).aggregate(n=per_lead.count()).to_pandas()
    reduced["n"] = reduced["n"].astype("int64")
    ks = np.arange(1, cap + 1)
    upto = reduced.groupby("upto")["n"].sum().reindex(ks, fill_value=0)
    reached = upto[::-1].cumsum()[::-1]  # leads with at least k unconnected-so-far calls
    hit = reduced[reduced["fc"].notna()].astype({"fc": "int64"})
    connected_k = hit.groupby("fc")["n"].sum().reindex(ks, fill_value=0)
    won_k = hit[hit["won"].astype(bool)].groupby("fc")["n"].sum().reindex(ks, fill_value=0)
    df = pd.DataFrame({"attempt": ks, "reached": reached.to_numpy(), "connected": connected_k.to_numpy(),
                       "won": won_k.to_numpy()})
    df = _rates(df, "connected", "reached", "connect_", level)
    df = _rates(df, "won", "connected", "won_", level)
    df.attrs["leads_called"] = int(reduced["n"].sum())
    df.attrs["never_connected_won"] = int(reduced.loc[reduced["fc"].isna() & reduced["won"].astype(bool), "n"].sum())
    df.attrs["last_attempt_pooled"] = cap
    return df


def lead_win_probability(source: "DataSource", by: str = "source", *, as_of: Any = None,
                         level: float = 0.95) -> pd.DataFrame:
    """A lead's value by ``by`` (``source``, ``first_offer``, ``lead_type`` or ``segment``): its chance of
    becoming a customer, and in dollars (chance x mean won MRR of the group's won leads) only when amounts exist.

    Columns: ``group``, ``leads``, ``won``, ``p_win`` with ``ci_low``/``ci_high``, ``mean_won_mrr`` and
    ``value_mrr`` (NaN without amounts); ``all`` row first. ``attrs["money"]`` says whether dollars are known.
    """
    if by not in ("source", "first_offer", "lead_type", "segment"):
        raise ValueError(f"lead_win_probability(by={by!r}): choose source, first_offer, lead_type or segment")
    t = _lead_outcomes(source, as_of)
    money = _money_known(source.table("deals"))
    per = t.group_by(group=t[by].fill_null("unknown")).aggregate(
        leads=t.count(), won=t.won.sum(), won_mrr=t.won_mrr.sum(where=t.won))
    df = per.to_pandas().astype({"group": "str"})
    df[["leads", "won"]] = df[["leads", "won"]].fillna(0).astype("int64")
    df["won_mrr"] = df["won_mrr"].astype("float64").fillna(0.0)
    df = df.sort_values(["leads", "group"], ascending=[False, True], ignore_index=True)
    total = pd.DataFrame([{"group": ALL, "leads": int(df["leads"].sum()), "won": int(df["won"].sum()),
                           "won_mrr": float(df["won_mrr"].sum())}])
    df = pd.concat([total, df], ignore_index=True)
    df = _rates(df, "won", "leads", "p_", level).rename(columns={"p_rate": "p_win", "p_ci_low": "ci_low",
                                                                 "p_ci_high": "ci_high"})
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = df["won_mrr"] / df["won"].where(df["won"] > 0)
    df["mean_won_mrr"] = mean if money else np.nan
    df["value_mrr"] = df["p_win"] * df["mean_won_mrr"] if money else np.nan
    df.attrs["money"] = money
    return df.drop(columns=["won_mrr"])
