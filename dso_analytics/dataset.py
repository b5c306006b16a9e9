"""The loaded tables of one DSO.

:class:`DsoDataset` is what ingest produces and what metrics consume.  It holds
typed DataFrames (see :mod:`dso_analytics.schema` for dtypes) plus where every
row came from.  It performs no IO and imports nothing heavy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dso_analytics.errors import Problem


@dataclass(frozen=True)
class SourceFile:
    """One input file that contributed rows.

    Parameters
    ----------
    path : str
        Path relative to the DSO folder, POSIX style (``billing/LOC-001.xlsx``).
    table : str
        The table it feeds (``locations``, ``agreements``, ``billing``...).
    sheets : tuple of str
        The sheets read (empty for CSV).
    rows : int
        Data rows read.
    sha256 : str
        Hash of the file's bytes.
    profile : str, optional
        The provider-export profile used to map it, if any.
    """

    path: str
    table: str
    sheets: tuple[str, ...]
    rows: int
    sha256: str
    profile: str | None = None


@dataclass
class DsoDataset:
    """The typed tables of one DSO folder.

    Attributes
    ----------
    dso : str
        The DSO id: its folder name (a slug).
    root : Path
        The DSO folder.
    display_name : str
        From ``dso.yaml`` (defaults to the slug).
    currency : str
        From ``dso.yaml`` (default ``USD``).
    locations, agreements, services, documentation, billing : pandas.DataFrame
        One frame per contract table, typed, with ``source_file``,
        ``source_sheet`` and ``source_row`` on every row.
    sources : list of SourceFile
        Every file read.
    read_problems : list of Problem
        Problems found while reading (missing files, sheets or required
        columns, unreadable files, duplicate lines).  Cell-level problems are
        found by validation.
    present_tables : set of str
        Tables that were present in the input.  ``services`` and
        ``documentation`` may be absent: the clause checks that need them are
        then ``unknown`` (metrics.md M4).
    """

    dso: str
    root: Path
    locations: pd.DataFrame
    agreements: pd.DataFrame
    services: pd.DataFrame
    documentation: pd.DataFrame
    billing: pd.DataFrame
    display_name: str = ""
    currency: str = "USD"
    notes: str = ""
    sources: list[SourceFile] = field(default_factory=list)
    read_problems: list[Problem] = field(default_factory=list)
    present_tables: set[str] = field(default_factory=set)

    def table(self, name: str) -> pd.DataFrame:
        """Return the frame of table ``name`` (one of ``schema.TABLES``)."""
        return getattr(self, name)

    @property
    def billing_date_range(self) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        """First and last invoice_date (``None`` when there are no lines)."""
        d = self.billing["invoice_date"].dropna() if len(self.billing) else pd.Series([])
        if d.empty:
            return None, None
        return d.min(), d.max()
