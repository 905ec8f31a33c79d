"""The finer metrics behind a weak stage ("peeling the onion"): attempts, voicemails, connects, speed to
first attempt, no-shows, deal size, cycle length and segment mix per rep and month.

:func:`rep_month_submetrics` counts them in the engine (Ibis; identical on DuckDB and PostgreSQL), with
numerators and denominators so months pool correctly; :func:`compute_submetrics` turns pooled counts into
each rep's value and percentile against the team; :func:`peel` picks a weak stage's metrics for one rep.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import ibis
import numpy as np
import pandas as pd

from helpers.data.reductions import _between, _finish, _with_month, _year_month, epoch_seconds

if TYPE_CHECKING:  # pragma: no cover
    from helpers.data.engine import DataSource

#: Sub-metric -> (label, numerator column, denominator column, scale, higher_is_better).
SUB_METRICS: dict[str, tuple[str, str, str, float, bool]] = {
    "attempts_per_lead": ("Attempts per lead worked", "attempts", "leads_attempted", 1.0, True),
    "voicemail_share": ("Calls ending in voicemail (%)", "voicemails", "calls", 100.0, False),
    "call_connect_rate": ("Calls that connected (%)", "calls_connected", "calls", 100.0, True),
    "morning_call_share": ("Calls before noon UTC (%)", "morning_calls", "calls", 100.0, True),
    "first_attempt_within_sla": ("New leads attempted within the SLA hour (%)", "first_attempts_within_sla",
                                 "leads_created", 100.0, True),
    "hours_to_first_attempt": ("Average hours to first attempt", "first_attempt_hours_sum", "leads_first_attempted",
                               1.0, False),
    "discovery_no_show_rate": ("Discovery meetings no-show (%)", "discovery_no_shows", "discovery_booked", 100.0,
                               False),
    "demo_no_show_rate": ("Demos no-show (%)", "demo_no_shows", "demo_booked", 100.0, False),
    "deal_size": ("Average won deal MRR ($)", "won_mrr_sum", "won_deals", 1.0, True),
    "cycle_days": ("Average days from deal to close (won)", "won_cycle_days_sum", "won_deals", 1.0, False),
    "enterprise_share": ("Closed deals from enterprise leads (%)", "closed_enterprise", "closed_deals", 100.0, True),
}
SUBMETRIC_COUNTS = ("attempts", "leads_attempted", "calls", "voicemails", "calls_connected", "morning_calls",
                    "leads_created", "first_attempts_within_sla", "leads_first_attempted", "discovery_booked",
                    "discovery_no_shows", "demo_booked", "demo_no_shows", "closed_deals", "won_deals",
                    "closed_enterprise")
SUBMETRIC_SUMS = ("first_attempt_hours_sum", "won_mrr_sum", "won_cycle_days_sum")


def rep_month_submetrics(source: DataSource, *, start: Any = None, end: Any = None,
                         sla_hours: float = 1.0, noon_hour: int = 12) -> pd.DataFrame:
    """The finer metrics behind each funnel stage, counted in the engine, one row per rep and month.

    Counts and sums (numerators and denominators, so months pool correctly):

    * from ``activities`` (month of the activity): ``attempts`` (calls and emails), ``leads_attempted``
      (distinct leads called or emailed), ``calls``, ``voicemails``, ``calls_connected``,
      ``morning_calls`` (calls before ``noon_hour`` UTC), ``discovery_booked`` / ``discovery_no_shows``
      and ``demo_booked`` / ``demo_no_shows`` (meetings of that kind, and those that were no-shows);
    * from ``leads`` (month of creation, rep = ``owner_rep_id``; zero when the table is absent):
      ``leads_created``, ``leads_first_attempted`` (a call or email by any rep), ``first_attempt_hours_sum``
      (hours from creation to the first call or email), ``first_attempts_within_sla`` (first attempt
      within ``sla_hours``);
    * from ``deals`` (month of ``closed_at``): ``closed_deals`` (won or lost), ``won_deals``, ``won_mrr_sum``,
      ``won_cycle_days_sum`` (days from ``created_at`` to ``closed_at``), ``closed_enterprise`` (closed
      deals whose lead is in the ``enterprise`` segment).
    """
    acts = _between(source.table("activities"), "occurred_at", start, end)
    kind, outcome, meeting = acts.activity_type, acts.outcome, acts.meeting_kind
    is_attempt = kind.isin(["call", "email"])
    is_call = kind == "call"
    a = acts.group_by(rep_id=acts.rep_id, **_year_month(acts.occurred_at)).aggregate(
        attempts=acts.count(where=is_attempt),
        leads_attempted=acts.lead_id.nunique(where=is_attempt),
        calls=acts.count(where=is_call),
        voicemails=acts.count(where=is_call & (outcome == "voicemail")),
        calls_connected=acts.count(where=is_call & (outcome == "connected")),
        morning_calls=acts.count(where=is_call & (acts.occurred_at.hour() < noon_hour)),
        discovery_booked=acts.count(where=meeting == "discovery"),
        discovery_no_shows=acts.count(where=(meeting == "discovery") & (outcome == "no_show")),
        demo_booked=acts.count(where=meeting == "demo"),
        demo_no_shows=acts.count(where=(meeting == "demo") & (outcome == "no_show")),
    )
    parts = [_with_month(a.to_pandas())]

    if source.has("leads"):
        leads = _between(source.table("leads"), "created_at", start, end)
        all_acts = source.table("activities")
        first = (all_acts.filter(all_acts.activity_type.isin(["call", "email"]))
                 .group_by("lead_id").aggregate(_first=all_acts.occurred_at.min()))
        joined = leads.left_join(first, leads.lead_id == first.lead_id)
        hours = (epoch_seconds(joined._first) - epoch_seconds(joined.created_at)).cast("float64") / 3600.0
        lq = joined.filter(joined.owner_rep_id.notnull()).mutate(_hours=hours)
        b = lq.group_by(rep_id=lq.owner_rep_id, **_year_month(lq.created_at)).aggregate(
            leads_created=lq.count(),
            leads_first_attempted=lq.count(where=lq._first.notnull()),
            first_attempt_hours_sum=lq._hours.sum(),
            first_attempts_within_sla=lq.count(where=lq._hours <= sla_hours),
        )
        parts.append(_with_month(b.to_pandas()))

    deals = source.table("deals")
    deals = _between(deals.filter(deals.status.isin(["won", "lost"]) & deals.closed_at.notnull()),
                     "closed_at", start, end)
    if source.has("leads"):
        lead_seg = source.table("leads").select(_lid="lead_id", _segment="segment")
        deals = deals.left_join(lead_seg, deals.lead_id == lead_seg._lid)
        enterprise = deals._segment == "enterprise"
    else:
        enterprise = ibis.literal(False)
    won = deals.status == "won"
    cycle = (epoch_seconds(deals.closed_at) - epoch_seconds(deals.created_at)).cast("float64") / 86400.0
    c = deals.group_by(rep_id=deals.rep_id, **_year_month(deals.closed_at)).aggregate(
        closed_deals=deals.count(),
        won_deals=deals.count(where=won),
        won_mrr_sum=deals.mrr.sum(where=won),
        won_cycle_days_sum=cycle.sum(where=won),
        closed_enterprise=deals.count(where=enterprise.fill_null(False)),
    )
    parts.append(_with_month(c.to_pandas()))

    merged = parts[0]
    for part in parts[1:]:
        merged = merged.merge(part, on=["month", "rep_id"], how="outer")
    for col in SUBMETRIC_COUNTS + SUBMETRIC_SUMS:
        if col not in merged.columns:
            merged[col] = 0
    merged[list(SUBMETRIC_SUMS)] = merged[list(SUBMETRIC_SUMS)].astype("float64").fillna(0.0).round(6)
    dtypes = {"rep_id": "str", "month": "str", **{c: "int" for c in SUBMETRIC_COUNTS},
              **{c: "float" for c in SUBMETRIC_SUMS}}
    return _finish(merged, dtypes, keys=("rep_id", "month"))


def compute_submetrics(counts: pd.DataFrame, *, months: Sequence[str]) -> pd.DataFrame:
    """Long table per rep and sub-metric over ``months``: value (pooled numerator / denominator), the
    denominator as its n, the team median and quartiles across reps, and the rep's percentile where
    100 is best (direction from :data:`SUB_METRICS`)."""
    part = counts[counts["month"].isin(list(months))]
    sums = part.groupby("rep_id")[list(SUBMETRIC_COUNTS + SUBMETRIC_SUMS)].sum()
    rows = []
    for name, (label, num, den, scale, higher) in SUB_METRICS.items():  # a dozen metric definitions
        with np.errstate(invalid="ignore", divide="ignore"):
            value = scale * sums[num] / sums[den].where(sums[den] > 0)
        frame = pd.DataFrame({"rep_id": sums.index, "sub_metric": name, "label": label, "value": value.to_numpy(),
                              "n": sums[den].to_numpy().astype("int64"), "higher_is_better": higher})
        valid = frame["value"].dropna()
        frame["team_q1"], frame["team_median"], frame["team_q3"] = (
            (valid.quantile(0.25), valid.median(), valid.quantile(0.75)) if len(valid) else (np.nan,) * 3)
        ranks = frame["value"].rank(pct=True, ascending=higher)
        frame["percentile"] = 100 * ranks
        rows.append(frame)
    if not rows:
        return pd.DataFrame()
    return pd.concat(rows, ignore_index=True).sort_values(["rep_id", "sub_metric"], ignore_index=True)


def peel(submetrics: pd.DataFrame, *, rep_id: str, stage: str, pairs: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """Peel the onion: the sub-metrics configured for ``stage``, the rep against the team, worst first.

    ``lagging`` is true when the rep is in the team's worse quartile on that metric."""
    wanted = [m for s, m in pairs if s == stage]
    rows = submetrics[(submetrics["rep_id"] == rep_id) & submetrics["sub_metric"].isin(wanted)].copy()
    rows["lagging"] = rows["percentile"] <= 25
    order = {m: i for i, m in enumerate(wanted)}
    rows["_o"] = rows["sub_metric"].map(order)
    return rows.sort_values(["percentile", "_o"], na_position="last").drop(columns="_o").reset_index(drop=True)
