"""An analyst's JupyterLab, driven in headless Chromium: open notebook 03, run it, pick another rep in the
coaching widget, and see the chart change.

JupyterLab is started as ``make lab`` starts it (``--allow-root`` when root, ``--no-browser``) on a free
local port, on a copy of the notebooks folder so that nothing in the project is saved over. Screenshots
before and after the pick go to ``test-output/lab/``.
"""
from __future__ import annotations

import json
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
    """A JupyterLab server on a copy of notebook 03; yields its URL with the token, and the server's log."""
    from helpers.reporting.pipeline import KERNEL_NAME, ensure_kernel

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
    # The notebook's kernel is started through the REST API before the page opens: JupyterLab then joins
    # that session. Opened cold, JupyterLab sometimes asks "Select Kernel" (offering Python 3) before the
    # notebook's own kernel name has loaded, and Run All then waits on the dialog (seen in CI).
    request = urllib.request.Request(
        f"{base}/api/sessions?token={token}", method="POST", headers={"Content-Type": "application/json"},
        data=json.dumps({"path": NOTEBOOK, "name": NOTEBOOK, "type": "notebook",
                         "kernel": {"name": KERNEL_NAME}}).encode())
    with urllib.request.urlopen(request, timeout=120) as response:
        session = json.load(response)
    assert session["kernel"]["name"] == KERNEL_NAME, session
    yield f"{base}/lab/tree/{NOTEBOOK}?token={token}", root / "lab.log"
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


_NOTEBOOK_STATE = """() => {
    const cells = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')];
    const prompt = c => (c.querySelector('.jp-InputPrompt') || {}).textContent || '';
    const running = cells.filter(c => prompt(c).includes('*'));
    const ran = cells.filter(c => /\\d/.test(prompt(c)));
    const indicator = document.querySelector('.jp-Notebook-ExecutionIndicator');
    const source = c => ((c.querySelector('.jp-InputArea-editor') || {}).textContent || '').slice(0, 160);
    return {
        cells: cells.length, ran: ran.length, running: running.length,
        running_source: running.length ? source(running[0]) : '',
        status: indicator ? indicator.getAttribute('data-status') : '',
        statusbar: ((document.querySelector('#jp-main-statusbar') || {}).textContent || '').slice(0, 300),
        dialog: ((document.querySelector('.jp-Dialog') || {}).textContent || '').slice(0, 500),
        errors: [...document.querySelectorAll(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")]
            .map(e => e.textContent.slice(-1500)).filter(t => /Traceback/.test(t)),
        widgets_loading: [...document.querySelectorAll('.jp-OutputArea-output')]
            .filter(e => /Loading widget|Error displaying widget|model not found/.test(e.textContent)).length,
    };
}"""


def _choose_the_notebooks_kernel(page) -> None:
    """Answer JupyterLab's "Select Kernel" dialog with the notebooks' kernel. It should not come up (the session
    exists before the page opens); if it does, the test goes on as an analyst would."""
    dialog = page.locator(".jp-Dialog")
    text = dialog.inner_text()
    assert "Select Kernel" in text, f"an unexpected dialog: {text}"
    dialog.locator("select").select_option(label="Sales Science Workbook")
    dialog.locator(".jp-mod-accept").click()
    dialog.wait_for(state="detached")
    page.wait_for_function("""() => /Sales Science Workbook\\s*\\|\\s*Idle/.test(
        (document.querySelector('#jp-main-statusbar') || {}).textContent || '')""", timeout=240_000)


def _wait_for_widget(page, *, lab_log: Path, shots: Path, timeout_s: float) -> None:
    """Wait until the coaching widget's dropdown is in the page. Fails at once, saying why, when the notebook
    stopped at an error, the kernel died or a dialog came up, and on timeout says which cell was running,
    with a screenshot and the end of JupyterLab's log: a hang is a finding to read, not a bare timeout."""
    deadline, idle_since, chose_kernel = time.monotonic() + timeout_s, None, False
    state: dict = {}
    while time.monotonic() < deadline:
        if page.locator(".widget-dropdown select").count():
            return
        state = page.evaluate(_NOTEBOOK_STATE)
        problem = None
        if "Select Kernel" in state["dialog"] and not chose_kernel:
            _choose_the_notebooks_kernel(page)
            chose_kernel = True
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        elif state["dialog"]:
            problem = f"a dialog came up: {state['dialog']}"
        elif state["status"] == "dead" or "Dead" in state["statusbar"]:
            problem = "the kernel died"
        elif state["errors"]:
            problem = "a cell failed:\n" + "\n---\n".join(state["errors"])
        elif state["ran"] and not state["running"] and state["status"] in ("idle", ""):
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since > 20:
                problem = "every cell ran and no widget came up"
        else:
            idle_since = None
        if problem:
            break
        time.sleep(2)
    else:
        problem = f"no widget after {timeout_s:.0f} s"
    page.screenshot(path=str(shots / "03_lab_failure.png"), full_page=True)
    log_tail = lab_log.read_text(errors="replace")[-3000:] if lab_log.exists() else "(no log)"
    pytest.fail(f"{problem}\nnotebook state: {state}\nscreenshot: {shots / '03_lab_failure.png'}\n"
                f"JupyterLab log (end):\n{log_tail}")


def test_coaching_widget_redraws_for_another_rep_in_jupyterlab(lab):
    url, lab_log = lab
    shots = output_dir("lab")
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(url)
        # the whole notebook loaded and its own kernel idle (or a kernel dialog, answered below)
        page.wait_for_function("""() => document.querySelector('.jp-Dialog') || (
            document.querySelectorAll('.jp-Notebook .jp-Cell').length > 5 &&
            /Sales Science Workbook\\s*\\|\\s*Idle/.test(
                (document.querySelector('#jp-main-statusbar') || {}).textContent || ''))""", timeout=240_000)
        if page.locator(".jp-Dialog").count():
            _choose_the_notebooks_kernel(page)
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        # the widget's dropdowns appear when its cell has run (the analysis runs first: minutes under load)
        rep_select = page.locator(".widget-dropdown select").first
        _wait_for_widget(page, lab_log=lab_log, shots=shots, timeout_s=540)
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
