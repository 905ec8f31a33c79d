"""The analyst's widget of notebook 03 (JupyterLab only): pick a rep and a month, see their layout."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from helpers.analyses.coaching.model import compute_stage_table

if TYPE_CHECKING:  # pragma: no cover
    from helpers.analyses.coaching.report import CoachingAnalysis

__all__ = ["coaching_widgets"]


def coaching_widgets(analysis: CoachingAnalysis) -> Any:
    """Analyst-only: pick a rep and a month; redraws the three-chart layout and the focus metric's progress."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import Markdown, display

    from helpers.analyses.coaching.plots import plot_progress, plot_rep_layout
    from helpers.core.text import neutralise_markdown

    reps = sorted(analysis.model.flags_["rep_id"], key=analysis.name)
    rep = widgets.Dropdown(options=[(analysis.name(r), r) for r in reps],
                           value=analysis.private_rep or (reps[0] if reps else None), description="Rep")
    month = widgets.Dropdown(options=analysis.history, value=analysis.month, description="Month")
    out = widgets.Output()

    def redraw(*_: Any) -> None:
        with out:
            out.clear_output(wait=True)
            stage_month = compute_stage_table(analysis.funnel, months=[month.value])
            fig = plot_rep_layout(stage_month, analysis.stage_window, analysis.to_won, rep_id=rep.value,
                                  title=f"{analysis.name(rep.value)}: {month.value}")
            display(fig)
            plt.close(fig)
            prog, label = analysis.progress_for(rep.value)
            fig2, ax = plt.subplots(figsize=(7, 3))
            plot_progress(prog, label=label, ax=ax)
            display(fig2)
            plt.close(fig2)
            display(Markdown(neutralise_markdown(analysis.layout_text(rep.value))))  # names from the data

    rep.observe(redraw, names="value")
    month.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([rep, month]), out])
