"""A real browser renders the index and a report offline, and the pages are not blank.

Headless Chromium (Debian package ``chromium``; ``.ci/run`` installs it) takes a screenshot with
networking disabled. Locally the test is skipped when Chromium is missing; in CI (``$CI`` set)
a missing browser is a failure, so the check cannot silently vanish.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers.reporting.pipeline import build_report
from test_report_support import write_tiny_org

pytestmark = pytest.mark.browser


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI"):
        pytest.fail("headless Chromium is required in CI: apt-get install chromium (done by .ci/run)")
    pytest.skip("Chromium not installed (apt-get install chromium)")


def screenshot(browser: str, page: Path, png: Path, profile: Path) -> np.ndarray:
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage", "--proxy-server=127.0.0.1:9",  # any network fetch would fail
           f"--user-data-dir={profile}", f"--screenshot={png}", "--window-size=1280,1600", page.as_uri()]
    subprocess.run(cmd, check=True, capture_output=True, timeout=90)
    return np.asarray(Image.open(png).convert("L"), dtype=float)


@pytest.fixture(scope="module")
def report_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    data = write_tiny_org(root / "data")
    return build_report(data_dir=data, out_dir=root / "reports", only=["03"], progress=False).folder


@pytest.mark.parametrize("page", ["index.html", "03_funnel_coaching.html"])
def test_page_renders_offline_and_is_not_blank(report_folder, tmp_path, page):
    pixels = screenshot(chromium(), report_folder / page, tmp_path / "shot.png", tmp_path / "profile")
    assert pixels.shape == (1600, 1280)
    dark = (pixels < 200).mean()  # text, rules, plot bars
    assert 0.01 < dark < 0.6, f"{page}: {dark:.1%} of pixels are ink; the page looks blank or broken"
    assert pixels.std() > 20
    rows_with_ink = ((pixels < 200).sum(axis=1) > 5).mean()
    assert rows_with_ink > 0.15, f"{page}: content covers only {rows_with_ink:.0%} of the screen height"
