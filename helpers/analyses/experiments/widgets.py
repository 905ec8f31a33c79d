"""The analyst's widget of notebook 06 (JupyterLab only): pick an experiment, see its detail and power curve."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from helpers.analyses.experiments.model import ExperimentReview

__all__ = ["experiment_explorer"]


def experiment_explorer(review: "ExperimentReview") -> Any:
    """ipywidgets: a drop-down of the experiments; the chosen one's detail table and power curve."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    options = [(f"{r['name']} ({r['experiment_id']})", str(r["experiment_id"])) for _, r in review.summary.iterrows()]
    pick = widgets.Dropdown(options=options, description="Experiment", layout={"width": "60%"})

    def show(experiment_id: str) -> None:
        if experiment_id is None:
            return
        display(review.experiment_detail(experiment_id))
        review.plot_power_curve(experiment_id)
        plt.show()

    return widgets.interactive(show, experiment_id=pick)
