"""Every committed report notebook follows the workbook's conventions (cheap, no kernel)."""
from __future__ import annotations

import ast
import json
import re

import nbformat
import pytest

from conftest import EXPECTED_OUTPUTS, read_with_expected_outputs
from helpers.core.contract import ANALYSIS_TABLES
from helpers.paths import KERNEL_NAME, NOTEBOOKS_DIR
from helpers.reporting.pipeline import discover_notebooks
from helpers.reporting.context import REPORT_TITLES

NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
MAX_CELL_LINES = 15


def test_every_analysis_has_its_notebook_and_nothing_else_is_there():
    assert [p.stem for p in NOTEBOOKS] == list(ANALYSIS_TABLES)


@pytest.fixture(params=NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def notebook(request):
    return request.param, nbformat.read(request.param, as_version=4)


def test_name_kernel_and_declaration(notebook):
    path, nb = notebook
    assert re.fullmatch(r"\d{2}_[a-z0-9_]+\.ipynb", path.name)
    assert nb.metadata["kernelspec"]["name"] == KERNEL_NAME
    declared = nb.metadata["sales_workbook"]
    assert tuple(declared["needs"]) == ANALYSIS_TABLES[path.stem]["needs"]
    assert tuple(declared["uses"]) == ANALYSIS_TABLES[path.stem]["uses"]
    assert declared["title"] == REPORT_TITLES[path.stem]
    assert declared["daily"] is (path.stem == "05_lead_value_and_sla")


def test_one_parameters_cell_with_typed_literal_defaults(notebook):
    path, nb = notebook
    code = [c for c in nb.cells if c.cell_type == "code"]
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and tagged[0] is code[0], "the first code cell, and only it, is tagged `parameters`"
    statements = ast.parse(tagged[0].source).body
    assert statements and all(isinstance(s, ast.AnnAssign) and isinstance(s.value, ast.Constant)
                              for s in statements), "parameters are `name: type = literal`"
    names = [s.target.id for s in statements]
    assert names[:5] == ["month", "as_of", "config_path", "data_dir", "results_path"]
    for stmt in statements:
        assert isinstance(stmt.value.value, {"str": str, "bool": bool, "int": int, "float": float}[stmt.annotation.id])
    # papermill reads a parameter per line and gives up on a line with two "=" (e.g. in its comment)
    assert all(line.count("=") == 1 for line in tagged[0].source.splitlines() if line.strip())


def test_parameters_are_checked_by_the_helper_in_the_next_cell(notebook):
    path, nb = notebook
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert f'start_report("{path.stem}"' in code[1].source
    for name in ("month", "as_of", "config_path", "data_dir", "results_path"):
        assert f"{name}={name}" in code[1].source


def test_committed_notebooks_carry_no_outputs(notebook):
    path, nb = notebook
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: commit notebooks without outputs"
            assert cell.execution_count is None, f"{path.name}: commit notebooks without execution counts"


def test_every_checked_cell_has_its_expected_output_on_record(notebook):
    """nbval compares `# NBVAL_CHECK_OUTPUT` cells with tests/notebook_outputs.json (see conftest.py)."""
    path, nb = notebook
    expected = json.loads(EXPECTED_OUTPUTS.read_text()).get(path.stem, {})
    checked = [c.id for c in nb.cells if c.cell_type == "code" and c.source.startswith("# NBVAL_CHECK_OUTPUT")]
    assert checked, f"{path.name}: at least one deterministic cell is checked by nbval"
    assert sorted(checked) == sorted(expected), f"{path.name}: run tests/update_notebook_outputs.py"
    assert all(expected[i] and all(o["output_type"] == "stream" for o in expected[i]) for i in checked)


def test_nbval_sees_the_expected_outputs():
    path = NOTEBOOKS[0]
    nb = read_with_expected_outputs(path, 4)
    checked = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith("# NBVAL_CHECK_OUTPUT")]
    assert checked and all(c.outputs and c.execution_count == 1 for c in checked)


def test_cells_are_short_and_logic_lives_in_helpers(notebook):
    path, nb = notebook
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert len(cell.source.splitlines()) <= MAX_CELL_LINES, f"{path.name}: move logic into helpers"
            assert not re.search(r"^\s*(def|class|for|while) ", cell.source, flags=re.M), path.name
    assert any("analyst-only" in c.metadata.get("tags", []) for c in nb.cells)
    assert any(c.cell_type == "code" and "report.save()" in c.source for c in nb.cells)


def test_checked_outputs_and_daily_mode_match_what_the_pipeline_sees():
    specs = discover_notebooks(NOTEBOOKS_DIR)
    assert [s.stem for s in specs if s.daily] == ["05_lead_value_and_sla"]
    for spec in specs:
        nb = nbformat.read(spec.path, as_version=4)
        nb = read_with_expected_outputs(spec.path, 4)
        checked = next(c for c in nb.cells if c.cell_type == "code" and c.source.startswith("# NBVAL_CHECK_OUTPUT"))
        expected = [f"needs {t}: present" for t in spec.needs] + [f"uses  {t}: present" for t in spec.uses]
        assert "".join(o.text for o in checked.outputs).splitlines() == expected


def test_report_cells_do_not_depend_on_analyst_only_cells(notebook):
    """Scheduled runs skip `analyst-only` cells (helpers.reporting.pipeline.scheduled_notebook): no other cell may use
    a name that only an analyst-only cell defines."""
    path, nb = notebook
    defined_by_analyst: set[str] = set()
    defined_by_report: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        assigned = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        assigned |= {a.asname or a.name.split(".")[0] for n in ast.walk(tree)
                     if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
        if "analyst-only" in cell.metadata.get("tags", []):
            defined_by_analyst |= assigned - defined_by_report
            continue
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        leaked = used & (defined_by_analyst - defined_by_report)
        assert not leaked, f"{path.name}: cell {cell.get('id')} uses {sorted(leaked)}, defined only in analyst-only cells"
        defined_by_report |= assigned


def test_scheduled_runs_execute_no_analyst_only_cell():
    from helpers.reporting.pipeline import scheduled_notebook

    for path in NOTEBOOKS:
        nb = scheduled_notebook(path)
        assert all("analyst-only" not in c.metadata.get("tags", []) for c in nb.cells)
        assert len(nb.cells) < len(nbformat.read(path, as_version=4).cells), f"{path.name} has analyst-only cells"
