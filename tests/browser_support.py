"""Headless Chromium for the browser tests: the system's browser (Debian package ``chromium``) driven by
Playwright for Python, which downloads nothing when given the browser's path.

Locally a test is skipped when Chromium or Playwright is missing; in CI (``$CI`` set) that is a failure,
so the check cannot silently vanish. Screenshots go to ``test-output/`` at the project root (or
``$SALES_WORKBOOK_TEST_OUTPUT``) for a person to look at.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from helpers.paths import PROJECT_ROOT

#: The width a sales leader's laptop shows a page at, and one "screen" of height.
WIDTH, SCREEN = 1400, 900


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI"):
        pytest.fail("headless Chromium is required in CI: apt-get install chromium (done by .ci/run)")
    pytest.skip("Chromium not installed (apt-get install chromium)")


def output_dir(*parts: str) -> Path:
    root = Path(os.environ.get("SALES_WORKBOOK_TEST_OUTPUT", PROJECT_ROOT / "test-output"))
    folder = root.joinpath(*parts)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def launch(playwright):
    """A headless Chromium that cannot reach the network (any fetch goes to a closed local port)."""
    return playwright.chromium.launch(
        executable_path=chromium_path(), headless=True,
        args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync"])


def sync_playwright():
    try:
        from playwright.sync_api import sync_playwright as start
    except ImportError:  # pragma: no cover - the [test] extra pins it
        if os.environ.get("CI"):
            pytest.fail("Playwright for Python is required in CI: pip install -e '.[test]'")
        pytest.skip("Playwright for Python not installed (pip install -e '.[test]')")
    return start()
