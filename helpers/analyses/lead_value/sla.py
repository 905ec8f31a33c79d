"""The sales SLA as of any instant: the "Do not be on it" list, and today's call list per rep.

Roberge's sales service-level agreement (the seeds): call a new inbound lead within the hour;
call free trials at least 3 times; touch demo requests at least twice within 3 days; follow an
unreached lead up 5 / 8 / 12 times by segment before giving up. A daily "Do not be on it"
dashboard lists every lead that breaks a rule, so nothing slips through the cracks. The
numbers are ``[sla]`` of the configuration (:class:`helpers.core.config.SlaRules`).

Everything per event (touches per lead, first touch, calls in the trial window, last touch) is
reduced **in the engine** by one Ibis expression, and the rules are evaluated there too: only
the violating leads come back into pandas. Exact semantics (docs/sla.md):

* all times are UTC instants; ages and deadlines are elapsed time (``created_at + 1 hour``,
  ``+ 3 x 24 hours``), never calendar days;
* only what is known at ``as_of`` counts: leads created and activities logged at or before it
  (a bare date means the end of that day, 23:59:59.999999 UTC);
* **deadlines are inclusive**: an action at exactly the deadline is on time (a first touch at
  exactly 60 minutes meets the hour; a third trial call at exactly 7 x 24 hours counts), and a
  lead whose deadline has arrived (``as_of >= created_at + deadline``) without the action is in
  breach (an untouched lead exactly one hour old; a demo request exactly 3 x 24 hours old
  touched once);
* a *touch* is any activity (call, email, meeting); an *attempt* is a call or an email; a
  *call* is an activity of type ``call``; a lead is *connected* once any touch has an outcome
  in :data:`helpers.data.reductions.CONNECT_OUTCOMES` (connected call, email reply, meeting held).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis
import numpy as np
import pandas as pd

from helpers.data.reductions import (CONNECT_OUTCOMES, _finish, _instant, _ts_literal, epoch_seconds, fetch,
                                     leads_and_touches_known_at)

if TYPE_CHECKING:  # pragma: no cover
    from helpers.core.config import SlaRules, WorkbookConfig
    from helpers.data.engine import DataSource

__all__ = [
    "RULES", "RULE_LABELS", "CallListSettings", "SlaInputError", "call_list",
    "compact_call_list", "late_first_touches", "sla_headline", "sla_violations",
    "top_violations_per_rep", "violation_counts",
]

#: The rules, in the order the dashboard lists them.
RULES: tuple[str, ...] = ("first_touch", "free_trial_calls", "demo_request_touches", "follow_up_attempts")
RULE_LABELS: dict[str, str] = {
    "first_touch": "Not touched within the hour",
    "free_trial_calls": "Free trial called too few times",
    "demo_request_touches": "Demo request touched too few times",
    "follow_up_attempts": "Follow-up stopped too early",
}
UNASSIGNED = "(unassigned)"
_ATTEMPT_TYPES = ("call", "email")
_VIOLATION_COLUMNS = {
    "rule": "str", "lead_id": "str", "owner_rep_id": "str", "segment": "str", "first_offer": "str",
    "created_at": "ts", "status": "str", "first_touch_at": "ts", "last_touch_at": "ts", "touches": "int",
    "attempts": "int", "calls_in_window": "int", "required": "float", "hours_to_first_touch": "float",
    "age_days": "float", "idle_days": "float",
}


class SlaInputError(ValueError):
    """The SLA inputs are unusable (a bad as-of date, rules that make no sense); the message says how to fix them."""


def _seconds(hours: float) -> int:
    return int(round(hours * 3600))


def _lead_status(source: "DataSource", cutoff: pd.Timestamp, rules: "SlaRules",
                 connect_outcomes: Sequence[str]) -> ibis.Table:
    """One row per lead created by ``cutoff``: touch counts and times known at ``cutoff`` (engine side)."""
    leads, touched = leads_and_touches_known_at(source, cutoff)
    window_end = touched._created_at + ibis.interval(seconds=_seconds(rules.free_trial_after_days * 24))
    is_call = touched.activity_type == "call"
    per_lead = touched.group_by(_lead="lead_id").aggregate(
        first_touch_at=touched.occurred_at.min(),
        last_touch_at=touched.occurred_at.max(),
        touches=touched.count(),
        attempts=touched.count(where=touched.activity_type.isin(list(_ATTEMPT_TYPES))),
        calls_in_window=(touched.count(where=is_call & (touched.occurred_at <= window_end)) if rules.free_trial_grace
                         else touched.count(where=is_call)),  # without a grace period: every call by the cutoff
        connects=touched.count(where=touched.outcome.isin(list(connect_outcomes))),
    )
    joined = leads.left_join(per_lead, leads.lead_id == per_lead._lead)
    return joined.select(
        "lead_id", "owner_rep_id", "segment", "first_offer", "created_at", "first_touch_at", "last_touch_at",
        touches=joined.touches.fill_null(0), attempts=joined.attempts.fill_null(0),
        calls_in_window=joined.calls_in_window.fill_null(0), connects=joined.connects.fill_null(0))


def sla_violations(source: "DataSource", *, as_of: Any, rules: "SlaRules",
                   connect_outcomes: Sequence[str] = CONNECT_OUTCOMES) -> pd.DataFrame:
    """Every breach of every SLA rule as known at ``as_of``: the full "Do not be on it" list.

    One row per (rule, lead), sorted by rule (in :data:`RULES` order), owner, newest lead first.
    Columns: ``rule``, ``lead_id``, ``owner_rep_id`` (the lead's owner; empty if unassigned),
    ``segment``, ``first_offer``, ``created_at``, ``status`` (``never touched`` / ``touched late``
    for the first-touch rule, ``open`` otherwise), ``first_touch_at``, ``last_touch_at``,
    ``touches``, ``attempts`` (calls and emails), ``calls_in_window`` (calls within
    ``free_trial_after_days`` of creation), ``required`` (what the rule asks for: hours, calls,
    touches or attempts), ``hours_to_first_touch``, ``age_days`` and ``idle_days`` at ``as_of``.

    Rules (deadlines inclusive, elapsed time in UTC; see the module docstring):

    * ``first_touch``: ``as_of >= created_at + first_touch_hours`` and no touch at or before
      that instant (never touched, or first touched later);
    * ``free_trial_calls``: first offer ``free_trial`` and fewer than ``free_trial_min_calls`` calls
      by ``as_of``: on the list from the moment it signs up, as the book states the rule. With the
      optional grace period (``free_trial_grace = true``): only once ``as_of >= created_at +
      free_trial_after_days``, counting the calls at or before ``created_at + free_trial_after_days``;
    * ``demo_request_touches``: first offer ``demo_request``, ``as_of >= created_at +
      demo_request_age_days`` and fewer than ``demo_request_min_touches`` touches by ``as_of``;
    * ``follow_up_attempts``: touched at least once, never connected, fewer attempts than
      ``follow_up_attempts[segment]`` and idle (no touch) for at least ``follow_up_idle_days``.
      A never-touched lead is a first-touch breach, not a follow-up one.
    """
    try:
        cutoff = _instant(as_of, end_of_day=True)
    except ValueError as exc:
        raise SlaInputError(f"as_of: {exc}") from None
    status = _lead_status(source, cutoff, rules, connect_outcomes)
    cut = _ts_literal(cutoff)

    def due(days_or_hours: float, *, hours: bool = False) -> ibis.Value:
        seconds = _seconds(days_or_hours if hours else days_or_hours * 24)
        return status.created_at + ibis.interval(seconds=seconds) <= cut

    first_deadline = status.created_at + ibis.interval(seconds=_seconds(rules.first_touch_hours))
    required_attempts = ibis.cases(*((status.segment == seg, int(n)) for seg, n in rules.follow_up_attempts.items()),
                                   else_=ibis.null("int64"))
    idle_since = status.last_touch_at + ibis.interval(seconds=_seconds(rules.follow_up_idle_days * 24))
    never = status.first_touch_at.isnull()
    conditions = {
        "first_touch": (due(rules.first_touch_hours, hours=True) & (never | (status.first_touch_at > first_deadline)),
                        ibis.cases((never, "never touched"), else_="touched late"),
                        ibis.literal(float(rules.first_touch_hours))),
        "free_trial_calls": ((status.first_offer == "free_trial")
                             & (due(rules.free_trial_after_days) if rules.free_trial_grace else ibis.literal(True))
                             & (status.calls_in_window < rules.free_trial_min_calls),
                             ibis.literal("open"), ibis.literal(float(rules.free_trial_min_calls))),
        "demo_request_touches": ((status.first_offer == "demo_request") & due(rules.demo_request_age_days)
                                 & (status.touches < rules.demo_request_min_touches),
                                 ibis.literal("open"), ibis.literal(float(rules.demo_request_min_touches))),
        "follow_up_attempts": ((status.touches > 0) & (status.connects == 0) & (status.attempts < required_attempts)
                               & (idle_since <= cut), ibis.literal("open"), required_attempts),
    }
    parts = [status.filter(cond).select(
        "lead_id", "owner_rep_id", "segment", "first_offer", "created_at", "first_touch_at", "last_touch_at",
        "touches", "attempts", "calls_in_window", rule=ibis.literal(rule), status=state,
        required=required.cast("float64")) for rule, (cond, state, required) in conditions.items()]
    df = fetch(ibis.union(*parts, distinct=False))
    day = pd.Timedelta(days=1)
    df["created_at"] = pd.to_datetime(df["created_at"], utc=True)
    df["hours_to_first_touch"] = (pd.to_datetime(df["first_touch_at"], utc=True) - df["created_at"]) / pd.Timedelta(hours=1)
    df["age_days"] = (cutoff - df["created_at"]) / day
    df["idle_days"] = (cutoff - pd.to_datetime(df["last_touch_at"], utc=True)) / day
    out = _finish(df, _VIOLATION_COLUMNS, keys=("lead_id",))
    out["_order"] = out["rule"].map({r: i for i, r in enumerate(RULES)})
    out["_owner"] = out["owner_rep_id"].fillna("~")
    out = out.sort_values(["_order", "_owner", "created_at", "lead_id"], ascending=[True, True, False, True],
                          kind="stable", ignore_index=True)
    return out.drop(columns=["_order", "_owner"])


def _rep_names(reps: pd.DataFrame | None) -> dict[str, str]:
    if reps is None or reps.empty:
        return {}
    return dict(zip(reps["rep_id"].astype(str), reps["name"].astype(str)))


def violation_counts(violations: pd.DataFrame, *, reps: pd.DataFrame | None = None) -> pd.DataFrame:
    """Breaches per owner and rule, with a total per owner, most breaches first, and a ``Total`` row last.

    ``reps`` (``rep_id``, ``name``) names the owners; leads without an owner count under
    ``(unassigned)``. Columns: ``rep_id``, ``rep``, one per rule of :data:`RULES`, ``total``.
    """
    names = _rep_names(reps)
    owner = violations["owner_rep_id"].fillna(UNASSIGNED)
    table = (pd.crosstab(owner, violations["rule"]).reindex(columns=list(RULES), fill_value=0)
             if len(violations) else pd.DataFrame(columns=list(RULES), dtype="int64"))
    table.columns.name = None
    table["total"] = table.sum(axis=1)
    table = table.rename_axis("rep_id").reset_index()
    table["rep"] = table["rep_id"].map(lambda r: names.get(r, r))
    table = table.sort_values(["total", "rep"], ascending=[False, True], ignore_index=True)
    total = {"rep_id": "", "rep": "Total", **{c: int(table[c].sum()) for c in (*RULES, "total")}}
    table = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    return table[["rep_id", "rep", *RULES, "total"]].astype({c: "int64" for c in (*RULES, "total")})


def top_violations_per_rep(violations: pd.DataFrame, *, n: int = 5, reps: pd.DataFrame | None = None,
                           open_only: bool = False) -> pd.DataFrame:
    """The ``n`` newest breaches of each owner, for the page (the full list stays in the results file).

    ``open_only`` leaves out first touches that came late (history that can no longer be fixed),
    keeping what a rep can still act on today.
    """
    if n < 1:
        raise SlaInputError(f"n={n}: show at least one breach per rep")
    names = _rep_names(reps)
    rows = violations if not open_only else violations[violations["status"] != "touched late"]
    rows = rows.assign(_owner=rows["owner_rep_id"].fillna(UNASSIGNED))
    rows = rows.sort_values(["_owner", "created_at", "lead_id"], ascending=[True, False, True], kind="stable")
    top = rows.groupby("_owner", sort=True).head(n)
    shown = pd.DataFrame({
        "Rep": top["_owner"].map(lambda r: names.get(r, r)),
        "Lead": top["lead_id"],
        "Rule": top["rule"].map(RULE_LABELS),
        "Offer": top["first_offer"].str.replace("_", " "),
        "Created (UTC)": top["created_at"].dt.strftime("%Y-%m-%d %H:%M"),
        "What happened": _what_happened(top),
    })
    return shown.reset_index(drop=True)


def _what_happened(rows: pd.DataFrame) -> pd.Series:
    """A short phrase per breach shown on the page, e.g. 'never touched (5.2 days old)' or '1 of 3 calls ...'."""

    def phrase(r: pd.Series) -> str:
        if r["rule"] == "first_touch":
            if pd.isna(r["first_touch_at"]):
                return f"never touched ({r['age_days']:.1f} days old)"
            return f"first touch after {r['hours_to_first_touch']:.1f} h"
        if r["rule"] == "free_trial_calls":
            return f"{r['calls_in_window']} of {r['required']:g} calls in the trial window"
        if r["rule"] == "demo_request_touches":
            return f"{r['touches']} of {r['required']:g} touches, {r['age_days']:.1f} days old"
        return f"{r['attempts']} of {r['required']:g} attempts, idle {r['idle_days']:.0f} days"

    if rows.empty:
        return pd.Series([], index=rows.index, dtype=object)
    return rows.apply(phrase, axis=1).astype(object)


def late_first_touches(violations: pd.DataFrame, *, start: Any, end: Any) -> pd.DataFrame:
    """First-touch breaches of leads created in the reporting window ``[start, end]`` (UTC instants).

    The view "leads whose first touch came late in the reporting window": first-touch breaches
    whose lead was created in the window, with ``status`` telling the ones touched late from
    those still untouched. ``end`` given as a bare date means the end of that day.
    """
    lo, hi = _instant(start), _instant(end, end_of_day=True)
    rows = violations[(violations["rule"] == "first_touch") & (violations["created_at"] >= lo)
                      & (violations["created_at"] <= hi)]
    return rows.reset_index(drop=True)


def sla_headline(violations: pd.DataFrame, *, as_of: Any, window: pd.DataFrame | None = None) -> str:
    """One sentence for the index card: breaches today, the untouched ones first."""
    day = _instant(as_of, end_of_day=True).strftime("%d %B %Y").lstrip("0")
    if violations.empty:
        return f"No lead breaks the sales SLA as of {day}."
    leads = violations["lead_id"].nunique()
    untouched = int((violations["status"] == "never touched").sum())
    parts = [f"{leads:,} leads break the sales SLA as of {day}"]
    if untouched:
        parts.append(f"{untouched:,} of them still untouched past the hour")
    text = ", ".join(parts) + "."
    if window is not None and len(window):
        late = int((window["status"] == "touched late").sum())
        text += f" {late:,} leads created in the reporting period were first touched after the hour."
    return text


# --------------------------------------------------------------------------- the call list
@dataclass(frozen=True)
class CallListSettings:
    """How the daily call list ranks open leads (``[sla]`` of the configuration)."""

    weights: dict[str, float]
    half_life_days: float
    max_age_days: float
    per_rep: int

    @classmethod
    def from_config(cls, config: "WorkbookConfig") -> "CallListSettings":
        """Read and check the call-list settings of ``[sla]``; a bad value raises ConfigError naming the key."""
        from helpers.core.contract import TABLES
        from helpers.core.config import ConfigError

        s = config.settings
        weights = s.get("sla.engagement_weights")
        allowed = TABLES["lead_events"].column("event_type").allowed or ()
        if not isinstance(weights, dict) or not weights:
            s.fail("sla.engagement_weights", weights, "a table of event type = points")
        unknown = sorted(set(weights) - set(allowed))
        if unknown:
            raise ConfigError(f"{s.file}: setting 'sla.engagement_weights' names unknown event type {unknown[0]!r}; "
                              f"use event types of the data contract: {', '.join(allowed)}")
        for key in weights:
            s.number(f"sla.engagement_weights.{key}", minimum=0)
        return cls(
            weights={k: float(v) for k, v in weights.items()},
            half_life_days=float(s.number("sla.engagement_half_life_days", minimum=0, strict_min=True)),
            max_age_days=float(s.number("sla.call_list_max_age_days", minimum=0, strict_min=True)),
            per_rep=int(s.number("sla.call_list_per_rep", integer=True, minimum=1)),
        )


def call_list(source: "DataSource", *, as_of: Any, settings: CallListSettings) -> pd.DataFrame:
    """Today's call list: every rep's open leads, most engaged first (not alphabetically).

    Open lead: created within ``max_age_days`` before ``as_of`` and without a deal by
    ``as_of`` (a lead with a deal is an opportunity, worked from the pipeline). Engagement
    score = sum over the lead's marketing events up to ``as_of`` of ``weight[event_type] x
    0.5 ** (age of the event in days / half_life_days)``: a demo request yesterday outweighs
    an ebook download last month. Computed in the engine. One row per open lead with
    ``owner_rep_id``, ``lead_id``, ``first_offer``, ``segment``, ``created_at``, ``score``,
    ``events``, ``last_event_type``, ``last_event_at``, ``touches``, ``rank`` (1 = call first,
    within the owner), sorted by owner then rank. Without ``lead_events`` every score is 0
    and leads are ordered newest first.
    """
    cutoff = _instant(as_of, end_of_day=True)
    cut = _ts_literal(cutoff)
    leads = source.table("leads")
    oldest = _ts_literal(cutoff - pd.Timedelta(days=settings.max_age_days))
    leads = leads.filter((leads.created_at <= cut) & (leads.created_at >= oldest) & leads.owner_rep_id.notnull())
    if source.has("deals"):
        deals = source.table("deals")
        with_deal = deals.filter(deals.lead_id.notnull() & (deals.created_at <= cut)).select(_dl="lead_id").distinct()
        leads = leads.anti_join(with_deal, leads.lead_id == with_deal._dl)
    acts = source.table("activities")
    acts = acts.filter(acts.occurred_at <= cut)
    touches = acts.group_by(_tl="lead_id").aggregate(touches=acts.count())
    base = leads.left_join(touches, leads.lead_id == touches._tl).select(
        "lead_id", "owner_rep_id", "first_offer", "segment", "created_at", touches=touches.touches.fill_null(0))
    if source.has("lead_events"):
        events = source.table("lead_events")
        events = events.filter(events.occurred_at <= cut)
        weight = ibis.cases(*((events.event_type == k, float(v)) for k, v in settings.weights.items()), else_=0.0)
        age_days = (epoch_seconds(cut) - epoch_seconds(events.occurred_at)).cast("float64") / 86400.0
        decay = (age_days * (-np.log(2) / settings.half_life_days)).exp()
        events = events.mutate(_points=weight * decay)
        per = events.group_by(_el="lead_id").aggregate(
            score=events._points.sum(), events=events.count(), last_event_at=events.occurred_at.max(),
            last_event_type=events.event_type.argmax(events.occurred_at))
        base = base.left_join(per, base.lead_id == per._el).select(
            *base.columns, score=per.score.fill_null(0.0), events=per.events.fill_null(0),
            last_event_type=per.last_event_type, last_event_at=per.last_event_at)
    else:
        base = base.mutate(score=ibis.literal(0.0), events=ibis.literal(0, "int64"),
                           last_event_type=ibis.null("string"), last_event_at=ibis.null("timestamp('UTC')"))
    df = fetch(base)
    df = _finish(df, {"owner_rep_id": "str", "lead_id": "str", "first_offer": "str", "segment": "str",
                      "created_at": "ts", "score": "float", "events": "int", "last_event_type": "str",
                      "last_event_at": "ts", "touches": "int"}, keys=("lead_id",))
    df["score"] = df["score"].round(6)  # engines sum in different orders; ties must not depend on it
    df = df.sort_values(["owner_rep_id", "score", "last_event_at", "created_at", "lead_id"],
                        ascending=[True, False, False, False, True], na_position="last", kind="stable",
                        ignore_index=True)
    df["rank"] = df.groupby("owner_rep_id").cumcount() + 1
    return df


def compact_call_list(calls: pd.DataFrame, *, per_rep: int, reps: pd.DataFrame | None = None,
                      top_reps: int | None = None) -> pd.DataFrame:
    """The first ``per_rep`` leads of each rep's call list, as the page shows them."""
    names = _rep_names(reps)
    top = calls[calls["rank"] <= per_rep]
    if top_reps is not None:
        keep = top.groupby("owner_rep_id")["score"].max().sort_values(ascending=False).head(top_reps).index
        top = top[top["owner_rep_id"].isin(keep)]
    return pd.DataFrame({
        "Rep": top["owner_rep_id"].map(lambda r: names.get(r, r)),
        "#": top["rank"],
        "Lead": top["lead_id"],
        "Offer": top["first_offer"].str.replace("_", " "),
        "Engagement": top["score"].round(1),
        "Last action": top["last_event_type"].fillna("").str.replace("_", " "),
        "When (UTC)": top["last_event_at"].dt.strftime("%Y-%m-%d %H:%M").fillna(""),
        "Touches so far": top["touches"],
    }).reset_index(drop=True)


# --------------------------------------------------------------------------- the report page
def window_start(report: Any) -> Any:
    """Start of the reporting window: the as-of day in daily mode, the first day of the month otherwise."""
    from helpers.reporting.context import month_bounds

    return report.as_of if report.daily else month_bounds(report.month)[0]


def counts_text(counts: pd.DataFrame) -> str:
    """Deterministic lines 'rule: breaches' (the notebook's checked output)."""
    total = counts.set_index("rep").loc["Total"]
    lines = [f"{RULE_LABELS[r]}: {int(total[r]):,}" for r in RULES]
    return "\n".join(lines + [f"Breaches in all: {int(total['total']):,}"])


def counts_for_page(counts: pd.DataFrame) -> pd.DataFrame:
    """The per-rep counts with headings a reader understands."""
    shown = counts.drop(columns="rep_id").rename(columns={"rep": "Rep", "total": "All rules", **RULE_LABELS})
    return shown.set_index("Rep").rename_axis(None)


def summary_text(violations: pd.DataFrame, window: pd.DataFrame, *, rules: "SlaRules", daily: bool) -> str:
    """Plain-language paragraph under the list: what it says and what to do."""
    never = int((violations["status"] == "never touched").sum())
    late = int((window["status"] == "touched late").sum())
    period = "today" if daily else "this month"
    hours = f"{rules.first_touch_hours:g} hour" + ("" if rules.first_touch_hours == 1 else "s")
    text = (f"{violations['lead_id'].nunique():,} leads break at least one rule. "
            f"{never:,} are still untouched more than {hours} after they came in: call them first. "
            f"{late:,} leads created {period} were first touched after {hours}. ")
    trial = (f"{rules.free_trial_min_calls} calls in their first {rules.free_trial_after_days:g} days"
             if rules.free_trial_grace else f"{rules.free_trial_min_calls} calls (listed until they have them)")
    text += (f"Free trials need {trial}, "
             f"demo requests {rules.demo_request_min_touches} touches once they are {rules.demo_request_age_days:g} days old, "
             "and a lead nobody has reached needs "
             + ", ".join(f"{n} attempts ({s.replace('_', ' ')})" for s, n in rules.follow_up_attempts.items())
             + f" before it is left idle for {rules.follow_up_idle_days:g} days.")
    return text


def record_sla(recorder: Any, violations: pd.DataFrame, counts: pd.DataFrame, window: pd.DataFrame) -> None:
    """Figures, findings and detail tables of the SLA section into ``recorder`` (``report.results``).

    The headline is composed once from both halves by :meth:`helpers.analyses.lead_value.report.LeadValueAnalysis.record`.
    """
    res = recorder
    total = counts.set_index("rep").loc["Total"]
    res.key_figure("sla_breaching_leads", "Leads breaking the sales SLA", int(violations["lead_id"].nunique()),
                   unit="leads")
    for rule in RULES:
        res.figure(f"sla_breaches_{rule}", RULE_LABELS[rule], int(total[rule]), unit="leads")
    never = int((violations["status"] == "never touched").sum())
    res.figure("sla_never_touched", "Leads still untouched past the first-touch deadline", never, unit="leads")
    res.figure("sla_late_first_touch_in_window", "Leads created in the period and first touched late",
               int((window["status"] == "touched late").sum()), unit="leads")
    if never:
        res.finding(f"{never:,} leads have never been touched although their first-touch deadline has passed: "
                    "call them today.", "action")
    worst = counts[counts["rep"] != "Total"].head(1)
    if len(worst) and int(worst["total"].iloc[0]) > 0:
        res.finding(f"Most breaches: {worst['rep'].iloc[0]} ({int(worst['total'].iloc[0]):,}).", "warning")
    res.table("sla_violations_by_rep", counts)
    res.table("sla_violations", violations[["rule", "lead_id", "owner_rep_id", "status", "created_at", "touches",
                                            "attempts", "calls_in_window", "required"]])


def one_row_per_rep(table: pd.DataFrame, *, text: pd.Series, rank: pd.Series) -> pd.DataFrame:
    """A long per-rep table folded to one row per rep (columns 1, 2, 3 ...), so the page lists every rep."""
    if table.empty:
        return pd.DataFrame()
    wide = pd.DataFrame({"Rep": table["Rep"].to_numpy(), "rank": rank.to_numpy(), "text": text.to_numpy()})
    wide = wide.pivot(index="Rep", columns="rank", values="text").fillna("")
    wide.columns = [str(c) for c in wide.columns]
    return wide.rename_axis(None)


def call_list_for_page(calls: pd.DataFrame, *, per_rep: int, reps: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each rep's first ``per_rep`` leads to call, one row per rep: 'lead (offer, last action)'."""
    top = compact_call_list(calls, per_rep=per_rep, reps=reps)
    text = top["Lead"] + " (" + top["Offer"] + ", " + top["Last action"].where(top["Last action"] != "", "no events") + ")"
    return one_row_per_rep(top, text=text, rank=top["#"])


def breaches_for_page(violations: pd.DataFrame, *, n: int, reps: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each rep's ``n`` newest breaches they can still act on, one row per rep: 'lead: what happened'."""
    top = top_violations_per_rep(violations, n=n, reps=reps, open_only=True)
    text = top["Lead"] + ": " + top["What happened"]
    return one_row_per_rep(top, text=text, rank=top.groupby("Rep").cumcount() + 1)
