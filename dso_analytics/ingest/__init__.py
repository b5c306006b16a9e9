"""Ingest: read a DSO folder's workbooks and CSV files into typed frames.

* :func:`read_dso` reads one DSO folder into a :class:`~dso_analytics.dataset.DsoDataset`
  (no validation; see :mod:`dso_analytics.validation`).
* :func:`list_dso_dirs` lists the DSO folders of a portfolio.
* :mod:`~dso_analytics.ingest.workbook` reads one file safely (``read_raw_table``),
  :mod:`~dso_analytics.ingest.parse` parses cells (``parse_money``, ``parse_date``...).

Nothing here imports Great Expectations, papermill or plotly.
"""

from __future__ import annotations

from dso_analytics.ingest.dso import list_dso_dirs, read_dso
from dso_analytics.ingest.workbook import RawTable, read_raw_table

__all__ = ["RawTable", "list_dso_dirs", "read_dso", "read_raw_table"]
