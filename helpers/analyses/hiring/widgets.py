"""The analyst's widget of notebook 01 (JupyterLab only): pick the success metric and the traits."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from helpers.analyses.success import SUCCESS_METRICS

if TYPE_CHECKING:  # pragma: no cover
    from helpers.analyses.hiring.report import HiringAnalysis


def trait_explorer(discovery: "HiringAnalysis") -> Any:
    """A JupyterLab widget: pick the success metric and the traits; the model is re-fitted and redrawn."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import Markdown, display

    from helpers.analyses.hiring.model import TraitModel

    metric = widgets.Dropdown(options=[(SUCCESS_METRICS[m].label, m) for m in discovery.models],
                              value=discovery.settings.success_metric, description="Success")
    traits = widgets.SelectMultiple(options=discovery.traits, value=tuple(discovery.traits), description="Traits",
                                    rows=min(len(discovery.traits), 8))
    out = widgets.Output()

    def refresh(*_: Any) -> None:
        with out:
            out.clear_output(wait=True)
            chosen = list(traits.value)
            if not chosen:
                display(Markdown("Choose at least one trait."))
                return
            model = TraitModel(metric=metric.value, traits=chosen,
                               **discovery.settings.model_kwargs()).fit(discovery.hires)
            fig, ax = plt.subplots(figsize=(7, 3.4))
            model.plot(ax=ax)
            display(fig)
            plt.close(fig)
            display(Markdown("\n".join(f"- {s}" for s, _ in model.sentences())
                             + "\n- " + model.weights_sentence()
                             + "".join(f"\n- *Caveat:* {w}" for w in model.warnings_)))

    metric.observe(refresh, "value")
    traits.observe(refresh, "value")
    refresh()
    return widgets.VBox([widgets.HBox([metric, traits]), out])
