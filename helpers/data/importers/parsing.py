"""Parsing an export's text into the contract's types: dates and times (in the CRM's time zone, the
format detected per column or named in the mapping) and amounts (thousands separators, decimal
commas, currency signs).

Part of :mod:`helpers.data.importers.common` (its names are importable from there too).
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from helpers.data.importers.errors import ImportInputError, MappingError

if TYPE_CHECKING:  # pragma: no cover
    from helpers.data.importers.common import ImportReport


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


#: ``number_format`` in the mapping: how amounts are written. ``auto`` detects it per column from the data.
NUMBER_FORMATS = {"auto": "detected per column", "1,234.56": "1,234.56 (comma thousands, dot decimals)",
                  "1.234,56": "1.234,56 (dot thousands, comma decimals)"}
_US = re.compile(r"^-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")
_EU = re.compile(r"^-?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?$")
_CURRENCY = re.compile(r"^(?:[A-Z]{3}\s*)|(?:\s*[A-Z]{3})$|[$€£¥\s\u00a0\u202f'’]")


def _clean_numbers(values: pd.Series) -> pd.Series:
    """Currency signs and codes (``USD 1,250.50``, ``1.250,50 €``), spaces and apostrophes used as thousands
    separators removed; ``(1,250.00)`` -> ``-1,250.00``."""
    text = values.astype(str).str.strip()
    negative = text.str.fullmatch(r"\(.*\)")
    text = text.where(~negative, "-" + text.str[1:-1])
    return text.str.replace(_CURRENCY, "", regex=True).str.replace(r"^-\s*", "-", regex=True)


def parse_amounts(values: pd.Series, *, label: str, number_format: str = "auto",
                  report: "ImportReport | None" = None, integers: bool = False, strict: bool = True) -> pd.Series:
    """Text -> float, empty -> NaN, in the column's number format.

    ``auto``: a column is read as ``1,234.56`` when some value can only be that (``1,250.50``, ``1250.5``) and as
    ``1.234,56`` when some value can only be that (``375.000,00``, ``1250,5``). Values that fit both with
    different results (``1.250``, ``1,250``) with nothing else deciding are an error naming file, column and
    line (set ``number_format`` in the mapping), unless ``integers`` (counts such as employees: a separator
    before three digits groups thousands). Text that is no number is an error (``strict``) or NaN.
    """
    text = _clean_numbers(values)
    present = text != ""
    us, eu = text.str.match(_US) & present, text.str.match(_EU) & present
    plain = text.str.fullmatch(r"-?\d+") & present
    chosen = number_format
    if number_format not in NUMBER_FORMATS:
        raise MappingError(f"number_format = {number_format!r} is not one of "
                           f"{', '.join(repr(k) for k in NUMBER_FORMATS)}.")
    if number_format == "auto":
        only_us, only_eu = us & ~eu, eu & ~us
        if only_us.any() and only_eu.any():
            minority = only_eu if only_eu.sum() <= only_us.sum() else only_us
            line = minority.idxmax()
            raise ImportInputError(
                f"{label}, line {line}: {values[line]!r} is written 1.234,56 but other values of the column are "
                f"written 1,234.56 (e.g. {values[(only_us if minority is only_eu else only_eu).idxmax()]!r}): "
                f"fix the file, or set number_format in the mapping file.")
        ambiguous = us & eu & ~plain
        if only_us.any():
            chosen = "1,234.56"
        elif only_eu.any():
            chosen = "1.234,56"
        elif ambiguous.any() and not integers:
            line = ambiguous.idxmax()
            raise ImportInputError(
                f"{label}, line {line}: {values[line]!r} could be read as "
                f"{float(text[line].replace(',', '')):g} (1,234.56) or as "
                f"{float(text[line].replace('.', '').replace(',', '.')):g} (1.234,56), and no other value of the "
                f"column decides: set number_format = \"1,234.56\" or \"1.234,56\" in the mapping file.")
        else:
            chosen = "1.234,56" if ambiguous.any() and text[ambiguous].str.contains(r"\.").all() else "1,234.56"
    if chosen == "1,234.56":
        ok, number_text = us, text.str.replace(",", "", regex=False)
    else:
        ok, number_text = eu, text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    number = pd.to_numeric(number_text.where(ok), errors="coerce")
    bad = present & number.isna()
    if bad.any() and strict:
        line = bad.idxmax()
        raise ImportInputError(f"{label}, line {line}: {int(bad.sum())} value(s) are not numbers written "
                               f"{chosen}, first {values[line]!r}. Export amounts as plain numbers, or set "
                               f"number_format in the mapping file.")
    if report is not None and present.any():
        report.number_formats[label] = NUMBER_FORMATS[chosen].split(" (")[0] + (
            " (detected)" if number_format == "auto" else " (from the mapping)")
    return number.astype(float)
