"""A real browser renders the index and a report offline, and the pages are not blank.

Headless Chromium (Debian package ``chromium``; ``.ci/run`` installs it) takes a screenshot with
networking disabled. Locally the test is skipped when Chromium is missing; in CI (``$CI`` set)
a missing browser is a failure, so the check cannot silently vanish.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import re

import numpy as np
import pytest
from PIL import Image

from browser_support import SCREEN, WIDTH, chromium_path, launch, output_dir, sync_playwright

pytest_plugins = ["shared_reports"]
pytestmark = pytest.mark.browser


def screenshot(browser: str, page: Path, png: Path, profile: Path) -> np.ndarray:
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage", "--proxy-server=127.0.0.1:9",  # any network fetch would fail
           f"--user-data-dir={profile}", f"--screenshot={png}", "--window-size=1280,1600", page.as_uri()]
    subprocess.run(cmd, check=True, capture_output=True, timeout=90)
    return np.asarray(Image.open(png).convert("L"), dtype=float)


@pytest.fixture(scope="module")
def report_folder(sample_report):
    """The session's sample report (tests/shared_reports.py), read here rather than built again."""
    assert sample_report.returncode == 0, sample_report.stdout + sample_report.stderr
    return sample_report.folder


@pytest.mark.parametrize("page", ["index.html", "03_funnel_coaching.html"])
def test_page_renders_offline_and_is_not_blank(report_folder, tmp_path, page):
    pixels = screenshot(chromium_path(), report_folder / page, tmp_path / "shot.png", tmp_path / "profile")
    assert pixels.shape == (1600, 1280)
    dark = (pixels < 200).mean()  # text, rules, plot bars
    assert 0.01 < dark < 0.6, f"{page}: {dark:.1%} of pixels are ink; the page looks blank or broken"
    assert pixels.std() > 20
    rows_with_ink = ((pixels < 200).sum(axis=1) > 5).mean()
    assert rows_with_ink > 0.15, f"{page}: content covers only {rows_with_ink:.0%} of the screen height"


# ----------------------------------------------------------------------------- every page, as a leader reads it
#: Pages longer than this many screens (1400 x 900) before their appendix fail: a leader reads a page in minutes.
MAX_SCREENS = 7.0
#: A figure on the page is drawn between these heights (px): never a sliver, never a blank poster.
FIGURE_PX = (80, 700)
_PATH = re.compile(r"(?<![\w.:/])/(?:[\w.+-]+/){2,}[\w.+-]*|\b[A-Z]:\\\\|\.ipynb\b")
_REPR = re.compile(r"<[\w.]+ object at 0x|\bdtype[:=]|\bName: \w+, dtype|^\s*(?:array|DataFrame|Series)\(|"
                   r"\{'[a-z_]+': |\bnumpy\.\w+\b|\bIn \[\d*\]:|\bOut\[\d+\]:", re.MULTILINE)
_STRAY_ESCAPE = re.compile(r"\\[()\[\]*_.#$!`|{}+\-]")  # a Markdown escape shown as typed: "lead \($203)"
_MISSING = re.compile(r"(?<![\w-])(?:NaN|<NA>|None|NaT|nan)(?![\w-])")

_PAGE_FACTS = """() => {
  const main = document.body;
  const text = main.textContent;
  const appendix = document.getElementById('appendix');
  const nav = document.querySelector('nav.toc > ol');
  const navItems = nav ? Array.from(nav.children).map(li => li.className) : [];
  return {
    text,
    height: document.documentElement.scrollHeight,
    beforeAppendix: appendix ? appendix.getBoundingClientRect().top + window.scrollY : document.documentElement.scrollHeight,
    cells: Array.from(document.querySelectorAll('td, th')).map(c => c.textContent.trim()).filter(t => t.endsWith('...') || t.endsWith('\u2026')),
    figures: Array.from(document.querySelectorAll('main img')).filter(i => i.offsetParent !== null).map(i => i.getBoundingClientRect().height),
    shrunk: Array.from(document.querySelectorAll('main img')).filter(i => i.offsetParent !== null && i.naturalHeight > 0)
      .map(i => i.getBoundingClientRect().height / i.naturalHeight).filter(r => r < 0.75),
    code: document.querySelectorAll('.jp-CodeCell .jp-InputArea, .jp-InputPrompt:not(:empty), .jp-OutputPrompt:not(:empty), pre code').length,
    navItems, navStart: nav ? nav.getAttribute('start') : null,
    navMissing: nav ? Array.from(document.querySelectorAll('nav.toc a')).map(a => a.getAttribute('href'))
      .filter(h => !document.getElementById(h.slice(1)) && !document.getElementById(decodeURIComponent(h.slice(1)))) : [],
  };
}"""


@pytest.fixture
def built_reports(request):
    """org -> its report: the sample's is the session's shared one (tests/shared_reports.py); each is built
    only when a test asks for it, so one org's failure does not take the other's test with it."""
    class Reports(dict):
        def __missing__(self, org):
            return request.getfixturevalue({"sample": "sample_report", "other": "other_org_report"}[org])

    return Reports()


def check_pages(folder, shots):
    """Every page of ``folder`` in headless Chromium at 1400 px: the problems found and each page's length
    in screens before its appendix; full-page screenshots into ``shots``."""
    problems: list[str] = []
    lengths: dict[str, float] = {}
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": WIDTH, "height": SCREEN})
        page.route("http*://**", lambda route: route.abort())  # offline: any fetch fails
        for html_file in sorted(folder.glob("*.html")):
            page.goto(html_file.as_uri())
            page.wait_for_load_state("load")
            page.screenshot(path=str(shots / f"{html_file.stem}.png"), full_page=True)
            facts = page.evaluate(_PAGE_FACTS)
            name = html_file.name
            text = facts["text"]
            lengths[name] = facts["beforeAppendix"] / SCREEN
            for pattern, what in ((_MISSING, "a missing-value word"), (_PATH, "a file path"), (_REPR, "a Python repr"),
                                  (_STRAY_ESCAPE, "a stray Markdown escape")):
                found = pattern.search(text)
                if found:
                    problems.append(f"{name}: {what}: ...{text[max(0, found.start() - 60):found.end() + 40]!r}")
            if facts["cells"]:
                problems.append(f"{name}: table cells cut with '...': {facts['cells'][:3]}")
            if facts["code"]:
                problems.append(f"{name}: {facts['code']} code cell(s) or prompt(s) shown")
            bad = [round(h) for h in facts["figures"] if not FIGURE_PX[0] <= h <= FIGURE_PX[1]]
            if bad:
                problems.append(f"{name}: figure heights {bad} px outside {FIGURE_PX}")
            if facts["shrunk"]:  # a 39-rep ranking squeezed into 420 px had 5 px names
                problems.append(f"{name}: figures shown at {[round(r, 2) for r in facts['shrunk']]} of their size: "
                                "their text is too small to read")
            if facts["navItems"]:
                if facts["navStart"] not in (None, "1") or any("level-2" not in c for c in facts["navItems"]):
                    problems.append(f"{name}: contents not numbered 1..n: {facts['navItems']}")
                if facts["navMissing"]:
                    problems.append(f"{name}: contents links lead nowhere: {facts['navMissing']}")
            if name != "index.html" and lengths[name] > MAX_SCREENS:
                problems.append(f"{name}: {lengths[name]:.1f} screens before the appendix (at most {MAX_SCREENS})")
            if name != "index.html" and "summary-box" not in page.content():
                problems.append(f"{name}: no five-line summary at the top")
        browser.close()
    return problems, lengths


@pytest.mark.slow
@pytest.mark.parametrize("org", ["sample", "other"])
def test_every_page_reads_as_a_leadership_page(built_reports, org):
    """Every page of the month at 1400 px in headless Chromium: no missing-value words, no cut cells, no paths,
    no code or prompts, no Python reprs, figures within bounds, contents numbered 1..n, at most ~6 screens
    before the appendix. Screenshots of every page go to test-output/browser/<org>/."""
    result = built_reports[org]
    assert not result.failed, [f"{r.notebook}: {r.error}" for r in result.failed]
    shots = output_dir("browser", org)
    problems, lengths = check_pages(result.folder, shots)
    (shots / "lengths.txt").write_text("".join(f"{k}\t{v:.1f} screens\n" for k, v in lengths.items()))
    assert not problems, "\n".join(problems)
