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

This module finds and reads the files and runs the checks; the report objects are in
:mod:`helpers.data.validate_problems`, the cell rules (pandera schemas, parsing) in
:mod:`helpers.data.validate_cells`, the row and cross-table checks in
:mod:`helpers.data.validate_checks`. Import the public names from here.
"""
from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
import sys
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa_arrow
import pyarrow.compute as pc
import pyarrow.parquet as pq

from helpers.core.config import WorkbookConfig, load_config
from helpers.core.contract import TABLES, Table, find_table_files
from helpers.core.contract import split_table_suffix as _split_suffix
from helpers.data.validate_cells import build_table_schema, column_rules
from helpers.data.validate_checks import (_check_chunk, _cross_checks, _finding_problems, _key_columns,
                                          _store_keys, _TableScan)
from helpers.data.validate_problems import (DataValidationError, Problem, Severity, ValidationReport,
                                            _close_match, _normalise_name)

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

#: rows read at a time; bounds memory whatever the file size
CHUNK_ROWS = 500_000
#: DuckDB's working memory for the cross-row checks; beyond it, it spills to a temporary folder
DUCKDB_MEMORY_LIMIT = "1GB"
_LOOKS_LIKE_TABLE = (".xlsx", ".xls", ".xlsm", ".ods", ".tsv")
_PREVIEW_BYTES = 200  # bytes of the offending line quoted in the message
_SCAN_BLOCK_BYTES = 1 << 22  # bytes decoded at a time when looking for the first non-UTF-8 byte
_SAVE_AS_CSV = "In Excel: File > Save As > 'CSV UTF-8 (Comma delimited) (*.csv)'."


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------
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
# Reading files in chunks
# --------------------------------------------------------------------------------------------
class _FileProblem(Exception):
    """A problem that stops reading a file."""

    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.problem = problem


#: What reading a damaged file raises (a corrupt or truncated gzip, a cut-off Parquet, bytes that are no text).
_READ_ERRORS: tuple[type[BaseException], ...] = (OSError, EOFError, zlib.error, gzip.BadGzipFile, UnicodeError,
                                                 pa_arrow.ArrowException, ValueError)


def _read_problem(table: str, path: Path, exc: BaseException) -> Problem:
    """A read error as a validation error naming the file (never a traceback)."""
    compressed = path.name.lower().endswith(".gz")
    what = ("the compressed file is damaged or cut off" if compressed and isinstance(exc, (EOFError, zlib.error,
                                                                                          gzip.BadGzipFile))
            else "the file cannot be read")
    detail = " ".join(str(exc).split())[:200] or type(exc).__name__
    return Problem("error", table, path.name, None, [], f"{what} ({type(exc).__name__}: {detail}).",
                   "Export the table again (and compress it again with gzip if it was compressed); a file cut off "
                   "by a full disk or an interrupted copy reads like this.", code="unreadable")


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
                except (_FileProblem, *_READ_ERRORS) as exc:
                    report.problems.append(exc.problem if isinstance(exc, _FileProblem) else _read_problem(name, path, exc))
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
    from helpers.core.config import QUARANTINE_CODES, on_bad_rows

    if on_bad_rows(config) == "quarantine":  # such rows are left out of every report (the engine filters them)
        for problem in report.problems:
            if problem.severity == "error" and problem.code in QUARANTINE_CODES and problem.count:
                problem.severity = "warning"
                problem.message = f"Quarantined (left out of every report): {problem.message}"
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
    from helpers.core.config import load_config_for_data

    # as the report decides: an explicit --config, else <folder>.workbook.toml next to the folder ([categories])
    config = load_config_for_data(config_path, data_dir) if data_dir is not None else load_config(config_path)
    report = validate_folder(data_dir, config)
    print(report.format())
    sys.stdout.flush()
    return 0 if report.ok else 1
