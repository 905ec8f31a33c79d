"""The analyst's widget of notebook 02 (JupyterLab only): pick the success measure and the training scores."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from helpers.analyses.training import model as T

if TYPE_CHECKING:  # pragma: no cover
    from helpers.analyses.training.report import TrainingAnalysis

__all__ = ["explorer"]


def explorer(analysis: "TrainingAnalysis") -> Any:
    """Correlations of the chosen scores with the chosen success measure, and their comparison with hiring
    scores, re-computed on the analysis's hires."""
    import ipywidgets as widgets
    from IPython.display import display

    from helpers.analyses.training.report import TrainingAnalysis

    a = analysis
    metric = widgets.Dropdown(options=[(a.label(m), m) for m in a.metrics], value=a.primary, description="Success")
    chosen = widgets.SelectMultiple(options=a.assessments, value=tuple(a.assessments),
                                    description="Scores", rows=min(8, max(2, len(a.assessments))))

    def show(metric: str, scores: tuple[str, ...]) -> None:
        if not scores:
            print("Choose at least one training score.")
            return
        corr = T.compute_correlations(a.data, scores=list(scores), metrics=[metric], level=a.level,
                                      small_n=a.small_n)
        display(corr.round(3))
        probe = TrainingAnalysis(report=a.report, settings=a.settings, data=a.data, metrics=a.metrics,
                                 primary=metric, assessments=list(scores), traits=a.traits, level=a.level,
                                 small_n=a.small_n)
        probe._compare(list(scores), metric)
        print(probe.comparison_text())

    return widgets.interactive(show, metric=metric, scores=chosen)
