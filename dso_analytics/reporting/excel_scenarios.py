"""The live "Scenarios" sheet of the DSO workbook: M8 as real Excel formulas.

The planning assumptions and every scenario's terms are input cells (yellow
fill, blue font: the usual modelling convention); the monthly workstations,
locations, costs, present values and the side-by-side totals are Excel
formulas over them, the same formulas as
:func:`dso_analytics.metrics.scenarios.project` (docs/metrics.md M8).  So
leadership can change an assumption in Excel and see the totals move.

Every formula is built here from cell references and numbers; no text from the
input ever enters a formula (names and ids are written with ``write_string``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from dso_analytics.metrics.scenarios import ScenarioComparison

SHEET = "Scenarios"
INPUT_FILL, INPUT_FONT = "#FFF2CC", "#0000FF"


def _cached(row: Any, key: str) -> float:
    """The model's figure of one table cell (0 when blank): a formula's cached value."""
    if not len(row):
        return 0.0
    v = row[key].iloc[0]
    return 0.0 if v is None or v != v else float(v)


def _abs(row: int, col: int) -> str:
    return xl_rowcol_to_cell(row, col, row_abs=True, col_abs=True)


def _num(x: float) -> str:
    """A number as formula text (repr: exact round-trip)."""
    v = float(x)
    return repr(int(v)) if v.is_integer() else repr(v)


class _Fmt:
    def __init__(self, wb: Any, currency: str) -> None:
        sym = "$" if currency == "USD" else ""
        money = f"{sym}#,##0.00;[Red]-{sym}#,##0.00;{sym}0.00"
        inp = {"bg_color": INPUT_FILL, "font_color": INPUT_FONT, "border": 1}
        self.money = wb.add_format({"num_format": money})
        self.money_in = wb.add_format({"num_format": money, **inp})
        self.num_in = wb.add_format({"num_format": "#,##0.00", **inp})
        self.num = wb.add_format({"num_format": "#,##0.00"})
        self.factor = wb.add_format({"num_format": "0.0000"})
        self.pct = wb.add_format({"num_format": "0.0%"})
        self.date = wb.add_format({"num_format": "yyyy-mm-dd"})
        self.int = wb.add_format({"num_format": "0"})
        self.bold = wb.add_format({"bold": True})
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.header = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1,
                                     "text_wrap": True, "valign": "top"})  # fmt: skip
        self.total = wb.add_format({"bold": True, "num_format": money, "top": 1})
        self.note = wb.add_format({"italic": True, "font_color": "#555555"})
        self.legend = wb.add_format(inp)


@dataclass(frozen=True)
class _Grid:
    """Where the shared blocks stand: what every scenario block's formulas refer to.

    ``assumption`` holds the planning assumptions' absolute cells by name;
    ``first`` is the first month row of the workstations / locations / new
    locations table, whose columns for agreement ``i`` are ``cw + i``,
    ``cl + i`` and ``cn + i``.
    """

    assumption: dict[str, str]
    first: int
    cw: int
    cl: int
    cn: int


class _Block(NamedTuple):
    """Where a scenario block's monthly costs stand (rows and columns, 0-based)."""

    m0: int  # its first month row
    tot_r: int  # its term total row
    c_tot: int  # its total column
    c_pv: int  # its present value column


_ASSUMPTION_LABELS = (
    ("acquisitions_per_year", "Acquisitions per year"),
    ("workstations_per_new_location", "Workstations per new location"),
    ("workstation_growth_pct", "Workstation growth, % per year"),
    ("discount_rate_pct", "Discount rate, % per year"),
)
_SUMMARY_HEADS = ("Scenario", "Total cost", "Present value", "Savings vs current terms",
                  "Savings vs current (PV)", "Cost per workstation-month", "Clause score",
                  "Break-even", "Months modelled")  # fmt: skip
_TERM_HEADS = ("Agreement", "Pricing basis", "Rate at term start", "Annual uplift %",
               "Add-on run-rate per workstation-month", "Onboarding cost per new location")  # fmt: skip
_TERM_INPUTS = ("rate", "uplift_pct", "addon_rate", "onboarding_cost")
_CACHED = ("total_cost", "present_value", "savings_vs_current", "savings_vs_current_pv",
           "cost_per_workstation_month")  # fmt: skip


def write_scenarios_sheet(wb: Any, cmp: ScenarioComparison, currency: str = "USD") -> dict:
    """Add the "Scenarios" sheet to an open xlsxwriter workbook.

    The sheet, top to bottom: the heading, the planning assumptions, the
    side-by-side totals (filled as each scenario block is placed), the
    agreements modelled, the workstations / locations / new locations by
    month, one block per evaluated scenario, the notes.

    Parameters
    ----------
    wb : xlsxwriter.Workbook
        The workbook being written (``strings_to_formulas`` off).
    cmp : ScenarioComparison
        From :func:`dso_analytics.metrics.scenarios.compare_scenarios`.
    currency : str

    Returns
    -------
    dict
        Cell addresses (A1 style) of the inputs and totals, for tests:
        ``assumptions`` {name: cell}, ``inputs`` {(scenario, agreement_id,
        term): cell}, ``totals`` {scenario: {"total_cost", "present_value",
        "savings_vs_current", "workstation_months"}: cell}.
    """
    f = _Fmt(wb, currency)
    ws = wb.add_worksheet(SHEET)
    e = cmp.estate
    ok = [s for s in cmp.scenarios if s.error is None]
    failed = [s for s in cmp.scenarios if s.error is not None]
    cells: dict[str, Any] = {"assumptions": {}, "inputs": {}, "totals": {}}
    _write_heading(ws, f, e, currency)
    r = 3
    ref = _write_assumptions(ws, f, e.assumptions, r, cells["assumptions"])
    r_sum = r + len(ref) + 2
    _write_summary_head(ws, f, r_sum, r_sum + 2 + len(ok), failed)
    r_ag = r_sum + 2 + len(ok) + len(failed) + 2
    grid = _write_estate(ws, f, e, r_ag, ref)
    cur_ok = cmp.scenarios[0].error is None  # current terms evaluated: the first block
    cur_cols: tuple[str, str, int] | None = None  # its total / PV column and first row
    r_next = grid.first + e.months + 1
    for k, s in enumerate(ok):
        # current terms run over the whole horizon: a longer scenario compares its months
        rows_s = e.months if k == 0 and cur_ok else s.term_length(e)
        block = _write_scenario_block(ws, f, e, grid, s, r_next, rows_s, cells["inputs"])
        if k == 0 and cur_ok:
            cur_cols = (xl_col_to_name(block.c_tot), xl_col_to_name(block.c_pv), block.m0 + 1)
        cells["totals"][s.name] = _write_side_by_side_row(
            ws, f, cmp, s, r_sum + 2 + k, block, grid, cur_cols
        )
        r_next = block.tot_r + 2
    _write_notes(ws, f, cmp, r_next)
    return cells


def _write_heading(ws: Any, f: _Fmt, e: Any, currency: str) -> None:
    """The sheet's title and the legend of the input cells."""
    ws.write_string(0, 0, f"Negotiation scenarios: the next {e.term_months} months from "
                          f"{e.term_start.date().isoformat()} (M8)", f.title)  # fmt: skip
    ws.write_string(1, 0, "Input", f.legend)
    ws.write_string(1, 1, "cells are assumptions and terms: change them and every formula "
                          "below recomputes. Money: " + currency + ", over each scenario's "
                          "months; savings versus current terms over the same months.",
                   f.note)  # fmt: skip


def _write_assumptions(ws: Any, f: _Fmt, a: Any, r: int, cells: dict) -> dict[str, str]:
    """The planning assumptions (input cells) from row ``r``; their absolute cells by name.

    ``cells`` receives their A1 addresses (for tests).
    """
    ws.write_string(r, 0, "Planning assumptions (shared by every scenario)", f.bold)
    ref: dict[str, str] = {}
    for i, (key, label) in enumerate(_ASSUMPTION_LABELS):
        ws.write_string(r + 1 + i, 0, label)
        ws.write_number(r + 1 + i, 1, float(getattr(a, key)), f.num_in)
        ref[key] = _abs(r + 1 + i, 1)
        cells[key] = xl_rowcol_to_cell(r + 1 + i, 1)
    return ref


def _write_summary_head(ws: Any, f: _Fmt, r_sum: int, r_fail: int, failed: list) -> None:
    """The side-by-side block's title and header, and the scenarios not evaluated from
    ``r_fail`` (the evaluated ones' rows are written with their blocks)."""
    ws.write_string(r_sum, 0, "Side by side (each scenario over its months)", f.bold)
    for j, t in enumerate(_SUMMARY_HEADS):
        ws.write_string(r_sum + 1, j, t, f.header)
    for k, s in enumerate(failed):
        ws.write_string(r_fail + k, 0, s.name)
        ws.write_string(r_fail + k, 1, "not evaluated: " + (s.error or ""))


def _write_estate(ws: Any, f: _Fmt, e: Any, r_ag: int, ref: dict[str, str]) -> _Grid:
    """The agreements modelled from row ``r_ag``, then their workstations (W), locations
    (L) and new locations joining (N) by month, as formulas over the assumptions."""
    ws.write_string(r_ag, 0, "Agreements modelled (existing estate at the term start)", f.bold)
    for j, t in enumerate(("Agreement", "Existing workstations", "Existing locations",
                           "Takes the acquisitions")):  # fmt: skip
        ws.write_string(r_ag + 1, j, t, f.header)
    w0, l0, prim = {}, {}, {}
    for i, b in enumerate(e.agreements):
        rr = r_ag + 2 + i
        ws.write_string(rr, 0, b.agreement_id)
        ws.write_number(rr, 1, b.existing_workstations)
        ws.write_number(rr, 2, b.existing_locations)
        ws.write_number(rr, 3, 1.0 if b.agreement_id == e.primary else 0.0, f.int)
        w0[i], l0[i], prim[i] = _abs(rr, 1), _abs(rr, 2), _abs(rr, 3)

    n_ag = len(e.ids)
    r_w = r_ag + 2 + n_ag + 1
    ws.write_string(r_w, 0, "Workstations (W), locations (L) and new locations joining (N) "
                            "per agreement and month (planned locations at their join "
                            "month, acquisitions spread evenly)", f.bold)  # fmt: skip
    hdr = r_w + 1
    ws.write_string(hdr, 0, "t", f.header)
    ws.write_string(hdr, 1, "Month", f.header)
    grid = _Grid(ref, hdr + 1, 2, 2 + n_ag, 2 + 2 * n_ag)
    for i, aid in enumerate(e.ids):
        ws.write_string(hdr, grid.cw + i, f"W {aid}", f.header)
        ws.write_string(hdr, grid.cl + i, f"L {aid}", f.header)
        ws.write_string(hdr, grid.cn + i, f"N {aid}", f.header)
    A, WSN, G = (ref[k] for k in ("acquisitions_per_year", "workstations_per_new_location",
                                  "workstation_growth_pct"))  # fmt: skip
    for t in range(e.months):
        rr = grid.first + t
        ws.write_number(rr, 0, t, f.int)
        ws.write_datetime(rr, 1, e.month_starts[t].to_pydatetime(), f.date)
        tc = f"$A{rr + 1}"
        for i, b in enumerate(e.agreements):
            cum_ws = float(b.planned_workstations[: t + 1].sum())
            cum_l = float(b.planned_locations[: t + 1].sum())
            joins = float(b.planned_locations[t])
            acq = f"{prim[i]}*{A}*({tc}+1)/12"
            ws.write_formula(rr, grid.cw + i, f"={w0[i]}*(1+{G}/100*{tc}/12)+{_num(cum_ws)}"
                                              f"+{acq}*{WSN}", f.num)  # fmt: skip
            ws.write_formula(rr, grid.cl + i, f"={l0[i]}+{_num(cum_l)}+{acq}", f.num)
            ws.write_formula(rr, grid.cn + i, f"={_num(joins)}+{prim[i]}*{A}/12", f.num)
    return grid


def _write_scenario_block(ws: Any, f: _Fmt, e: Any, grid: _Grid, s: Any, r_next: int,
                          rows_s: int, inputs: dict) -> _Block:  # fmt: skip
    """One scenario's block from row ``r_next``: its terms (input cells), its cost by
    agreement and month over ``rows_s`` months, and its term total row."""
    n_s = s.term_length(e)
    n_ag = len(e.ids)
    ws.write_string(r_next, 0, f"Scenario: {s.name}", f.bold)
    if rows_s > n_s:
        ws.write_string(r_next, 2, f"{n_s} months; months {n_s + 1}-{e.months} renew it again, "
                                   "to compare the scenarios with a longer term", f.note)  # fmt: skip
    in_h = r_next + 1
    refs = _write_terms(ws, f, s, in_h, inputs)
    m_h = in_h + 1 + n_ag + 1
    block = _write_monthly_costs(ws, f, e, grid, s, refs, m_h, rows_s)
    mlast = block.m0 + n_s - 1  # the scenario's own months
    ws.write_string(block.tot_r, 1, f"Term total ({n_s} months)", f.bold)
    for j in [*range(2, 2 + n_ag), block.c_tot, block.c_pv]:
        col = xl_col_to_name(j)
        ws.write_formula(block.tot_r, j, f"=SUM({col}{block.m0 + 1}:{col}{mlast + 1})", f.total)
    return block


def _write_terms(ws: Any, f: _Fmt, s: Any, in_h: int, inputs: dict) -> list[tuple[str, ...]]:
    """A scenario's terms per agreement (input cells) under the header row ``in_h``; the
    absolute cells of each agreement's rate, uplift, add-on rate and onboarding cost.

    ``inputs`` receives their A1 addresses by (scenario, agreement_id, term).
    """
    for j, t in enumerate(_TERM_HEADS):
        ws.write_string(in_h, j, t, f.header)
    refs = []
    for i, t in enumerate(s.terms):
        rr = in_h + 1 + i
        ws.write_string(rr, 0, t.agreement_id)
        ws.write_string(rr, 1, t.pricing_basis if t.renewed else "not renewed")
        ws.write_number(rr, 2, t.rate, f.money_in)
        ws.write_number(rr, 3, t.uplift_pct, f.num_in)
        ws.write_number(rr, 4, t.addon_rate, f.num_in)
        ws.write_number(rr, 5, t.onboarding_cost, f.money_in)
        refs.append(tuple(_abs(rr, c) for c in (2, 3, 4, 5)))
        for j, term in enumerate(_TERM_INPUTS):
            inputs[(s.name, t.agreement_id, term)] = xl_rowcol_to_cell(rr, 2 + j)
    return refs


def _write_monthly_costs(ws: Any, f: _Fmt, e: Any, grid: _Grid, s: Any, refs: list,
                         m_h: int, rows_s: int) -> _Block:  # fmt: skip
    """A scenario's cost per agreement and month under the header row ``m_h`` (M8's
    formula over its terms and the W/L/N table), with the month's total, discount
    factor, present value and cumulative cost."""
    n_ag = len(e.ids)
    ws.write_string(m_h, 0, "t", f.header)
    ws.write_string(m_h, 1, "Month", f.header)
    for i, aid in enumerate(e.ids):
        ws.write_string(m_h, 2 + i, f"Cost {aid}", f.header)
    c_tot, c_df, c_pv, c_cum = 2 + n_ag, 3 + n_ag, 4 + n_ag, 5 + n_ag
    labels = ("Total", "Discount factor", "Present value", "Cumulative")
    for j, t in zip((c_tot, c_df, c_pv, c_cum), labels, strict=True):
        ws.write_string(m_h, j, t, f.header)
    basis_of = {"per_workstation": grid.cw, "per_location": grid.cl}
    D = grid.assumption["discount_rate_pct"]
    m0 = m_h + 1
    for t in range(rows_s):
        rr = m0 + t
        wr = grid.first + t  # the W/L/N row of the same month
        tc = f"$A{rr + 1}"
        ws.write_formula(rr, 0, f"=$A${wr + 1}", f.int)
        ws.write_formula(rr, 1, f"=$B${wr + 1}", f.date)
        for i, term in enumerate(s.terms):
            rate, up, addon, onb = refs[i]
            wcell = xl_rowcol_to_cell(wr, grid.cw + i)
            qcol = basis_of.get(term.pricing_basis)
            qty = "1" if qcol is None else xl_rowcol_to_cell(wr, qcol + i)
            ncell = xl_rowcol_to_cell(wr, grid.cn + i)
            ws.write_formula(rr, 2 + i, f"={rate}*(1+{up}/100)^INT({tc}/12)*{qty}"
                                        f"+{addon}*{wcell}+{onb}*{ncell}", f.money)  # fmt: skip
        row_cells = f"{xl_rowcol_to_cell(rr, 2)}:{xl_rowcol_to_cell(rr, 1 + n_ag)}"
        ws.write_formula(rr, c_tot, f"=SUM({row_cells})", f.money)
        ws.write_formula(rr, c_df, f"=(1+{D}/100)^(-{tc}/12)", f.factor)
        ws.write_formula(rr, c_pv, f"={xl_rowcol_to_cell(rr, c_tot)}*"
                                   f"{xl_rowcol_to_cell(rr, c_df)}", f.money)  # fmt: skip
        prev = "0" if t == 0 else xl_rowcol_to_cell(rr - 1, c_cum)
        ws.write_formula(rr, c_cum, f"={prev}+{xl_rowcol_to_cell(rr, c_tot)}", f.money)
    return _Block(m0, m0 + rows_s, c_tot, c_pv)


def _write_side_by_side_row(ws: Any, f: _Fmt, cmp: ScenarioComparison, s: Any, sr: int,
                            block: _Block, grid: _Grid,
                            cur_cols: tuple[str, str, int] | None) -> dict[str, str]:  # fmt: skip
    """A scenario's row ``sr`` of the side-by-side block; its totals' A1 addresses.

    ``cur_cols`` is the current terms' total / PV column and first month row
    (``None`` when current terms were not evaluated: no savings then).
    """
    n_ag, n_s = len(cmp.estate.ids), s.term_length(cmp.estate)
    total = _abs(block.tot_r, block.c_tot)
    pv = _abs(block.tot_r, block.c_pv)
    w_last = grid.first + n_s - 1
    w_range = (f"{xl_rowcol_to_cell(grid.first, grid.cw)}:"
               f"{xl_rowcol_to_cell(w_last, grid.cw + n_ag - 1)}")  # fmt: skip
    ws.write_string(sr, 0, s.name)
    # totals to the cent; savings: current terms over the same months, to the cent,
    # minus this total.  Each formula carries the model's figure as its cached value
    # (cmp.table: what the CLI and the notebook show), so a viewer that does not
    # recalculate shows the same number, not 0.
    row = cmp.table[cmp.table["scenario"] == s.name]
    cached = {k: _cached(row, k) for k in _CACHED}
    ws.write_formula(sr, 1, f"=ROUND({total},2)", f.money, cached["total_cost"])
    ws.write_formula(sr, 2, f"=ROUND({pv},2)", f.money, cached["present_value"])
    if cur_cols is not None:
        ct, cp, c0 = cur_cols
        c1 = c0 + n_s - 1
        ws.write_formula(sr, 3, f"=ROUND(SUM(${ct}${c0}:${ct}${c1}),2)-{_abs(sr, 1)}",
                         f.money, cached["savings_vs_current"])  # fmt: skip
        ws.write_formula(sr, 4, f"=ROUND(SUM(${cp}${c0}:${cp}${c1}),2)-{_abs(sr, 2)}",
                         f.money, cached["savings_vs_current_pv"])  # fmt: skip
    ws.write_formula(sr, 5, f"=IF(SUM({w_range})>0,{total}/SUM({w_range}),0)", f.money,
                     cached["cost_per_workstation_month"])  # fmt: skip
    cs = s.clause_score
    if cs == cs:  # not NaN
        ws.write_number(sr, 6, cs, f.pct)
    if len(row) and row["break_even"].iloc[0]:
        ws.write_string(sr, 7, str(row["break_even"].iloc[0]))
    ws.write_number(sr, 8, n_s, f.int)
    return {
        "total_cost": xl_rowcol_to_cell(sr, 1),
        "present_value": xl_rowcol_to_cell(sr, 2),
        "savings_vs_current": xl_rowcol_to_cell(sr, 3),
        "savings_vs_current_pv": xl_rowcol_to_cell(sr, 4),
    }


def _write_notes(ws: Any, f: _Fmt, cmp: ScenarioComparison, note_r: int) -> None:
    """The notes under the blocks, the column widths and the frozen heading."""
    ws.write_string(note_r, 0, "Clause score and break-even are computed by dso-analytics "
                               "(not formulas). Formulas: docs/metrics.md, M8.", f.note)  # fmt: skip
    for i, note in enumerate(cmp.notes):
        ws.write_string(note_r + 1 + i, 0, note, f.note)
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 16)
    ws.set_column(2, 5 + max(len(cmp.estate.ids), 4), 14)
    ws.freeze_panes(3, 0)
