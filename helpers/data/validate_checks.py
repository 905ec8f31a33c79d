"""Row, cross-row and cross-table checks of one data folder.

Part of :mod:`helpers.data.validate`. A per-file scan accumulates findings over chunks (first
rows, total count, sample values); the checks across rows and tables (duplicate ids, unknown
references, experiment arms) run set-based in DuckDB on the key columns stored while reading.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow

from helpers.core.config import WorkbookConfig
from helpers.core.contract import TABLES, Table
from helpers.data.validate_cells import _TYPE_PHRASES, _as_text, _parse, _type_hint
from helpers.data.validate_problems import MAX_ROWS_SHOWN, MAX_VALUES_SHOWN, Problem, Severity, _close_match

#: a month with no rows is reported only for tables with at least this many rows per month
MIN_ROWS_PER_MONTH_FOR_GAPS = 10
_SELLING_ROLES = ("sdr", "ae")
#: the timestamp or month column that says "when" a row of an event-like table happened
MONTH_COLUMNS: dict[str, str] = {
    "activities": "occurred_at",
    "leads": "created_at",
    "lead_events": "occurred_at",
    "deals": "created_at",
    "quotas": "month",
}


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


def _toml_key(value: str) -> str:
    return value if re.match(r"^[A-Za-z0-9_-]+$", value) else '"' + value.replace('"', "'") + '"'


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
    for name, rule in rules.items():  # open vocabularies: values the workbook does not know, kept as their own level
        if rule.get("open") and name in typed.columns:
            text = typed[name].dropna().astype("str").str.strip().str.lower()
            mapped = rule.get("mapped") or {}
            known = set(rule["allowed"]) | {"unknown", ""}
            read_as = text.map(lambda v: mapped.get(v, v)) if mapped else text  # distinct values are few
            other = ~read_as.isin(known)
            if other.any():
                scan.add("open_value", name, text.index[other.to_numpy()].to_numpy(), text[other])
    _unsafe_character_checks(scan, raw)
    return typed


def _unsafe_character_checks(scan: _TableScan, raw: pd.DataFrame) -> None:
    """Control characters (a NUL byte, an escape sequence) in any text cell are an error; bidirectional
    overrides (which make ``gnp.exe`` read ``exe.png``) a warning: the pages show the text without them."""
    from helpers.core.text import BIDI_CONTROLS, CONTROL_CHARACTERS

    for name in raw.columns:  # a dozen columns; the search is vectorised over the rows
        values = raw[name]
        if not (values.dtype == object or isinstance(values.dtype, pd.StringDtype) or values.dtype == "str"):
            continue
        text = values.dropna().astype("str")
        for code, pattern in (("control_chars", CONTROL_CHARACTERS), ("bidi_chars", BIDI_CONTROLS)):
            found = text.str.contains(pattern.pattern, regex=True)
            if found.any():
                shown = text[found].head(50).map(lambda v: v.encode("unicode_escape").decode("ascii"))
                scan.add(code, name, text.index[found.to_numpy()].to_numpy(), shown)


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
        elif code == "open_value":
            allowed = list(rules[column]["allowed"])
            guesses = {v: next((a for a in allowed if a in v.split("_")), None) or _close_match(v, allowed)[0]
                       for v in list(f.values)[:5]}
            example = ", ".join(f'{_toml_key(v)} = "{g or "other"}"' for v, g in guesses.items())
            out.append(scan.problem("info", column, f,
                                    f"{rows_word} {hold} values the workbook does not know: "
                                    f"{_values_text(f.values)}. They are kept as their own level"
                                    f" (known: {', '.join(allowed)}).",
                                    f"If one means a known value, map it in the configuration: [categories] "
                                    f"{column} = {{{example}}}.", code))
        elif code == "out_of_range":
            lo, hi = rules[column]["min"], rules[column]["max"]
            bounds = (f"between {lo:g} and {hi:g}" if lo is not None and hi is not None
                      else f"at least {lo:g}" if lo is not None else f"at most {hi:g}")
            hint = "Correct the values or remove those rows."
            if rules[column].get("money"):
                hint = (f"No single amount is above {hi:,.0f} a month in a plausible export: check for a unit "
                        "mix-up (cents, thousands) or a typing error. If the amounts are real, raise [validation] "
                        "max_monthly_amount in workbook.toml.")
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
        elif code == "control_chars":
            out.append(scan.problem("error", column, f,
                                    f"{rows_word} {hold} control characters (a NUL byte, an escape code; shown "
                                    f"escaped): {_values_text(f.values)}.",
                                    "Remove them in the source (they come from copy-paste or a damaged export) "
                                    "and export again: a report cannot show such text faithfully.", code))
        elif code == "bidi_chars":
            out.append(scan.problem("warning", column, f,
                                    f"{rows_word} {hold} bidirectional override characters, which change the "
                                    f"order a reader sees (shown escaped): {_values_text(f.values)}.",
                                    "The reports show the text without them; remove them in the source to "
                                    "silence this warning.", code))
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


