"""The analyst's widget of notebook 04 (JupyterLab only): replay history with another plan."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from helpers.analyses.compensation.churn import customer_cohorts
from helpers.analyses.compensation.model import PlanComparison, commitment_payments, rolling_quartiles

if TYPE_CHECKING:  # pragma: no cover
    from helpers.analyses.compensation.report import CompensationAnalysis

__all__ = ["whatif_widget"]


def whatif_widget(comp: "CompensationAnalysis") -> Any:
    """Sliders (JupyterLab) for the rate, the churn/clawback window and the four multipliers; redraws the comparison."""
    import ipywidgets as w
    from IPython.display import display

    s = comp.settings
    rate = w.FloatSlider(value=s.rate, min=0.5, max=5.0, step=0.25, description="$ per $1 MRR")
    window = w.IntSlider(value=s.window_months, min=1, max=12, description="Window (months)")
    mults = [w.FloatSlider(value=m, min=0.0, max=4.0, step=0.25, description=f"Quartile {i + 1}")
             for i, m in enumerate(s.multipliers)]
    out = w.Output()

    def redraw(_change: Any = None) -> None:
        new = s.but(rate=rate.value, window_months=window.value, clawback_months=window.value,
                    multipliers=tuple(m.value for m in mults))
        source, as_of = comp.report.source, comp.report.as_of.isoformat()
        cohorts = customer_cohorts(source, window_months=new.window_months, clawback_months=new.clawback_months,
                                   as_of=as_of)
        multipliers = rolling_quartiles(cohorts, new, months=comp.months, as_of_month=comp.report.month)
        payments = commitment_payments(source, commitment_months=new.commitment_months, as_of=as_of,
                                       annual_prepay_paid_upfront=new.annual_prepay_paid_upfront)
        result = PlanComparison(new).fit(cohorts, payments, multipliers, comp.months)
        with out:
            out.clear_output(wait=True)
            display(result.summary[["earned", "clawed_back", "paid", "cost_per_new_mrr", "cost_per_retained_mrr"]]
                    .round(2))

    for control in (rate, window, *mults):  # six sliders
        control.observe(redraw, names="value")
    redraw()
    return w.VBox([w.HBox([rate, window]), w.HBox(mults[:2]), w.HBox(mults[2:]), out])
