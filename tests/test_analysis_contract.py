"""The analysis contract (docs/design.md): one folder per analysis, compute without matplotlib, one way in and out.

Cheap checks by import and AST scan (no kernel, no data): every ``helpers/analyses/<name>/`` has
``model.py``, ``plots.py`` and ``report.py`` with ``analyse(report, **params) -> <Name>Analysis``; no
compute module imports matplotlib (drawing lives in ``plots.py``, widgets in ``widgets.py``); the
estimators share :class:`helpers.core.estimator.Estimator`; no module is over ~800 lines.
"""
from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pandas as pd
import pytest

import helpers
from helpers.core.estimator import Estimator, NotFittedError

PACKAGE = Path(helpers.__file__).parent
ANALYSES_DIR = PACKAGE / "analyses"
ANALYSES = sorted(p.name for p in ANALYSES_DIR.iterdir() if p.is_dir() and (p / "__init__.py").exists())
#: Modules that may draw: an analysis's plots.py and widgets.py, its report.py (it hands data to plots.py),
#: and the reporting layer (pages).
DRAWING = {"plots.py", "widgets.py", "report.py"}
MAX_MODULE_LINES = 800


def test_the_six_analyses_are_folders() -> None:
    assert {"hiring", "training", "coaching", "compensation", "lead_value", "experiments"} <= set(ANALYSES)


@pytest.mark.parametrize("name", ANALYSES)
def test_every_analysis_folder_has_model_plots_report_and_one_analyse(name: str) -> None:
    folder = ANALYSES_DIR / name
    for part in ("model.py", "plots.py", "report.py"):
        assert (folder / part).is_file(), f"helpers/analyses/{name}/ needs {part} (see docs/design.md)"
    report = importlib.import_module(f"helpers.analyses.{name}.report")
    analyse = getattr(report, "analyse", None)
    assert callable(analyse), f"helpers/analyses/{name}/report.py must define analyse(report, **params)"
    params = list(inspect.signature(analyse).parameters.values())
    assert params and params[0].name == "report", f"{name}: analyse takes the ReportContext first"
    assert all(p.kind in (p.KEYWORD_ONLY, p.VAR_KEYWORD) or p.default is not p.empty for p in params[1:]), \
        f"{name}: analyse's other parameters are optional (a notebook passes its parameters by name)"
    returned = inspect.signature(analyse).return_annotation
    returned = returned if isinstance(returned, str) else returned.__name__
    assert returned.strip("'\"").endswith("Analysis"), f"{name}: analyse returns a <Name>Analysis, not {returned}"
    cls = getattr(report, returned.strip("'\""))
    assert callable(getattr(cls, "record", None)), f"{cls.__name__} needs record(recorder)"
    assert list(inspect.signature(cls.record).parameters)[1:] == ["recorder"], f"{cls.__name__}.record(recorder)"
    assert isinstance(inspect.getattr_static(cls, "summary"), property), f"{cls.__name__}.summary is a property"


def _imports_matplotlib(path: Path) -> list[int]:
    """Lines importing matplotlib outside ``if TYPE_CHECKING:`` (type hints only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hinted: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hinted |= {id(n) for child in node.body for n in ast.walk(child)}
    lines = []
    for node in ast.walk(tree):
        if id(node) in hinted:
            continue
        names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                 [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        if any(n == "matplotlib" or n.startswith("matplotlib.") for n in names):
            lines.append(node.lineno)
    return lines


def _compute_modules() -> list[Path]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "reporting":
            continue  # the pages
        if rel.parts[0] == "analyses" and len(rel.parts) == 3 and rel.name in DRAWING:
            continue
        out.append(path)
    return out


def test_the_import_scan_sees_lazy_imports_and_ignores_type_hints(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from matplotlib.axes import Axes\n\n"
                      "def f():\n    import matplotlib.pyplot as plt\n    return plt\n")
    assert _imports_matplotlib(module) == [6]


def test_no_compute_module_imports_matplotlib() -> None:
    modules = _compute_modules()
    assert any(p.name == "model.py" for p in modules) and len(modules) > 20
    offenders = {str(p.relative_to(PACKAGE)): lines for p in modules if (lines := _imports_matplotlib(p))}
    assert not offenders, f"draw in the analysis's plots.py, not in compute modules: {offenders}"


def test_no_module_is_over_800_lines() -> None:
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not long, f"split these modules (one job each): {long}"


ESTIMATORS = [("hiring.model", "TraitModel"), ("training.model", "PredictiveComparison"),
              ("coaching.model", "WeakStageModel"), ("compensation.churn", "ChurnQuartiles"),
              ("compensation.churn", "RetentionCurves"), ("compensation.model", "PlanComparison"),
              ("lead_value.model", "LeadValueModel"), ("experiments.model", "ExperimentReview")]


@pytest.mark.parametrize("module,name", ESTIMATORS, ids=[n for _, n in ESTIMATORS])
def test_estimators_share_the_base(module: str, name: str) -> None:
    cls = getattr(importlib.import_module(f"helpers.analyses.{module}"), name)
    assert issubclass(cls, Estimator)
    for method in ("fit", "plot"):
        assert getattr(cls, method) is not getattr(Estimator, method), f"{name} implements {method}"
    assert "ax" in inspect.signature(cls.plot).parameters


def test_the_base_returns_self_from_fit_and_refuses_an_unfitted_summary() -> None:
    class Mean(Estimator):
        def fit(self, values: list[float]) -> "Mean":
            self.n_ = len(values)
            self.summary_ = pd.DataFrame({"mean": [sum(values) / len(values)], "n": [self.n_]})
            return self

        def plot(self, ax=None):
            return ax

    model = Mean()
    assert not model.fitted
    with pytest.raises(NotFittedError, match=r"Mean is not fitted yet: call \.fit"):
        model.summary
    assert model.fit([1.0, 2.0, 6.0]) is model and model.fitted
    assert model.summary.loc[0, "mean"] == 3.0 and model.n_ == 3
