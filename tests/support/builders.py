"""Build small DSO folders for tests (CSV or xlsx), from lists of row dicts.

Test modules import it as ``from builders import make_dso, base_tables``
(``tests/`` is on ``sys.path`` through ``conftest.py``).

Values are written as given: pass text (``"$1,200.00"``, ``"03/31/2025"``)
to exercise parsing, or numbers/dates for typed cells in xlsx.
"""

from __future__ import annotations

import copy
import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import openpyxl

Rows = Sequence[Mapping[str, Any]]


def _columns(rows: Rows, columns: Sequence[str] | None) -> list[str]:
    if columns is not None:
        return list(columns)
    cols: list[str] = []
    for r in rows:
        for k in r:
            if k not in cols:
                cols.append(k)
    return cols


def write_table(
    path: Path,
    sheets: Mapping[str, Rows],
    columns: Mapping[str, Sequence[str]] | None = None,
) -> Path:
    """Write one file: ``.csv`` (first sheet only) or ``.xlsx`` (every sheet)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = columns or {}
    if path.suffix == ".csv":
        ((name, rows),) = list(sheets.items())[:1]
        cols = _columns(rows, columns.get(name))
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(cols)
            for r in rows:
                w.writerow(["" if r.get(c) is None else r.get(c) for c in cols])
        return path
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        cols = _columns(rows, columns.get(name))
        ws.append(cols)
        for r in rows:
            ws.append([r.get(c) for c in cols])
    wb.save(path)
    return path


def base_tables() -> dict[str, Any]:
    """A tiny valid DSO: 2 locations, 1 organization agreement, 3 billing lines.

    Returns a dict with keys ``locations``, ``agreements``, ``services``,
    ``documentation`` (lists of row dicts) and ``billing`` (file name -> rows).
    Tests copy and edit it.
    """
    return copy.deepcopy(
        {
            "locations": [
                {"location_id": "LOC-001", "location_name": "Main St Dental", "state": "MA",
                 "join_date": "2020-01-01", "join_type": "founding", "go_live_date": "2020-01-01",
                 "workstations": 10, "servers": 1, "status": "active"},
                {"location_id": "LOC-002", "location_name": "Elm Dental", "state": "MA",
                 "join_date": "2024-03-04", "join_type": "acquisition",
                 "go_live_date": "2024-03-18", "workstations": 6, "servers": 0,
                 "status": "active"},
            ],
            "agreements": [
                {"agreement_id": "AG-1", "provider": "Acme IT", "scope": "organization",
                 "location_ids": "", "start_date": "2023-01-01", "term_months": 36,
                 "auto_renew": "yes", "renewal_term_months": 12, "notice_days": 90,
                 "pricing_basis": "per_workstation", "monthly_rate": "150.00",
                 "annual_uplift_pct": 3, "new_location_terms": "amendment",
                 "onboarding_terms": "hourly", "onboarding_cap": "",
                 "onboarding_hourly_rate": "175", "onboarding_sla_business_days": "",
                 "reporting": "on_request", "change_of_ownership_termination": "no",
                 "baa": "organization", "p1_response_minutes": 30, "p1_resolution_hours": 8},
            ],
            "services": [
                {"agreement_id": "AG-1", "service": "helpdesk", "coverage": "included"},
                {"agreement_id": "AG-1", "service": "cross_location_incidents",
                 "coverage": "add_on", "add_on_rate": "250", "add_on_unit": "per_incident"},
            ],
            "documentation": [
                {"agreement_id": "AG-1", "deliverable": "access_control_logs",
                 "specified": "yes"},
            ],
            "billing": {
                "organization.csv": [
                    {"invoice_number": "INV-100", "invoice_date": "2025-01-31",
                     "location_id": "", "agreement_id": "",
                     "description": "Managed services - January", "service": "",
                     "quantity": 16, "unit_price": "150.00", "amount": "2,400.00", "hours": ""},
                    {"invoice_number": "INV-100", "invoice_date": "2025-01-31",
                     "location_id": "LOC-002", "agreement_id": "",
                     "description": "Multi-site outage ticket #4411", "service": "",
                     "quantity": 1, "unit_price": "250", "amount": "$250.00", "hours": ""},
                ],
                "LOC-002.csv": [
                    {"invoice_number": "INV-101", "invoice_date": "03/31/2024",
                     "description": "New location setup - Elm", "service": "new_location_onboarding",
                     "quantity": 40, "unit_price": "175", "amount": "7000", "hours": 40},
                ],
            },
        }
    )  # fmt: skip


def make_dso(
    root: Path,
    name: str = "acme-dental",
    tables: Mapping[str, Any] | None = None,
    fmt: str = "csv",
    dso_yaml: str | None = None,
) -> Path:
    """Write a DSO folder under ``root`` and return its path.

    Parameters
    ----------
    root : Path
        Portfolio folder (created if needed).
    name : str
        DSO folder name (slug).
    tables : mapping, optional
        As returned by :func:`base_tables` (default: that).
    fmt : {"csv", "xlsx"}
        Format of locations/agreements files.  ``agreements.csv`` cannot hold
        three sheets, so with ``csv`` the services and documentation tables are
        written as ``services.csv`` and ``documentation.csv``.
    dso_yaml : str, optional
        Text of ``dso.yaml``.
    """
    t = dict(base_tables() if tables is None else tables)
    d = root / name
    d.mkdir(parents=True, exist_ok=True)
    if dso_yaml is not None:
        (d / "dso.yaml").write_text(dso_yaml, encoding="utf-8")
    if fmt == "xlsx":
        write_table(d / "locations.xlsx", {"locations": t["locations"]})
        write_table(
            d / "agreements.xlsx",
            {
                "agreements": t["agreements"],
                "services": t.get("services", []),
                "documentation": t.get("documentation", []),
            },
            columns={
                "services": ["agreement_id", "service", "coverage", "add_on_rate",
                             "add_on_unit"],
                "documentation": ["agreement_id", "deliverable", "specified"],
            },
        )  # fmt: skip
    else:
        write_table(d / "locations.csv", {"locations": t["locations"]})
        write_table(d / "agreements.csv", {"agreements": t["agreements"]})
        write_table(
            d / "services.csv",
            {"services": t.get("services", [])},
            columns={"services": ["agreement_id", "service", "coverage", "add_on_rate",
                                  "add_on_unit"]},
        )  # fmt: skip
        write_table(
            d / "documentation.csv",
            {"documentation": t.get("documentation", [])},
            columns={"documentation": ["agreement_id", "deliverable", "specified"]},
        )
    for fname, rows in t.get("billing", {}).items():
        write_table(d / "billing" / fname, {"billing": rows})
    return d
