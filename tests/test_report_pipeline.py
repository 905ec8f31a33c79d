"""End to end: one report month on a tiny organisation, with an injected failing notebook.

The month is built once per module (four kernels, two at a time) and every test reads it.
"""
from __future__ import annotations

import html as html_lib
import json
import re
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from helpers.paths import NOTEBOOKS_DIR
from helpers.reporting.pipeline import build_report, format_summary
from helpers.reporting.html import external_references
from helpers.core.results import load_results
from helpers.core.text import BIDI_CONTROLS
from test_report_support import EVIL_EXPERIMENT, EVIL_NAME, LAST_COMPLETE_MONTH, write_tiny_org

pytestmark = pytest.mark.slow  # the module's month runs every notebook once

#: The analyses whose state on the tiny org this module pins (later notebooks are counted, not pinned).
ANALYSED = ("01_trait_discovery", "02_training_score_correlation", "03_funnel_coaching",
            "04_compensation_churn_quartiles", "05_lead_value_and_sla", "06_experiments")
ALL_TABLES = ("reps", "quotas", "leads", "activities", "deals", "customers", "experiments",
              "experiment_assignments")
# any src/href/url()/@import pointing at another host, written independently of helpers.reporting.html
EXTERNAL = re.compile(r"""(src|href)\s*=\s*["']?\s*(https?:)?//|url\(\s*["']?\s*(https?:)?//|@import""", re.I)


def broken_notebook(path: Path) -> Path:
    """A numbered notebook that fails in its second cell, as a bug in an analysis would."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('month: str = ""\nas_of: str = ""\nconfig_path: str = ""\ndata_dir: str = ""\n'
                                       'results_path: str = ""')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Broken analysis"), params,
                nbformat.v4.new_code_cell("per_rep = 1 / 0  # the bug")]
    nb.metadata["kernelspec"] = {"name": "sales-science-workbook", "display_name": "SSW", "language": "python"}
    nb.metadata["sales_workbook"] = {"title": "A broken analysis", "needs": ["reps"], "uses": [], "daily": False}
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipeline")
    data = write_tiny_org(root / "data", tables=ALL_TABLES)
    notebooks = root / "notebooks"
    shutil.copytree(NOTEBOOKS_DIR, notebooks)
    broken_notebook(notebooks / "07_broken.ipynb")
    out = root / "reports"
    (out / "2026-08").mkdir(parents=True)
    (out / "2026-08" / "index.html").write_text("previous month, must survive")
    result = build_report(data_dir=data, out_dir=out, notebooks_dir=notebooks, jobs=2, progress=False)
    return result, data, out


def page(result, name: str) -> str:
    return (result.folder / name).read_text(encoding="utf-8")


def test_default_month_is_the_last_complete_one_and_states_are_right(month):
    result, _, out = month
    assert result.month == LAST_COMPLETE_MONTH and result.as_of == "2026-09-30"
    assert result.folder == out / LAST_COMPLETE_MONTH
    states = {r.notebook: r.state for r in result.runs}
    assert {n: states[n] for n in ANALYSED} == {
        "01_trait_discovery": "skipped", "02_training_score_correlation": "skipped", "03_funnel_coaching": "ok",
        "04_compensation_churn_quartiles": "ok", "05_lead_value_and_sla": "ok", "06_experiments": "ok"}
    assert states["07_broken"] == "failed"
    assert set(states) == {p.stem for p in NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb")} | {"07_broken"}
    skipped = {r.notebook: r.skip_reason for r in result.runs if r.state == "skipped"}
    assert skipped["01_trait_discovery"] == "needs hiring_scores"
    assert not result.ok


def test_failure_is_isolated_and_reported_with_a_link_to_the_executed_notebook(month):
    result, _, _ = month
    broken = next(r for r in result.runs if r.notebook == "07_broken")
    assert broken.error.startswith("ZeroDivisionError")
    assert (result.folder / "07_broken.ipynb").exists()
    executed = nbformat.read(result.folder / "07_broken.ipynb", as_version=4)
    assert any(o.get("ename") == "ZeroDivisionError" for c in executed.cells for o in c.get("outputs", []))
    index = page(result, "index.html")
    card = index[index.index('id="report-07"'):]
    card = card[: card.index("</article>")]
    assert "failed" in card and "ZeroDivisionError" in card and 'href="07_broken.ipynb"' in card
    summary = format_summary(result)
    assert "FAILED  07_broken: ZeroDivisionError" in summary and str(result.index_path) in summary


def test_index_has_the_run_facts_and_one_card_per_report(month):
    result, data, _ = month
    index = page(result, "index.html")
    manifest = json.loads(page(result, "run.json"))
    assert manifest["organisation"] and html_lib.escape(manifest["organisation"]) in index
    assert result.fingerprint in index and len(result.fingerprint) == 64
    assert "0.1.0" in index and "September 2026" in index
    assert index.count('<article class="card') == len(result.runs)
    assert "Skipped: needs hiring_scores" in index
    for run in result.runs:
        if run.state == "ok":
            assert f'href="{run.notebook}.html"' in index
    manifest = json.loads(page(result, "run.json"))
    assert manifest["fingerprint"] == result.fingerprint and manifest["month"] == "2026-09"
    assert [r["state"] for r in manifest["reports"] if r["notebook"] in ANALYSED].count("ok") == 4


def test_results_files_hold_the_key_figures_counted_from_the_data(month):
    result, data, _ = month
    activities = pd.read_csv(data / "activities.csv")
    in_september = int(activities["occurred_at"].str.startswith("2026-09").sum())
    res = load_results(result.folder / "03_funnel_coaching.json")
    assert res.month == "2026-09" and res.mode == "monthly" and not res.placeholder  # the funnel analysis (issue 6)
    assert res.key_figure is not None and res.key_figure.name == "reps_flagged" and res.key_figure.value == 0
    assert "judge" in res.headline  # six reps with ~40 leads each: too little data to judge any stage, said so
    assert in_september > 0
    assert res.tables["activities"] == len(activities)
    assert res.data_period == {"start": "2026-07-01", "end": "2026-09-30"}
    leads = load_results(result.folder / "05_lead_value_and_sla.json")
    assert any("lead_events" in w for w in leads.warnings)  # optional table absent, said so


def test_pages_carry_no_code_no_prompts_and_no_analyst_cells(month):
    result, _, _ = month
    for run in result.runs:
        if run.state != "ok":
            continue
        html = page(result, f"{run.notebook}.html")
        for code in ("start_report(", "import ", "results_path", "NBVAL_CHECK_OUTPUT", "Analysts only",
                     'class="jp-InputPrompt', "In&nbsp;["):
            assert code not in html, f"{run.notebook}: {code!r} leaked into the leadership HTML"
        assert "<script" not in html.lower()
        assert '<nav class="toc"' in html
        for anchor in re.findall(r'<nav class="toc".*?</nav>', html, flags=re.S)[0].split('href="#')[1:]:
            target = html_lib.unescape(anchor.split(chr(34))[0])  # the browser unescapes href="#It&#x27;s"
            assert f'id="{target}"' in html or f'id="{html_lib.escape(target)}"' in html, target
    assert 'src="data:image/png;base64,' in page(result, "03_funnel_coaching.html")


def test_pages_render_offline(month):
    result, _, _ = month
    for html_file in result.folder.glob("*.html"):
        text = html_file.read_text(encoding="utf-8")
        assert not EXTERNAL.search(text), f"{html_file.name}: {EXTERNAL.search(text).group(0)!r}"
        assert external_references(text) == []
        assert "cdnjs" not in text and "unpkg" not in text and "MathJax" not in text


def test_text_from_the_data_is_escaped_everywhere(month):
    result, _, _ = month
    coaching = page(result, "03_funnel_coaching.html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in coaching
    assert EVIL_NAME not in coaching
    index = page(result, "index.html")
    experiments = page(result, "06_experiments.html")
    for text in (index, experiments):
        assert "<img src=x" not in text
        assert "&lt;img src=x onerror=alert(2)&gt; pricing test" in text
    assert EVIL_EXPERIMENT in load_results(result.folder / "06_experiments.json").headline  # raw in JSON


def test_markdown_links_images_autolinks_and_bidi_in_names_never_act_on_any_page(month):
    """Issue 20: a rep named with a Markdown link to javascript:, an image, a bare URL or a bidi override."""
    result, _, _ = month
    pages = {p.name: p.read_text(encoding="utf-8") for p in result.folder.glob("*.html")}
    assert len(pages) >= 5
    for name, text in pages.items():
        links = re.findall(r"<a\b[^>]*\bhref\s*=\s*[\"']?([^\"'\s>]*)", text, flags=re.I)
        assert all(h.startswith("#") or re.fullmatch(r"[\w.-]+", h) for h in links), (name, links)
        images = re.findall(r"<img\b[^>]*\bsrc\s*=\s*[\"']?([^\"'\s>]*)", text, flags=re.I)
        assert all(src.startswith("data:image/") for src in images), (name, images)
        assert not BIDI_CONTROLS.search(text), name
        assert "<b>x</b>" not in text and "<script>" not in text, name
    coaching = pages["03_funnel_coaching.html"]
    assert "gnp.exe" in coaching  # the name is shown (without its override), not dropped


def test_only_simple_parameters_reach_the_notebook(month):
    result, data, _ = month
    executed = nbformat.read(result.folder / "04_compensation_churn_quartiles.ipynb", as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    names = set(re.findall(r"^(\w+) = ", injected[0].source, flags=re.M))
    assert names == {"month", "as_of", "config_path", "data_dir", "results_path"}
    assert 'month = "2026-09"' in injected[0].source and str(data) in injected[0].source


def test_the_month_is_published_whole_and_other_months_are_untouched(month):
    result, _, out = month
    assert sorted(p.name for p in out.iterdir()) == ["2026-08", "2026-09"]  # no temporary folder left
    assert (out / "2026-08" / "index.html").read_text() == "previous month, must survive"
    files = {p.name for p in result.folder.iterdir()}
    for stem in ("03_funnel_coaching", "04_compensation_churn_quartiles", "05_lead_value_and_sla", "06_experiments"):
        assert {f"{stem}.html", f"{stem}.ipynb", f"{stem}.json"} <= files
    assert "01_trait_discovery.ipynb" not in files  # skipped: never run
