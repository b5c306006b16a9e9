"""Writing a described DSO: workbooks, CSV files, the specimen PDF, scenarios and negotiation log."""

from __future__ import annotations

import csv
import shutil
import sys
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from dso_analytics import schema as S
from dso_analytics.errors import DsoError
from dso_analytics.sample._spec import (
    _CREATED,
    SAMPLE_DSOS,
    _BillingFile,
    _Dso,
    _num,
    _read_yaml,
    _spec_file,
)

# ---------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------
_MONEY_COLS = {"unit_price", "amount", "monthly_rate", "onboarding_cap", "onboarding_hourly_rate",
               "add_on_rate", "amount_asked", "amount_agreed", "amount_realised"}  # fmt: skip


def _write_xlsx(path: Path, sheets: dict[str, tuple[Sequence[str], Sequence[dict]]]) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(
        str(path),
        {"strings_to_formulas": False, "strings_to_urls": False, "in_memory": True},
    )
    wb.set_properties(
        {"created": _CREATED, "author": "dso-analytics sample generator", "title": path.stem}
    )
    bold = wb.add_format({"bold": True})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    money_fmt = wb.add_format({"num_format": "#,##0.00"})
    for name, (columns, rows) in sheets.items():
        ws = wb.add_worksheet(name)
        ws.write_row(0, 0, list(columns), bold)
        for r, row in enumerate(rows, start=1):
            for c, col in enumerate(columns):
                v = row.get(col)
                if v is None or v == "":
                    continue
                if isinstance(v, date):
                    ws.write_datetime(r, c, datetime(v.year, v.month, v.day), date_fmt)
                elif isinstance(v, bool):
                    ws.write_string(r, c, "yes" if v else "no")
                elif isinstance(v, (int, float, np.integer, np.floating)):
                    fmt = money_fmt if col in _MONEY_COLS else None
                    ws.write_number(r, c, float(v), fmt)
                else:
                    ws.write_string(r, c, str(v))
        ws.freeze_panes(1, 0)
    wb.close()


def _csv_value(v: Any, col: str, date_style: str, money_style: str) -> str:
    if v is None:
        return ""
    if isinstance(v, date):
        return v.strftime("%m/%d/%Y") if date_style == "us" else v.isoformat()
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (int, float, np.integer, np.floating)):
        if col in _MONEY_COLS and money_style == "text":
            x = float(v)
            return f"(${-x:,.2f})" if x < 0 else f"${x:,.2f}"
        if col in _MONEY_COLS:
            return f"{float(v):.2f}"
        return _num(float(v)).replace(",", "")
    return str(v)


def _write_csv(path: Path, columns: Sequence[str], rows: Sequence[dict], date_style: str = "iso",
               money_style: str = "number") -> None:  # fmt: skip
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(columns)
        for row in rows:
            w.writerow([_csv_value(row.get(c), c, date_style, money_style) for c in columns])


def _write_billing(folder: Path, f: _BillingFile) -> Path:
    path = folder / f.name
    if path.suffix == ".csv":
        _write_csv(path, f.columns, f.rows, f.date_style, f.money_style)
    else:
        _write_xlsx(path, {"billing": (f.columns, f.rows)})
    return path


def _write_dso(root: Path, dso: _Dso) -> list[Path]:
    d = root / dso.slug
    (d / S.BILLING_DIR).mkdir(parents=True)
    written = []
    meta = d / S.DSO_META_FILE
    meta.write_text(yaml.safe_dump(dso.meta, sort_keys=False, width=88), encoding="utf-8")
    written.append(meta)
    p = d / f"{S.LOCATIONS_FILE_STEM}.xlsx"
    _write_xlsx(p, {S.LOCATIONS: (S.column_names(S.LOCATIONS), [x.row() for x in dso.locations])})
    written.append(p)
    p = d / f"{S.AGREEMENTS_FILE_STEM}.xlsx"
    _write_xlsx(
        p,
        {
            S.AGREEMENTS: (S.column_names(S.AGREEMENTS), dso.agreements),
            S.SERVICES: (S.column_names(S.SERVICES), dso.services),
            S.DOCUMENTATION: (S.column_names(S.DOCUMENTATION), dso.documentation),
        },
    )
    written.append(p)
    for f in dso.billing:
        written.append(_write_billing(d / S.BILLING_DIR, f))
    return written


def _prepare_out(out: Path, targets: Sequence[str], force: bool) -> None:
    """Refuse a non-empty ``out`` unless ``force``; with force remove only ``targets``."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise DsoError(f"{out}: exists and is not a folder")
    if out.exists() and any(out.iterdir()):
        if not force:
            raise DsoError(f"{out}: folder is not empty; pass --force to replace the sample in it")
        for name in targets:
            t = out / name
            if t.is_dir() and not t.is_symlink():
                shutil.rmtree(t)
            elif t.exists() or t.is_symlink():
                t.unlink()
    out.mkdir(parents=True, exist_ok=True)


def _write_specimen_pdf(dso_dir: Path) -> list[Path]:
    """Write the DSO's first agreement as a contract would state it: ``<agreement_id>.pdf``.

    Composed from the written ``agreements.xlsx`` row, its services and documentation
    (:mod:`dso_analytics.extract.specimen`).  Printing needs fpdf2, a development
    dependency: without it no PDF is written (nothing else changes).
    """
    try:
        import fpdf  # noqa: F401
    except ImportError:
        print(
            f"note: {dso_dir.name}: fpdf2 is not installed, so the sample agreement PDF is not "
            "written (pip install fpdf2, or make sample, which installs the dev extras)",
            file=sys.stderr,
        )
        return []
    from dso_analytics.extract.specimen import compose_agreement, write_agreement_pdf
    from dso_analytics.ingest import read_dso

    ds = read_dso(dso_dir)
    row = ds.agreements.iloc[0].to_dict()
    aid = str(row["agreement_id"])
    names = dict(zip(ds.locations["location_id"], ds.locations["location_name"], strict=True))
    ids = [x.strip() for x in str(row.get("location_ids") or "").split(";") if x.strip()]

    def records(frame: Any) -> list[dict]:
        return frame[frame["agreement_id"] == aid].to_dict("records")

    pages = compose_agreement(
        row, records(ds.services), records(ds.documentation), client=ds.display_name,
        locations="; ".join(names.get(x, x) for x in ids),
    )  # fmt: skip
    return [write_agreement_pdf(pages, dso_dir / f"{aid}.pdf")]


# ---------------------------------------------------------------------------
# Negotiation scenarios (M8): each sample DSO ships its provider's counter-offer
# ---------------------------------------------------------------------------
#: The columns of the sample scenarios files (docs/data-contract.md "scenarios").
_SCENARIO_COLUMNS = (
    "scenario", "agreement_id", "monthly_rate", "base_fee_increase_pct", "annual_uplift_pct",
    "term_months", "onboarding_terms", "onboarding_cap", "onboarding_sla_business_days",
    "reporting", "included_services", "acquisitions_per_year", "workstations_per_new_location",
    "discount_rate_pct", "notes",
)  # fmt: skip

#: Per sample DSO: its scenarios file name and rows (``sample_spec/<dso>/scenarios.yaml``):
#: what a provider typically answers to the DSO-grade asks, plus the DSO's own planning
#: assumptions.
SAMPLE_SCENARIOS: dict[str, tuple[str, list[dict[str, Any]]]] = {
    slug: (spec["file"], spec["scenarios"])
    for slug in SAMPLE_DSOS
    if _spec_file(slug, "scenarios.yaml").is_file()
    for spec in [_read_yaml(slug, "scenarios.yaml")]
}


def _write_scenarios(dso_dir: Path) -> list[Path]:
    """Write the DSO's :data:`SAMPLE_SCENARIOS` file (``scenarios.xlsx`` sheet ``scenarios``,
    or ``scenarios.yaml``); nothing for a DSO without one."""
    spec = SAMPLE_SCENARIOS.get(dso_dir.name)
    if spec is None:
        return []
    name, rows = spec
    path = dso_dir / name
    if path.suffix == ".yaml":
        ordered = [{c: r[c] for c in _SCENARIO_COLUMNS if c in r} for r in rows]
        text = yaml.safe_dump({"scenarios": ordered}, sort_keys=False, width=88)
        path.write_text(text, encoding="utf-8")
    else:
        _write_xlsx(path, {"scenarios": (_SCENARIO_COLUMNS, rows)})
    return [path]


def _write_negotiation_log(dso_dir: Path, rows: Sequence[dict[str, Any]]) -> Path:
    """Write a sample ``negotiation.xlsx`` (sheet ``log``) from the spec's negotiation.yaml."""
    from dso_analytics.actions.negotiation import LOG_COLUMNS, LOG_FILE, LOG_SHEET

    path = dso_dir / LOG_FILE
    _write_xlsx(path, {LOG_SHEET: (LOG_COLUMNS, rows)})
    return path
