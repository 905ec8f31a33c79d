"""Analyst-only views of notebook 05: one rep's lists, one segment's attempt curve (interactive in JupyterLab).

The pure functions (:func:`rep_options`, :func:`rep_lists`, :func:`segment_options`, :func:`segment_view`)
compute what the widgets show and are unit tested; :func:`rep_widget` and :func:`segment_widget` only wire
them to ipywidgets dropdowns. The scheduled report skips the cells that call them (``analyst-only``).
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from helpers.analyses.lead_value import sla
from helpers.analyses.lead_value import plots
from helpers.analyses.lead_value import speed_to_lead as stl

__all__ = ["rep_lists", "rep_options", "rep_widget", "segment_options", "segment_view", "segment_widget"]


def rep_options(violations: pd.DataFrame, calls: pd.DataFrame, reps: pd.DataFrame | None = None
                ) -> list[tuple[str, str]]:
    """(label, owner id) for every owner with a breach or an open lead, named from ``reps``, sorted by label.

    Leads without an owner appear once as ``(unassigned)``.
    """
    names = {} if reps is None or reps.empty else dict(zip(reps["rep_id"].astype(str), reps["name"].astype(str)))
    owners = pd.concat([violations["owner_rep_id"], calls["owner_rep_id"]], ignore_index=True)
    ids = sorted(set(owners.fillna(sla.UNASSIGNED).astype(str)))
    return sorted(((names.get(i, i), i) for i in ids), key=lambda t: (t[0] == sla.UNASSIGNED, t[0]))


def _owner_is(frame: pd.DataFrame, rep_id: str) -> pd.Series:
    return frame["owner_rep_id"].fillna(sla.UNASSIGNED).astype(str) == str(rep_id)


def rep_lists(violations: pd.DataFrame, calls: pd.DataFrame, *, rep_id: str, reps: pd.DataFrame | None = None,
              n: int = 25) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One rep's "Do not be on it" list (breaches they can still act on, newest first) and call list (first ``n``).

    Same rows and order as the page's per-rep tables (:func:`helpers.analyses.lead_value.sla.top_violations_per_rep` with
    ``open_only=True``, :func:`helpers.analyses.lead_value.sla.compact_call_list`), for one owner and more rows.
    """
    if n < 1:
        raise sla.SlaInputError(f"n={n}: show at least one lead")
    mine = violations[_owner_is(violations, rep_id)]
    breaches = sla.top_violations_per_rep(mine, n=n, reps=reps, open_only=True) if len(mine) else pd.DataFrame()
    my_calls = calls[_owner_is(calls, rep_id)].sort_values(["rank", "lead_id"], kind="stable")
    call_list = sla.compact_call_list(my_calls, per_rep=n, reps=reps) if len(my_calls) else pd.DataFrame()
    return breaches.reset_index(drop=True), call_list.reset_index(drop=True)


def segment_options(analysis: Any) -> list[str]:
    """Segments of the attempts analysis (none in daily mode or without old enough leads)."""
    if isinstance(analysis, stl.Skipped):
        return []
    return sorted(analysis.curve["segment"].unique())


def segment_view(analysis: Any, segment: str) -> tuple[pd.DataFrame, str]:
    """One segment's attempt curve (a table a reader can scan) and a sentence with its cutoff."""
    if isinstance(analysis, stl.Skipped):
        return pd.DataFrame(), analysis.reason
    if segment not in segment_options(analysis):
        raise stl.SpeedToLeadError(f"segment {segment!r} is not in the attempts analysis; pick one of "
                                   + ", ".join(segment_options(analysis)))
    c = analysis.curve[analysis.curve["segment"] == segment]
    table = pd.DataFrame({
        "Attempt": c["attempt"].to_numpy(),
        "Leads given it, not yet reached": c["at_risk"].to_numpy(),
        "Reached on it": [f"{r:.1%} ({lo:.1%}-{hi:.1%})" if n else "" for r, lo, hi, n in
                          zip(c["connect_rate"], c["connect_ci_low"], c["connect_ci_high"], c["at_risk"])],
        "Value per attempt": [f"${v:,.0f} (${lo:,.0f}-${hi:,.0f})" if n else "" for v, lo, hi, n in
                              zip(c["value_per_attempt"], c["value_ci_low"], c["value_ci_high"], c["at_risk"])],
    })
    r = analysis.cutoffs.set_index("segment").loc[segment]
    name = segment.replace("_", " ")
    configured = "not set" if pd.isna(r["configured"]) else f"{int(r['configured'])}"
    if pd.isna(r["cutoff"]):
        text = f"{name.capitalize()}: no recommended cutoff ({r['reason']}); the SLA asks for {configured} attempts."
    else:
        text = (f"{name.capitalize()}: stop after {int(r['cutoff'])} attempts ({r['reason']}); "
                f"the SLA asks for {configured}.")
    return table, text


def rep_widget(violations: pd.DataFrame, calls: pd.DataFrame, *, reps: pd.DataFrame | None = None,
               n: int = 25) -> Any:
    """Analyst-only: pick a rep; shows their "Do not be on it" list and today's call list."""
    import ipywidgets as widgets
    from IPython.display import Markdown, display

    options = rep_options(violations, calls, reps)
    if not options:
        return Markdown("No breaches and no open leads: nothing to pick.")
    rep = widgets.Dropdown(options=options, value=options[0][1], description="Rep")
    out = widgets.Output()

    def redraw(*_: Any) -> None:
        with out:
            out.clear_output(wait=True)
            breaches, call_list = rep_lists(violations, calls, rep_id=rep.value, reps=reps, n=n)
            display(Markdown(f"**Do not be on it** ({len(breaches)} open breaches shown)"))
            display(breaches if len(breaches) else Markdown("No open breach."))
            display(Markdown(f"**Call list** (first {len(call_list)} by engagement)"))
            display(call_list if len(call_list) else Markdown("No open lead to call."))

    rep.observe(redraw, names="value")
    redraw()
    return widgets.VBox([rep, out])


def segment_widget(analysis: Any) -> Any:
    """Analyst-only: pick a segment; shows its attempt curve, plot and recommended cutoff."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import Markdown, display

    from helpers.core.text import neutralise_markdown

    options = segment_options(analysis)
    if not options:
        return Markdown(neutralise_markdown(segment_view(analysis, "")[1]))
    seg = widgets.Dropdown(options=[(s.replace("_", " "), s) for s in options], value=options[0],
                           description="Segment")
    out = widgets.Output()

    def redraw(*_: Any) -> None:
        with out:
            out.clear_output(wait=True)
            table, text = segment_view(analysis, seg.value)
            fig, ax = plt.subplots(figsize=(7, 3))
            plots.plot_attempt_curve(analysis.curve[analysis.curve["segment"] == seg.value],
                                   cutoffs=analysis.cutoffs, ax=ax)
            display(fig)
            plt.close(fig)
            display(Markdown(neutralise_markdown(text)))  # segment names come from the data
            display(table)

    seg.observe(redraw, names="value")
    redraw()
    return widgets.VBox([seg, out])
