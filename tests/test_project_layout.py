"""The project's promises on a fresh clone: layout, the two README commands, CI calling them."""
from __future__ import annotations

import re

from helpers.paths import PROJECT_ROOT

TOP_LEVEL = ["notebooks", "helpers", "data/sample", "reports", "environment.yml", "tests", "README.md",
             "pyproject.toml", "Makefile", ".ci/run", "docs"]


def test_top_level_layout_is_the_product_cards():
    missing = [p for p in TOP_LEVEL if not (PROJECT_ROOT / p).exists()]
    assert not missing, f"missing from the top level: {missing}"


def test_readme_gives_both_commands_and_ci_calls_the_test_one():
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert "make report" in readme and "make test" in readme
    ci = (PROJECT_ROOT / ".ci" / "run").read_text()
    commands = [line.strip() for line in ci.splitlines() if line.strip() and not line.strip().startswith("#")]
    # the README's test command, optionally with make variables (CI adds the optional Spark extra)
    assert re.fullmatch(r"make test( [A-Z_]+=\S+)*", commands[-1]), \
        "the last command of .ci/run must be the README's test command"


def test_make_targets_set_up_on_first_use():
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    for target in ("report", "test"):
        m = re.search(rf"^{target}:(.*)$", makefile, flags=re.M)
        assert m and "$(STAMP)" in m.group(1), f"`make {target}` must depend on the venv set-up stamp"


def test_pip_and_conda_users_find_their_commands():
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert "pip install -e" in readme
    assert "conda env create -f environment.yml" in readme
    assert readme.count("pytest -q --nbval-lax tests notebooks") >= 2


def test_console_script_is_declared():
    import tomllib

    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "sales-science-workbook"
    assert project["scripts"]["sales-workbook"] == "helpers.cli:main"
