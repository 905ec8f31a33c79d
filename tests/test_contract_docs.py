"""docs/data-contract.md is generated from helpers/core/contract.py and must stay in sync with it."""
from __future__ import annotations

import subprocess
import sys

from helpers.core.contract import ANALYSIS_TABLES, TABLES
from helpers.data.contract_docs import REGENERATE, render_contract_markdown
from helpers.paths import DOCS_DIR, PROJECT_ROOT

DOC = DOCS_DIR / "data-contract.md"


def test_committed_document_matches_the_contract():
    assert DOC.exists(), f"{DOC} is missing; generate it with: {REGENERATE}"
    committed = DOC.read_text(encoding="utf-8")
    assert committed == render_contract_markdown(), (
        f"{DOC.relative_to(PROJECT_ROOT)} differs from helpers/core/contract.py; regenerate it with: {REGENERATE}")


def test_every_table_and_column_is_documented_with_its_rules():
    text = render_contract_markdown()
    for table in TABLES.values():
        assert f"### `{table.name}`" in text
        section = text.split(f"### `{table.name}`", 1)[1].split("\n### ", 1)[0]
        assert table.grain in section
        for col in table.columns:
            row = next(line for line in section.splitlines() if line.startswith(f"| `{col.name}` |"))
            cells = [c.strip() for c in row.strip("|").split(" | ")]
            assert cells[2] == ("yes" if col.required else "no"), row
            assert cells[3] == ("yes" if col.nullable else "no"), row
            for value in col.allowed or ():
                assert f"`{value}`" in cells[4], row
            if col.references:
                assert cells[5] == f"`{col.references}`", row
    assert "| [`reps`](#reps) | yes |" in text and "| [`deals`](#deals) | no |" in text


def test_analysis_mapping_and_traits_note():
    text = render_contract_markdown()
    for analysis, spec in ANALYSIS_TABLES.items():
        row = next(line for line in text.splitlines() if f"| `{analysis}` |" in line)
        assert all(f"`{t}`" in row for t in spec["needs"])
    assert "`[hiring] traits`" in text and "`coachability`" in text


def test_module_prints_the_document():
    out = subprocess.run([sys.executable, "-m", "helpers.data.contract_docs"], capture_output=True, text=True,
                         check=True, cwd=PROJECT_ROOT).stdout
    assert out == render_contract_markdown()
