"""pytest set-up shared by tests/ and the nbval run over notebooks/.

Committed notebooks carry no outputs (a test enforces it), yet nbval compares a cell marked
``# NBVAL_CHECK_OUTPUT`` with the output stored in the notebook. The expected outputs of those
deterministic cells therefore live in ``tests/notebook_outputs.json`` (notebook stem -> cell id ->
outputs) and are put into the notebook as nbval reads it. Refresh them after a deliberate change
with ``python tests/update_notebook_outputs.py``.

Shared by the test files as well:

* One BLAS thread per process, set before numpy loads (see below).
* ``spark_session``: one local Spark session for the whole run (test_spark.py and test_engine_parity.py).
* ``generated_org``: one generated organisation per set of ``generate_org`` arguments for the whole run,
  shared by the files that use the same one.
* A report's validation runs in the test process, not in a fresh interpreter (see
  ``_validation_in_the_test_process``).

Running the suite on two pytest-xdist workers was measured and not adopted: on 2 busy cores it was no
faster (the same nine files: 320 s serial, 342 s with ``-n 2``, and 45% more CPU for the second
worker's imports and collection).
"""
from __future__ import annotations

import os

# One BLAS thread per process (and per kernel and command the tests start, which inherit it): OpenBLAS's
# threads spin while they wait for a core, so on 2 busy cores a multi-threaded matrix product ran 3-5 times
# slower (tests/test_lead_value.py's grouped fits: 70 s -> 15 s). numpy is not imported yet at this point.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import fcntl  # noqa: E402 - after the BLAS setting on purpose
import json
import shutil
import types
from pathlib import Path

import nbformat
import pytest

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


@pytest.fixture(scope="session", autouse=True)
def _validation_in_the_test_process():
    """``build_report`` and ``cli.main(["report", ...])`` called inside the tests validate the data in this
    process instead of a fresh interpreter (``pipeline._in_child_process``). The child exists to give a big
    validation's memory back before the notebooks run, which tiny test data do not need; starting it cost
    4-6 s of imports per report on a busy machine, about 40 times per run. The real child is still
    exercised: by the sample report's command-line run (``tests/shared_reports.py`` runs
    ``sales-workbook report`` in a subprocess, where nothing is patched) and by tests/test_reporting_child.py."""
    from helpers.reporting import pipeline

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "_in_child_process", lambda func, *args: func(*args))
        yield


@pytest.fixture(scope="session")
def spark_session():
    """One local Spark session for the whole test session (starting one takes half a minute on a busy
    machine); skipped without pyspark or Java, except in CI, where both must be installed."""
    if os.environ.get("CI"):  # .ci/run installs both: a missing one there is a defect, not a skip
        import pyspark  # noqa: F401

        assert shutil.which("java"), "CI must install a Java runtime for the Spark tests (see .ci/run)"
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Spark needs a Java runtime")
    from helpers.data.spark import local_session

    spark = local_session()
    spark.sparkContext.setLogLevel("ERROR")
    yield spark
    spark.stop()


@pytest.fixture(scope="session")
def generated_org(tmp_path_factory: pytest.TempPathFactory):
    """``generated_org(seed=3, reps=60, months=8, ...)`` -> the folder ``generate_org`` wrote with those
    arguments, generated once per test run and shared by every file that asks for the same organisation
    (test_hiring and test_training both use seed 3 with 60 reps, five files seed 11 with 16 reps). Written
    under a file lock into a temporary folder, then renamed into place, so that parallel workers (pytest-xdist,
    if used) share it too. Read only: copy it before changing it."""
    from helpers.data.sample import generate_org

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # <run>/popen-gwN: the run's folder is common to the workers
        root = root.parent
    cache = root / "generated-orgs"
    cache.mkdir(exist_ok=True)

    def get(**kwargs) -> Path:
        key = "_".join(f"{k}-{kwargs[k]}" for k in sorted(kwargs))
        folder = cache / key
        with open(cache / f"{key}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            if not folder.exists():
                tmp = cache / f".tmp-{key}-{os.getpid()}"
                shutil.rmtree(tmp, ignore_errors=True)
                generate_org(tmp, **kwargs)
                tmp.rename(folder)
        return folder

    return get
