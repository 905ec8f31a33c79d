"""Render ``docs/data-contract.md`` from :mod:`helpers.core.contract`, so the document cannot drift.

The page is what a sales-ops analyst hands to whoever exports the CRM: which files to produce,
which columns, in which format, and what ``sales-workbook validate`` will reject. A test fails
when the committed page differs from the rendered one; regenerate it with::

    python -m helpers.data.contract_docs > docs/data-contract.md
"""
from __future__ import annotations

import sys
import tomllib

from helpers.core.config import DEFAULTS_FILE
from helpers.core.contract import ANALYSIS_PARTS, FILE_SUFFIXES, TABLES, Column, Table
from helpers.core.registry import ANALYSIS_TABLES

REGENERATE = "python -m helpers.data.contract_docs > docs/data-contract.md"

_TYPE_NAMES = {
    "string": "text",
    "int": "whole number",
    "float": "number",
    "date": "date `YYYY-MM-DD`",
    "timestamp": "timestamp, ISO 8601 (UTC)",
    "month": "month `YYYY-MM`",
    "bool": "`true` / `false`",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _number(value: float) -> str:
    return f"{value:g}"


def _defaults() -> dict:
    with DEFAULTS_FILE.open("rb") as fh:
        return tomllib.load(fh)


def _rule(table: Table, col: Column, hiring: dict) -> str:
    if table.name == "hiring_scores" and col.name == "trait":
        return "one of the configured traits (`[hiring] traits`)"
    if table.name == "hiring_scores" and col.name == "score":
        return (f"`[hiring] score_min` to `score_max` (default {hiring['score_min']} to "
                f"{hiring['score_max']})")
    if col.allowed:
        known = ", ".join(f"`{v}`" for v in col.allowed)
        return (f"known: {known}; other values are kept as their own level (open)" if col.open_vocabulary
                else known)
    if col.min_value is not None and col.max_value is not None:
        return f"{_number(col.min_value)} to {_number(col.max_value)}"
    if col.min_value is not None:
        return f"at least {_number(col.min_value)}"
    if col.max_value is not None:
        return f"at most {_number(col.max_value)}"
    return ""


def _used_by(col: Column) -> str:
    return ", ".join(col.used_by)


def _table_section(table: Table, hiring: dict) -> list[str]:
    referenced_by = [f"`{t.name}.{c.name}` -> `{c.references}`" for t in TABLES.values() for c in t.columns
                     if c.references and c.references.split(".")[0] == table.name]
    needed_by = [f"`{a}`" for a, spec in ANALYSIS_TABLES.items() if table.name in spec["needs"]]
    used_by = [f"`{a}`" for a, spec in ANALYSIS_TABLES.items() if table.name in spec["uses"]]
    lines = [
        f"### `{table.name}`",
        "",
        table.description,
        "",
        f"- **File:** {', '.join(f'`{table.name}{s}`' for s in reversed(FILE_SUFFIXES))} (one of them)",
        f"- **Required:** {'yes: every run needs it' if table.required else 'no'}",
        f"- **One row is:** {table.grain}",
        f"- **Primary key:** {' + '.join(f'`{k}`' for k in table.primary_key) or 'none'}"
        + (" (must be unique)" if table.primary_key else ""),
    ]
    for earlier, later in table.ordered:
        lines.append(f"- **Order:** `{later}` may not be before `{earlier}`")
    if needed_by:
        lines.append(f"- **Needed by:** {', '.join(needed_by)}")
    if used_by:
        lines.append(f"- **Also used by:** {', '.join(used_by)}")
    if referenced_by:
        lines.append(f"- **Referenced by:** {', '.join(referenced_by)}")
    lines += [
        "",
        "| Column | Type | Required | May be empty | Allowed values / range | References | Meaning "
        "| Used by notebook |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for col in table.columns:
        lines.append("| " + " | ".join([
            f"`{col.name}`",
            _TYPE_NAMES[col.dtype],
            "yes" if col.required else "no",
            "yes" if col.nullable else "no",
            _cell(_rule(table, col, hiring)),
            f"`{col.references}`" if col.references else "",
            _cell(col.description) + (" Unique." if col.unique else "")
            + (f" Without it: {_cell(col.when_absent)}." if col.when_absent else ""),
            _used_by(col),
        ]) + " |")
    lines.append("")
    return lines


def render_contract_markdown() -> str:
    """The whole data-contract page, deterministic for a given contract and default configuration."""
    defaults = _defaults()
    hiring = defaults["hiring"]
    suffixes = ", ".join(f"`{s}`" for s in reversed(FILE_SUFFIXES))
    lines = [
        "# Data contract",
        "",
        f"<!-- Generated from helpers/core/contract.py; do not edit by hand. Regenerate with: {REGENERATE} -->",
        "",
        "What the Sales Science Workbook expects in a data folder: one file per table, the columns of each "
        "table, their types and allowed values. `sales-workbook validate <folder>` checks a folder against "
        "this page and says, for every problem, the file, the column, the line and how to fix it. The "
        "monthly report runs the same check first and stops on errors.",
        "",
        "## Files",
        "",
        f"- One file per table, named after the table: `<table>` + one of {suffixes}, e.g. `reps.csv`, "
        "`activities.parquet`. Two files for the same table is an error; files whose name is not a table "
        "below are ignored (with a warning).",
        "- Only `reps` is required. Each analysis lists the tables it needs (see *Analyses* below); when one "
        "is missing, that analysis says so on its page and the others still run.",
        "- **CSV**: comma-separated, UTF-8 (Excel: *Save As > CSV UTF-8*; the byte-order mark it writes is "
        "fine), first line = the column names below, exactly as written (lower-case `snake_case`). An empty "
        "cell means *missing*. Columns not listed here are ignored. `.csv.gz` is the same, gzip-compressed.",
        "- **Parquet**: columns by name; native numbers, dates and timestamps are accepted, and text columns "
        "are read as in CSV (an empty string means missing).",
        "- **Identifiers are text**, compared exactly: `0035g00000AbCdE` and `0035G00000ABCDE` are different "
        "ids, and so are `00123` and `123`.",
        "",
        "## Types",
        "",
        "| Type | Write it as | Examples |",
        "|---|---|---|",
        "| text | any text | `r_0042`, `Ana Silva` |",
        "| whole number | digits, no separators | `7` |",
        "| number | digits with a `.` decimal point; no currency sign or thousands separator | `1250.50` |",
        "| date | ISO 8601 `YYYY-MM-DD` | `2024-03-05` |",
        "| timestamp | ISO 8601 date and time, in UTC or with an offset (converted to UTC); a time without "
        "offset is taken as UTC | `2024-03-05T14:30:00Z`, `2024-03-05 14:30:00`, `2024-03-05T16:30:00+02:00` |",
        "| month | `YYYY-MM` | `2024-03` |",
        "",
        "Category values are lower-case `snake_case` from the closed lists below.",
        "",
        "## What validation checks",
        "",
        "Errors (the folder cannot be analysed until they are fixed; `sales-workbook validate` exits with 1):",
        "",
        "- the `reps` file is missing, a table is in two files, a file is empty (0 bytes), or `reps` has no rows;",
        "- a CSV file is not UTF-8 (e.g. saved by Excel as plain *CSV*, which uses Windows-1252): the report "
        "names the line of the first bad byte; or it is separated by `;` or tabs;",
        "- a required column is missing (a header that differs only by case or spaces, such as `Rep ID` for "
        "`rep_id`, is pointed out);",
        "- a cell cannot be read as its type; Excel serial dates (`45291` for 2023-12-31), locale dates "
        "(`01/05/2024`), currency signs and thousands separators are recognised and explained;",
        "- a required cell is empty, a category value is not allowed (the allowed values are listed), a "
        "number is out of range, a timestamp is in the future;",
        "- a later timestamp precedes its earlier one (e.g. a deal closed before it was created, an experiment "
        "whose `end_date` precedes its `start_date`);",
        "- a primary key is duplicated, or a reference points to an id that is not in the referenced table "
        "(e.g. an activity for a `rep_id` that is not in `reps`, an assignment to an experiment that is not in "
        "`experiments`);",
        "- a unit is in both arms of the same experiment (`experiment_assignments`: the rows are named);",
        "- a file cannot be read: a corrupt or truncated `.csv.gz`, a cut-off or damaged Parquet file, bytes "
        "that are not text (the file is named; nothing is half-read);",
        "- a text cell holds control characters (a NUL byte, an escape code): they are shown escaped;",
        "- a money amount (`quotas.quota_mrr`, `deals.mrr`, `customers.mrr`) is above `[validation] "
        "max_monthly_amount` (10,000,000 a month by default; `1e300` or an amount in cents is a mistake, "
        "not a customer).",
        "",
        "Warnings (reported; the report still runs): columns or files the contract does not know, a selling "
        "rep (`sdr`, `ae`) with no activity, a month inside the data's span with no rows in a table that "
        "usually has many, won or lost deals without `closed_at`, rows with every cell empty, a `cluster_id` "
        "whose units are split across both arms of one experiment (the cluster design is broken), text with "
        "bidirectional override characters (the reports show it without them).",
        "",
        "Rows are numbered as you see them: in CSV files by line (the header is line 1, so the first data "
        "row is line 2); in Parquet files from 1.",
        "",
        "## Tables",
        "",
        "| Table | Required | One row is | Primary key |",
        "|---|---|---|---|",
    ]
    for table in TABLES.values():
        lines.append(f"| [`{table.name}`](#{table.name}) | {'yes' if table.required else 'no'} "
                     f"| {_cell(table.grain)} | {', '.join(f'`{k}`' for k in table.primary_key)} |")
    lines.append("")
    for table in TABLES.values():
        lines += _table_section(table, hiring)
    lines += [
        "## Analyses and the tables they need",
        "",
        "Notebook numbers in the *Used by notebook* columns above refer to this list.",
        "",
        "Only ids and the columns without which no number can be computed are required. An optional column "
        "absent from a file turns off only what needs it (see *Without it* in the tables above), and the "
        "page says so in one sentence.",
        "",
        "| Notebook | Analysis | Needs (all present) | Uses if present |",
        "|---|---|---|---|",
    ]
    for analysis, spec in ANALYSIS_TABLES.items():
        needs = ", ".join(f"`{t}`" for t in spec["needs"])
        uses = ", ".join(f"`{t}`" for t in spec["uses"]) or "-"
        lines.append(f"| {analysis.split('_', 1)[0]} | `{analysis}` | {needs} | {uses} |")
    lines += ["", "## Report parts and what each needs", "",
              "A report runs the parts its data supports; a part whose data is absent says so in one line on its "
              "page and on the index (run.json lists every part with `ran` and `missing`). `table.column` means "
              "the column must be in the file.", "",
              "| Report | Part | Needs |", "|---|---|---|"]
    for analysis, parts in ANALYSIS_PARTS.items():
        for part in parts:
            lines.append(f"| `{analysis}` | {part.label} | {', '.join(f'`{n}`' for n in part.needs)} |")
    traits = ", ".join(f"`{t}`" for t in hiring["traits"])
    open_cols = [f"`{t.name}.{c}`" for t in TABLES.values() for c in t.open_columns]
    lines += [
        "",
        "## Category values",
        "",
        "These category columns are open vocabularies: " + ", ".join(open_cols) + ". A value the workbook "
        "does not know is kept as its own level (never an error, never merged into another), an empty cell of "
        "a column that must hold a value reads `unknown`, and `sales-workbook validate` lists the unknown values "
        "in a note. Values are read trimmed and lower-cased. Map your CRM's values onto the known ones in the "
        "configuration, per column or per `table.column`:",
        "",
        "```toml",
        "[categories]",
        'source = {direct_traffic = "direct", display = "paid_search"}',
        '"leads.first_offer" = {none = "other"}',
        "```",
        "",
        "`sales-workbook init <folder>` writes such a section with the values it found. The other category "
        "columns (`deals.status`, `experiment_assignments.arm`, `experiments.unit`, `experiments.metric_type`, "
        "`experiments.status`) drive the analyses' logic and accept only the listed values.",
    ]
    lines += [
        "",
        "## Scorecard traits and scores",
        "",
        "`hiring_scores.trait` must be one of the traits listed in the configuration (`[hiring] traits` in "
        f"`workbook.toml`); the defaults are {traits}. Add the traits your scorecard really rates, e.g. the "
        "sample organisation adds `aggressiveness`. Scores must lie between `[hiring] score_min` and "
        f"`score_max` (default {hiring['score_min']} to {hiring['score_max']}).",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    sys.stdout.write(render_contract_markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
