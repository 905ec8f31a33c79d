"""Sales Science Workbook helpers: the tested logic behind the numbered notebooks."""
from __future__ import annotations

__version__ = "0.1.0"
