"""An analyst's JupyterLab, driven in headless Chromium: open notebook 03, run it, pick another rep in the
coaching widget, and see the chart change.

JupyterLab is started as ``make lab`` starts it (``--allow-root`` when root, ``--no-browser``) on a free
local port, on a copy of the notebooks folder so that nothing in the project is saved over. Screenshots
before and after the pick go to ``test-output/lab/``.
"""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from browser_support import launch, output_dir, sync_playwright
from helpers.paths import NOTEBOOKS_DIR, PROJECT_ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOK = "03_funnel_coaching.ipynb"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on a copy of notebook 03; yields its URL with the token."""
    from helpers.reporting.pipeline import ensure_kernel

    ensure_kernel()  # the notebooks' kernel, registered as the report does
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(NOTEBOOKS_DIR / NOTEBOOK, root / NOTEBOOK)
    port, token = _free_port(), secrets.token_hex(16)
    jupyter = Path(sys.executable).with_name("jupyter")
    cmd = [str(jupyter), "lab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}", "--LabApp.news_url="]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.insert(2, "--allow-root")  # as `make lab` does
    # JupyterLab 4 renders only the cells in view ("windowing"): after Run All the view is at the last
    # cell and the widget's cell is not in the page at all. The test's own settings turn windowing off.
    settings = root / "lab-settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    env = {**os.environ, "JUPYTER_PATH": str(Path(sys.prefix) / "share" / "jupyter"), "PYTHONPATH": str(PROJECT_ROOT),
           "JUPYTERLAB_SETTINGS_DIR": str(root / "lab-settings")}
    log = open(root / "lab.log", "wb")
    server = subprocess.Popen(cmd, cwd=root, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5)
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"JupyterLab did not start: {(root / 'lab.log').read_text()[-2000:]}")
            time.sleep(1)
    yield f"{base}/lab/tree/{NOTEBOOK}?token={token}"
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


def test_coaching_widget_redraws_for_another_rep_in_jupyterlab(lab):
    shots = output_dir("lab")
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(lab)
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle'], "
                               "#jp-main-statusbar :text('Idle')", timeout=180_000)
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        # the widget's dropdowns appear when its cell has run (the analysis runs first: minutes under load)
        rep_select = page.locator(".widget-dropdown select").first
        rep_select.wait_for(state="attached", timeout=600_000)
        widget = page.locator(".widget-vbox").filter(has=page.locator(".widget-dropdown")).first
        widget.scroll_into_view_if_needed()
        chart = widget.locator("img").first
        chart.wait_for(state="visible", timeout=300_000)
        before = chart.get_attribute("src")
        widget.screenshot(path=str(shots / "03_widget_before.png"))
        options = rep_select.locator("option").all_text_contents()
        assert len(options) >= 2, f"the rep picker offers {options}"
        chosen = rep_select.input_value()
        rep_select.select_option(index=1 if rep_select.locator("option").nth(0).get_attribute("value") == chosen
                                 or rep_select.evaluate("s => s.selectedIndex") == 0 else 0)
        page.wait_for_function("([el, old]) => { const img = el.querySelector('img'); return img && img.src !== old; }",
                               arg=[widget.element_handle(), before], timeout=180_000)
        after = widget.locator("img").first.get_attribute("src")
        widget.screenshot(path=str(shots / "03_widget_after.png"))
        page.screenshot(path=str(shots / "03_lab.png"))
        browser.close()
    assert before and after and before != after  # another rep: another chart
