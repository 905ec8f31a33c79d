"""Cell rules of the data contract: pandera schemas and parsing of text into contract types.

Part of :mod:`helpers.data.validate`. Parsing recognises what people's spreadsheets do to data:
Excel serial dates (``45291``), locale dates (``01/05/2024``), thousands separators and currency
signs, so a message can say what the cell holds and how to write it instead.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from helpers.core.config import WorkbookConfig, load_config
from helpers.core.contract import TABLES, Column, Table
from helpers.core.periods import MONTH_PATTERN

_EXCEL_SERIAL_MIN, _EXCEL_SERIAL_MAX = 20_000, 80_000  # 1954-10-03 .. 2119-01-11
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")


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


#: Money columns (monthly amounts), bounded by ``[validation] max_monthly_amount``.
MONEY_COLUMNS: dict[str, tuple[str, ...]] = {"quotas": ("quota_mrr",), "deals": ("mrr",), "customers": ("mrr",)}
DEFAULT_MAX_MONTHLY_AMOUNT = 10_000_000.0


def max_monthly_amount(config: WorkbookConfig) -> float:
    """The largest plausible monthly amount in one row (``[validation] max_monthly_amount``)."""
    value = (config.raw or {}).get("validation", {}).get("max_monthly_amount", DEFAULT_MAX_MONTHLY_AMOUNT)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        from helpers.core.config import ConfigError

        raise ConfigError(f"[validation] max_monthly_amount = {value!r}: give a positive number (e.g. 10000000)")
    return float(value)


def column_rules(table: Table, config: WorkbookConfig) -> dict[str, dict[str, Any]]:
    """Per column: allowed values and numeric range after applying the configuration."""
    rules: dict[str, dict[str, Any]] = {}
    for col in table.columns:
        allowed, lo, hi = col.allowed, col.min_value, col.max_value
        if table.name == "hiring_scores" and col.name == "trait":
            allowed = tuple(config.traits)
        if table.name == "hiring_scores" and col.name == "score":
            lo, hi = config.score_min, config.score_max
        money = col.name in MONEY_COLUMNS.get(table.name, ())
        if money:  # plausibility bound: 1e300 is a unit mix-up or a typing error, not a customer
            hi = max_monthly_amount(config) if hi is None else min(hi, max_monthly_amount(config))
        rules[col.name] = {"allowed": allowed, "min": lo, "max": hi, "money": money,
                           # open vocabulary: other values are kept (a note, not an error); mapped ones are known
                           "open": bool(col.allowed and col.open_vocabulary and allowed == col.allowed)}
    if any(r["open"] for r in rules.values()):
        from helpers.core.config import category_map

        mapping = category_map(config)
        for name, rule in rules.items():
            if rule["open"]:
                rule["mapped"] = {**mapping.get(name, {}), **mapping.get(f"{table.name}.{name}", {})}
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
        if rule["allowed"] and not rule["open"]:  # open vocabularies are checked by _check_chunk (a note)
            checks.append(pa.Check.isin(list(rule["allowed"])))
        if rule["min"] is not None and rule["max"] is not None:
            checks.append(pa.Check.in_range(rule["min"], rule["max"]))
        elif rule["min"] is not None:
            checks.append(pa.Check.ge(rule["min"]))
        elif rule["max"] is not None:
            checks.append(pa.Check.le(rule["max"]))
        if col.dtype == "month":
            checks.append(pa.Check.str_matches(MONTH_PATTERN))
        columns[col.name] = pa.Column(_PANDERA_DTYPES[col.dtype], checks=checks, nullable=col.nullable,
                                      required=False, description=col.description)
    return pa.DataFrameSchema(columns, name=table_name, strict=False, coerce=False)


# --------------------------------------------------------------------------------------------
# Parsing text (CSV cells, or Parquet columns of an unexpected type) into contract types
# --------------------------------------------------------------------------------------------
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
        bad = present & ~text.str.match(MONTH_PATTERN).fillna(False).astype(bool)
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

