"""Notebook 06, the monthly experiment review: ``analyse(report)`` reviews every registered experiment once.

The statistics and the verdicts are in :class:`helpers.analyses.experiments.model.ExperimentReview`
(an estimator: ``fit`` returns self, results end in ``_``); :class:`ExperimentsAnalysis` is what the
page shows of it: the pipeline table, the effects plot, the notes, the detail table, and
:meth:`ExperimentsAnalysis.record`, which writes the results file.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from helpers.analyses.experiments.model import ExperimentReview, ExperimentSettings

if TYPE_CHECKING:  # pragma: no cover
    from helpers.reporting.context import ReportContext

__all__ = ["ExperimentsAnalysis", "analyse"]


@dataclass
class ExperimentsAnalysis:
    """Everything notebook 06 shows, from one fitted :class:`ExperimentReview`."""

    review: ExperimentReview

    @property
    def settings(self) -> ExperimentSettings:
        return self.review.settings

    @property
    def summary(self) -> pd.DataFrame:
        """One row per experiment: arms, effect, interval, p, power, verdict and next step."""
        return self.review.summary

    # ------------------------------------------------------------------ page
    def pipeline_view(self) -> Any:
        return self.review.pipeline_view()

    def detail_view(self) -> Any:
        return self.review.detail_view()

    def experiment_notes(self) -> str:
        return self.review.experiment_notes()

    def cluster_text(self) -> str:
        return self.review.cluster_text()

    def verdict_lines(self) -> str:
        return self.review.verdict_lines()

    def plot(self, ax: Any = None) -> Any:
        """Each experiment's lift and interval as a share of its pre-registered bar."""
        return self.review.plot(ax=ax)

    def explorer(self) -> Any:
        """Analyst widget: pick an experiment, see its detail and its power curve."""
        from helpers.analyses.experiments.widgets import experiment_explorer

        return experiment_explorer(self.review)

    # ------------------------------------------------------------------ results file
    def record(self, recorder: Any) -> None:
        """Headline, key figure, one figure per experiment, findings, caveats and the details into ``recorder``."""
        self.review.record(recorder)


def analyse(report: "ReportContext") -> ExperimentsAnalysis:
    """Review every registered experiment of the report's data as of its cutoff, with ``[experiments]`` settings."""
    review = ExperimentReview.from_config(report.config).fit(report.source, as_of=report.as_of)
    return ExperimentsAnalysis(review=review)
