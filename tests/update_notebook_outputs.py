"""Refresh tests/notebook_outputs.json: the expected outputs of the ``# NBVAL_CHECK_OUTPUT`` cells.

Runs each notebook on the bundled sample with papermill and records what its checked cells print.
Use it after a deliberate change to what such a cell prints, then review the diff.

    .venv/bin/python tests/update_notebook_outputs.py                      # every notebook
    .venv/bin/python tests/update_notebook_outputs.py 03_funnel_coaching   # only these (others kept)
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import nbformat
import papermill

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import EXPECTED_OUTPUTS  # noqa: E402
from helpers.paths import KERNEL_NAME, NOTEBOOKS_DIR  # noqa: E402


def main(stems: list[str]) -> None:
    paths = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
    unknown = set(stems) - {p.stem for p in paths}
    if unknown:
        raise SystemExit(f"no such notebook: {', '.join(sorted(unknown))}")
    if stems:
        paths = [p for p in paths if p.stem in stems]
    # re-read just before writing, so that runs for different notebooks do not undo each other
    expected: dict[str, dict[str, list]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for path in paths:
            out = Path(tmp) / path.name
            papermill.execute_notebook(str(path), str(out), kernel_name=KERNEL_NAME, cwd=str(NOTEBOOKS_DIR),
                                       progress_bar=False, start_timeout=120,
                                       execution_timeout=600)  # as nbval's --nbval-cell-timeout: never waits forever
            nb = nbformat.read(out, as_version=4)
            for cell in nb.cells:
                if cell.cell_type == "code" and cell.source.startswith("# NBVAL_CHECK_OUTPUT"):
                    outputs = [{k: v for k, v in o.items() if k != "metadata" or v} for o in cell.outputs]
                    expected.setdefault(path.stem, {})[cell.id] = outputs
    merged = json.loads(EXPECTED_OUTPUTS.read_text(encoding="utf-8")) if stems and EXPECTED_OUTPUTS.exists() else {}
    for path in paths:
        merged.pop(path.stem, None)
    merged.update(expected)
    expected = merged
    EXPECTED_OUTPUTS.write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {EXPECTED_OUTPUTS}")


if __name__ == "__main__":
    main(sys.argv[1:])
