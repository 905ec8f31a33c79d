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


# ---------------------------------------------------------------------------- the analysis contract (docs/design.md)
#: What a cell may do with the recorder: read it (``report.results.results.to_dict()``) and hand it to ``record``.
RECORDER_WRITES = {"headline", "key_figure", "figure", "finding", "warn", "table", "save"}


def _cell_trees(nb) -> list[ast.Module]:
    """The code cells after the parameters cell, parsed."""
    return [ast.parse(c.source) for c in nb.cells[1:] if c.cell_type == "code"
            and "parameters" not in c.metadata.get("tags", [])]


def _is_report_attr(node: ast.AST, attr: str) -> bool:
    """``node`` is ``report.<attr>``."""
    return (isinstance(node, ast.Attribute) and node.attr == attr and isinstance(node.value, ast.Name)
            and node.value.id == "report")


def contract_problems(nb) -> list[str]:
    """Every way a notebook's cells break the analysis contract; empty when it keeps it.

    Code is: parameters, ``report = start_report(...)``, ``analysis = analyse(report, ...)`` imported from
    ``helpers.analyses.<name>.report``, plots and tables from ``analysis``, ``analysis.record(report.results)``.
    """
    problems = []
    trees = _cell_trees(nb)
    nodes = [n for tree in trees for n in ast.walk(tree)]
    parents = {id(child): node for node in nodes for child in ast.iter_child_nodes(node)}
    sources = [n.module or "" for n in nodes if isinstance(n, ast.ImportFrom)
               and any(a.name == "analyse" for a in n.names)]
    if len(sources) != 1 or not re.fullmatch(r"helpers\.analyses\.[a-z_]+\.report", sources[0]):
        problems.append(f"import analyse once, from helpers.analyses.<name>.report (found {sources})")
    calls = [n for n in nodes if isinstance(n, ast.Call)]
    analyse = [c for c in calls if isinstance(c.func, ast.Name) and c.func.id == "analyse"]
    if len(analyse) != 1 or not (analyse[0].args and isinstance(analyse[0].args[0], ast.Name)
                                 and analyse[0].args[0].id == "report"):
        problems.append(f"call analyse(report, ...) exactly once (found {len(analyse)} calls)")
    records = [c for c in calls if isinstance(c.func, ast.Attribute) and c.func.attr == "record"]
    if len(records) != 1 or [ast.unparse(a) for a in records[0].args] != ["report.results"] or records[0].keywords:
        problems.append(f"record once, as analysis.record(report.results) (found {[ast.unparse(c) for c in records]})")
    for node in nodes:
        if _is_report_attr(node, "results"):
            parent = parents.get(id(node))
            if isinstance(parent, ast.Attribute) and parent.attr in RECORDER_WRITES:
                problems.append(f"no writes to report.results in cells: {ast.unparse(parents.get(id(parent), parent))}")
            elif isinstance(parent, ast.Call) and parent not in records:
                problems.append(f"report.results goes only to analysis.record: {ast.unparse(parent)}")
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(ast.unparse(t).startswith("report.results") for t in targets):
                problems.append(f"no writes to report.results in cells: {ast.unparse(node)}")
        if _is_report_attr(node, "config"):
            parent = parents.get(id(node))
            if not (isinstance(parent, ast.Attribute) and parent.attr == "source_file"):
                problems.append(f"no configuration read in cells (analyse reads its settings): "
                                f"{ast.unparse(parent if parent is not None else node)}")
        if isinstance(node, ast.Call) and node not in analyse:
            passed = [*node.args, *(k.value for k in node.keywords)]
            if any(isinstance(a, ast.Name) and a.id == "report" for a in passed):
                problems.append(f"only analyse takes the report: {ast.unparse(node)}")
    return problems


def test_notebook_keeps_the_analysis_contract(notebook):
    path, nb = notebook
    assert contract_problems(nb) == [], f"{path.name}: see docs/design.md, 'The analysis contract'"


def test_the_contract_check_catches_each_way_of_breaking_it():
    def nb(*cells: str):
        made = nbformat.v4.new_notebook()
        made.cells = [nbformat.v4.new_code_cell('month: str = ""', metadata={"tags": ["parameters"]}),
                      *(nbformat.v4.new_code_cell(c) for c in cells)]
        return made

    good = ["from helpers.analyses.hiring.report import analyse\nreport = start_report('01_x', month=month)",
            "analysis = analyse(report, metric='x')", "analysis.plot();", "analysis.record(report.results)",
            "print(report.source, report.config.source_file)\nreport.results.results.to_dict()"]
    assert contract_problems(nb(*good)) == []
    broken = {
        "import analyse once": [good[0].replace("hiring.report", "hiring.model"), *good[1:]],
        "exactly once": [*good, "again = analyse(report)"],
        "record once": [*good[:3], "analysis.record(report)"],
        "no writes to report.results": [*good, "report.results.warn('x')"],
        "goes only to analysis.record": [*good, "sla.record_sla(report.results, v)"],
        "no configuration read": [*good, "n = report.config.settings.number('sla.x')"],
        "only analyse takes the report": [*good, "follow_up(report, analysis)"],
    }
    for expected, cells in broken.items():
        problems = contract_problems(nb(*cells))
        assert problems and all(expected in p for p in problems[:1]), (expected, problems)


def lost_displays(nb) -> list[str]:
    """Expression statements whose value a reader never sees: a value that is not the cell's last statement
    (``report.say(...)`` or a table) is dropped by IPython unless it is wrapped in ``display(...)``."""
    lost = []
    for tree in _cell_trees(nb):
        for statement in tree.body[:-1]:
            if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
                func = statement.value.func
                name = ast.unparse(func)
                if _is_report_attr(func, "say") or name.endswith(("_table", ".table", "_shown", "_text", "_sentence")):
                    lost.append(ast.unparse(statement))
    return lost


def test_no_sentence_or_table_is_computed_and_then_dropped(notebook):
    """A sentence built in the middle of a cell without display() never reaches the page (03's follow-up
    sentence and 01's weights sentence were lost that way, leaving an empty box)."""
    path, nb = notebook
    assert lost_displays(nb) == [], f"{path.name}: wrap these in display(...) or make them the cell's last line"


def test_the_dropped_display_check_catches_a_lost_sentence():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("report.say(analysis.summary_text())\nanalysis.table()"),
                nbformat.v4.new_code_cell("display(report.say('kept'))\nanalysis.table()")]
    assert lost_displays(nb) == ["report.say(analysis.summary_text())"]
