"""What the HubSpot and Salesforce importers share: finding export files, reading their CSV,
matching column headings (labels or API names), parsing dates, times and amounts, the import
report, and writing the data folder atomically.

Everything here is vectorised pandas on the export's rows (a CRM export is at most a few million
rows); nothing loops over records in Python.
"""
from __future__ import annotations

import csv
import io
import json
import re
import shutil
import secrets
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from helpers.core.contract import TABLES
from helpers.data.importers.errors import ImportInputError, ImportValidationError, MappingError  # noqa: F401
# dates, times and amounts are parsed in parsing.py; their names stay importable from here
from helpers.data.importers.parsing import (DATE_FORMATS, NUMBER_FORMATS, parse_amounts, parse_times,  # noqa: F401
                                            zone)


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------
def norm(text: str) -> str:
    """Heading / file-name key: case, accents, spaces and punctuation ignored (``Deal owner`` = ``deal_owner``)."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", text.lower())


def snake(text: str) -> str:
    """``Marketing Mary`` -> ``marketing_mary`` (for persona and rep ids made from names)."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


# --------------------------------------------------------------------------------------------
# Export files
# --------------------------------------------------------------------------------------------
EXPORT_SUFFIXES = (".csv", ".xlsx")

#: Words in a file name that mark a file the importers never read even when the name also holds an object
#: they do read (Weekly Data Export: ``LeadHistory``, ``UserRole``, ``OpportunityFieldHistory``,
#: ``OpportunityLineItem`` ...). A kind whose own keyword holds one of them (``opportunityhistory``) still matches.
IGNORED_WORDS = ("history", "role", "share", "feed", "relation", "lineitem", "member", "partner", "competitor",
                 "split", "cleaninfo", "permission", "preference", "license", "attachment", "stage", "status",
                 "priority", "appinfo", "appmenu", "point", "territory", "login", "logfile", "package")


def unpack_zips(export_dir: Path, report: "ImportReport | None" = None) -> Path:
    """An export given as a ZIP (HubSpot's export e-mail, Salesforce's Weekly Data Export ``WE_..._1.ZIP``), or a
    folder holding ZIPs: every CSV/XLSX inside is extracted (names only, no folders) into a private temporary
    folder next to the loose files, which are linked there too. Returns the folder to read from."""
    import tempfile
    import zipfile

    export_dir = Path(export_dir)
    zips = [export_dir] if export_dir.is_file() and export_dir.suffix.lower() == ".zip" else (
        sorted(p for p in export_dir.iterdir() if p.is_file() and p.suffix.lower() == ".zip")
        if export_dir.is_dir() else [])
    if not zips:
        return export_dir
    out = Path(tempfile.mkdtemp(prefix="sales-workbook-import-"))
    if export_dir.is_dir():
        for path in export_dir.iterdir():
            if path.is_file() and path.name.lower().endswith(EXPORT_SUFFIXES):
                shutil.copyfile(path, out / path.name)
    joined: set[str] = set()
    for archive in zips:
        try:
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    name = Path(info.filename).name
                    if info.is_dir() or not name.lower().endswith(EXPORT_SUFFIXES) or name.startswith("."):
                        continue
                    target = out / name
                    if target.exists() and name.lower().endswith(".csv"):
                        with open(target, "rb") as existing:
                            old_head = existing.readline()
                            existing.seek(-1, 2)
                            ends_with_newline = existing.read(1) == b"\n"
                        with zf.open(info) as src:
                            head = src.readline()
                            if head.lstrip(b"\xef\xbb\xbf") == old_head.lstrip(b"\xef\xbb\xbf"):
                                # one object's rows split over several ZIP files: one file again
                                with open(target, "ab") as dst:
                                    if not ends_with_newline:
                                        dst.write(b"\n")
                                    shutil.copyfileobj(src, dst)
                                joined.add(name)
                                continue
                    if target.exists():
                        target = out / f"{Path(name).stem} ({archive.stem}){Path(name).suffix}"
                    with zf.open(info) as src, open(target, "wb") as dst:
                        shutil.copyfileobj(src, dst)
        except (zipfile.BadZipFile, OSError) as exc:
            shutil.rmtree(out, ignore_errors=True)
            raise ImportInputError(f"{archive.name} is not a readable ZIP file ({exc}): download the export "
                                   f"again, or unzip it yourself and pass the folder.") from None
    if report is not None:
        report.note(f"Read from ZIP: {', '.join(z.name for z in zips)}."
                    + (f" Rows of {', '.join(sorted(joined))} were split over several ZIP files and read as one file."
                       if joined else ""))
    return out


def find_export_files(export_dir: Path, keywords: dict[str, tuple[str, ...]], crm: str, *,
                      signatures: dict[str, tuple[tuple[str, ...], ...]] | None = None,
                      report: "ImportReport | None" = None) -> dict[str, Path]:
    """Logical file -> path: a CSV/XLSX whose name contains one of the file's keywords (longest match wins).

    ``hubspot-crm-exports-all-deals-2026-10-01.csv`` is the deals file; ``OpportunityHistory.csv``
    is the stage history, not the opportunities; ``LeadHistory.csv`` and ``UserRole.csv`` are neither
    (see :data:`IGNORED_WORDS`). A file whose name says nothing (a report saved as ``report1700000000000.csv``)
    is recognised by its heading (``signatures``: kind -> groups of headings, one of each group present).
    Files not used are listed once in the report. Two files for one kind is an error.
    """
    export_dir = Path(export_dir)
    if not export_dir.is_dir():
        raise ImportInputError(f"export folder {export_dir} does not exist or is not a folder: pass the folder "
                               f"holding the {crm} CSV exports (or the ZIP file itself).")
    found: dict[str, list[Path]] = {}
    unused: list[str] = []
    for path in sorted(export_dir.iterdir()):
        if not (path.is_file() and path.name.lower().endswith(EXPORT_SUFFIXES)) or path.name.startswith((".", "~$")):
            continue
        stem = norm(path.name.rsplit(".", 1)[0])
        best: tuple[int, str] | None = None
        for kind, words in keywords.items():
            for word in words:
                if word in stem and (best is None or len(word) > best[0]):
                    best = (len(word), kind)
        named = best is not None
        if best is not None:
            rest = stem.replace(next(w for w in sorted(keywords[best[1]], key=len, reverse=True) if w in stem), "", 1)
            if any(w in rest for w in IGNORED_WORDS):
                best = None
        kind = best[1] if best else None
        if kind is None and not named and signatures:  # LeadHistory.csv is not the leads, whatever its heading
            kind = _kind_from_heading(path, signatures)
        if kind:
            found.setdefault(kind, []).append(path)
        else:
            unused.append(path.name)
    for kind, paths in found.items():  # Weekly Data Export: Opportunity.csv is the opportunities, not OpportunityX
        exact = [p for p in paths if re.sub(r"[0-9]+$", "", norm(p.name.rsplit(".", 1)[0])) in keywords[kind]]
        if len(paths) > 1 and len(exact) == 1:
            unused.extend(p.name for p in paths if p is not exact[0])
            found[kind] = exact
    doubles = {k: v for k, v in found.items() if len(v) > 1}
    if doubles:
        kind, paths = next(iter(doubles.items()))
        raise ImportInputError(f"{len(paths)} files in {export_dir} look like the {kind} export: "
                               f"{', '.join(p.name for p in paths)}. Keep one of them (or merge them) and run again.")
    if unused and report is not None:
        shown = ", ".join(unused[:15]) + (f" and {len(unused) - 15} more" if len(unused) > 15 else "")
        report.note(f"Files not used ({len(unused)}): {shown}.")
        report.unused_files = unused
    return {k: v[0] for k, v in found.items()}


def _kind_from_heading(path: Path, signatures: dict[str, tuple[tuple[str, ...], ...]]) -> str | None:
    """The kind whose every heading group has a member in the file's heading row (the most groups, then the most
    headings matched, wins)."""
    try:
        heading = {norm(h) for h in read_heading(path)}
    except Exception:  # noqa: BLE001 - an unreadable file is simply not recognised here; listed as not used
        return None
    best: tuple[int, int, str] | None = None
    for kind, groups in signatures.items():
        if all(any(norm(h) in heading for h in group) for group in groups):
            hits = len({norm(h) for group in groups for h in group} & heading)
            if best is None or (len(groups), hits) > best[:2]:
                best = (len(groups), hits, kind)
    return best[2] if best else None


def read_heading(path: Path) -> list[str]:
    if path.name.lower().endswith(".xlsx"):
        rows = _xlsx_rows(path, limit=40)
        return rows[_heading_index(rows)] if rows else []
    text = path.read_bytes()[:65536].decode("utf-8-sig", errors="replace")
    first = text.split("\n", 1)[0].rstrip("\r")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return next(csv.reader([first], delimiter=delimiter), [])


#: A report export's footer: the first cell of a trailing row (Salesforce: ``Grand Totals (24 records)``,
#: ``Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved.``, ``Confidential Information - Do Not
#: Distribute``, ``Generated By: ...``). Rows after the data with at most one cell are footer too when one matches.
FOOTER = re.compile(r"^\s*(grand\s+totals?|totals?\b|sub-?totals?|copyright|confidential|generated\s+by|\(c\)|©)",
                    re.IGNORECASE)
_RECORDS = re.compile(r"\((\d[\d,.\s]*)\s+records?\)", re.IGNORECASE)


def _strip_footer(rows: list[list[str]], width: int) -> tuple[int, list[str]]:
    """How many data rows to keep: trailing rows of <= 1 cell (or starting 'Grand Totals') are a footer when
    one of them matches :data:`FOOTER`; returns (rows kept, footer lines)."""
    end = len(rows)
    footer: list[str] = []
    marked = False
    while end > 0:
        cells = [c for c in rows[end - 1] if str(c).strip() != ""]
        first = str(cells[0]) if cells else ""
        if len(cells) <= 1 or (width > 1 and FOOTER.match(first) and len(cells) < width):
            marked = marked or bool(FOOTER.match(first))
            if cells:
                footer.insert(0, first)
            end -= 1
            continue
        break
    return (end, footer) if marked else (len(rows), [])


def read_export_csv(path: Path) -> pd.DataFrame:
    """Every cell as text ('' for empty), headings stripped; UTF-8 with or without BOM; Excel's ``;`` too;
    ``.xlsx`` workbooks (first sheet) as well. The index is the row's number in the file (heading = 1), so
    errors can name it. A report export's footer (``Grand Totals (N records)``, copyright and confidentiality
    lines) is removed; ``frame.attrs["footer"]`` keeps it and ``frame.attrs["footer_records"]`` the count."""
    if path.name.lower().endswith(".xlsx"):
        return _read_xlsx(path)
    raw = path.read_bytes()
    if not raw.strip():
        raise ImportInputError(f"{path.name} is empty: export it again (or remove it if you have no such data).")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ImportInputError(
            f"{path.name} is not UTF-8 (first bad byte on line {line}): the CRM writes UTF-8; if you opened and "
            f"saved it in Excel, save it as 'CSV UTF-8' or export it again.") from None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    header = [h.strip() for h in next(csv.reader([first_line.rstrip("\r")], delimiter=delimiter))]
    width = len(header)
    # A report's footer: physical lines at the end with one cell (or 'Grand Totals ...'); only those lines are
    # parsed here, the body goes to Arrow untouched.
    # Only the last lines are split off (the body is never split into a list of lines: exports can be large).
    stripped = text.rstrip("\r\n")
    parts = stripped.rsplit("\n", 12)
    tail = parts[1:]  # parts[0] holds at least the heading
    tail_rows = [next(csv.reader([ln.rstrip("\r")], delimiter=delimiter), []) for ln in tail]
    keep, footer = _strip_footer(tail_rows, width)
    dropped_lines = tail[keep:]
    # a footer is whole lines after whole records: every quote closed (else it is the end of a multi-line value)
    if footer and (stripped.count('"') - sum(ln.count('"') for ln in dropped_lines)) % 2 == 0 and \
            all(ln.count('"') % 2 == 0 for ln in dropped_lines):
        text = stripped[: len(stripped) - sum(len(ln) + 1 for ln in dropped_lines)] + "\n"
    else:
        footer = []
    # Arrow's C++ CSV parser, every cell as text: an export of millions of calls is not parsed row by row in
    # Python. It also knows each row's width: a row whose cell count differs from the heading's is collected.
    import pyarrow as pa
    from pyarrow import csv as pacsv

    ragged: list[int] = []

    def on_bad_row(row: Any) -> str:
        ragged.append(int(row.number) if row.number is not None else -1)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(skip_rows=1, column_names=[f"c{i}" for i in range(width)]),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_bad_row,
                                              newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(column_types={f"c{i}": pa.string() for i in range(width)},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
    except pa.ArrowInvalid as exc:
        raise ImportInputError(f"{path.name} is not valid CSV ({exc}): export it again without editing it.") from None
    if ragged:
        raise ImportInputError(
            f"{path.name}: {len(ragged)} row(s) do not have {width} cells like the heading (first at line "
            f"{ragged[0]}); a comma inside a value must be quoted. Export the file again without editing it.")
    return _finish_frame(table.to_pandas(), header, footer)


def _finish_frame(frame: pd.DataFrame, header: list[str], footer: list[str], first_row: int = 2) -> pd.DataFrame:
    frame.columns = header
    frame.index = pd.RangeIndex(first_row, first_row + len(frame))
    frame = frame.apply(lambda col: col.str.strip()) if len(frame) else frame
    blank = (frame == "").all(axis=1) if len(frame) else pd.Series(dtype=bool)
    frame = frame.loc[~blank] if len(frame) else frame  # Excel's ,,,, rows
    frame = frame.astype(object)
    frame.attrs["footer"] = footer
    counts = [m.group(1) for m in (_RECORDS.search(f) for f in footer) if m]
    if counts:
        frame.attrs["footer_records"] = int(re.sub(r"\D", "", counts[0]))
    return frame


def _xlsx_cell(value: Any) -> str:
    import datetime as dt

    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _xlsx_rows(path: Path, limit: int | None = None) -> list[list[str]]:
    try:
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a damaged file
        raise ImportInputError(f"{path.name} is not a readable Excel workbook ({type(exc).__name__}: {exc}): "
                               f"export it again, or export CSV instead.") from None
    try:
        sheet = book.worksheets[0]
        rows = []
        for row in sheet.iter_rows(values_only=True):
            rows.append([_xlsx_cell(v).strip() for v in row])
            if limit and len(rows) >= limit:
                break
        return rows
    finally:
        book.close()


def _heading_index(rows: list[list[str]]) -> int:
    """A formatted report's sheet opens with title rows: the heading is the first row with as many filled cells
    as the widest of the first rows (at least two)."""
    counts = [sum(1 for c in r if c) for r in rows[:40]]
    widest = max(counts, default=0)
    return next((i for i, n in enumerate(counts) if n >= max(2, widest)), 0)


def _read_xlsx(path: Path) -> pd.DataFrame:
    rows = _xlsx_rows(path)
    if not any(any(r) for r in rows):
        raise ImportInputError(f"{path.name} is empty: export it again (or remove it if you have no such data).")
    start = _heading_index(rows)
    header = rows[start]
    while header and header[-1] == "":
        header = header[:-1]
    width = len(header)
    body = [(r + [""] * width)[:width] for r in rows[start + 1:]]
    keep, footer = _strip_footer(body, width)
    frame = pd.DataFrame(body[:keep], columns=[f"c{i}" for i in range(width)], dtype=object)
    return _finish_frame(frame, header, footer, first_row=start + 2)


@dataclass
class ExportFile:
    """One export file with its columns resolved by alias."""

    kind: str
    path: Path
    frame: pd.DataFrame

    def find(self, aliases: Iterable[str]) -> str | None:
        """The heading matching the first alias present (``Deal owner``, ``hubspot_owner_id`` ...)."""
        keys = {norm(c): c for c in self.frame.columns}
        for alias in aliases:
            if norm(alias) in keys:
                return keys[norm(alias)]
        return None

    def col(self, aliases: Iterable[str], *, required: bool = False, what: str = "") -> pd.Series:
        """Column by alias as text ('' where missing); a missing required one is an ImportInputError."""
        aliases = list(aliases)
        name = self.find(aliases)
        if name is None:
            if required:
                raise ImportInputError(
                    f"{self.path.name}: no column for {what or aliases[0]} (looked for "
                    f"{', '.join(repr(a) for a in aliases)}; the file has {', '.join(repr(c) for c in self.frame.columns)}"
                    f"). Add that property to the export (or name the column in the mapping file) and export again.")
            return pd.Series("", index=self.frame.index, dtype=object)
        return self.frame[name].astype(object)

    def has(self, aliases: Iterable[str]) -> bool:
        return self.find(aliases) is not None


def footer_check(file: ExportFile, report: "ImportReport") -> None:
    """A report export's footer was removed: say so, and compare its ``(N records)`` with the rows read."""
    footer = file.frame.attrs.get("footer") or []
    if not footer:
        return
    expected = file.frame.attrs.get("footer_records")
    report.note(f"{file.path.name}: report footer ({len(footer)} line(s): {footer[0]!r} ...) is not data; ignored.")
    if expected is not None and expected != len(file.frame):
        report.warnings.append(f"{file.path.name}: the report's footer says {expected} records but the file holds "
                               f"{len(file.frame)} rows: export the report again as 'Details Only', unedited.")


def first_id(values: pd.Series) -> pd.Series:
    """``"101;102"`` -> ``"101"``: the first of several associated record ids."""
    return values.astype(str).str.split(r"[;,]", regex=True).str[0].str.strip()


# --------------------------------------------------------------------------------------------
# Salesforce ids
# --------------------------------------------------------------------------------------------
_ID_SUFFIX = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"))


def salesforce_id18(values: pd.Series) -> tuple[pd.Series, int]:
    """15-character (case-sensitive, report exports) Salesforce ids -> their 18-character form (Data Loader).

    Salesforce's checksum: split the id into three chunks of 5; in each, bit i is 1 when character i is an
    upper-case letter; the chunk's number (0-31) picks a letter of ``A..Z0..5``; the three letters are
    appended. Only 15-character values made of letters and digits with at least one digit are changed.
    Returns the values and how many were changed. Vectorised over the column (no loop over rows).
    """
    text = values.astype(str)
    short = text.str.fullmatch(r"[A-Za-z0-9]{15}") & text.str.contains(r"\d")
    if not short.any():
        return values, 0
    ids = text[short]
    chars = np.frombuffer("".join(ids).encode("ascii"), dtype="S1").reshape(-1, 15)
    upper = (chars >= b"A") & (chars <= b"Z")
    weights = 1 << np.arange(5)
    suffix = np.stack([(upper[:, k * 5:(k + 1) * 5] * weights).sum(axis=1) for k in range(3)], axis=1)
    letters = _ID_SUFFIX[suffix]
    out = text.copy()
    out[short] = ids + letters[:, 0] + letters[:, 1] + letters[:, 2]
    return out.astype(object), int(short.sum())


def is_true(values: pd.Series) -> pd.Series:
    """Salesforce ``true``/``false`` (Data Loader) and ``1``/``0`` (reports) as booleans."""
    return values.astype(str).str.strip().str.lower().isin(("true", "1", "yes", "y"))


# --------------------------------------------------------------------------------------------
# The import report
# --------------------------------------------------------------------------------------------
@dataclass
class TableCount:
    read: int = 0
    written: int = 0
    dropped: Counter = field(default_factory=Counter)
    changed: Counter = field(default_factory=Counter)


@dataclass
class ImportReport:
    """Rows read, written and dropped per table with reasons; unmapped values; date formats found."""

    crm: str
    export_dir: str
    out_dir: str = ""
    mapping_path: str = ""
    mapping_created: bool = False
    files: dict[str, str] = field(default_factory=dict)
    missing_files: list[str] = field(default_factory=list)
    tables: dict[str, TableCount] = field(default_factory=dict)
    unmapped: dict[str, dict[str, int]] = field(default_factory=dict)
    date_formats: dict[str, str] = field(default_factory=dict)
    number_formats: dict[str, str] = field(default_factory=dict)
    amounts: str = ""
    unused_files: list[str] = field(default_factory=list)
    links: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    validation_warnings: list[str] = field(default_factory=list)

    def table(self, name: str) -> TableCount:
        return self.tables.setdefault(name, TableCount())

    def drop(self, table: str, mask: pd.Series | np.ndarray, reason: str) -> None:
        n = int(np.asarray(mask).sum())
        if n:
            self.table(table).dropped[reason] += n

    def change(self, table: str, mask: pd.Series | np.ndarray, what: str) -> None:
        n = int(np.asarray(mask).sum())
        if n:
            self.table(table).changed[what] += n

    def unmapped_values(self, what: str, values: pd.Series) -> None:
        counts = values[values.astype(str) != ""].value_counts()
        if len(counts):
            merged = self.unmapped.setdefault(what, {})
            for value, n in counts.items():
                merged[str(value)] = merged.get(str(value), 0) + int(n)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def to_dict(self) -> dict[str, Any]:
        return {
            "crm": self.crm, "export_dir": self.export_dir, "out_dir": self.out_dir,
            "mapping": self.mapping_path, "mapping_created": self.mapping_created, "files": self.files,
            "missing_files": self.missing_files,
            "tables": {name: {"read": t.read, "written": t.written, "dropped": dict(t.dropped),
                              "changed": dict(t.changed)} for name, t in self.tables.items()},
            "unmapped": self.unmapped, "date_formats": self.date_formats, "number_formats": self.number_formats,
            "amounts": self.amounts, "unused_files": self.unused_files, "links": self.links,
            "warnings": self.warnings, "notes": self.notes,
            "validation_warnings": self.validation_warnings,
        }

    def format(self) -> str:
        lines = [f"Import from {self.crm} export {self.export_dir}" + (f" into {self.out_dir}" if self.out_dir else "")]
        if self.mapping_path:
            lines.append(f"Mapping: {self.mapping_path}" + (
                " (written now with guesses: review it, then run the import again)" if self.mapping_created else ""))
        lines.append("Files read: " + ", ".join(f"{k} = {v}" for k, v in self.files.items()))
        if self.missing_files:
            lines.append("Not in the export: " + ", ".join(self.missing_files))
        if self.amounts:
            lines.append("Amounts: " + self.amounts)
        if self.warnings:
            lines.append("")
            lines.append("WARNINGS (check before trusting the reports):")
            lines.extend(f"  ! {w}" for w in self.warnings)
        lines.append("")
        lines.append(f"{'table':<12} {'read':>7} {'written':>8} {'dropped':>8}")
        for name, t in self.tables.items():
            lines.append(f"{name:<12} {t.read:>7} {t.written:>8} {sum(t.dropped.values()):>8}")
            for reason, n in t.dropped.most_common():
                lines.append(f"    dropped {n} {reason}")
            for what, n in t.changed.most_common():
                lines.append(f"    {n} {what}")
        absent = [t for t in TABLES if t not in self.tables]
        if absent:
            lines.append(f"Not written (the CRM export has no such data): {', '.join(absent)}")
        if self.unmapped:
            lines.append("")
            lines.append("Values not in the mapping file, or mapped to \"\" (given the default; add them to it and "
                         "run again), with their counts:")
            for what, values in self.unmapped.items():
                shown = ", ".join(f"{v!r} ({n})" for v, n in sorted(values.items(), key=lambda kv: -kv[1])[:12])
                lines.append(f"  {what}: {shown}")
        if self.date_formats:
            lines.append("")
            lines.append("Date formats detected:")
            for label, fmt in self.date_formats.items():
                lines.append(f"  {label}: {fmt}")
        if self.number_formats:
            lines.append("")
            lines.append("Number formats:")
            lines.extend(f"  {label}: {fmt}" for label, fmt in self.number_formats.items())
        if self.links:
            lines.append("")
            lines.append("Links between tables:")
            for what, link in self.links.items():
                lines.append(f"  {what}: {link['linked']} of {link['total']} ({link['share']:.0%})")
        if self.notes:
            lines.append("")
            lines.append("Notes:")
            lines.extend(f"  - {n}" for n in self.notes)
        if self.validation_warnings:
            lines.append("")
            lines.append("Validation warnings (the data can be analysed):")
            lines.extend(f"  - {w}" for w in self.validation_warnings)
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------
def to_contract_csv(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Contract columns in contract order, timestamps as ``...Z`` text, dates as ``YYYY-MM-DD``."""
    out = pd.DataFrame(index=frame.index)
    for col in TABLES[table].columns:
        values = frame[col.name] if col.name in frame else pd.Series("", index=frame.index, dtype=object)
        if col.dtype == "timestamp" and pd.api.types.is_datetime64_any_dtype(values):
            values = values.dt.strftime("%Y-%m-%dT%H:%M:%SZ").fillna("")
        elif col.dtype == "date" and pd.api.types.is_datetime64_any_dtype(values):
            values = values.dt.strftime("%Y-%m-%d").fillna("")
        elif col.dtype == "float":
            values = values.map(lambda v: "" if pd.isna(v) else f"{float(v):.2f}")
        else:
            values = values.fillna("").astype(str)
        out[col.name] = values
    return out.reset_index(drop=True)


def staging_folder(out_dir: Path) -> Path:
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f".{out_dir.name}.import-{secrets.token_hex(4)}"
    tmp.mkdir()
    return tmp


def publish_folder(tmp: Path, out_dir: Path) -> None:
    """Put the staged folder in place of ``out_dir``; an older import there is replaced whole.

    A folder that holds anything but a previous import's tables and report is not touched.
    """
    if out_dir.exists():
        if not out_dir.is_dir():
            raise ImportInputError(f"--out {out_dir} is a file: give a folder to write the tables to.")
        contents = list(out_dir.iterdir())
        if contents and not (out_dir / "import_report.json").exists():
            raise ImportInputError(
                f"--out {out_dir} already holds files that are not from an import ({contents[0].name} ...): "
                f"choose a new or empty folder; nothing was written.")
        old = out_dir.parent / f".{out_dir.name}.old-{secrets.token_hex(4)}"
        out_dir.rename(old)
        try:
            tmp.rename(out_dir)
        except BaseException:
            old.rename(out_dir)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(out_dir)


def write_report_files(folder: Path, report: ImportReport) -> None:
    (folder / "import_report.json").write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n",
                                               encoding="utf-8")
    (folder / "import_report.txt").write_text(report.format() + "\n", encoding="utf-8")
