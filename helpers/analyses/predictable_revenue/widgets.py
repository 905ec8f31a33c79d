"""JupyterLab widget of notebook 07: move the monthly revenue goal, see the capacity plan it needs."""
from __future__ import annotations

from typing import Any

__all__ = ["goal_widget"]


def goal_widget(analysis: Any) -> Any:
    """A slider for the monthly MRR goal and one for a conversion improvement; shows the capacity plan."""
    import ipywidgets as widgets
    from IPython.display import display

    if analysis.plan is None:
        return widgets.HTML(analysis.plan_problem or "No capacity plan can be made from this data.")
    base = max(analysis.goal, 1.0)
    goal = widgets.FloatSlider(value=base, min=base * 0.25, max=base * 4, step=base / 100, description="Goal $/mo",
                               readout_format=",.0f", continuous_update=False)
    better = widgets.FloatSlider(value=0.0, min=0.0, max=0.5, step=0.05, description="Conv. +",
                                 readout_format=".0%", continuous_update=False)

    def show(goal: float, better: float) -> None:
        display(analysis.plan_for(goal, improvement=better))

    return widgets.interactive(show, goal=goal, better=better)
