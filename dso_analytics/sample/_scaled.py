"""Scaled DSOs for benchmarks: N locations x M months of billing (``write_scaled_dso``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from dso_analytics.errors import DsoError
from dso_analytics.sample._billing import (
    _split_billing,
)
from dso_analytics.sample._files import (
    _prepare_out,
    _write_dso,
)
from dso_analytics.sample._spec import (
    DESCRIPTION_TEMPLATES,
    END_DATE,
    SCALED_LINES_PER_LOCATION_MONTH,
    SCALED_ORG_LINES_PER_MONTH,
    _busday,
    _ctx_defaults,
    _Dso,
    _Loc,
    _money,
    _month_end,
    _month_ends,
    _num,
    _read_agreements,
    _uplifted,
)

# ---------------------------------------------------------------------------
# Scaled DSO for benchmarks
# ---------------------------------------------------------------------------
_SCALED_FIXED = ("managed_services", "third_party_licensing", "security_tools",
                 "backup_monitoring", "remote_monitoring")  # fmt: skip
_SCALED_USAGE = {  # service -> weight of the remaining slots
    "helpdesk": 0.30, "after_hours_support": 0.15, "hardware": 0.12, "project_work": 0.08,
    "patch_management": 0.10, "cross_location_incidents": 0.10, "third_party_licensing": 0.10,
    "compliance_documentation": 0.03, "unclassified": 0.02,
}  # fmt: skip
_SCALED_SEAT_PRICES = {"third_party_licensing": 22.0, "security_tools": 6.0,
                       "backup_monitoring": 4.0, "remote_monitoring": 4.0}  # fmt: skip
_SCALED_RATES = {"helpdesk": 150.0, "after_hours_support": 195.0, "project_work": 165.0,
                 "patch_management": 150.0, "cross_location_incidents": 175.0,
                 "compliance_documentation": 175.0}  # fmt: skip


def write_scaled_dso(
    out: Path,
    locations: int,
    months: int = 36,
    seed: int = 7,
    file_format: str = "xlsx",
    force: bool = False,
) -> Path:
    """Write one DSO of ``locations`` locations x ``months`` months of billing.

    Every location billed in a month has exactly
    :data:`SCALED_LINES_PER_LOCATION_MONTH` lines; the organization file has
    :data:`SCALED_ORG_LINES_PER_MONTH` lines a month.  Ten percent of the
    locations are acquired inside the window (billed from their join month,
    plus two onboarding lines); the others are billed every month.  150
    locations x 60 months give about 125,000 lines.

    Parameters
    ----------
    out : Path
        Portfolio folder; the DSO is written to ``out / f"scaled-{locations}x{months}"``.
        Must be empty or absent unless ``force``.
    locations : int
        Number of locations (>= 1).
    months : int
        Months of invoices, ending 2026-10-31 (1..240).
    seed : int
        Seed of the random generator.
    file_format : {"xlsx", "csv"}
        Format of the billing files (locations and agreements are always xlsx).
    force : bool
        Replace that DSO folder if ``out`` is not empty.

    Returns
    -------
    Path
        The DSO folder.

    Raises
    ------
    DsoError
        On a non-empty ``out`` without ``force``, or invalid arguments.
    """
    if file_format not in ("xlsx", "csv"):
        raise DsoError(f"--format must be xlsx or csv, not {file_format!r}")
    if not 1 <= locations <= 100_000:
        raise DsoError(f"--locations must be between 1 and 100000, not {locations}")
    if not 1 <= months <= 240:
        raise DsoError(f"--months must be between 1 and 240, not {months}")
    slug = f"scaled-{locations}x{months}"
    out = Path(out)
    _prepare_out(out, (slug,), force)
    rng = np.random.default_rng([seed, 1000 + locations, months])
    mlist = _month_ends(END_DATE, months)
    locs = _scaled_locations(rng, locations, mlist)
    agreements, services, docs = _read_agreements("scaled")
    lines = _scaled_lines(rng, locs, mlist, agreements[0])
    files = _split_billing(lines, csv_locations=(
        {x.id for x in locs} if file_format == "csv" else set()),
        omit_location_id=True,
        org_file=f"organization.{file_format}", org_date_style="iso")  # fmt: skip
    if file_format == "xlsx":
        files[-1].date_style = "date"
    dso = _Dso(
        slug=slug,
        meta={
            "display_name": f"Scaled DSO ({locations} locations x {months} months)",
            "currency": "USD",
            "notes": "Generated for benchmarks.",
        },  # fmt: skip
        locations=locs,
        agreements=agreements,
        services=services,
        documentation=docs,
        billing=files,
    )
    _write_dso(out, dso)
    return out / slug


def _scaled_locations(rng: np.random.Generator, locations: int, months: list[date]) -> list[_Loc]:
    """The scaled DSO's locations: the last tenth acquired inside the window, evenly spread."""
    window_start = date(months[0].year, months[0].month, 1)
    n_in_window = locations // 10
    locs: list[_Loc] = []
    for i in range(locations):
        ws = int(rng.integers(5, 18))
        if i >= locations - n_in_window:  # acquired inside the window, evenly spread
            offset = ((i - (locations - n_in_window)) * len(months)) // max(1, n_in_window)
            j = _busday(_month_end(window_start, offset - 1) + timedelta(days=1))
            gl = int(rng.integers(6, 30)) if j < date(2026, 9, 1) else None
            jt = "acquisition"
        else:
            j = _busday(date(max(2001, window_start.year - 1 - i % 18), 1 + i % 12, 1 + i % 27))
            jt = ("founding", "acquisition", "de_novo")[i % 3]
            gl = 0 if jt == "founding" else int(rng.integers(8, 40))
        locs.append(_Loc(f"LOC-{i + 1:04d}", f"Scaled Dental {i + 1}", "PA", j, jt, gl, ws,
                         int(rng.integers(0, 3)), "active", f"Site {i + 1}", f"Site {i + 1}"))  # fmt: skip
    return locs


def _scaled_lines(
    rng: np.random.Generator, locs: Sequence[_Loc], months: list[date], agreement: dict
) -> list[dict[str, Any]]:
    """Billing lines of the scaled DSO: fixed count per location-month, templates from all styles."""
    lines: list[dict[str, Any]] = []
    inv_no = 500000
    window_start = date(months[0].year, months[0].month, 1)
    for d in months:
        rate = _uplifted(agreement["monthly_rate"], agreement["annual_uplift_pct"],
                         agreement["start_date"], d)  # fmt: skip
        for loc in locs:
            if loc.billed(d, months):
                inv_no += 1
                lines += _scaled_invoice(rng, loc, d, f"SC-{inv_no}", rate)
        for loc in locs:  # onboarding lines of locations acquired this month
            if loc.join >= window_start and loc.join.strftime("%Y%m") == f"{d:%Y%m}":
                lines += _scaled_onboarding(loc, d)
        lines += _scaled_organization(rng, d, agreement["agreement_id"])
    return lines


def _scaled_line(inv: str, d: date, loc: str | None, text: str, qty: float | None,
                 unit: float | None, amount: float, hours: float | None = None,
                 agreement: str | None = None) -> dict[str, Any]:  # fmt: skip
    return {
        "invoice_number": inv, "invoice_date": d, "location_id": loc, "agreement_id": agreement,
        "description": text, "service": None, "quantity": qty, "unit_price": unit,
        "amount": _money(amount), "hours": hours,
    }  # fmt: skip


def _scaled_invoice(
    rng: np.random.Generator, loc: _Loc, d: date, inv: str, rate: float
) -> list[dict[str, Any]]:
    """One location's invoice of a month: :data:`SCALED_LINES_PER_LOCATION_MONTH` lines."""
    usage = list(_SCALED_USAGE)
    weights = np.array([_SCALED_USAGE[s] for s in usage])
    n_usage = SCALED_LINES_PER_LOCATION_MONTH - len(_SCALED_FIXED)
    svc = list(_SCALED_FIXED) + list(rng.choice(usage, size=n_usage, p=weights / weights.sum()))
    tix = rng.integers(41000, 99000, size=len(svc))
    hrs = rng.integers(2, 9, size=len(svc)) / 2.0
    picks = rng.integers(0, 1 << 30, size=len(svc))
    seen: set[tuple[str, float]] = set()  # no line repeated within an invoice
    lines = []
    for k, s in enumerate(svc):
        ctx = _ctx_defaults()
        ctx.update(ticket=int(tix[k]), tdate=f"{d:%Y%m%d}", seq=f"{k + 1:04d}",
                   month=f"{d:%b %Y}", site=loc.site, n=loc.ws)  # fmt: skip
        qty: float | None = None
        unit: float | None = None
        hours: float | None = None
        if k == 0:
            qty, unit = float(loc.ws), rate
            tpl = "Managed IT Services - Per Seat ({n} @ ${rate})"
        else:
            templates = DESCRIPTION_TEMPLATES[s]
            tpl = templates[int(picks[k]) % len(templates)]
        if s in _SCALED_RATES:
            hours, unit = float(hrs[k]), _SCALED_RATES[s]
            qty = hours
        elif qty is None and s in _SCALED_SEAT_PRICES:
            qty, unit = float(loc.ws), _SCALED_SEAT_PRICES[s]
        amount = qty * unit if qty is not None and unit is not None else float(picks[k] % 900 + 100)
        ctx.update(rate=_num(unit or 0), hours=_num(hours or 1))
        if qty is not None:
            ctx["n"] = _num(qty)
        text = tpl.format(**ctx)
        if (text, _money(amount)) in seen:
            text = f"{text} (line {k + 1})"
        seen.add((text, _money(amount)))
        lines.append(_scaled_line(inv, d, loc.id, text, qty, unit, amount, hours))
    return lines


def _scaled_onboarding(loc: _Loc, d: date) -> list[dict[str, Any]]:
    """The two onboarding lines of a location acquired in month ``d``."""
    return [
        _scaled_line(
            f"SC-OB-{loc.id}", d, loc.id, tpl.format(site=loc.site), 1.0, amount, amount, hours
        )  # fmt: skip
        for tpl, amount, hours in (
            ("Setup Fee - New Location Onboarding - {site}", 7500.0, None),
            ("Onboarding additional labor - {site} - 12 hrs @ $175", 2100.0, 12.0),
        )
    ]


def _scaled_organization(rng: np.random.Generator, d: date, aid: str) -> list[dict[str, Any]]:
    """The organization invoice of month ``d``: :data:`SCALED_ORG_LINES_PER_MONTH` lines."""
    org = (
        ("Quarterly exec IT report (on request)", 450.0),
        ("Multi-site outage - ticket #{ticket}", 350.0),
        ("HIPAA risk assessment documentation package", 1250.0),
    )
    return [
        _scaled_line(
            f"SC-ORG-{d:%Y%m}",
            d,
            None,
            tpl.format(ticket=int(rng.integers(41000, 99000))),
            1.0,
            amount,
            amount,
            agreement=aid if k == 0 else None,
        )  # fmt: skip
        for k, (tpl, amount) in enumerate(org[:SCALED_ORG_LINES_PER_MONTH])
    ]
