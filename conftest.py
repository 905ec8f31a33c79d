"""pytest set-up shared by tests/ and the nbval run over notebooks/.

Committed notebooks carry no outputs (a test enforces it), yet nbval compares a cell marked
``# NBVAL_CHECK_OUTPUT`` with the output stored in the notebook. The expected outputs of those
deterministic cells therefore live in ``tests/notebook_outputs.json`` (notebook stem -> cell id ->
outputs) and are put into the notebook as nbval reads it. Refresh them after a deliberate change
with ``python tests/update_notebook_outputs.py``.
"""
from __future__ import annotations

import json
import types
from pathlib import Path

import nbformat

EXPECTED_OUTPUTS = Path(__file__).resolve().parent / "tests" / "notebook_outputs.json"


def read_with_expected_outputs(path, as_version, **kwargs):
    """``nbformat.read`` that fills the checked cells' reference outputs from EXPECTED_OUTPUTS (and leaves out
    the analyst-only cells whose output is not checked)."""
    nb = nbformat.read(path, as_version, **kwargs)
    # as every scheduled run does (helpers.reporting.pipeline.scheduled_notebook): analyst-only cells (widgets
    # waiting for a front end, jupyter/nbclient#312) are not executed, unless their output is checked
    nb.cells = [c for c in nb.cells if "analyst-only" not in c.get("metadata", {}).get("tags", [])
                or c.get("source", "").startswith("# NBVAL_CHECK_OUTPUT")]
    expected = json.loads(EXPECTED_OUTPUTS.read_text(encoding="utf-8")).get(Path(str(path)).stem, {})
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.get("id") in expected:
            cell.outputs = [nbformat.from_dict(output) for output in expected[cell.id]]
            cell.execution_count = 1
    return nb


def pytest_configure(config):
    try:
        import nbval.plugin as nbval_plugin
    except ImportError:  # nbval not installed: nothing to wire
        return
    shim = types.SimpleNamespace(**{name: getattr(nbformat, name) for name in dir(nbformat)
                                    if not name.startswith("__")})
    shim.read = read_with_expected_outputs
    nbval_plugin.nbformat = shim
