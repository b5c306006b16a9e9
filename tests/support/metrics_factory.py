"""Build typed in-memory DsoDataset objects for metrics tests (no files).

Rows are dicts with contract column names; dates are ISO text; missing
columns get their contract default or blank.  Frames get the dtypes of
``schema.py`` (str, float64, Int64, datetime64, boolean) and provenance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from dso_analytics import schema
from dso_analytics.dataset import DsoDataset
from dso_analytics.standards import Params

KIND_DTYPE = {
    "text": "str",
    "code": "str",
    "money": "float64",
    "number": "float64",
    "integer": "Int64",
    "date": "datetime64[ns]",
    "bool": "boolean",
}


def typed_frame(table: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A frame of ``table`` with every contract column, typed, plus provenance."""
    cols = schema.TABLE_COLUMNS[table]
    data: dict[str, Any] = {}
    for c in cols:
        vals = [r.get(c.name, c.default) for r in rows]
        vals = [None if v == "" else v for v in vals]
        dtype = KIND_DTYPE[c.kind]
        if c.kind == "date":
            data[c.name] = pd.to_datetime(pd.Series(vals, dtype=object))
        elif c.kind in ("money", "number"):
            data[c.name] = pd.Series(
                [float("nan") if v is None else float(v) for v in vals], dtype=dtype
            )
        else:
            data[c.name] = pd.Series(pd.array(vals, dtype=dtype))
    df = pd.DataFrame(data, index=pd.RangeIndex(len(rows)))
    df[schema.SOURCE_FILE] = pd.Series(
        [r.get("source_file", f"{table}.csv") for r in rows], dtype="str"
    )
    df[schema.SOURCE_SHEET] = pd.Series([""] * len(rows), dtype="str")
    df[schema.SOURCE_ROW] = pd.array(
        [r.get("source_row", i + 2) for i, r in enumerate(rows)], dtype="Int64"
    )
    return df


def location(location_id: str, join_date: str = "2020-01-01", **kw: Any) -> dict[str, Any]:
    """A location row (founding, active, 10 workstations unless given)."""
    row = {"location_id": location_id, "location_name": f"{location_id} Dental",
           "join_date": join_date, "join_type": "founding", "workstations": 10, "status": "active"}  # fmt: skip
    row.update(kw)
    return row


def agreement(agreement_id: str, start_date: str = "2023-01-01", **kw: Any) -> dict[str, Any]:
    """An organization agreement row with every seed clause failing unless given."""
    row = {"agreement_id": agreement_id, "provider": "Acme IT", "scope": "organization",
           "location_ids": None, "start_date": start_date, "term_months": 36, "auto_renew": True,
           "renewal_term_months": 12, "notice_days": 90, "pricing_basis": "per_workstation",
           "monthly_rate": 150.0, "new_location_terms": "amendment", "onboarding_terms": "hourly",
           "reporting": "on_request"}  # fmt: skip
    row.update(kw)
    return row


def line(
    invoice_date: str, amount: float, description: str = "Managed services", **kw: Any
) -> dict[str, Any]:
    """A billing line (organization-level unless ``location_id`` given)."""
    row = {"invoice_number": "INV-1", "invoice_date": invoice_date, "description": description,
           "amount": amount}  # fmt: skip
    row.update(kw)
    return row


def make_ds(
    locations: list[dict[str, Any]] | None = None,
    agreements: list[dict[str, Any]] | None = None,
    services: list[dict[str, Any]] | None = None,
    documentation: list[dict[str, Any]] | None = None,
    billing: list[dict[str, Any]] | None = None,
    present: set[str] | None = None,
    dso: str = "test-dso",
) -> DsoDataset:
    """A DsoDataset from row dicts; ``present`` = tables present (default: all)."""
    return DsoDataset(
        dso=dso,
        root=Path("/nonexistent") / dso,
        locations=typed_frame(schema.LOCATIONS, locations or []),
        agreements=typed_frame(schema.AGREEMENTS, agreements or []),
        services=typed_frame(schema.SERVICES, services or []),
        documentation=typed_frame(schema.DOCUMENTATION, documentation or []),
        billing=typed_frame(schema.BILLING, billing or []),
        display_name=dso,
        present_tables=set(schema.TABLES) if present is None else present,
    )


def params(as_of: str | None = None, **kw: Any) -> Params:
    """Built-in default parameters with overrides."""
    return Params().with_overrides(as_of=as_of, **kw)
