"""What a report run is made of: the notebooks found, how each went, the whole run's result.

Part of :mod:`helpers.reporting.pipeline` (import the names from there); kept apart so that the
publishing step (:mod:`helpers.reporting.publish`) reads the same records.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

State = Literal["ok", "failed", "skipped"]


class ReportError(RuntimeError):
    """The report cannot be built as asked; the message says what to change."""


@dataclass(frozen=True)
class NotebookSpec:
    """A numbered notebook and what it declares in ``metadata["sales_workbook"]``."""

    path: Path
    stem: str  # "03_funnel_coaching"
    number: str  # "03"
    title: str
    needs: tuple[str, ...]
    uses: tuple[str, ...]
    daily: bool


@dataclass
class NotebookRun:
    """How one report went: its state, timing, files and (when it succeeded) its results."""

    notebook: str
    number: str
    title: str
    state: State
    seconds: float | None = None
    execute_seconds: float | None = None  # papermill, kernel start included
    cells_seconds: float | None = None  # time spent inside the cells (the analysis itself)
    render_seconds: float | None = None
    error: str = ""
    skip_reason: str = ""
    files: dict[str, str] = field(default_factory=dict)  # html / ipynb / results -> file name
    headline: str = ""
    key_figure: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    #: the report's parts and whether the data supported each ({"name", "label", "ran", "missing"})
    parts: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ReportResult:
    """A published report folder and how each notebook went."""

    folder: Path
    mode: Literal["monthly", "daily"]
    label: str  # "2026-10" or "2026-11-24"
    month: str
    as_of: str
    runs: list[NotebookRun]
    wall_seconds: float
    fingerprint: str

    @property
    def index_path(self) -> Path:
        return self.folder / "index.html"

    @property
    def failed(self) -> list[NotebookRun]:
        return [r for r in self.runs if r.state == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed
