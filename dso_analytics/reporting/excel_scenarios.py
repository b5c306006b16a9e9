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

from typing import Any

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


def write_scenarios_sheet(wb: Any, cmp: ScenarioComparison, currency: str = "USD") -> dict:
    """Add the "Scenarios" sheet to an open xlsxwriter workbook.

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
    a = e.assumptions
    ids = e.ids
    n_ag, h = len(ids), e.months
    ok = [s for s in cmp.scenarios if s.error is None]
    cells: dict[str, Any] = {"assumptions": {}, "inputs": {}, "totals": {}}

    ws.write_string(0, 0, f"Negotiation scenarios: the next {e.term_months} months from "
                          f"{e.term_start.date().isoformat()} (M8)", f.title)  # fmt: skip
    ws.write_string(1, 0, "Input", f.legend)
    ws.write_string(1, 1, "cells are assumptions and terms: change them and every formula "
                          "below recomputes. Money: " + currency + ", over each scenario's "
                          "months; savings versus current terms over the same months.",
                   f.note)  # fmt: skip

    # -- planning assumptions ------------------------------------------------
    r = 3
    ws.write_string(r, 0, "Planning assumptions (shared by every scenario)", f.bold)
    assumptions = (
        ("acquisitions_per_year", "Acquisitions per year", a.acquisitions_per_year),
        ("workstations_per_new_location", "Workstations per new location",
         a.workstations_per_new_location),
        ("workstation_growth_pct", "Workstation growth, % per year", a.workstation_growth_pct),
        ("discount_rate_pct", "Discount rate, % per year", a.discount_rate_pct),
    )  # fmt: skip
    ref: dict[str, str] = {}
    for i, (key, label, value) in enumerate(assumptions):
        ws.write_string(r + 1 + i, 0, label)
        ws.write_number(r + 1 + i, 1, float(value), f.num_in)
        ref[key] = _abs(r + 1 + i, 1)
        cells["assumptions"][key] = xl_rowcol_to_cell(r + 1 + i, 1)
    A, WSN, G, D = (ref[k] for k in ("acquisitions_per_year", "workstations_per_new_location",
                                     "workstation_growth_pct", "discount_rate_pct"))  # fmt: skip

    # -- summary (formulas filled once the blocks are placed) ----------------
    r_sum = r + len(assumptions) + 2
    ws.write_string(r_sum, 0, "Side by side (each scenario over its months)", f.bold)
    heads = ("Scenario", "Total cost", "Present value", "Savings vs current terms",
             "Savings vs current (PV)", "Cost per workstation-month", "Clause score",
             "Break-even", "Months modelled")  # fmt: skip
    for j, t in enumerate(heads):
        ws.write_string(r_sum + 1, j, t, f.header)
    r_fail = r_sum + 2 + len(ok)
    for k, s in enumerate(s for s in cmp.scenarios if s.error is not None):
        ws.write_string(r_fail + k, 0, s.name)
        ws.write_string(r_fail + k, 1, "not evaluated: " + (s.error or ""))

    # -- agreements, workstations, locations, new locations by month ---------
    r_ag = r_fail + sum(1 for s in cmp.scenarios if s.error is not None) + 2
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

    r_w = r_ag + 2 + n_ag + 1
    ws.write_string(r_w, 0, "Workstations (W), locations (L) and new locations joining (N) "
                            "per agreement and month (planned locations at their join "
                            "month, acquisitions spread evenly)", f.bold)  # fmt: skip
    hdr = r_w + 1
    ws.write_string(hdr, 0, "t", f.header)
    ws.write_string(hdr, 1, "Month", f.header)
    cw, cl, cn = 2, 2 + n_ag, 2 + 2 * n_ag
    for i, aid in enumerate(ids):
        ws.write_string(hdr, cw + i, f"W {aid}", f.header)
        ws.write_string(hdr, cl + i, f"L {aid}", f.header)
        ws.write_string(hdr, cn + i, f"N {aid}", f.header)
    first = hdr + 1
    for t in range(h):
        rr = first + t
        ws.write_number(rr, 0, t, f.int)
        ws.write_datetime(rr, 1, e.month_starts[t].to_pydatetime(), f.date)
        tc = f"$A{rr + 1}"
        for i, b in enumerate(e.agreements):
            cum_ws = float(b.planned_workstations[: t + 1].sum())
            cum_l = float(b.planned_locations[: t + 1].sum())
            joins = float(b.planned_locations[t])
            acq = f"{prim[i]}*{A}*({tc}+1)/12"
            ws.write_formula(rr, cw + i, f"={w0[i]}*(1+{G}/100*{tc}/12)+{_num(cum_ws)}"
                                         f"+{acq}*{WSN}", f.num)  # fmt: skip
            ws.write_formula(rr, cl + i, f"={l0[i]}+{_num(cum_l)}+{acq}", f.num)
            ws.write_formula(rr, cn + i, f"={_num(joins)}+{prim[i]}*{A}/12", f.num)
    last = first + h - 1
    r_next = last + 2

    # -- one block per scenario ----------------------------------------------
    basis_of = {"per_workstation": cw, "per_location": cl}
    cur_ok = cmp.scenarios[0].error is None  # current terms evaluated: the first block
    cur_cols = ("", "", 0)  # its total / PV column and first row
    for k, s in enumerate(ok):
        n_s = s.term_length(e)
        # current terms run over the whole horizon: a longer scenario compares its months
        rows_s = h if k == 0 and cur_ok else n_s
        ws.write_string(r_next, 0, f"Scenario: {s.name}", f.bold)
        if rows_s > n_s:
            ws.write_string(r_next, 2, f"{n_s} months; months {n_s + 1}-{h} renew it again, "
                                       "to compare the scenarios with a longer term", f.note)  # fmt: skip
        in_h = r_next + 1
        for j, t in enumerate(("Agreement", "Pricing basis", "Rate at term start",
                               "Annual uplift %", "Add-on run-rate per workstation-month",
                               "Onboarding cost per new location")):  # fmt: skip
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
            for j, term in enumerate(("rate", "uplift_pct", "addon_rate", "onboarding_cost")):
                cells["inputs"][(s.name, t.agreement_id, term)] = xl_rowcol_to_cell(rr, 2 + j)
        m_h = in_h + 1 + n_ag + 1
        ws.write_string(m_h, 0, "t", f.header)
        ws.write_string(m_h, 1, "Month", f.header)
        for i, aid in enumerate(ids):
            ws.write_string(m_h, 2 + i, f"Cost {aid}", f.header)
        c_tot, c_df, c_pv, c_cum = 2 + n_ag, 3 + n_ag, 4 + n_ag, 5 + n_ag
        labels = ("Total", "Discount factor", "Present value", "Cumulative")
        for j, t in zip((c_tot, c_df, c_pv, c_cum), labels, strict=True):
            ws.write_string(m_h, j, t, f.header)
        m0 = m_h + 1
        for t in range(rows_s):
            rr = m0 + t
            wr = first + t  # the W/L/N row of the same month
            tc = f"$A{rr + 1}"
            ws.write_formula(rr, 0, f"=$A${wr + 1}", f.int)
            ws.write_formula(rr, 1, f"=$B${wr + 1}", f.date)
            for i, term in enumerate(s.terms):
                rate, up, addon, onb = refs[i]
                wcell = xl_rowcol_to_cell(wr, cw + i)
                qcol = basis_of.get(term.pricing_basis)
                qty = "1" if qcol is None else xl_rowcol_to_cell(wr, qcol + i)
                ncell = xl_rowcol_to_cell(wr, cn + i)
                ws.write_formula(rr, 2 + i, f"={rate}*(1+{up}/100)^INT({tc}/12)*{qty}"
                                            f"+{addon}*{wcell}+{onb}*{ncell}", f.money)  # fmt: skip
            row_cells = f"{xl_rowcol_to_cell(rr, 2)}:{xl_rowcol_to_cell(rr, 1 + n_ag)}"
            ws.write_formula(rr, c_tot, f"=SUM({row_cells})", f.money)
            ws.write_formula(rr, c_df, f"=(1+{D}/100)^(-{tc}/12)", f.factor)
            ws.write_formula(rr, c_pv, f"={xl_rowcol_to_cell(rr, c_tot)}*"
                                       f"{xl_rowcol_to_cell(rr, c_df)}", f.money)  # fmt: skip
            prev = "0" if t == 0 else xl_rowcol_to_cell(rr - 1, c_cum)
            ws.write_formula(rr, c_cum, f"={prev}+{xl_rowcol_to_cell(rr, c_tot)}", f.money)
        mlast = m0 + n_s - 1  # the scenario's own months
        tot_r = m0 + rows_s
        ws.write_string(tot_r, 1, f"Term total ({n_s} months)", f.bold)
        for j in [*range(2, 2 + n_ag), c_tot, c_pv]:
            col = xl_col_to_name(j)
            ws.write_formula(tot_r, j, f"=SUM({col}{m0 + 1}:{col}{mlast + 1})", f.total)
        total = _abs(tot_r, c_tot)
        pv = _abs(tot_r, c_pv)
        w_last = first + n_s - 1
        w_range = f"{xl_rowcol_to_cell(first, cw)}:{xl_rowcol_to_cell(w_last, cw + n_ag - 1)}"
        sr = r_sum + 2 + k
        ws.write_string(sr, 0, s.name)
        # totals to the cent; savings: current terms over the same months, to the cent,
        # minus this total.  Each formula carries the model's figure as its cached value
        # (cmp.table: what the CLI and the notebook show), so a viewer that does not
        # recalculate shows the same number, not 0.
        row = cmp.table[cmp.table["scenario"] == s.name]
        cached = {k: _cached(row, k) for k in ("total_cost", "present_value",
                                               "savings_vs_current", "savings_vs_current_pv",
                                               "cost_per_workstation_month")}  # fmt: skip
        ws.write_formula(sr, 1, f"=ROUND({total},2)", f.money, cached["total_cost"])
        ws.write_formula(sr, 2, f"=ROUND({pv},2)", f.money, cached["present_value"])
        if k == 0:
            cur_cols = (xl_col_to_name(c_tot), xl_col_to_name(c_pv), m0 + 1)
        ct, cp, c0 = cur_cols
        c1 = c0 + n_s - 1
        if cur_ok:
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
        cells["totals"][s.name] = {
            "total_cost": xl_rowcol_to_cell(sr, 1),
            "present_value": xl_rowcol_to_cell(sr, 2),
            "savings_vs_current": xl_rowcol_to_cell(sr, 3),
            "savings_vs_current_pv": xl_rowcol_to_cell(sr, 4),
        }
        r_next = tot_r + 2
    note_r = r_next
    ws.write_string(note_r, 0, "Clause score and break-even are computed by dso-analytics "
                               "(not formulas). Formulas: docs/metrics.md, M8.", f.note)  # fmt: skip
    for i, note in enumerate(cmp.notes):
        ws.write_string(note_r + 1 + i, 0, note, f.note)
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 16)
    ws.set_column(2, 5 + max(n_ag, 4), 14)
    ws.freeze_panes(3, 0)
    return cells
