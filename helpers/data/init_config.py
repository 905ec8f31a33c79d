"""``sales-workbook init DATA_DIR``: a commented configuration written from what the data holds.

A new data folder should just work: this writes ``<folder>.workbook.toml`` next to the folder (the file
``sales-workbook report --data <folder>`` picks up without ``--config``) with

* the organisation's name, from the folder's name (to be corrected by hand),
* the scorecard traits found in ``hiring_scores.trait``, the assessments found in
  ``training_scores.assessment`` (the exam and the certifications),
* the funnel stages the activities and deals can show (a call log without meetings gets no meeting stages),
* the category values the workbook does not know, per column, as a commented ``[categories]`` mapping,
* no marketing goal (pacing says "no goal set" until one is written).

Every line says where its value came from. Nothing is guessed silently: a value that needs a person's
judgement (which source ``display`` is, which assessment is the exam) is a comment to edit.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from helpers.core.config import data_config_path, organisation_from_folder
from helpers.core.contract import TABLES

_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass
class Discovery:
    """What a data folder holds that its configuration should name."""

    organisation: str
    tables: list[str]
    traits: list[str] = field(default_factory=list)
    assessments: list[str] = field(default_factory=list)
    activity_types: list[str] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    meeting_kinds: list[str] = field(default_factory=list)
    #: "table.column" -> {unknown value: rows}
    unknown_values: dict[str, dict[str, int]] = field(default_factory=dict)


def _distinct(source: Any, table: str, column: str) -> dict[str, int]:
    """Distinct non-empty values of a column with their row counts (engine-side), or {} when absent."""
    if not source.has(table):
        return {}
    t = source.table(table)
    t = t.filter(t[column].notnull())
    counts = t.group_by(column).aggregate(n=t.count()).to_pandas()
    return {str(v): int(n) for v, n in zip(counts[column], counts["n"])}


def discover(data_dir: str | Path) -> Discovery:
    """Read the folder's distinct traits, assessments, activity values and unknown category values."""
    from helpers.data.engine import open_source

    source = open_source(data_dir=data_dir)  # no [categories] mapping: the values as exported
    try:
        found = Discovery(organisation=organisation_from_folder(data_dir), tables=source.tables())
        found.traits = sorted(_distinct(source, "hiring_scores", "trait"))
        found.assessments = sorted(_distinct(source, "training_scores", "assessment"))
        found.activity_types = sorted(_distinct(source, "activities", "activity_type"))
        found.outcomes = sorted(_distinct(source, "activities", "outcome"))
        found.meeting_kinds = sorted(_distinct(source, "activities", "meeting_kind"))
        for name in found.tables:
            table = TABLES[name]
            for column in table.open_columns:
                known = set(table.column(column).allowed or ()) | {"unknown"}
                unknown = {v: n for v, n in _distinct(source, name, column).items() if v not in known}
                if unknown:
                    found.unknown_values[f"{name}.{column}"] = dict(sorted(unknown.items(), key=lambda kv: -kv[1]))
        return found
    finally:
        source.close()


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"


def _funnel_lines(found: Discovery) -> list[str]:
    """Funnel stages the data can show: attempts, connects and meetings only when the activities hold them."""
    if "activities" not in found.tables:
        return ["# [funnel]: no activities table, so the funnel runs from leads to deals (see docs/data-contract.md)."]
    lines = ["[funnel]", f"# stages the activities can show (activity types found: {', '.join(found.activity_types)}; "
             f"outcomes: {', '.join(found.outcomes) or 'none'}; meeting kinds: {', '.join(found.meeting_kinds) or 'none'})"]
    touch = [t for t in found.activity_types if t in ("call", "email")] or found.activity_types
    lines += ["[[funnel.stages]]", 'name = "attempted"', 'label = "Leads worked"',
              f"activity_types = {_toml_list(touch)}", ""]
    if "connected" in found.outcomes:
        lines += ["[[funnel.stages]]", 'name = "connected"', 'label = "Connects"',
                  f"activity_types = {_toml_list([t for t in touch if t == 'call'] or touch)}",
                  'outcomes = ["connected"]', ""]
    else:
        lines.append("# no `connected` outcome in the data: map your outcome meaning a conversation onto it in "
                     "[categories] (e.g. outcome = {interested = \"connected\"}) to get a connect stage")
    for kind, label in (("discovery", "Discovery calls"), ("demo", "Demos")):
        if kind in found.meeting_kinds:
            lines += ["[[funnel.stages]]", f'name = "{kind}"', f'label = "{label}"', f'meeting_kinds = ["{kind}"]', ""]
    lines += ["[[funnel.stages]]", 'name = "won"', 'label = "Customers"', 'deal_statuses = ["won"]']
    return lines


def render_config(found: Discovery, data_dir: str | Path) -> str:
    """The commented ``workbook.toml`` text for a discovered folder."""
    folder = Path(data_dir).expanduser().resolve()
    lines = [f"# Configuration of {found.organisation}, written by `sales-workbook init` on {date.today():%Y-%m-%d}",
             "# from the data found in the folder. Settings not written here keep their defaults",
             "# (helpers/core/defaults.toml). Edit freely; `sales-workbook report --data <folder>` reads this file.",
             "",
             "[workbook]",
             f'organisation = "{found.organisation}"  # from the folder\'s name: write your organisation\'s name', "",
             "[data]",
             f'dir = "{folder.name}"  # relative to this file', f"# tables found: {', '.join(found.tables)}", ""]
    if found.traits:
        good = [t for t in found.traits if _SNAKE.match(t)]
        if len(good) >= 2 and good == found.traits:
            lines += ["[hiring]", f"traits = {_toml_list(good)}  # found in hiring_scores.trait", ""]
        else:
            lines += ["# [hiring] traits: hiring_scores.trait holds " + ", ".join(found.traits)
                      + " (traits must be at least two lower-case snake_case names: rename them in the data)", ""]
    else:
        lines += ["# [hiring]: no hiring scorecards (hiring_scores) found: trait discovery is skipped", ""]
    if found.assessments:
        exams = [a for a in found.assessments if re.search(r"exam|final|test", a)]
        certs = [a for a in found.assessments if a.startswith("cert_")]
        lines += ["[training]", f"# assessments found in training_scores.assessment: {', '.join(found.assessments)}"]
        if exams:
            lines.append(f'exam_assessment = "{exams[0]}"  # the end-of-training exam (check)')
        else:
            lines.append("# exam_assessment = \"...\"  # which of the assessments above is the end-of-training exam?")
        if certs:
            lines.append(f"# certifications (cert_<stage>): {', '.join(certs)}; pair any not named after a funnel "
                         "stage: certification_stages = [\"cert_x=connected\"]")
        lines.append("")
    else:
        lines += ["# [training]: no training scores (training_scores) found: notebook 02 is skipped", ""]
    lines += ["[marketing]", "monthly_lead_value_goal = 0.0  # no goal set (pacing says so): write marketing's "
              "monthly goal in dollars of lead value", ""]
    lines += _funnel_lines(found) + [""]
    lines += ["[categories]",
              "# Values the workbook does not know are kept as their own level. Map them onto known values",
              "# (uncomment and edit); a value left unmapped stays its own level."]
    if not found.unknown_values:
        lines.append("# (every category value in the data is a known one)")
    for dotted, values in found.unknown_values.items():
        table, column = dotted.split(".")
        allowed = list(TABLES[table].column(column).allowed or ())
        shown = ", ".join(f"{v} ({n:,} rows)" for v, n in list(values.items())[:20])
        lines.append(f"# {dotted}: unknown {shown}; known: {', '.join(allowed)}")
        pairs = []
        for v in list(values)[:20]:
            guess = difflib.get_close_matches(v, allowed, n=1, cutoff=0.5)
            pairs.append(f'{_key(v)} = "{guess[0] if guess else "other" if "other" in allowed else allowed[0]}"')
        lines.append(f'# "{dotted}" = {{{", ".join(pairs)}}}')
    return "\n".join(lines) + "\n"


def _key(value: str) -> str:
    return value if re.match(r"^[A-Za-z0-9_-]+$", value) else '"' + value.replace('"', '\\"') + '"'


def init_folder(data_dir: str | Path, *, force: bool = False) -> Path:
    """Write ``<folder>.workbook.toml`` next to the folder; refuses to replace one unless ``force``."""
    folder = Path(data_dir).expanduser().resolve()
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such data folder")
    target = data_config_path(folder)
    if target.exists() and not force:
        raise FileExistsError(f"{target} exists: edit it, or run init again with --force to replace it")
    text = render_config(discover(folder), folder)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    return target


def cli_init(data_dir: Path, *, force: bool = False) -> int:
    """``sales-workbook init DATA_DIR``: write the configuration and say what to do next."""
    import sys

    try:
        target = init_folder(data_dir, force=force)
    except (FileNotFoundError, FileExistsError) as exc:
        print(f"sales-workbook init: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {target}\nnext: sales-workbook validate {data_dir} --config {target}\n"
          f"      sales-workbook report --data {data_dir}")
    return 0
