"""What the month's index tells a leader before any report is opened.

- :func:`month_actions`: one list of this month's actions across the reports, each with a verb
  (coach, call, fix, stop, decide) and the report it comes from.
- :func:`since_last_month`: each card's key figure against the same figure in the previous month's
  run (``<reports>/<previous month>/run.json``), in words: "up 3.2 from 41.0 in September".
- :func:`plain_data_description`: the data source without the machine's folder path.

Everything here reads results already written; nothing runs a notebook.
"""
from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

#: Verb of an action, from the words of the finding: the verb whose words come first in the text wins (on a tie,
#: the first in this list); "act" when none fits.
_VERBS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("coach", re.compile(r"\bcoach|one-on-one|train|practi[cs]e", re.IGNORECASE)),
    ("stop", re.compile(r"\bstop\b|\bdrop\b|end the|retire|do not\b|don't", re.IGNORECASE)),
    ("call", re.compile(r"\bcall\b|\bcall back|follow up|\bphone\b", re.IGNORECASE)),
    ("fix", re.compile(r"\bfix|repair|correct|check|review|pay\b|payout|clawback|reconcile", re.IGNORECASE)),
    ("decide", re.compile(r"\broll out|adopt|decide|keep|extend|hire|weight", re.IGNORECASE)),
)


def action_verb(text: str) -> str:
    """"coach", "stop", "call", "fix", "decide" or "act": the verb whose words come first in the finding, so a
    capacity plan ("... New hires take 3 months ... If coaching lifts ...") is a decision, not coaching."""
    found = [(m.start(), rank, verb) for rank, (verb, pattern) in enumerate(_VERBS) if (m := pattern.search(text))]
    return min(found)[2] if found else "act"


def month_actions(runs: list[Any], *, folder: Path, limit_per_report: int = 3) -> list[dict[str, str]]:
    """This month's actions across the reports (findings of severity ``action``), verb first.

    ``runs`` are the pipeline's ``NotebookRun``; each one's results file in ``folder`` is read.
    """
    from helpers.core.results import ResultsError, load_results

    actions: list[dict[str, str]] = []
    for run in runs:
        name = getattr(run, "files", {}).get("results")
        if getattr(run, "state", "") != "ok" or not name or not (folder / name).exists():
            continue
        try:
            results = load_results(folder / name)
        except (ResultsError, OSError, ValueError):
            continue
        for finding in [f for f in results.findings if f.severity == "action"][:limit_per_report]:
            actions.append({"verb": action_verb(finding.text), "text": finding.text, "report": run.title,
                            "href": run.files.get("html", "")})
    order = {"coach": 0, "call": 1, "fix": 2, "stop": 3, "decide": 4, "act": 5}
    return sorted(actions, key=lambda a: order.get(a["verb"], 9))


def card_figure_text(figure: dict[str, Any]) -> str:
    """A card's key figure as a leader reads it: "30%" for a share, "$258,819" for dollars, "0.479" for a ratio."""
    from helpers.reporting.present import format_value

    value, unit = figure.get("value"), str(figure.get("unit") or "")
    number = _number(value)
    if number is None:
        return "n/a" if value is None else str(value)
    if unit in ("$", "USD", "usd", "dollars"):
        return format_value(number, "money")
    if unit in ("share", "fraction"):
        return format_value(number, "share")
    if unit == "%":
        return format_value(number, "percent")
    text = format_value(number, "count" if float(number).is_integer() else "ratio")
    return f"{text} {unit}" if unit else text


def previous_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year - 1}-12" if mon == 1 else f"{year}-{mon - 1:02d}"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def since_last_month(runs: list[Any], *, reports_dir: Path | None, month: str) -> dict[str, str]:
    """Notebook -> "since last month" sentence for each card whose key figure was also reported last month."""
    if reports_dir is None:
        return {}
    before = previous_month(month)
    manifest = Path(reports_dir) / before / "run.json"
    if not manifest.exists():
        return {}
    try:
        previous = {r["notebook"]: r for r in json.loads(manifest.read_text(encoding="utf-8")).get("reports", [])}
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    month_name = date(int(before[:4]), int(before[5:7]), 1).strftime("%B")
    out: dict[str, str] = {}
    for run in runs:
        now, then = run.key_figure or {}, (previous.get(run.notebook) or {}).get("key_figure") or {}
        if not now or not then or now.get("name") != then.get("name"):
            continue
        a, b = _number(now.get("value")), _number(then.get("value"))
        if a is None or b is None:
            continue
        unit = now.get("unit", "")
        from helpers.reporting.present import format_value

        kind = "money" if unit == "$" else ("percent" if unit == "%" else ("count" if float(b).is_integer()
                                                                         and float(a).is_integer() else "ratio"))
        then_text = format_value(b, kind)
        if a == b:
            out[run.notebook] = f"Since last month: unchanged ({then_text} in {month_name})."
        else:
            change = format_value(abs(a - b), kind)
            out[run.notebook] = f"Since last month: {'up' if a > b else 'down'} {change} from {then_text} in {month_name}."
    return out


def plain_data_description(description: str) -> str:
    """The data source in words, without the folder path of the machine that ran the report."""
    text = re.sub(r"(?<![\w<])/(?:[\w.+-]+/)*([\w.+-]+)/?", r"\1", description or "")
    return text
