"""Check a data folder against the data contract before any analysis trusts it.

A sales leader learns here, in one report, whether the CRM export can be analysed and, if not,
exactly which file, column and line to fix and how. The checks come from
:mod:`helpers.core.contract` (the single source of truth) and the configuration (scorecard traits,
score range):

* files: the required ``reps`` table is present; one file per table; known suffixes
  (``.csv``, ``.csv.gz``, ``.parquet``); CSV files are UTF-8 (a byte-order mark is accepted);
* columns: required columns present (with a hint when a header differs only by case or
  spaces, e.g. ``Rep ID`` for ``rep_id``);
* cells (pandera schemas built from the contract): types, empty cells, allowed category
  values, numeric ranges; plus what people's spreadsheets do to data: Excel serial dates
  (``45291``), locale dates (``01/05/2024``), thousands separators and currency signs;
* rows: timestamps in the future, later-before-earlier pairs (a deal closed before it was
  created), deal status without (or with) a close date;
* across rows and tables (DuckDB, set-based): duplicate ids, references to unknown ids
  (an activity for a rep who is not in ``reps``), a unit in both arms of one experiment;
* soft problems are warnings: a selling rep with no activity, a month inside the data's span
  with no rows, files or columns the contract does not know, a cluster_id split across the arms
  of one experiment.

Row numbers are the ones a person sees: for CSV the line in the file (the header is line 1,
so the first data row is line 2); for Parquet the 1-based row index.

Files are read in chunks and the cross-row checks run in DuckDB, so an ``activities`` table of
tens of millions of rows validates in bounded memory. Validation writes nothing anywhere
(DuckDB's spill directory is a temporary folder removed afterwards).
"""
from __future__ import annotations

import codecs
import csv
import difflib
import gzip
import io
import re
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
import pyarrow.compute as pc
import pyarrow.parquet as pq

from helpers.core.config import WorkbookConfig, load_config
from helpers.core.contract import TABLES, Column, Table, find_table_files
from helpers.core.contract import split_table_suffix as _split_suffix

__all__ = [
    "Problem",
    "ValidationReport",
    "DataValidationError",
    "validate_folder",
    "check_folder",
    "cli_validate",
    "build_table_schema",
    "find_table_files",
]

Severity = Literal["error", "warning", "info"]

#: rows read at a time; bounds memory whatever the file size
CHUNK_ROWS = 500_000
#: DuckDB's working memory for the cross-row checks; beyond it, it spills to a temporary folder
DUCKDB_MEMORY_LIMIT = "1GB"
#: offending rows listed in a problem (the total count is always given)
MAX_ROWS_SHOWN = 5
#: distinct offending values quoted in a message
MAX_VALUES_SHOWN = 5

#: a month with no rows is reported only for tables with at least this many rows per month
MIN_ROWS_PER_MONTH_FOR_GAPS = 10
_EXCEL_SERIAL_MIN, _EXCEL_SERIAL_MAX = 20_000, 80_000  # 1954-10-03 .. 2119-01-11
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_SELLING_ROLES = ("sdr", "ae")
#: the timestamp or month column that says "when" a row of an event-like table happened
MONTH_COLUMNS: dict[str, str] = {
    "activities": "occurred_at",
    "leads": "created_at",
    "lead_events": "occurred_at",
    "deals": "created_at",
    "quotas": "month",
}
_LOOKS_LIKE_TABLE = (".xlsx", ".xls", ".xlsm", ".ods", ".tsv")
_PREVIEW_BYTES = 200  # bytes of the offending line quoted in the message
_SCAN_BLOCK_BYTES = 1 << 22  # bytes decoded at a time when looking for the first non-UTF-8 byte
_SAVE_AS_CSV = "In Excel: File > Save As > 'CSV UTF-8 (Comma delimited) (*.csv)'."


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
# Files
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


def _guess_table(stem: str) -> str | None:
    """The contract table a stray file probably holds: ``Sales Reps`` -> reps, ``activity`` -> activities."""
    norm = _normalise_name(stem)
    guess, _ = _close_match(norm, list(TABLES))
    if guess:
        return guess
    tokens = norm.split("_")
    for name in TABLES:
        singular = name[:-3] + "y" if name.endswith("ies") else name.rstrip("s")
        if norm.endswith("_" + name) or norm.startswith(name + "_") or norm in (singular, name.replace("_", "")) \
                or tokens[-1] in (name, singular):
            return name
    return None


def _discover(data_dir: Path, problems: list[Problem]) -> dict[str, Path]:
    """Table name -> the one file holding it; file-level problems appended."""
    tables: dict[str, Path] = {}
    strays: list[Path] = []
    found = find_table_files(data_dir)
    for name, paths in found.items():
        if len(paths) > 1:
            names = ", ".join(p.name for p in paths)
            problems.append(Problem(
                "error", name, paths[0].name, None, [],
                f"table {name} is in {len(paths)} files ({names}); a table must be in exactly one file.",
                "Keep the newest export and delete or move the others out of the data folder.",
                code="duplicate_file"))
        tables[name] = paths[0]
    for path in sorted(data_dir.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        split = _split_suffix(path.name)
        if split and split[0] in TABLES and path.name.endswith(split[1]):
            continue
        lower = path.name.lower()
        if split or lower.endswith(_LOOKS_LIKE_TABLE):
            strays.append(path)
    claimed: set[str] = set()
    for path in strays:
        split = _split_suffix(path.name)
        stem = split[0] if split else path.name.split(".")[0]
        guess = _guess_table(stem)
        hint = "Remove it from the data folder, or rename it if it holds one of the contract's tables."
        if guess and guess not in tables:
            target = guess + (split[1].lower() if split else ".csv")
            hint = f"If it holds the {guess} table, rename it to {target}."
            claimed.add(guess)
        if not split:
            hint = (f"Tables must be .csv (UTF-8), .csv.gz or .parquet files. {_SAVE_AS_CSV}"
                    + (f" Name it {guess}.csv." if guess else ""))
        problems.append(Problem(
            "warning", None, path.name, None, [],
            f"{path.name} is not a table of the data contract and is ignored.", hint, code="unknown_file"))
    if "reps" not in tables:
        hint = ("Export the team roster (one row per rep: rep_id, name, role, hire_date) as reps.csv. "
                "See docs/data-contract.md.")
        if "reps" in claimed:
            hint = "A file that looks like the reps table is there under another name (see the warnings): rename it."
        problems.append(Problem(
            "error", "reps", None, None, [],
            f"required table reps not found: expected reps.csv, reps.csv.gz or reps.parquet in {data_dir}.",
            hint, code="missing_file"))
    missing = [n for n in TABLES if n not in tables and not TABLES[n].required]
    if missing:
        problems.append(Problem(
            "info", None, None, None, [],
            f"optional tables not present: {', '.join(missing)}. The analyses that need them will say so "
            f"on their page.", "", code="optional_missing"))
    return tables


def _open_binary(path: Path) -> io.BufferedIOBase:
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else path.open("rb")  # type: ignore[return-value]


def _first_bad_utf8(path: Path) -> tuple[int, int, bytes] | None:
    """(line, byte offset, the offending line's bytes) of the first byte that is not UTF-8.

    Reads the file in blocks, so it works on files of any size; a multi-byte character split
    between two blocks is carried over, not mistaken for a bad byte.
    """
    carry = b""  # an incomplete character at the end of the previous block
    current_line = b""  # bytes of the line being read, for the message (capped)
    line, offset = 1, 0

    def advance(valid: bytes) -> None:
        nonlocal line, offset, current_line
        newline = valid.rfind(b"\n")
        current_line = (current_line + valid if newline < 0 else valid[newline + 1:])[-_PREVIEW_BYTES:]
        line += valid.count(b"\n")
        offset += len(valid)

    with _open_binary(path) as fh:
        while True:
            block = fh.read(_SCAN_BLOCK_BYTES)
            data = carry + block
            if not data:
                return None
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as exc:
                if block and exc.reason == "unexpected end of data" and exc.end == len(data):
                    advance(data[: exc.start])
                    carry = data[exc.start:]
                    continue
                advance(data[: exc.start])
                rest = data[exc.start:]
                while b"\n" not in rest and len(rest) < _PREVIEW_BYTES and (more := fh.read(_PREVIEW_BYTES)):
                    rest += more
                return line, offset, current_line + rest.split(b"\n", 1)[0].rstrip(b"\r")
            advance(data)
            carry = b""
            if not block:
                return None


def _encoding_problem(table: str, path: Path) -> Problem:
    """An error naming the line of the first byte that is not UTF-8, and how to re-save the file."""
    bad = _first_bad_utf8(path)
    detail, rows = "", []
    if bad:
        line, _, text = bad
        rows = [line]
        try:
            text.decode("utf-8")
        except UnicodeDecodeError as exc:
            byte = text[exc.start:exc.start + 1]
            detail = (f" is on line {line} (byte 0x{byte[0]:02X}, which is "
                      f"{byte.decode('cp1252', errors='replace')!r} in Windows-1252): "
                      f"{text.decode('cp1252', errors='replace').strip()[:80]!r}")
    return Problem(
        "error", table, path.name, None, rows,
        f"the file is not UTF-8 text: the first byte that is not valid UTF-8{detail}. It was probably saved by "
        f"Excel as 'CSV (Comma delimited)', which uses the Windows code page (cp1252).",
        f"Save it as CSV UTF-8: {_SAVE_AS_CSV} Or convert it: iconv -f cp1252 -t utf-8 {path.name}",
        code="encoding")


# --------------------------------------------------------------------------------------------
# Schemas (pandera) built from the contract
# --------------------------------------------------------------------------------------------
_PANDERA_DTYPES: dict[str, Any] = {
    "string": "str",
    "month": "str",
    "int": "Int64",
    "float": "float64",
    "bool": "boolean",
    "date": "datetime64[us]",
    "timestamp": pd.DatetimeTZDtype("us", "UTC"),
}


def column_rules(table: Table, config: WorkbookConfig) -> dict[str, dict[str, Any]]:
    """Per column: allowed values and numeric range after applying the configuration."""
    rules: dict[str, dict[str, Any]] = {}
    for col in table.columns:
        allowed, lo, hi = col.allowed, col.min_value, col.max_value
        if table.name == "hiring_scores" and col.name == "trait":
            allowed = tuple(config.traits)
        if table.name == "hiring_scores" and col.name == "score":
            lo, hi = config.score_min, config.score_max
        rules[col.name] = {"allowed": allowed, "min": lo, "max": hi}
    return rules


def build_table_schema(table_name: str, config: WorkbookConfig | None = None) -> pa.DataFrameSchema:
    """The pandera schema of one contract table: dtype, nullability, allowed values, range.

    It validates the *typed* frame (see :func:`_read_chunks`): text has already been parsed
    into numbers and UTC timestamps, and cells that could not be parsed are reported
    separately with their original text. Columns absent from a file are reported by the
    caller, so here every column is ``required=False``. Uniqueness and references span the
    whole file (and other files) and are checked in DuckDB.
    """
    config = config or load_config()
    table = TABLES[table_name]
    rules = column_rules(table, config)
    columns = {}
    for col in table.columns:
        checks = []
        rule = rules[col.name]
        if rule["allowed"]:
            checks.append(pa.Check.isin(list(rule["allowed"])))
        if rule["min"] is not None and rule["max"] is not None:
            checks.append(pa.Check.in_range(rule["min"], rule["max"]))
        elif rule["min"] is not None:
            checks.append(pa.Check.ge(rule["min"]))
        elif rule["max"] is not None:
            checks.append(pa.Check.le(rule["max"]))
        if col.dtype == "month":
            checks.append(pa.Check.str_matches(r"^\d{4}-(0[1-9]|1[0-2])$"))
        columns[col.name] = pa.Column(_PANDERA_DTYPES[col.dtype], checks=checks, nullable=col.nullable,
                                      required=False, description=col.description)
    return pa.DataFrameSchema(columns, name=table_name, strict=False, coerce=False)


# --------------------------------------------------------------------------------------------
# Parsing text (CSV cells, or Parquet columns of an unexpected type) into contract types
# --------------------------------------------------------------------------------------------
_MONTH_RE = r"^\d{4}-(0[1-9]|1[0-2])$"
_SERIAL_RE = r"^\s*\d{5}(\.\d+)?\s*$"
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def _as_text(values: pd.Series) -> pd.Series:
    if isinstance(values.dtype, pd.StringDtype) or values.dtype == "str":
        return values
    return values.astype("str")


def _parse(raw: pd.Series, col: Column) -> tuple[pd.Series, pd.Series]:
    """(typed values, mask of cells that are present but unreadable) for one column."""
    kind = col.dtype
    present = raw.notna()
    if kind == "string":
        if pd.api.types.is_string_dtype(raw.dtype) or raw.dtype == object:
            typed = raw.astype("str")
        else:
            typed = raw.astype("str").where(present)
        return typed, pd.Series(False, index=raw.index)
    native_number = pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype)
    if kind in ("int", "float") and native_number:
        numbers = raw.astype("float64")
        bad = present & ~np.isfinite(numbers.fillna(0))
    elif kind in ("int", "float"):
        text = _as_text(raw)
        numbers = pd.to_numeric(text.str.strip(), errors="coerce").astype("float64")
        bad = present & (numbers.isna() | ~np.isfinite(numbers.fillna(0)))
    else:
        numbers = None
    if kind == "int":
        assert numbers is not None
        fractional = present & ~bad & (numbers.fillna(0) % 1 != 0)
        bad = bad | fractional
        typed = numbers.where(~bad).round().astype("Int64")
        return typed, bad
    if kind == "float":
        assert numbers is not None
        return numbers.where(~bad), bad
    if kind == "timestamp":
        if isinstance(raw.dtype, pd.DatetimeTZDtype):
            typed = raw.dt.tz_convert("UTC").dt.as_unit("us")
        elif pd.api.types.is_datetime64_dtype(raw.dtype):
            typed = raw.dt.tz_localize("UTC").dt.as_unit("us")
        else:
            text = _as_text(raw)
            typed = pd.to_datetime(text.str.strip(), format="ISO8601", utc=True, errors="coerce").dt.as_unit("us")
        return typed, present & typed.isna()
    if kind == "date":
        if isinstance(raw.dtype, pd.DatetimeTZDtype):
            typed = raw.dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize().dt.as_unit("us")
        elif pd.api.types.is_datetime64_dtype(raw.dtype):
            typed = raw.dt.normalize().dt.as_unit("us")
        else:
            text = _as_text(raw)
            typed = pd.to_datetime(text.str.strip(), format="%Y-%m-%d", errors="coerce").dt.as_unit("us")
        return typed, present & typed.isna()
    if kind == "month":
        text = _as_text(raw).str.strip()
        bad = present & ~text.str.match(_MONTH_RE).fillna(False).astype(bool)
        return text.where(~bad), bad
    if kind == "bool":
        text = _as_text(raw).str.strip().str.lower()
        typed = pd.Series(pd.NA, index=raw.index, dtype="boolean")
        typed[text.isin(_TRUE)] = True
        typed[text.isin(_FALSE)] = False
        return typed, present & typed.isna()
    raise ValueError(f"unknown contract dtype {kind!r} for column {col.name}")  # pragma: no cover


_TYPE_PHRASES = {
    "int": "whole numbers",
    "float": "numbers",
    "timestamp": "ISO 8601 timestamps (e.g. 2024-03-05T14:30:00Z)",
    "date": "dates written YYYY-MM-DD",
    "month": "months written YYYY-MM",
    "bool": "true/false values",
}


def _type_hint(kind: str, samples: list[str]) -> tuple[str, str]:
    """(code, hint) for unreadable cells, recognising what spreadsheets typically do."""
    text = [s.strip() for s in samples]
    if kind in ("date", "timestamp", "month") and text and all(re.match(_SERIAL_RE, s) for s in text):
        serials = [float(s) for s in text]
        if all(_EXCEL_SERIAL_MIN <= s <= _EXCEL_SERIAL_MAX for s in serials):
            example = _EXCEL_EPOCH + pd.Timedelta(days=serials[0])
            shown = example.strftime("%Y-%m-%d" if serials[0] % 1 == 0 else "%Y-%m-%d %H:%M")
            return "excel_date", (
                f"these are Excel serial dates (day numbers counted from 1899-12-30: {text[0]} = {shown}), "
                f"written because the column was formatted as General or Number. In Excel select the column, "
                f"Format Cells > Custom > 'yyyy-mm-dd' (or 'yyyy-mm-dd hh:mm:ss' for timestamps), then save as "
                f"CSV UTF-8 again.")
    if kind in ("date", "timestamp", "month") and any(re.match(r"^\d{1,2}[/.]\d{1,2}[/.]\d{2,4}", s) for s in text):
        return "date_format", ("write dates as ISO 8601 (YYYY-MM-DD; timestamps YYYY-MM-DDTHH:MM:SS, UTC or with "
                               "an offset such as +02:00); locale formats like 01/05/2024 are ambiguous. In Excel "
                               "format the column as 'yyyy-mm-dd' before saving.")
    if kind == "date" and any(re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d", s) for s in text):
        return "date_format", "this column holds dates, not timestamps: keep only YYYY-MM-DD."
    if kind == "month":
        if any(re.match(r"^\d{4}-\d{2}-\d{2}", s) for s in text):
            return "date_format", "write months as YYYY-MM (drop the day)."
        return "date_format", ("write months as YYYY-MM, e.g. 2024-03; Excel turns that into 'Mar-24' unless the "
                               "column is formatted as Text.")
    if kind in ("int", "float"):
        if any(re.search(r"[$€£¥]", s) for s in text):
            return "wrong_type", "remove currency symbols; amounts are plain numbers such as 1250.50."
        if any(re.match(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$", s) for s in text):
            return "wrong_type", "remove thousands separators: write 12500.50, not 12,500.50."
        if any(re.match(r"^-?\d+,\d+$", s) for s in text):
            return "wrong_type", "use a dot as the decimal separator: 12.5, not 12,5."
        if any("%" in s for s in text):
            return "wrong_type", "write the number without the % sign."
        return "wrong_type", "leave the cell empty when the value is unknown; otherwise write a plain number."
    if kind == "timestamp":
        return "wrong_type", ("write timestamps as ISO 8601: 2024-03-05T14:30:00Z, 2024-03-05 14:30:00 (taken as "
                              "UTC) or 2024-03-05T14:30:00+02:00 (converted to UTC).")
    return "wrong_type", {"date": "write dates as YYYY-MM-DD, e.g. 2024-03-05.",
                          "bool": "write true or false."}.get(kind, f"write {_TYPE_PHRASES.get(kind, kind)}.")


# --------------------------------------------------------------------------------------------
# Reading files in chunks
# --------------------------------------------------------------------------------------------
class _FileProblem(Exception):
    """A problem that stops reading a file."""

    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.problem = problem


def _csv_header(table: str, path: Path, problems: list[Problem]) -> list[str]:
    with _open_binary(path) as fh:
        head = fh.read(1 << 16)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _FileProblem(Problem(
            "error", table, path.name, None, [1],
            "the file is UTF-16 text (Excel's 'Unicode Text'), not UTF-8 CSV.",
            f"Save it as CSV UTF-8: {_SAVE_AS_CSV}", code="encoding"))
    if head.startswith(codecs.BOM_UTF8):
        problems.append(Problem(
            "info", table, path.name, None, [],
            "the file starts with a UTF-8 byte-order mark (as Excel's 'CSV UTF-8' writes); it is ignored.",
            "", code="bom"))
        head = head[len(codecs.BOM_UTF8):]
    if not head.strip():
        raise _FileProblem(Problem(
            "error", table, path.name, None, [],
            "the file is empty (not even a header line).",
            "Export the table again; if you have no such data, delete the file (optional tables may be absent).",
            code="empty_file"))
    first_line = head.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        text = first_line.decode("utf-8")
    except UnicodeDecodeError:
        raise _FileProblem(_encoding_problem(table, path)) from None
    header = next(csv.reader([text]))
    if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        sep = "semicolons" if ";" in header[0] else "tabs"
        raise _FileProblem(Problem(
            "error", table, path.name, None, [1],
            f"the header line has a single column {header[0][:60]!r}: the file is separated by {sep}, not commas.",
            f"Save it with commas as separators: {_SAVE_AS_CSV} (Excel uses ';' when the system's decimal "
            f"separator is a comma.)", code="separator"))
    return header


def _check_header(table: Table, header: list[str], path: Path, row_label: str,
                  problems: list[Problem]) -> list[str]:
    """Known columns present in the file; problems for missing, unknown and duplicate columns."""
    names = [c.name for c in table.columns]
    seen: set[str] = set()
    for h in header:
        if h in seen:
            problems.append(Problem("error", table.name, path.name, h, [1] if row_label == "line" else [],
                                    f"column {h} appears more than once in the header.",
                                    "Delete or rename the extra column.", code="duplicate_column"))
        seen.add(h)
    present = [n for n in names if n in seen]
    unknown = [h for h in dict.fromkeys(header) if h not in names]
    explained: set[str] = set()
    for col in table.columns:
        if col.name in seen:
            continue
        similar = [h for h in unknown if _close_match(h, [col.name])[0] == col.name]
        if similar:
            explained.update(similar)
            same = _close_match(similar[0], [col.name])[1]
            why = "differs only by case or spaces" if same else "looks like a misspelling"
            hint = f"Rename the column {similar[0]!r} to {col.name} (the header {why})."
        else:
            hint = (f"Add the column {col.name} ({col.description}) to the export." if col.required
                    else "")
        if col.required:
            problems.append(Problem(
                "error", table.name, path.name, col.name, [],
                f"required column {col.name} is missing (the header has: {', '.join(header)}).",
                hint, code="missing_column"))
        elif similar:
            problems.append(Problem(
                "warning", table.name, path.name, col.name, [],
                f"optional column {col.name} is missing, but the file has {similar[0]!r}.",
                hint, code="missing_column"))
    extra = [h for h in unknown if h not in explained and not re.match(r".+\.\d+$", h)]
    if extra:
        shown = ", ".join(repr(h) for h in extra[:10]) + (" ..." if len(extra) > 10 else "")
        problems.append(Problem(
            "warning", table.name, path.name, None, [],
            f"{len(extra)} column{'s' * (len(extra) != 1)} not in the contract, ignored: {shown}.",
            "Nothing to do if they are extra CRM fields; see docs/data-contract.md for the expected names.",
            code="unknown_column"))
    return present


def _read_csv_chunks(table: str, path: Path, columns: list[str], scan: "_TableScan") -> Iterator[pd.DataFrame]:
    """Chunks of raw text (index = line number in the file), blank and all-empty rows dropped."""
    reader = pd.read_csv(path, dtype="str", keep_default_na=False, na_values=[""], skip_blank_lines=False,
                         encoding="utf-8", chunksize=CHUNK_ROWS, compression="infer", low_memory=True)
    next_line = 2
    try:
        for chunk in reader:
            n = len(chunk)
            # a quoted cell holding line breaks spans several lines of the file
            extra = np.zeros(n, dtype=np.int64)
            for name in chunk.columns:
                counts = chunk[name].str.count("\n")
                if counts.notna().any():
                    extra += counts.fillna(0).to_numpy(dtype=np.int64)
            lines = next_line + np.arange(n, dtype=np.int64) + np.concatenate(([0], np.cumsum(extra)[:-1])) \
                if n else np.zeros(0, dtype=np.int64)
            next_line += n + int(extra.sum())
            chunk.index = pd.Index(lines, name="line")
            known = chunk[[c for c in columns if c in chunk.columns]]
            empty = chunk.isna().all(axis=1)
            if empty.any():
                scan.add("empty_rows", None, chunk.index[empty].to_numpy())
                known = known[~empty.to_numpy()]
            yield known
    except UnicodeDecodeError:
        raise _FileProblem(_encoding_problem(table, path)) from None
    except pd.errors.ParserError as exc:
        raise _FileProblem(_csv_syntax_problem(table, path, str(exc))) from None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise _FileProblem(Problem(
            "error", table, path.name, None, [], f"the file cannot be read: {exc}",
            "Export or compress it again (gzip).", code="unreadable")) from None


def _csv_syntax_problem(table: str, path: Path, parser_message: str) -> Problem:
    """The CSV parser's complaint, with the file line it concerns."""
    text = parser_message.strip().removeprefix("Error tokenizing data. C error: ")
    fields = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    quote = re.search(r"EOF inside string starting at row (\d+)", text)
    if fields:
        expected, line, saw = (int(g) for g in fields.groups())
        return Problem("error", table, path.name, None, [line],
                       f"the line has {saw} cells but the header has {expected}.",
                       "A cell probably holds a comma without being quoted: put the cell in double quotes, or "
                       f"re-export the file (quoting is automatic in Excel's CSV export). {_SAVE_AS_CSV}",
                       code="csv_syntax")
    if quote:
        line = int(quote.group(1)) + 1  # the parser counts lines from 0
        return Problem("error", table, path.name, None, [line],
                       "a quoted cell starting on this line is never closed (a double quote is missing), so the "
                       "rest of the file reads as one cell.",
                       'Close the quote, or write a double quote inside a quoted cell as two ("").',
                       code="csv_syntax")
    return Problem("error", table, path.name, None, [], f"the file is not valid CSV: {text}",
                   f"Re-export the file. {_SAVE_AS_CSV}", code="csv_syntax")


def _read_parquet_chunks(table: Table, path: Path, columns: list[str],
                         scan: "_TableScan") -> Iterator[pd.DataFrame]:
    """Chunks of the Parquet file (index = 1-based row number)."""
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise _FileProblem(Problem("error", table.name, path.name, None, [],
                                   f"the file is not a readable Parquet file: {exc}",
                                   "Write it again (e.g. pandas DataFrame.to_parquet).", code="unreadable")) from None
    types = {f.name: f.type for f in pf.schema_arrow}
    for name in columns:
        col = table.column(name)
        t = types[name]
        if col.dtype == "string" and not (pa_arrow.types.is_string(t) or pa_arrow.types.is_large_string(t)
                                          or pa_arrow.types.is_dictionary(t)):
            scan.add_problem(Problem(
                "warning", table.name, path.name, name, [],
                f"column {name} is stored as {t} but the contract says text (ids are text: CRM ids are not numbers).",
                "Store it as a string column, e.g. df[col] = df[col].astype(str) before to_parquet.",
                code="parquet_type", row_label="row"))
    start = 1
    for batch in pf.iter_batches(batch_size=CHUNK_ROWS, columns=columns):
        n = batch.num_rows
        index = pd.RangeIndex(start, start + n, name="row")
        start += n
        data = {}
        for name in columns:
            arr = batch.column(name)
            if pa_arrow.types.is_dictionary(arr.type):
                arr = arr.dictionary_decode()
            if pa_arrow.types.is_decimal(arr.type):
                arr = pc.cast(arr, pa_arrow.float64())
            if pa_arrow.types.is_date(arr.type):
                arr = pc.cast(arr, pa_arrow.timestamp("us"))
            kind = table.column(name).dtype
            if kind in ("string", "month") and not pa_arrow.types.is_string(arr.type):
                arr = pc.cast(arr, pa_arrow.string())
            if kind in ("date", "timestamp") and (pa_arrow.types.is_integer(arr.type)
                                                  or pa_arrow.types.is_floating(arr.type)):
                arr = pc.cast(arr, pa_arrow.string())  # probably Excel serials: parsed as text, reported
            if pa_arrow.types.is_string(arr.type) or pa_arrow.types.is_large_string(arr.type):
                arr = pc.if_else(pc.equal(pc.utf8_trim_whitespace(arr), ""), None, arr)  # "" = empty, as in CSV
            values = arr.to_pandas()
            data[name] = (values.set_axis(index) if isinstance(values, pd.Series)
                          else pd.Series(values, index=index))
        yield pd.DataFrame(data, index=index)


# --------------------------------------------------------------------------------------------
# Per-table scan: accumulates findings over chunks
# --------------------------------------------------------------------------------------------
@dataclass
class _Finding:
    rows: list[int] = field(default_factory=list)
    count: int = 0
    values: dict[str, int] = field(default_factory=dict)


class _TableScan:
    """Findings for one file, merged over its chunks (first rows, total count, sample values)."""

    def __init__(self, table: Table, path: Path, row_label: str):
        self.table = table
        self.path = path
        self.row_label = row_label
        self.findings: dict[tuple[str, str | None], _Finding] = {}
        self.problems: list[Problem] = []
        self.months: set[int] = set()
        self.row_count = 0

    def add(self, code: str, column: str | None, rows: np.ndarray, values: pd.Series | None = None) -> None:
        if len(rows) == 0:
            return
        f = self.findings.setdefault((code, column), _Finding())
        f.count += len(rows)
        if len(f.rows) < MAX_ROWS_SHOWN:
            f.rows.extend(int(r) for r in np.sort(rows)[: MAX_ROWS_SHOWN - len(f.rows)])
        if values is not None and len(f.values) < 50:
            counts = values.astype("str").value_counts(dropna=False).head(50)
            for value, n in zip(counts.index.tolist(), counts.to_numpy().tolist()):
                f.values[value] = f.values.get(value, 0) + int(n)

    def add_problem(self, problem: Problem) -> None:
        self.problems.append(problem)

    def problem(self, severity: Severity, column: str | None, finding: _Finding, message: str,
                hint: str, code: str) -> Problem:
        return Problem(severity, self.table.name, self.path.name, column, finding.rows, message, hint,
                       count=finding.count, code=code, row_label=self.row_label)


def _values_text(values: dict[str, int], *, with_counts: bool = True) -> str:
    ordered = sorted(values.items(), key=lambda kv: -kv[1])
    shown = [f"{v!r} ({n:,}x)" if with_counts and n > 1 else repr(v) for v, n in ordered[:MAX_VALUES_SHOWN]]
    more = f" and {len(ordered) - MAX_VALUES_SHOWN} more" if len(ordered) > MAX_VALUES_SHOWN else ""
    return ", ".join(shown) + more


def _check_chunk(scan: _TableScan, raw: pd.DataFrame, schema: pa.DataFrameSchema,
                 rules: dict[str, dict[str, Any]], now: pd.Timestamp) -> pd.DataFrame:
    """Parse, validate (pandera) and run the row checks of one chunk; returns the typed chunk."""
    table = scan.table
    typed_cols: dict[str, pd.Series] = {}
    unreadable: dict[str, pd.Series] = {}
    for name in raw.columns:
        col = table.column(name)
        typed, bad = _parse(raw[name], col)
        typed_cols[name] = typed
        if bad.any():
            unreadable[name] = bad
            texts = _as_text(raw[name][bad])
            code, _ = _type_hint(col.dtype, texts.head(20).tolist())
            scan.add(f"{code}:{col.dtype}", name, raw.index[bad.to_numpy()].to_numpy(), texts)
    typed = pd.DataFrame(typed_cols, index=raw.index)
    if len(typed):
        try:
            schema.validate(typed, lazy=True)
        except pa.errors.SchemaErrors as exc:
            _add_failure_cases(scan, exc.failure_cases, unreadable)
    _row_checks(scan, typed, now)
    return typed


def _add_failure_cases(scan: _TableScan, failures: pd.DataFrame, unreadable: dict[str, pd.Series]) -> None:
    """Turn pandera's failure cases into findings (cells already reported as unreadable are skipped)."""
    failures = failures[failures["schema_context"] == "Column"]
    for (column, check), group in failures.groupby(["column", "check"], sort=False):
        rows = pd.to_numeric(group["index"], errors="coerce").dropna().astype("int64")
        if check == "not_nullable" and column in unreadable:
            bad = unreadable[column]
            rows = rows[~rows.isin(bad.index[bad.to_numpy()])]
            group = group.loc[rows.index]
        if check == "not_nullable":
            code = "missing_value"
        elif check.startswith("isin"):
            code = "unknown_value"
        elif check.startswith(("in_range", "greater_than", "less_than")):
            code = "out_of_range"
        elif check.startswith("str_matches"):
            continue  # months failing the pattern were reported when parsed
        else:
            code = f"schema:{check}"
        scan.add(code, column, rows.to_numpy(), group["failure_case"] if code != "missing_value" else None)


def _row_checks(scan: _TableScan, typed: pd.DataFrame, now: pd.Timestamp) -> None:
    table = scan.table
    for col in table.columns:
        if col.dtype == "timestamp" and col.name in typed:
            future = typed[col.name] > now
            if future.any():
                scan.add("future", col.name, typed.index[future.to_numpy()].to_numpy(),
                         typed[col.name][future].dt.strftime("%Y-%m-%d %H:%M:%S UTC"))
    for earlier, later in table.ordered:
        if earlier in typed and later in typed:
            wrong = (typed[later] < typed[earlier]).fillna(False).astype(bool)
            if wrong.any():
                fmt = "%Y-%m-%d" if table.column(later).dtype == "date" else "%Y-%m-%d %H:%M"
                pairs = (typed[later][wrong].dt.strftime(fmt) + " < " + typed[earlier][wrong].dt.strftime(fmt))
                scan.add(f"order:{earlier}", later, typed.index[wrong.to_numpy()].to_numpy(), pairs)
    if table.name == "deals" and {"status", "closed_at"} <= set(typed.columns):
        closed = typed["status"].isin(["won", "lost"])
        no_date = closed & typed["closed_at"].isna()
        open_dated = (typed["status"] == "open") & typed["closed_at"].notna()
        scan.add("closed_without_date", "closed_at", typed.index[no_date.to_numpy()].to_numpy())
        scan.add("open_with_date", "closed_at", typed.index[open_dated.to_numpy()].to_numpy())
    month_col = MONTH_COLUMNS.get(table.name)
    if month_col and month_col in typed:
        values = typed[month_col].dropna()
        if table.column(month_col).dtype == "month":
            months = values.str.slice(0, 4).astype("int64") * 12 + values.str.slice(5, 7).astype("int64") - 1
        else:
            months = values.dt.year * 12 + values.dt.month - 1
        scan.months.update(np.unique(months.to_numpy(dtype=np.int64)).tolist())


def _month_name(month_index: int) -> str:
    return f"{month_index // 12:04d}-{month_index % 12 + 1:02d}"


def _finding_problems(scan: _TableScan, rules: dict[str, dict[str, Any]], now: pd.Timestamp,
                      config: WorkbookConfig) -> list[Problem]:
    """Messages and hints for the accumulated findings of one file."""
    out: list[Problem] = []
    table = scan.table
    f_name = scan.path.name
    for (code, column), f in scan.findings.items():
        n = f.count
        rows_word = f"{n:,} row{'s' * (n != 1)}"
        one = n == 1
        have, are, hold = ("has", "is", "holds") if one else ("have", "are", "hold")
        col = table.column(column) if column else None
        if code == "empty_rows":
            out.append(scan.problem("warning", None, f, f"{rows_word} with every cell empty (blank lines or "
                                    f"leftover spreadsheet rows) {are} ignored.",
                                    "Delete them to silence this warning.", code))
        elif code.startswith(("wrong_type:", "excel_date:", "date_format:")):
            base, kind = code.split(":")
            _, hint = _type_hint(kind, list(f.values))
            what = (f"{hold} Excel serial day numbers, not dates" if base == "excel_date"
                    else f"{are} not {_TYPE_PHRASES.get(kind, kind)}")
            out.append(scan.problem("error", column, f,
                                    f"{rows_word} {what}: {_values_text(f.values)}.",
                                    hint[0].upper() + hint[1:], base))
        elif code == "missing_value":
            out.append(scan.problem("error", column, f, f"{rows_word} {have} no {column}, which is required.",
                                    f"Fill in {column} ({col.description if col else ''}) or remove those rows.",
                                    code))
        elif code == "unknown_value":
            allowed = list(rules[column]["allowed"])
            fixes = {}
            for value in f.values:
                guess, _ = _close_match(value, allowed)
                if guess:
                    fixes[value] = guess
            hint = ("Replace " + ", ".join(f"{k!r} with {v!r}" for k, v in list(fixes.items())[:5]) + "."
                    if fixes else "Map your CRM's values onto the allowed ones before exporting.")
            if table.name == "hiring_scores" and column == "trait":
                hint += (" Scorecard traits come from the configuration ([hiring] traits in workbook.toml): add "
                         "the trait there if your scorecard really rates it.")
            out.append(scan.problem("error", column, f,
                                    f"{rows_word} {have} a value that is not allowed: {_values_text(f.values)}. "
                                    f"Allowed: {', '.join(allowed)}.", hint, code))
        elif code == "out_of_range":
            lo, hi = rules[column]["min"], rules[column]["max"]
            bounds = (f"between {lo:g} and {hi:g}" if lo is not None and hi is not None
                      else f"at least {lo:g}" if lo is not None else f"at most {hi:g}")
            hint = "Correct the values or remove those rows."
            if table.name == "hiring_scores" and column == "score":
                hint = (f"Scores use the scorecard's {lo:g}-{hi:g} scale ([hiring] score_min and score_max in "
                        f"workbook.toml); rescale scores recorded on another scale.")
            out.append(scan.problem("error", column, f,
                                    f"{rows_word} {are} out of range: {_values_text(f.values)}; must be {bounds}.",
                                    hint, code))
        elif code == "future":
            out.append(scan.problem("error", column, f,
                                    f"{rows_word} {are} in the future (after {now:%Y-%m-%d %H:%M} UTC): "
                                    f"{_values_text(f.values, with_counts=False)}.",
                                    "Timestamps must be UTC or carry their offset (e.g. +02:00); a local time "
                                    "written without offset is read as UTC. Check the export's time zone, or "
                                    "correct the mistyped dates.", code))
        elif code.startswith("order:"):
            earlier = code.split(":", 1)[1]
            out.append(scan.problem("error", column, f,
                                    f"{rows_word} {have} {column} before {earlier} ({column} < {earlier}: "
                                    f"{_values_text(f.values, with_counts=False)}).",
                                    f"{column} cannot precede {earlier}: correct one of the two, or leave "
                                    f"{column} empty if it is not known.", "order"))
        elif code == "closed_without_date":
            out.append(scan.problem("warning", column, f,
                                    f"{rows_word} {are} won or lost but {have} no closed_at; they are left out of "
                                    f"time-to-close and monthly figures.", "Fill in closed_at from the CRM.", code))
        elif code == "open_with_date":
            out.append(scan.problem("warning", column, f,
                                    f"{rows_word} {are} open but {have} a closed_at.",
                                    "Set status to won or lost, or clear closed_at.", code))
        else:
            out.append(scan.problem("error", column, f,
                                    f"{rows_word} fail{'s' * one} the check {code}: {_values_text(f.values)}.",
                                    "", code))
    if scan.months and table.name in MONTH_COLUMNS:
        lo, hi = min(scan.months), max(scan.months)
        gaps = sorted(set(range(lo, hi + 1)) - scan.months)
        # an empty month is only suspicious when months usually hold many rows (with ten a month
        # on average, a month with none by chance has probability e**-10)
        if gaps and scan.row_count / (hi - lo + 1) >= MIN_ROWS_PER_MONTH_FOR_GAPS:
            names = [_month_name(m) for m in gaps]
            shown = ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "")
            out.append(Problem(
                "warning", table.name, f_name, MONTH_COLUMNS[table.name], [],
                f"no rows in {len(gaps)} month{'s' * (len(gaps) != 1)} inside the data's span "
                f"({_month_name(lo)} to {_month_name(hi)}): "
                f"{shown}.",
                "Check that the export covers every month (a CRM export filtered by date, or a missing file "
                "in a series); monthly figures for those months would show as zero.",
                code="month_gap", row_label=scan.row_label))
    return out


# --------------------------------------------------------------------------------------------
# Cross-row and cross-table checks (DuckDB)
# --------------------------------------------------------------------------------------------
def _key_columns(table: Table) -> list[str]:
    keys = list(table.primary_key)
    keys += [c.name for c in table.columns if c.references and c.name not in keys]
    if table.name == "reps":
        keys.append("role")
    if table.name == "experiment_assignments":  # for the arm rules in _experiment_checks
        keys += ["arm", "cluster_id"]
    return keys


def _store_keys(con: duckdb.DuckDBPyConnection, table: Table, typed: pd.DataFrame, created: set[str]) -> None:
    keys = [k for k in _key_columns(table) if k in typed.columns]
    if table.name not in created:
        cols = ", ".join(f'"{k}" VARCHAR' for k in keys)
        con.execute(f'CREATE TABLE "{table.name}" (_row BIGINT{", " + cols if cols else ""})')
        created.add(table.name)
    if not len(typed):
        return
    arrays = {"_row": pa_arrow.array(typed.index.to_numpy(dtype=np.int64))}
    for k in keys:
        values = typed[k] if typed[k].dtype == "str" else typed[k].astype("str").where(typed[k].notna())
        arrays[k] = pa_arrow.array(values, type=pa_arrow.string(), from_pandas=True)
    chunk = pa_arrow.table(arrays)
    con.register("_chunk", chunk)
    try:
        con.execute(f'INSERT INTO "{table.name}" SELECT * FROM _chunk')
    finally:
        con.unregister("_chunk")


def _cross_checks(con: duckdb.DuckDBPyConnection, tables: dict[str, Path], stored: dict[str, list[str]],
                  labels: dict[str, str]) -> list[Problem]:
    out: list[Problem] = []
    for name, cols in stored.items():
        table = TABLES[name]
        file_name = tables[name].name
        pk = [k for k in table.primary_key if k in cols]
        if pk and len(pk) == len(table.primary_key):
            key = ", ".join(f'"{k}"' for k in pk)
            not_null = " AND ".join(f'"{k}" IS NOT NULL' for k in pk)
            con.execute(f'CREATE OR REPLACE TEMP TABLE _dups AS SELECT {key} FROM "{name}" WHERE {not_null} '
                        f'GROUP BY ALL HAVING count(*) > 1')
            n_keys = con.execute("SELECT count(*) FROM _dups").fetchone()[0]
            if n_keys:
                total = con.execute(f'SELECT count(*) FROM "{name}" SEMI JOIN _dups USING ({key})').fetchone()[0]
                first = con.execute(f'SELECT _row, {key} FROM "{name}" SEMI JOIN _dups USING ({key}) '
                                    f'ORDER BY _row LIMIT {MAX_ROWS_SHOWN}').fetchall()
                sample = ", ".join(repr(r[1]) if len(pk) == 1 else "(" + ", ".join(map(str, r[1:])) + ")"
                                   for r in first[:3])
                what = pk[0] if len(pk) == 1 else "(" + ", ".join(pk) + ")"
                out.append(Problem(
                    "error", name, file_name, ", ".join(pk), [r[0] for r in first],
                    f"{n_keys:,} {what} value{'s' * (n_keys != 1)} appear{'s' * (n_keys == 1)} more than once ({total:,} rows), e.g. "
                    f"{sample}; {what} must identify one row ({table.grain}).",
                    "Remove the duplicated rows (an export appended twice, or a report with one row per "
                    "related record, does this).", count=int(total), code="duplicate_key",
                    row_label=labels[name]))
        for col in table.columns:
            if not col.references or col.name not in cols:
                continue
            parent, parent_col = col.references.split(".")
            if parent not in stored:
                out.append(Problem(
                    "info", name, file_name, col.name, [],
                    f"{col.name} could not be checked against {parent}.{parent_col}: table {parent} is missing "
                    f"or could not be read.",
                    "", code="reference_unchecked"))
                continue
            if parent_col not in stored[parent]:
                continue
            source = (f'FROM "{name}" c WHERE c."{col.name}" IS NOT NULL AND NOT EXISTS '
                      f'(SELECT 1 FROM "{parent}" p WHERE p."{parent_col}" = c."{col.name}")')
            total, n_values = con.execute(f'SELECT count(*), count(DISTINCT c."{col.name}") {source}').fetchone()
            if total:
                first = con.execute(f'SELECT c._row {source} ORDER BY c._row LIMIT {MAX_ROWS_SHOWN}').fetchall()
                values = con.execute(f'SELECT c."{col.name}", count(*) n {source} GROUP BY 1 ORDER BY n DESC, 1 '
                                     f'LIMIT {MAX_VALUES_SHOWN}').fetchall()
                shown = ", ".join(f"{v!r} ({n:,}x)" if n > 1 else repr(v) for v, n in values)
                more = f" and {n_values - len(values):,} more" if n_values > len(values) else ""
                out.append(Problem(
                    "error", name, file_name, col.name, [r[0] for r in first],
                    f"{total:,} row{'s' * (total != 1)} name{'s' * (total == 1)} a {col.name} that is not in "
                    f"{tables[parent].name} ({parent_col}): {shown}{more}.",
                    f"Add the missing {parent} to {tables[parent].name}, or correct the ids (spaces, "
                    f"case and leading zeros matter: ids are compared as text).",
                    count=int(total), code="dangling_reference", row_label=labels[name]))
    if "reps" in stored and "activities" in stored and "rep_id" in stored["activities"] \
            and "rep_id" in stored["reps"] and "role" in stored["reps"]:
        roles = ", ".join(f"'{r}'" for r in _SELLING_ROLES)
        source = (f'FROM reps r WHERE r.role IN ({roles}) AND r.rep_id IS NOT NULL AND NOT EXISTS '
                  f'(SELECT 1 FROM activities a WHERE a.rep_id = r.rep_id)')
        total = con.execute(f"SELECT count(*) {source}").fetchone()[0]
        if total:
            first = con.execute(f"SELECT r._row, r.rep_id {source} ORDER BY r._row LIMIT {MAX_ROWS_SHOWN}").fetchall()
            out.append(Problem(
                "warning", "reps", tables["reps"].name, "rep_id", [r[0] for r in first],
                f"{total:,} selling rep{'s' * (total != 1)} (role sdr or ae) {'has' if total == 1 else 'have'} "
                f"no activity in "
                f"{tables['activities'].name}: {', '.join(repr(r[1]) for r in first)}"
                f"{' ...' if total > len(first) else ''}.",
                "Fine for reps hired after the export or who left before it; otherwise their activities are "
                "logged under another user id or were not exported.", count=int(total),
                code="rep_without_activity", row_label=labels["reps"]))
    out.extend(_experiment_checks(con, tables, stored, labels))
    return out


def _experiment_checks(con: duckdb.DuckDBPyConnection, tables: dict[str, Path], stored: dict[str, list[str]],
                       labels: dict[str, str]) -> list[Problem]:
    """Arm rules of experiment_assignments: a unit in both arms (error), a cluster split across arms (warning)."""
    out: list[Problem] = []
    cols = stored.get("experiment_assignments", [])
    if not {"experiment_id", "unit_id", "arm"} <= set(cols):
        return out
    name, file_name = "experiment_assignments", tables["experiment_assignments"].name
    rules = [("unit_id", "error", "unit_in_both_arms",
              "{n} unit{s} {are} in both arms of the same experiment ({rows_total} rows), e.g. {sample}; a unit is "
              "either treated or not, so its outcome cannot count for either arm.",
              "Keep the row with the arm the unit really had (the assignment log says which) and delete the other.")]
    if "cluster_id" in cols:
        rules.append(("cluster_id", "warning", "cluster_in_both_arms",
                      "{n} cluster{s} (cluster_id) {are} split across both arms of the same experiment "
                      "({rows_total} rows), e.g. {sample}; the cluster design is broken: treatment was meant to be "
                      "assigned per rep (or team), so units of one cluster should share an arm.",
                      "Check the assignment: fix the arm of the stray units, or empty cluster_id if units were "
                      "really randomised one by one (the report then treats them as independent)."))
    for col, severity, code, message, fix in rules:
        con.execute(f'CREATE OR REPLACE TEMP TABLE _split AS SELECT experiment_id, "{col}" AS k FROM "{name}" '
                    f'WHERE experiment_id IS NOT NULL AND "{col}" IS NOT NULL AND arm IS NOT NULL '
                    f'GROUP BY ALL HAVING count(DISTINCT arm) > 1')
        n = con.execute("SELECT count(*) FROM _split").fetchone()[0]
        if not n:
            continue
        source = (f'FROM "{name}" a JOIN _split s ON a.experiment_id = s.experiment_id AND a."{col}" = s.k '
                  f'WHERE a.arm IS NOT NULL')
        total = con.execute(f"SELECT count(*) {source}").fetchone()[0]
        first = con.execute(f"SELECT a._row {source} ORDER BY a._row LIMIT {MAX_ROWS_SHOWN}").fetchall()
        shown = con.execute("SELECT experiment_id, k FROM _split ORDER BY 1, 2 LIMIT 3").fetchall()
        sample = ", ".join(f"{k!r} in {e!r}" for e, k in shown) + (" ..." if n > len(shown) else "")
        out.append(Problem(
            severity, name, file_name, col, [r[0] for r in first],
            message.format(n=f"{n:,}", s="s" * (n != 1), are="are" if n != 1 else "is", rows_total=f"{total:,}",
                           sample=sample),
            fix, count=int(total), code=code, row_label=labels[name]))
    return out


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------
def _as_utc(now: Any) -> pd.Timestamp:
    ts = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def validate_folder(data_dir: str | Path | None = None, config: WorkbookConfig | None = None, *,
                    now: Any = None) -> ValidationReport:
    """Check every table file in ``data_dir`` against the contract; never raises for bad data.

    ``config`` supplies the scorecard traits and score range (default :func:`load_config`);
    ``data_dir=None`` uses ``config.data_dir``. ``now`` (default: current UTC time) is the
    moment after which a timestamp counts as "in the future".
    """
    config = config or load_config()
    data_dir = Path(data_dir if data_dir is not None else config.data_dir).expanduser().resolve()
    now_utc = _as_utc(now)
    report = ValidationReport(data_dir=data_dir)
    if not data_dir.is_dir():
        report.problems.append(Problem(
            "error", None, None, None, [],
            f"data folder {data_dir} does not exist or is not a folder.",
            "Pass the folder holding reps.csv etc., or set [data] dir in workbook.toml.", code="missing_folder"))
        return report
    tables = _discover(data_dir, report.problems)
    report.tables = {name: tables[name] for name in TABLES if name in tables}
    stored: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="sales-workbook-validate-") as spill:
        con = duckdb.connect(":memory:", config={"temp_directory": spill, "memory_limit": DUCKDB_MEMORY_LIMIT,
                                                 "threads": 2})
        try:
            created: set[str] = set()
            for name, path in report.tables.items():
                table = TABLES[name]
                is_parquet = path.name.lower().endswith(".parquet")
                label = "row" if is_parquet else "line"
                labels[name] = label
                scan = _TableScan(table, path, label)
                rules = column_rules(table, config)
                schema = build_table_schema(name, config)
                try:
                    if path.stat().st_size == 0:
                        raise _FileProblem(Problem(
                            "error", name, path.name, None, [], "the file is empty (0 bytes, not even a header).",
                            "Export the table again; if you have no such data, delete the file "
                            "(only reps is required).", code="empty_file"))
                    if is_parquet:
                        try:
                            header = [f.name for f in pq.read_schema(path)]
                        except Exception as exc:
                            raise _FileProblem(Problem(
                                "error", name, path.name, None, [], f"the file is not a readable Parquet file: {exc}",
                                "Write it again (e.g. pandas DataFrame.to_parquet).", code="unreadable")) from None
                    else:
                        header = _csv_header(name, path, report.problems)
                    present = _check_header(table, header, path, label, report.problems)
                    chunks = (_read_parquet_chunks(table, path, present, scan) if is_parquet
                              else _read_csv_chunks(name, path, present, scan))
                    for raw in chunks:
                        typed = _check_chunk(scan, raw, schema, rules, now_utc)
                        scan.row_count += len(typed)
                        _store_keys(con, table, typed, created)
                    if name not in created:
                        _store_keys(con, table, pd.DataFrame({c: pd.Series(dtype="str") for c in present}), created)
                    stored[name] = [k for k in _key_columns(table) if k in present]
                except _FileProblem as exc:
                    report.problems.append(exc.problem)
                    if name in created:
                        con.execute(f'DROP TABLE "{name}"')
                        created.discard(name)
                    report.problems.extend(scan.problems)
                    continue
                report.row_counts[name] = scan.row_count
                report.problems.extend(scan.problems)
                report.problems.extend(_finding_problems(scan, rules, now_utc, config))
                if scan.row_count == 0 and not any(p.code == "empty_file" for p in report.problems
                                                   if p.table == name):
                    severity: Severity = "error" if table.required else "warning"
                    report.problems.append(Problem(
                        severity, name, path.name, None, [],
                        f"the file has a header but no rows.",
                        ("reps must list the team: export the roster again." if table.required else
                         "Analyses needing this table will have nothing to show; delete the file if you have no "
                         "such data, or export it again."), code="no_rows"))
            report.problems.extend(_cross_checks(con, report.tables, stored, labels))
        finally:
            con.close()
    return report


def check_folder(data_dir: str | Path | None = None, config: WorkbookConfig | None = None, *,
                 now: Any = None) -> ValidationReport:
    """Validate and raise :class:`DataValidationError` if anything blocks the analyses.

    The report pipeline calls this at the start of each run; warnings do not stop it and are
    in the returned report.
    """
    report = validate_folder(data_dir, config, now=now)
    if not report.ok:
        raise DataValidationError(report)
    return report


def cli_validate(data_dir: str | Path | None, config_path: str | Path | None) -> int:
    """``sales-workbook validate``: print the report; exit 0 when usable (warnings allowed), 1 on errors."""
    config = load_config(config_path)
    report = validate_folder(data_dir, config)
    print(report.format())
    sys.stdout.flush()
    return 0 if report.ok else 1
