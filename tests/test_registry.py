"""The one registry of numbered reports (helpers/core/registry.py) and the places that repeat or read it."""
from __future__ import annotations

import json

import nbformat
import pytest

from helpers.core.contract import ANALYSIS_TABLES as CONTRACT_VIEW, TABLES
from helpers.core.registry import ANALYSIS_TABLES, REPORT_TITLES, REPORTS, report_entry
from helpers.paths import NOTEBOOKS_DIR
from helpers.reporting.pipeline import discover_notebooks, read_notebook_spec

NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def test_every_numbered_notebook_has_an_entry_and_every_entry_a_notebook():
    assert [p.stem for p in NOTEBOOKS] == list(REPORTS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_metadata_repeats_its_registry_entry(path):
    declared = json.loads(path.read_text(encoding="utf-8"))["metadata"]["sales_workbook"]
    entry = REPORTS[path.stem]
    assert declared == {"title": entry.title, "needs": list(entry.needs), "uses": list(entry.uses),
                        "daily": entry.daily}, f"{path.name}: metadata sales_workbook differs from the registry"


def test_entries_name_contract_tables_and_views_follow_the_registry():
    for stem, entry in REPORTS.items():
        assert entry.number == stem[:2] and stem[2] == "_"
        assert set(entry.needs) | set(entry.uses) <= set(TABLES), stem
        assert not set(entry.needs) & set(entry.uses), stem
    assert CONTRACT_VIEW is ANALYSIS_TABLES
    assert ANALYSIS_TABLES == {s: {"needs": e.needs, "uses": e.uses} for s, e in REPORTS.items()}
    assert REPORT_TITLES == {s: e.title for s, e in REPORTS.items()}
    with pytest.raises(KeyError, match="registry"):
        report_entry("99_nothing")


def test_pipeline_reads_the_registry_not_the_metadata(tmp_path):
    """A registered notebook whose metadata went stale still runs with its registry entry; an
    unregistered one (a stand-in in tests, a user's own notebook) falls back to its metadata."""
    entry = REPORTS["05_lead_value_and_sla"]
    stale = nbformat.v4.new_notebook()
    stale.metadata["sales_workbook"] = {"title": "Old title", "needs": ["reps"], "uses": [], "daily": False}
    nbformat.write(stale, tmp_path / f"{entry.stem}.ipynb")
    own = nbformat.v4.new_notebook()
    own.metadata["sales_workbook"] = {"title": "Mine", "needs": ["deals"], "uses": [], "daily": True}
    nbformat.write(own, tmp_path / "42_my_own.ipynb")
    spec = read_notebook_spec(tmp_path / f"{entry.stem}.ipynb")
    assert (spec.title, spec.needs, spec.uses, spec.daily) == (entry.title, entry.needs, entry.uses, entry.daily)
    mine = read_notebook_spec(tmp_path / "42_my_own.ipynb")
    assert (mine.title, mine.needs, mine.daily) == ("Mine", ("deals",), True)
    assert [s.stem for s in discover_notebooks(tmp_path, daily=True)] == [entry.stem, "42_my_own"]
