"""environment.yml (conda users) and pyproject.toml (pip users) must pin the same versions."""
from __future__ import annotations

import re
import tomllib

import yaml

from helpers.paths import PROJECT_ROOT

# conda-forge spells a few packages differently from PyPI
CONDA_TO_PYPI = {"python-duckdb": "duckdb"}


def _pyproject_pins() -> dict[str, str]:
    data = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    deps = data["project"]["dependencies"] + data["project"]["optional-dependencies"]["test"]
    pins = {}
    for dep in deps:
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+(?:\[[^\]]+\])?)==([\w.]+)", dep)
        assert m, f"pyproject.toml: dependency {dep!r} is not pinned with =="
        pins[m.group(1)] = m.group(2)
    return pins


def _environment_pins() -> dict[str, str]:
    env = yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text())
    pins = {}
    for entry in env["dependencies"]:
        specs = entry["pip"] if isinstance(entry, dict) else [entry]
        for spec in specs:
            m = re.fullmatch(r"([A-Za-z0-9_.\-]+(?:\[[^\]]+\])?)\s*==?\s*([\w.]+)", spec)
            if m is None:
                continue  # unpinned entries such as python>=3.11 and pip
            pins[CONDA_TO_PYPI.get(m.group(1), m.group(1))] = m.group(2)
    return pins


def test_every_dependency_is_pinned_identically_in_environment_yml():
    pyproject, environment = _pyproject_pins(), _environment_pins()
    missing = sorted(set(pyproject) - set(environment))
    assert not missing, f"environment.yml lacks {missing}; add them with the pyproject.toml versions"
    drift = {name: (ver, environment[name]) for name, ver in pyproject.items() if environment[name] != ver}
    assert not drift, f"environment.yml drifted from pyproject.toml (pyproject, environment): {drift}"
    extra = sorted(set(environment) - set(pyproject))
    assert not extra, f"environment.yml pins packages pyproject.toml does not: {extra}"


def test_the_pins_the_issue_names_are_present():
    pins = _pyproject_pins()
    for name, major_minor in {"pandas": "3.1", "seaborn": "0.13.2", "matplotlib": "3.11", "statsmodels": "0.15",
                              "papermill": "2.7", "nbval": "0.11", "nbconvert": "7.17", "ipywidgets": "8.1",
                              "jupyterlab": "4.6", "duckdb": "2.0", "ibis-framework[duckdb,postgres]": "12"}.items():
        assert pins[name].startswith(major_minor), f"{name} pinned to {pins[name]}, expected {major_minor}.x"


def test_installed_versions_match_the_pins():
    from importlib.metadata import version

    for name, pinned in _pyproject_pins().items():
        dist = name.split("[")[0]
        assert version(dist) == pinned, f"{dist} {version(dist)} installed but {pinned} pinned: rerun `make setup`"
