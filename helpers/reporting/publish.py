"""Publishing a run's folder: the lock on a reports folder, carrying over what a re-run keeps, the atomic
move into place, and the index page with ``run.json``.

Part of :mod:`helpers.reporting.pipeline` (import the names from there).
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from helpers import __version__
from helpers.core.periods import month_name
from helpers.reporting.runs import NotebookRun, ReportError

if TYPE_CHECKING:  # pragma: no cover
    from helpers.reporting.pipeline import _Plan

RUN_FORMAT = "sales-workbook-run/1"


# ----------------------------------------------------------------------------- the folder
class FolderLock:
    """An exclusive lock on a reports folder, held while a run writes into it (``with FolderLock(dir):``).

    A second run into the same folder stops at once with a clear :class:`ReportError` instead of racing
    the first (the last writer would win). The lock is the operating system's (``flock`` on the folder
    itself): it goes with the process, so a killed run never leaves a stale lock behind.
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._fd: int | None = None

    def __enter__(self) -> "FolderLock":
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no lock (documented)
            return self
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.folder, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise ReportError(f"another report run is writing into {self.folder} right now; wait for it to finish "
                              "and run again (or pass another --out)") from None
        self._fd = fd
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None


def clean_stale_temporaries(folder: Path) -> list[str]:
    """Remove ``.tmp-*`` and ``.old-*`` folders a killed run left in ``folder``; returns their names.

    Call it only while holding :class:`FolderLock` on ``folder``: then no live run owns them.
    """
    removed = []
    for path in sorted(Path(folder).glob(".tmp-*")) + sorted(Path(folder).glob(".old-*")):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    return removed


_MANIFEST_FIELDS = {f for f in NotebookRun.__dataclass_fields__}


def _carry_over(previous: Path, tmp: Path, *, rerun: set[str], keep_private: bool,
                keep_others: bool) -> dict[str, NotebookRun]:
    """Copy into ``tmp`` what a run keeps from the month already published in ``previous``.

    The reports not re-run (``--only``) keep their pages, notebooks, results and any other file they wrote
    (payroll exports); the private pages (``private/``) stay unless ``keep_private`` is false. Returns the
    kept reports' runs from the previous ``run.json``, so the index lists every report of the month.
    """
    kept: dict[str, NotebookRun] = {}
    if not previous.is_dir():
        return kept
    if keep_private and (previous / "private").is_dir():
        shutil.copytree(previous / "private", tmp / "private", dirs_exist_ok=True)
    if not keep_others:  # a full run replaces every report of the month
        return kept
    try:
        manifest = json.loads((previous / "run.json").read_text(encoding="utf-8"))
        reports = manifest.get("reports", []) if manifest.get("format") == RUN_FORMAT else []
    except (OSError, ValueError):
        reports = []
    for entry in reports:  # one per notebook
        if isinstance(entry, dict) and entry.get("notebook") and entry["notebook"] not in rerun:
            kept[entry["notebook"]] = NotebookRun(**{k: v for k, v in entry.items() if k in _MANIFEST_FIELDS})
    rerun_prefixes = tuple(f"{stem}." for stem in rerun)
    for path in previous.iterdir():
        if path.name in ("index.html", "run.json", "private") or path.name.startswith(rerun_prefixes):
            continue
        if (tmp / path.name).exists():
            continue
        if path.is_dir():
            shutil.copytree(path, tmp / path.name)
        else:
            shutil.copy2(path, tmp / path.name)
    return kept


def _publish(tmp: Path, final: Path) -> None:
    """Move ``tmp`` to ``final`` atomically, replacing a previous ``final`` (kept until the swap succeeded)."""
    if final.exists():
        aside = final.parent / f".old-{final.name}-{secrets.token_hex(4)}"
        os.replace(final, aside)
        try:
            os.replace(tmp, final)
        except BaseException:
            os.replace(aside, final)
            raise
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.replace(tmp, final)


def _card(run: NotebookRun) -> dict[str, Any]:
    figure = run.key_figure or {}
    figure_text = ""
    if figure:
        from helpers.core.results import Figure

        from helpers.reporting.index_page import card_figure_text

        Figure(**figure)  # a malformed figure fails here as before
        figure_text = card_figure_text(figure)  # "30%", "$258,819": formatted by the figure's unit
    figure_label = figure.get("label", "")
    if figure.get("n") is not None and figure.get("value") != figure.get("n"):
        figure_label += f" (based on {figure['n']:,})"  # the n in words, under the figure, not a bare "(n = 39)"
    state_text = {"ok": "Ready", "failed": "Failed", "skipped": "Skipped"}[run.state]
    if run.state == "skipped":
        state_text = f"Skipped: {run.skip_reason}"
    return {
        "number": run.number, "title": run.title, "state": run.state, "state_text": state_text,
        "headline": run.headline, "figure_text": figure_text, "figure_label": figure_label,
        "warnings": run.warnings, "error": run.error,
        "skip_reason": (f"This report needs the table(s) {run.skip_reason.removeprefix('needs ')}, which the data "
                        "does not have. Add them to the export (see docs/data-contract.md) to get this report."
                        if run.skip_reason.startswith("needs ") else run.skip_reason),
        "html_name": run.files.get("html", ""), "ipynb_name": run.files.get("ipynb", ""),
        "results_name": run.files.get("results", ""), "seconds": run.seconds,
    }


def _write_index(folder: Path, plan: "_Plan", *, runs: list[NotebookRun], wall_seconds: float, jobs: int) -> None:
    from helpers.reporting.html import render_index_html

    mode, label, month, as_of = plan.mode, plan.label, plan.month, plan.as_of
    organisation, fingerprint = plan.config.organisation, plan.fingerprint
    data_description = plan.data_description
    counts = {s: sum(r.state == s for r in runs) for s in ("ok", "failed", "skipped")}
    for r in runs:  # which parts of each report the data supported (run.json and the card's notes)
        r.parts = r.parts or list(plan.parts.get(r.notebook, []))
    heading = (f"Daily dashboard, {label}" if mode == "daily" else f"Monthly sales science report, {month_name(month)}")
    summary = (f"{counts['ok']} report(s) ready, {counts['failed']} failed, {counts['skipped']} skipped "
               "for lack of data.")
    run_at = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    period_text = f"as of {as_of}" if mode == "daily" else f"{month_name(month)}, as of {as_of}"
    from helpers.reporting.index_page import month_actions, plain_data_description, since_last_month

    deltas = {} if mode == "daily" else since_last_month(runs, reports_dir=plan.final.parent, month=month)
    cards = [{**_card(r), "delta": deltas.get(r.notebook, "")} for r in runs]
    data_description = plain_data_description(data_description)
    page = render_index_html({
        "actions": month_actions(runs, folder=folder),
        "data_notes": list(plan.data_notes),
        "organisation": organisation, "heading": heading, "summary": summary, "mode": mode, "label": label,
        "as_of": as_of, "run_at": run_at, "wall_seconds": wall_seconds, "fingerprint": fingerprint,
        "data_description": data_description, "version": __version__, "period_text": period_text,
        "cards": cards,
    })
    (folder / "index.html").write_text(page, encoding="utf-8")
    manifest = {
        "format": RUN_FORMAT, "mode": mode, "label": label, "month": month, "as_of": as_of,
        "organisation": organisation, "fingerprint": fingerprint, "package_version": __version__,
        "run_at": run_at, "wall_seconds": round(wall_seconds, 3), "jobs": jobs,
        "data_notes": list(plan.data_notes),
        "reports": [asdict(r) for r in runs],
    }
    (folder / "run.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
