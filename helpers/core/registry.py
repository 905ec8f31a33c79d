"""The numbered reports, in one place: title, tables needed and used, daily mode.

Every other place reads this registry: the report pipeline (which notebook runs, in which mode,
and which reports to skip for lack of data), :func:`helpers.reporting.context.start_report` (the
page title, the data check), the data contract's documentation (which report needs which table)
and the notebook convention test (a notebook's ``metadata["sales_workbook"]`` must repeat its entry,
so JupyterLab users see it too; tests/test_registry.py keeps the two equal).

A new analysis adds one :class:`ReportEntry` to :data:`REPORTS` (and its notebook
``notebooks/NN_topic.ipynb``; see docs/design.md, "A seventh analysis"). More facts about a report
(for example the parts of a page and the columns each part needs) are added as fields of
:class:`ReportEntry`, with a default, so existing entries stay valid.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ANALYSIS_TABLES", "REPORTS", "REPORT_TITLES", "ReportEntry", "report_entry"]


@dataclass(frozen=True)
class ReportEntry:
    """One numbered report (``notebooks/<stem>.ipynb``).

    ``needs``: tables without which the report cannot run (the pipeline skips it and says which
    file to add); ``uses``: optional tables whose absence turns off only the parts that read them;
    ``daily``: whether ``sales-workbook report --daily`` runs it too.
    """

    stem: str
    title: str
    needs: tuple[str, ...]
    uses: tuple[str, ...] = ()
    daily: bool = False

    @property
    def number(self) -> str:
        """The two-digit number the report is run and listed by (``"03"``)."""
        return self.stem[:2]


REPORTS: dict[str, ReportEntry] = {entry.stem: entry for entry in (
    ReportEntry("00_sales_rates", "Sales rates: win rates, funnel and call attempts",
                needs=("reps",), uses=("leads", "activities", "deals")),
    ReportEntry("01_trait_discovery", "Which interview traits predict sales success",
                needs=("reps", "hiring_scores", "quotas", "customers")),
    ReportEntry("02_training_score_correlation", "Do training scores predict sales success",
                needs=("reps", "training_scores", "quotas", "customers"),
                uses=("hiring_scores", "activities", "deals")),
    ReportEntry("03_funnel_coaching", "Funnel by rep: what to coach this month",
                needs=("reps", "activities", "deals"), uses=("leads", "quotas")),
    ReportEntry("04_compensation_churn_quartiles", "Churn by salesperson and commission quartiles",
                needs=("reps", "customers"), uses=("deals",)),
    ReportEntry("05_lead_value_and_sla", "Lead value, marketing pacing and the sales SLA",
                needs=("reps", "leads", "activities", "deals", "customers"), uses=("lead_events",), daily=True),
    ReportEntry("06_experiments", "Sales experiments: did they work",
                needs=("experiment_assignments",), uses=("experiments", "deals", "activities")),
    ReportEntry("07_predictable_revenue", "Predictable revenue: lead mix, roles, forecast and capacity",
                needs=("reps", "deals"), uses=("leads", "activities", "quotas")),
)}

#: views of the registry kept for the code that reads them by these names
ANALYSIS_TABLES: dict[str, dict[str, tuple[str, ...]]] = {
    stem: {"needs": entry.needs, "uses": entry.uses} for stem, entry in REPORTS.items()}
REPORT_TITLES: dict[str, str] = {stem: entry.title for stem, entry in REPORTS.items()}


def report_entry(stem: str) -> ReportEntry:
    """The registry entry of ``stem`` (``"03_funnel_coaching"``); a clear error for an unknown report."""
    try:
        return REPORTS[stem]
    except KeyError:
        raise KeyError(f"unknown report {stem!r}: expected one of {', '.join(REPORTS)} "
                       "(a new report needs an entry in helpers/core/registry.py)") from None
