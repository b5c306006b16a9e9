"""Cell kinds and safe cell text shared by the workbook writers.

Lower than :mod:`dso_analytics.reporting.excel` and
:mod:`dso_analytics.reporting.excel_leadership`, which both use it (so neither
imports the other to get them), and used by the agreements draft
(:mod:`dso_analytics.extract.draft`).  Imports only the standard library.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
MAX_CELL = 32767

# column kinds -> format key
MONEY, PCT, DATE, INT, NUM, TEXT, BOOL = "money", "pct", "date", "int", "num", "text", "bool"


def clean_text(value: object, limit: int = MAX_CELL) -> str:
    """Return ``value`` as text safe for a cell: control characters removed, length
    capped at ``limit`` (default: Excel's cell limit)."""
    s = _CONTROL.sub("", str(value))
    return s[:limit]
