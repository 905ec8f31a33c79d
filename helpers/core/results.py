"""Machine-readable results of one report: its headline, key figures and findings, as JSON.

Every notebook writes one results file next to its HTML (``reports/YYYY-MM/NN_topic.json``).
The month's index card is built from it, and other tools (a Slack bot, a BI dashboard, the
tests) read a report's conclusions from it instead of scraping HTML. The format is documented
in ``docs/results-format.md``; :data:`RESULTS_FORMAT` names its version.

A figure always carries its ``n`` (how many units it rests on) and, where it is an estimate,
its confidence interval, so that a reader of the JSON gets the same honesty as a reader of the
page.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

RESULTS_FORMAT = "sales-workbook-results/1"
Severity = Literal["info", "good", "warning", "action"]
SEVERITIES: tuple[str, ...] = ("info", "good", "warning", "action")


class ResultsError(ValueError):
    """A results file or a recorded figure is invalid; the message says what to change."""


@dataclass(frozen=True)
class Figure:
    """One number a sales leader reads: what it is, its value, and how much to trust it."""

    name: str  # machine name, snake_case
    label: str  # what a reader sees, e.g. "Leads created in October"
    value: float | int | str | None
    unit: str = ""  # "leads", "%", "$", "reps" ...
    n: int | None = None  # units the figure rests on
    ci_low: float | None = None
    ci_high: float | None = None
    ci_level: float | None = None

    def formatted(self) -> str:
        """The value as shown on a card: thousands separators, unit, interval when known."""
        value = self.value
        if value is None:
            text = "n/a"
        elif isinstance(value, bool) or isinstance(value, str):
            text = str(value)
        elif isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) >= 100):
            text = f"{int(value):,}"
        else:
            text = f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"
        if self.unit == "$":
            text = f"${text}"
        elif self.unit == "%":
            text = f"{text}%"
        elif self.unit:
            text = f"{text} {self.unit}"
        return text


@dataclass(frozen=True)
class Finding:
    """One plain-language sentence a leader can act on, with how urgent it is."""

    text: str
    severity: Severity = "info"


@dataclass
class Results:
    """Everything a report concludes, in the shape written to JSON."""

    notebook: str
    title: str
    month: str
    as_of: str
    mode: Literal["monthly", "daily"] = "monthly"
    organisation: str = ""
    headline: str = ""
    key_figure: Figure | None = None
    figures: list[Figure] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    data_period: dict[str, str | None] = field(default_factory=dict)
    tables: dict[str, int | None] = field(default_factory=dict)  # table -> rows (None: absent)
    placeholder: bool = False  # True while the analysis is a placeholder awaiting its issue
    details: dict[str, Any] = field(default_factory=dict)  # name -> list of row dicts (per-rep tables ...)
    generated_at: str = ""
    package_version: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data = {"format": RESULTS_FORMAT, **data}
        return _clean_json(data)


def _clean_json(value: Any) -> Any:
    """NaN and infinities are not JSON: write them as null. numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {str(k): _clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean_json(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (TypeError, ValueError):
            pass
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class ResultsRecorder:
    """Collects a notebook's conclusions as it runs and writes them once, atomically.

    ``recorder.headline(...)``, ``recorder.key_figure(...)``, ``recorder.finding(...)`` in the
    notebook; ``recorder.save()`` in its last cell. With an empty ``path`` (an analyst running the
    notebook by hand) nothing is written and ``save`` returns ``None``.
    """

    def __init__(self, path: str | os.PathLike[str] | None, *, notebook: str, title: str, month: str, as_of: str,
                 mode: Literal["monthly", "daily"] = "monthly", organisation: str = "") -> None:
        self.path = Path(path) if path else None
        self.results = Results(notebook=notebook, title=title, month=month, as_of=as_of, mode=mode,
                               organisation=organisation)

    def headline(self, sentence: str) -> None:
        """The report's main finding in one sentence (shown on the index card)."""
        sentence = " ".join(str(sentence).split())
        if not sentence:
            raise ResultsError("the headline is empty: give the report's main finding in one sentence")
        self.results.headline = sentence

    def figure(self, name: str, label: str, value: Any, *, unit: str = "", n: int | None = None,
               ci: tuple[float, float] | None = None, ci_level: float | None = None, key: bool = False) -> Figure:
        """Record a number; ``key=True`` makes it the one figure on the index card."""
        if ci is not None and ci_level is None:
            raise ResultsError(f"figure {name!r} has an interval but no ci_level: pass ci_level=0.95 (or the level used)")
        if n is not None and (int(n) != n or n < 0):
            raise ResultsError(f"figure {name!r}: n must be a non-negative whole number, got {n!r}")
        fig = Figure(name=name, label=label, value=_clean_json(value), unit=unit,
                     n=None if n is None else int(n),
                     ci_low=None if ci is None else float(ci[0]), ci_high=None if ci is None else float(ci[1]),
                     ci_level=ci_level)
        self.results.figures = [f for f in self.results.figures if f.name != name] + [fig]
        if key:
            self.results.key_figure = fig
        return fig

    def key_figure(self, name: str, label: str, value: Any, **kw: Any) -> Figure:
        return self.figure(name, label, value, key=True, **kw)

    def finding(self, text: str, severity: Severity = "info") -> None:
        if severity not in SEVERITIES:
            raise ResultsError(f"severity {severity!r} is not one of {', '.join(SEVERITIES)}")
        self.results.findings.append(Finding(text=" ".join(str(text).split()), severity=severity))

    def warn(self, text: str) -> None:
        """A caveat the reader must see (small sample, missing optional table ...)."""
        self.results.warnings.append(" ".join(str(text).split()))

    def table(self, name: str, rows: Any) -> None:
        """Record a detail table (a DataFrame or a list of dicts) under ``details[name]``.

        For machine readers of the results file: per-rep conversions, quartiles, violations ...
        Values are converted to JSON (NaN becomes null, timestamps ISO 8601 text).
        """
        if not name or not isinstance(name, str):
            raise ResultsError("a detail table needs a non-empty name")
        if hasattr(rows, "to_dict"):
            import pandas as pd

            frame = rows.reset_index() if not isinstance(rows.index, pd.RangeIndex) else rows
            frame = frame.astype(object).where(frame.notna(), None)
            rows = [{str(k): (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()}
                    for r in frame.to_dict(orient="records")]
        self.results.details[name] = _clean_json(list(rows))

    def save(self) -> Path | None:
        """Write the results file (atomically). Fails if no headline was recorded."""
        if not self.results.headline:
            raise ResultsError("no headline recorded: call recorder.headline('...') before save()")
        from helpers import __version__

        self.results.generated_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.results.package_version = __version__
        if self.path is None:
            return None
        save_results(self.results, self.path)
        return self.path


def save_results(results: Results, path: str | os.PathLike[str]) -> Path:
    """Write ``results`` to ``path`` as JSON, via a temporary file so a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(results.to_dict(), indent=2, ensure_ascii=False, allow_nan=False)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; results are read by other tools and people
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_results(path: str | os.PathLike[str]) -> Results:
    """Read a results file back; raises :class:`ResultsError` naming the file if it is not one."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(f"{path}: no results file (the notebook did not call save())") from None
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path}: not valid JSON ({exc}); re-run the report to rewrite it") from None
    if not isinstance(data, dict) or data.get("format") != RESULTS_FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise ResultsError(f"{path}: format {found!r} is not {RESULTS_FORMAT!r}; re-run the report with this version")
    data = dict(data)
    data.pop("format")
    try:
        key = data.pop("key_figure", None)
        figures = [Figure(**f) for f in data.pop("figures", [])]
        findings = [Finding(**f) for f in data.pop("findings", [])]
        return Results(**data, key_figure=Figure(**key) if key else None, figures=figures, findings=findings)
    except TypeError as exc:
        raise ResultsError(f"{path}: unexpected content ({exc}); see docs/results-format.md") from None
