"""Paths anchored at the package, never at the working directory.

papermill, nbval and JupyterLab start notebooks from different folders; every path the
workbook uses is derived from this file's location so they all agree.
"""
from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
SAMPLE_DATA_DIR = PROJECT_ROOT / "data" / "sample"
REPORTS_DIR = PROJECT_ROOT / "reports"
DOCS_DIR = PROJECT_ROOT / "docs"
DEFAULT_CONFIG_FILE = PROJECT_ROOT / "workbook.toml"
KERNEL_NAME = "sales-science-workbook"
