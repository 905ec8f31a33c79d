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
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from helpers.core.contract import TABLES


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------
class ImportInputError(ValueError):
    """An export file is missing, unreadable or lacks a column: the message names it and says how to fix it."""


class MappingError(ValueError):
    """The mapping file is not valid TOML or a setting in it is wrong: the message names file and key."""


class ImportValidationError(RuntimeError):
    """The imported tables failed the data-contract validation, so nothing was written."""

    def __init__(self, message: str, validation: Any):
        super().__init__(message)
        self.validation = validation


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
def find_export_files(export_dir: Path, keywords: dict[str, tuple[str, ...]], crm: str) -> dict[str, Path]:
    """Logical file -> path: a CSV whose name contains one of the file's keywords (longest match wins).

    ``hubspot-crm-exports-all-deals-2026-10-01.csv`` is the deals file; ``OpportunityHistory.csv``
    is the stage history, not the opportunities. Two files for one kind is an error.
    """
    export_dir = Path(export_dir)
    if not export_dir.is_dir():
        raise ImportInputError(f"export folder {export_dir} does not exist or is not a folder: pass the folder "
                               f"holding the {crm} CSV exports.")
    found: dict[str, list[Path]] = {}
    for path in sorted(export_dir.iterdir()):
        if not (path.is_file() and path.name.lower().endswith(".csv")):
            continue
        stem = norm(path.name[:-4])
        best: tuple[int, str] | None = None
        for kind, words in keywords.items():
            for word in words:
                if word in stem and (best is None or len(word) > best[0]):
                    best = (len(word), kind)
        if best:
            found.setdefault(best[1], []).append(path)
    doubles = {k: v for k, v in found.items() if len(v) > 1}
    if doubles:
        kind, paths = next(iter(doubles.items()))
        raise ImportInputError(f"{len(paths)} files in {export_dir} look like the {kind} export: "
                               f"{', '.join(p.name for p in paths)}. Keep one of them (or merge them) and run again.")
    return {k: v[0] for k, v in found.items()}


def read_export_csv(path: Path) -> pd.DataFrame:
    """Every cell as text ('' for empty), headings stripped; UTF-8 with or without BOM; Excel's ``;`` too."""
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
    # Arrow's C++ CSV parser, every cell as text: an export of millions of calls is not parsed row by row in
    # Python. It also knows each row's width: a row whose cell count differs from the heading's is collected.
    import pyarrow as pa
    from pyarrow import csv as pacsv

    header = [h.strip() for h in next(csv.reader([first_line.rstrip("\r")], delimiter=delimiter))]
    width = len(header)
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
    frame = table.to_pandas()
    frame.columns = header
    frame = frame.apply(lambda col: col.str.strip()) if len(frame) else frame
    blank = (frame == "").all(axis=1) if len(frame) else pd.Series(dtype=bool)
    frame = frame.loc[~blank].reset_index(drop=True) if len(frame) else frame  # Excel's ,,,, rows
    return frame.astype(object)



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


def first_id(values: pd.Series) -> pd.Series:
    """``"101;102"`` -> ``"101"``: the first of several associated record ids."""
    return values.astype(str).str.split(r"[;,]", regex=True).str[0].str.strip()


# --------------------------------------------------------------------------------------------
# Dates and times
# --------------------------------------------------------------------------------------------
#: Formats tried, in order, on a whole column; the first that reads every non-empty value wins.
DATE_FORMATS: tuple[tuple[str, str], ...] = (
    ("ISO 8601 with offset or Z (UTC)", "ISO8601"),
    ("YYYY-MM-DD HH:MM", "%Y-%m-%d %H:%M"),
    ("YYYY-MM-DD HH:MM:SS", "%Y-%m-%d %H:%M:%S"),
    ("YYYY-MM-DD", "%Y-%m-%d"),
    ("MM/DD/YYYY HH:MM AM/PM", "%m/%d/%Y %I:%M %p"),
    ("MM/DD/YYYY HH:MM", "%m/%d/%Y %H:%M"),
    ("MM/DD/YYYY", "%m/%d/%Y"),
    ("DD/MM/YYYY HH:MM", "%d/%m/%Y %H:%M"),
    ("DD/MM/YYYY", "%d/%m/%Y"),
    ("DD.MM.YYYY HH:MM", "%d.%m.%Y %H:%M"),
    ("DD.MM.YYYY", "%d.%m.%Y"),
    ("Unix milliseconds", "epoch_ms"),
)

_OFFSET = re.compile(r"(?:Z|[+-]\d\d:?\d\d)$")


def zone(name: str, where: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise MappingError(f"{where}: timezone {name!r} is not a time-zone name; use an IANA name such as "
                           f"'Europe/Berlin', 'America/New_York' or 'UTC'.") from None


def parse_times(values: pd.Series, *, tz: ZoneInfo, date_format: str, label: str,
                report: "ImportReport") -> pd.Series:
    """Text -> UTC timestamps (NaT where empty). Values with ``Z`` or an offset keep their own zone;
    the others are local times in ``tz`` (HubSpot: the portal's time zone), converted to UTC.

    ``date_format="auto"`` tries :data:`DATE_FORMATS` in order (a column whose day and month are
    both at most 12 everywhere is read month-first and the report says so); otherwise it is a
    ``strftime`` pattern applied to every value. Unreadable values are an ImportInputError.
    """
    text = values.astype(str).str.strip()
    present = text != ""
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    if not present.any():
        return out
    sample = text[present]
    chosen: tuple[str, str] | None = None
    candidates = DATE_FORMATS if date_format == "auto" else ((f"mapping date_format {date_format!r}", date_format),)
    for name, fmt in candidates:
        parsed = _try_format(sample, fmt, tz)
        if parsed is not None:
            chosen = (name, fmt)
            break
    if chosen is None:
        bad = sample.head(3).tolist()
        raise ImportInputError(
            f"{label}: cannot read the dates {', '.join(repr(b) for b in bad)} ... with "
            f"{'any known format' if date_format == 'auto' else repr(date_format)}. Set date_format in the mapping "
            f"file to their pattern (e.g. '%d/%m/%Y %H:%M').")
    if date_format == "auto" and chosen[1].startswith("%m/%d") and \
            _try_format(sample, chosen[1].replace("%m/%d", "%d/%m"), tz) is not None:
        report.note(f"{label}: dates like {sample.iloc[0]!r} could be month-first or day-first; read month-first "
                    f"(US). Set date_format in the mapping file if they are day-first.")
    report.date_formats[label] = chosen[0] + ("" if chosen[1] in ("ISO8601", "epoch_ms") or
                                              sample.str.contains(_OFFSET).all() else f", local time {tz.key}")
    out[present] = parsed
    return out


def _try_format(sample: pd.Series, fmt: str, tz: ZoneInfo) -> pd.Series | None:
    try:
        if fmt == "epoch_ms":
            if not sample.str.fullmatch(r"\d{11,14}").all():
                return None
            return pd.to_datetime(sample.astype("int64"), unit="ms", utc=True)
        if fmt == "ISO8601":
            if not sample.str.contains(_OFFSET).all() or not sample.str.match(r"\d{4}-\d\d-\d\d[T ]").all():
                return None
            return pd.to_datetime(sample, format="ISO8601", utc=True)
        parsed = pd.to_datetime(sample, format=fmt)
    except (ValueError, TypeError, OverflowError):
        return None
    if parsed.dt.tz is not None:
        return parsed.dt.tz_convert("UTC")
    localized = parsed.dt.tz_localize(tz, ambiguous=np.zeros(len(parsed), dtype=bool), nonexistent="shift_forward")
    return localized.dt.tz_convert("UTC")


def parse_amounts(values: pd.Series, *, label: str) -> pd.Series:
    """``"1,250.50"``, ``"$1250.5"``, ``"1250"`` -> float; empty -> NaN; other text is an ImportInputError."""
    text = values.astype(str).str.strip().str.replace(r"[\s$€£,]", "", regex=True)
    number = pd.to_numeric(text.where(text != ""), errors="coerce")
    bad = (text != "") & number.isna()
    if bad.any():
        raise ImportInputError(f"{label}: {int(bad.sum())} value(s) are not amounts, e.g. "
                               f"{values[bad].iloc[0]!r}. Export amounts as plain numbers.")
    return number.astype(float)


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
            "unmapped": self.unmapped, "date_formats": self.date_formats, "notes": self.notes,
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
            lines.append("Values not in the mapping file (add them to it and run again):")
            for what, values in self.unmapped.items():
                shown = ", ".join(f"{v!r} ({n})" for v, n in sorted(values.items(), key=lambda kv: -kv[1])[:12])
                lines.append(f"  {what}: {shown}")
        if self.date_formats:
            lines.append("")
            lines.append("Date formats detected:")
            for label, fmt in self.date_formats.items():
                lines.append(f"  {label}: {fmt}")
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
