"""The importers' errors, each with a message that names the file, column or setting and how to fix it."""
from __future__ import annotations

from typing import Any


class ImportInputError(ValueError):
    """An export file is missing, unreadable or lacks a column: the message names it and says how to fix it."""


class MappingError(ValueError):
    """The mapping file is not valid TOML or a setting in it is wrong: the message names file and key."""


class ImportValidationError(RuntimeError):
    """The imported tables failed the data-contract validation, so nothing was written."""

    def __init__(self, message: str, validation: Any):
        super().__init__(message)
        self.validation = validation
