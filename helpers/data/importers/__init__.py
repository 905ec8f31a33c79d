"""Importers for CRM exports: ``sales-workbook import hubspot|salesforce EXPORT_DIR --out DATA_DIR``.

Each importer reads the CSV files the CRM exports (with their own column headings), applies an
editable mapping file (deal stages, owners, lead sources, outcomes, amounts, time zone) and
writes the data-contract tables it can provide, validated, atomically. See docs/import.md.
"""
from __future__ import annotations

from . import hubspot, salesforce
from .common import ImportInputError, ImportReport, ImportValidationError, MappingError
from .pipeline import default_mapping_path, run_import

CRMS = {"hubspot": hubspot, "salesforce": salesforce}


def import_export(crm: str, export_dir, out_dir, *, mapping_path=None, config_path=None, now=None) -> ImportReport:
    """Import a ``hubspot`` or ``salesforce`` export folder into a data folder; returns the import report."""
    if crm not in CRMS:
        raise ImportInputError(f"unknown CRM {crm!r}: use one of {', '.join(CRMS)}")
    return run_import(CRMS[crm], export_dir, out_dir, mapping_path=mapping_path, config_path=config_path, now=now)


__all__ = ["CRMS", "ImportInputError", "ImportReport", "ImportValidationError", "MappingError",
           "default_mapping_path", "import_export"]
