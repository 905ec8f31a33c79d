"""Payroll files of the month's commission statement: CSV and XLSX, safe against formula injection.

A rep's name or a customer id comes from the CRM, so it can be anything, including text a
spreadsheet would run as a formula (``=HYPERLINK(...)``, ``+cmd|...``, ``@SUM(...)``). Text
cells starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return get a leading
apostrophe in the CSV (OWASP's advice; spreadsheets show the text, not its result) and are
written as typed text cells in the XLSX. Amounts are ours (numbers), never text.

Files go next to the report's results file (``results_path``'s folder), which the report
pipeline publishes atomically with the rest of the month's folder; each file is itself written
to a temporary name and renamed. Run by hand (no results path), nothing is written unless a
folder is given.
"""
from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path

import pandas as pd

__all__ = ["DANGEROUS_PREFIXES", "export_payroll", "export_folder", "safe_text", "write_csv", "write_xlsx"]

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MONEY_SUFFIX = "_cents"


def safe_text(value: object) -> object:
    """Text that a spreadsheet would treat as a formula gets a leading apostrophe; other values unchanged."""
    if isinstance(value, str) and value.startswith(DANGEROUS_PREFIXES):
        return "'" + value
    return value


def export_folder(results_path: str = "", export_dir: str = "") -> Path | None:
    """Where payroll files go: ``export_dir`` when given, else the results file's folder, else nowhere (None)."""
    if export_dir:
        return Path(export_dir)
    if results_path:
        return Path(results_path).resolve().parent
    return None


def _payroll_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Money columns in cents become dollars (``_cents`` -> ``_usd``, two decimals as exact Decimals)."""
    from decimal import Decimal

    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        if col.endswith(MONEY_SUFFIX):
            out[col[: -len(MONEY_SUFFIX)] + "_usd"] = [Decimal(int(v)).scaleb(-2) for v in frame[col]]
        else:
            out[col] = frame[col]
    return out


def _atomic_write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _cell_text(value: object) -> object:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """UTF-8 CSV (with BOM, so spreadsheets read accents), text cells neutralised by :func:`safe_text`."""
    table = _payroll_frame(frame)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_text(c) for c in table.columns])
    for row in table.itertuples(index=False):  # one row per statement line (a month's lines)
        writer.writerow([safe_text(_cell_text(v)) if isinstance(_cell_text(v), str) else _cell_text(v) for v in row])
    return _atomic_write(Path(path), buffer.getvalue().encode("utf-8-sig"))


def write_xlsx(sheets: dict[str, pd.DataFrame], path: str | Path) -> Path:
    """One worksheet per frame; every text cell is stored as text (never a formula)."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for title, frame in sheets.items():
        sheet = book.create_sheet(title=title[:31])
        table = _payroll_frame(frame)
        sheet.append([str(c) for c in table.columns])
        for row in table.itertuples(index=False):  # rows of the statement
            values = [_cell_text(v) for v in row]
            values = [float(v) if hasattr(v, "as_tuple") else v for v in values]  # Decimal -> number cell
            sheet.append(values)
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
                    if cell.value.startswith(DANGEROUS_PREFIXES):
                        cell.quotePrefix = True
                elif isinstance(cell.value, float) and cell.column_letter and table.columns[cell.column - 1].endswith("_usd"):
                    cell.number_format = "#,##0.00"
    buffer = io.BytesIO()
    book.save(buffer)
    return _atomic_write(Path(path), buffer.getvalue())


def export_payroll(statement: pd.DataFrame, lines: pd.DataFrame, folder: str | Path | None, *,
                   month: str) -> list[Path]:
    """Write ``04_payroll_<month>.csv`` (one row per rep), ``04_payroll_lines_<month>.csv`` and an XLSX with both.

    Returns the files written; nothing (``[]``) when ``folder`` is None.
    """
    if folder is None:
        return []
    folder = Path(folder)
    return [write_csv(statement, folder / f"04_payroll_{month}.csv"),
            write_csv(lines, folder / f"04_payroll_lines_{month}.csv"),
            write_xlsx({"Statement": statement, "Lines": lines}, folder / f"04_payroll_{month}.xlsx")]
