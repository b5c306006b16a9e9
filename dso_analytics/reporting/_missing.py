"""The one test for "no value" used by every output (workbook, notebook, HTML)."""

from __future__ import annotations

import pandas as pd


def is_missing(v: object) -> bool:
    """True for ``None``, NaN, NaT and ``pd.NA``; False for any other value (lists included)."""
    if v is None:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False
