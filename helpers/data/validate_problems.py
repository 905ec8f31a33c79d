"""What validation reports: one :class:`Problem` per thing wrong, gathered in a :class:`ValidationReport`.

Part of :mod:`helpers.data.validate` (import the public names from there). The wording helpers
(row lists, counts, close-match hints for misspelt names) are shared by the file, cell and
cross-table checks.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]

#: offending rows listed in a problem (the total count is always given)
MAX_ROWS_SHOWN = 5
#: distinct offending values quoted in a message
MAX_VALUES_SHOWN = 5


# --------------------------------------------------------------------------------------------
# Report objects
# --------------------------------------------------------------------------------------------
@dataclass
class Problem:
    """One thing wrong (or worth knowing) about the data, located as precisely as possible.

    ``rows`` are the first few offending rows as the user sees them (CSV: line in the file,
    header = line 1; Parquet: 1-based row index); ``count`` is how many rows are affected in all.
    """

    severity: Severity
    table: str | None
    file: str | None
    column: str | None
    rows: list[int]
    message: str
    hint: str = ""
    count: int = 0
    code: str = ""
    row_label: str = "line"  # "line" for CSV files, "row" for Parquet files

    def __post_init__(self) -> None:
        self.rows = [int(r) for r in self.rows]
        if not self.count:
            self.count = len(self.rows)

    @property
    def where(self) -> str:
        """File, column and rows, e.g. ``activities.csv, column rep_id, lines 3, 9 (2 rows)``."""
        parts = [self.file or (f"table {self.table}" if self.table else "data folder")]
        if self.column:
            parts.append(f"column {self.column}")
        if self.rows:
            parts.append(_rows_text(self.rows, self.count, self.row_label))
        return ", ".join(parts)

    def __str__(self) -> str:
        text = f"{self.severity}: {self.where}: {self.message}"
        return f"{text} How to fix: {self.hint}" if self.hint else text


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'s' * (n != 1)}"


def _rows_text(rows: list[int], count: int, label: str) -> str:
    shown = ", ".join(f"{r:,}" if r >= 10_000 else str(r) for r in rows)
    plural = label + ("s" if count != 1 else "")
    if count > len(rows):
        return f"{plural} {shown} and {count - len(rows):,} more ({count:,} rows)"
    return f"{plural} {shown}" + (f" ({count:,} rows)" if count > 1 else "")


@dataclass
class ValidationReport:
    """Everything validation found in one data folder."""

    data_dir: Path
    problems: list[Problem] = field(default_factory=list)
    tables: dict[str, Path] = field(default_factory=dict)
    row_counts: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def infos(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "info"]

    @property
    def ok(self) -> bool:
        """True when nothing blocks the analyses (warnings and notes may remain)."""
        return not self.errors

    def summary(self) -> str:
        """One line: verdict, counts, tables found with row counts."""
        sizes = {name: _count(self.row_counts[name], "row") if name in self.row_counts else "unreadable"
                 for name in self.tables}
        found = ", ".join(f"{name} ({size})" for name, size in sizes.items()) or "none"
        n_err, n_warn = len(self.errors), len(self.warnings)
        verdict = "OK" if self.ok else "NOT OK"
        return (f"{verdict}: {n_err} error{'s' * (n_err != 1)}, {n_warn} warning{'s' * (n_warn != 1)}. "
                f"Tables found in {self.data_dir}: {found}.")

    def format(self) -> str:
        """Human-readable report: errors, then warnings, then notes, each grouped by file."""
        lines: list[str] = []
        for title, problems in (("Errors", self.errors), ("Warnings", self.warnings), ("Notes", self.infos)):
            if not problems:
                continue
            lines.append(f"{title} ({len(problems)})")
            by_file: dict[str, list[Problem]] = {}
            for p in problems:
                by_file.setdefault(p.file or "(data folder)", []).append(p)
            for file_name, group in by_file.items():
                lines.append(f"  {file_name}")
                for p in group:
                    head = []
                    if p.column:
                        head.append(f"column {p.column}")
                    if p.rows:
                        head.append(_rows_text(p.rows, p.count, p.row_label))
                    prefix = f"{', '.join(head)}: " if head else ""
                    lines.append(f"    - {prefix}{p.message}")
                    if p.hint:
                        lines.append(f"      How to fix: {p.hint}")
            lines.append("")
        lines.append(self.summary())
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready) for logs and the report pipeline."""
        return {
            "data_dir": str(self.data_dir),
            "ok": self.ok,
            "tables": {name: str(path) for name, path in self.tables.items()},
            "row_counts": dict(self.row_counts),
            "errors": [asdict(p) for p in self.errors],
            "warnings": [asdict(p) for p in self.warnings],
            "infos": [asdict(p) for p in self.infos],
        }


class DataValidationError(Exception):
    """The data folder breaks the contract; ``.report`` lists every problem and how to fix it."""

    def __init__(self, report: ValidationReport):
        self.report = report
        n = len(report.errors)
        first = "\n".join(f"  {p}" for p in report.errors[:10])
        more = f"\n  ... and {n - 10} more" if n > 10 else ""
        super().__init__(f"{report.data_dir}: {n} data error{'s' * (n != 1)}; fix them and run again "
                         f"(`sales-workbook validate {report.data_dir}` shows the full report):\n{first}{more}")



# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------
def _normalise_name(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def _close_match(name: str, candidates: list[str]) -> tuple[str | None, bool]:
    """The candidate ``name`` probably meant, and whether it differs only by case/spaces."""
    norm = _normalise_name(name)
    for cand in candidates:
        if norm == cand:
            return cand, True
    match = difflib.get_close_matches(norm, candidates, n=1, cutoff=0.8)
    return (match[0], False) if match else (None, False)

