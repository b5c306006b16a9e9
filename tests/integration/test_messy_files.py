"""Messy spreadsheets: title rows, merged header bands, blank rows, totals, error cells,
encodings, several sheets, duplicates across files."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pandas as pd

from dso_analytics.ingest import read_dso, read_raw_table
from dso_analytics.ingest.workbook import contract_header_matcher
from tests.support.builders import base_tables, make_dso

HEAD = ["Invoice Number", "Invoice Date", "Description", "Amount"]


def _messy_sheet(ws, total: float | None = 350.0, label: str = "Total"):
    """Row 1 title (merged A1:D1), row 2 blank, row 3 band (merged), row 4 header,
    rows 5-6 lines, row 7 blank, row 8 line, row 9 footer."""
    ws["A1"] = "Acme IT - invoice lines export"
    ws.merge_cells("A1:D1")
    ws["A3"] = "Invoice"
    ws.merge_cells("A3:B3")
    ws["C3"] = "Charges"
    ws.merge_cells("C3:D3")
    for j, h in enumerate(HEAD, start=1):
        ws.cell(row=4, column=j, value=h)
    ws.append(["I-1", "2025-01-31", "Helpdesk", 100])  # row 5
    ws.append(["I-1", "2025-01-31", "Backup", "$200.00"])  # row 6
    ws.append([])  # row 7 (blank, skipped)
    ws.cell(row=8, column=1, value="I-2")
    ws.cell(row=8, column=2, value="2025-02-28")
    ws.cell(row=8, column=3, value="Patch")
    ws.cell(row=8, column=4, value=50)
    if total is not None:
        ws.cell(row=9, column=1, value=label)
        ws.cell(row=9, column=4, value=total)


def _dso_with(tmp_path, fname, wb):
    d = make_dso(tmp_path, tables=base_tables())
    wb.save(d / "billing" / fname)
    return d


def test_title_rows_band_blank_rows_total(tmp_path):
    wb = openpyxl.Workbook()
    _messy_sheet(wb.active)
    d = _dso_with(tmp_path, "messy.xlsx", wb)
    raw = read_raw_table(
        d / "billing" / "messy.xlsx", header_matcher=contract_header_matcher("billing")
    )
    assert raw.header_row == 4
    assert raw.footers[["source_row"]].values.ravel().tolist() == [9]
    ds = read_dso(d)
    b = ds.billing[ds.billing["source_file"] == "billing/messy.xlsx"]
    # rows as Excel shows them: 5, 6, 8 (blank row 7 skipped, footer row 9 excluded)
    assert b["source_row"].tolist() == [5, 6, 8]
    assert b["amount"].tolist() == [100.0, 200.0, 50.0]
    # total 350 = 100 + 200 + 50: no problem
    assert [p for p in ds.read_problems if p.rule == "total_mismatch"] == []


def test_total_mismatch_is_a_problem(tmp_path):
    wb = openpyxl.Workbook()
    _messy_sheet(wb.active, total=400.0, label="Grand Total:")
    ds = read_dso(_dso_with(tmp_path, "messy.xlsx", wb))
    (p,) = [p for p in ds.read_problems if p.rule == "total_mismatch"]
    # footer 400 vs lines 100 + 200 + 50 = 350
    assert (p.file, p.row, p.column) == ("billing/messy.xlsx", 9, "amount")
    assert "400.00" in p.problem and "350.00" in p.problem
    assert len(ds.billing[ds.billing["source_file"] == "billing/messy.xlsx"]) == 3


def test_subtotals_and_grand_total(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEAD)  # row 1
    ws.append(["I-1", "2025-01-31", "a", 10])  # 2
    ws.append(["I-1", "2025-01-31", "b", 5])  # 3
    ws.append(["Subtotal", None, None, 15])  # 4: 10 + 5
    ws.append(["I-2", "2025-02-28", "c", 7])  # 5
    ws.append(["Sub-total", None, None, 7])  # 6: 7
    ws.append(["Grand total", None, None, 22])  # 7: 10 + 5 + 7
    ds = read_dso(_dso_with(tmp_path, "sub.xlsx", wb))
    b = ds.billing[ds.billing["source_file"] == "billing/sub.xlsx"]
    assert b["source_row"].tolist() == [2, 3, 5]
    assert [p for p in ds.read_problems if p.rule == "total_mismatch"] == []


def test_vertically_merged_header_cell(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "Invoice Number"
    ws.merge_cells("A1:A2")  # the header cell spans the band row and the header row
    ws["B1"] = "Details"
    ws.merge_cells("B1:D1")
    ws["B2"], ws["C2"], ws["D2"] = "Invoice Date", "Description", "Amount"
    ws.append(["I-9", "2025-03-31", "Helpdesk", 12])  # row 3
    ds = read_dso(_dso_with(tmp_path, "merged.xlsx", wb))
    b = ds.billing[ds.billing["source_file"] == "billing/merged.xlsx"]
    assert b[["invoice_number", "amount", "source_row"]].values.tolist() == [["I-9", 12.0, 3]]
    assert [p for p in ds.read_problems if p.file == "billing/merged.xlsx"] == []


def test_sheet_with_the_lines_is_picked(tmp_path):
    wb = openpyxl.Workbook()
    summary = wb.active
    summary.title = "Summary"
    summary.append(["Customer", "Acme Dental"])
    summary.append(["Total due", 99])
    lines = wb.create_sheet("Lines")
    lines.append(HEAD)
    lines.append(["I-1", "2025-01-31", "Helpdesk", 99])
    ds = read_dso(_dso_with(tmp_path, "two.xlsx", wb))
    b = ds.billing[ds.billing["source_file"] == "billing/two.xlsx"]
    assert b["source_sheet"].tolist() == ["Lines"]
    src = [s for s in ds.sources if s.path == "billing/two.xlsx"]
    assert src[0].sheets == ("Lines",)


def _with_error_cell(data: bytes, cell_xml: bytes, ref: bytes) -> bytes:
    """Replace cell ``ref`` of sheet1 with ``cell_xml`` (raw XML, as Excel writes it)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                start = content.index(b'<c r="' + ref + b'"')
                end = content.index(b"</c>", start) + len(b"</c>")
                content = content[:start] + cell_xml + content[end:]
            z.writestr(info.filename, content)
    return out.getvalue()


def test_excel_error_cells_are_errors_not_blanks(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "billing"
    ws.append(["invoice_number", "invoice_date", "description", "amount"])
    ws.append(["I-1", "2025-01-31", "Helpdesk", 10])  # row 2
    ws.append(["I-2", "2025-01-31", "Backup", 20])  # row 3
    buf = io.BytesIO()
    wb.save(buf)
    # a formula with a cached #DIV/0! (written as Excel does) and an #N/A description
    data = _with_error_cell(buf.getvalue(), b'<c r="D3" t="e"><f>1/0</f><v>#DIV/0!</v></c>', b"D3")
    data = _with_error_cell(data, b'<c r="C2" t="e"><v>#N/A</v></c>', b"C2")
    d = make_dso(tmp_path, tables=base_tables())
    (d / "billing" / "err.xlsx").write_bytes(data)
    ds = read_dso(d)
    b = ds.billing[ds.billing["source_file"] == "billing/err.xlsx"].set_index("source_row")
    assert pd.isna(b.loc[3, "amount"]) and b.loc[3, "amount__invalid"] == "#DIV/0!"
    assert pd.isna(b.loc[2, "description"]) and b.loc[2, "description__invalid"] == "#N/A"
    errs = sorted((p.row, p.column, p.value) for p in ds.read_problems if p.rule == "excel_error")
    assert errs == [(2, "description", "#N/A"), (3, "amount", "#DIV/0!")]
    assert all(p.file == "billing/err.xlsx" and p.sheet == "billing" for p in ds.read_problems
               if p.rule == "excel_error")  # fmt: skip


def test_csv_encodings(tmp_path):
    header = "invoice_number,invoice_date,description,amount\r\n"
    d = make_dso(tmp_path, tables=base_tables())
    (d / "billing" / "bom.csv").write_bytes(
        b"\xef\xbb\xbf" + (header + "B-1,2025-01-31,Caf\u00e9 network,10\r\n").encode("utf-8")
    )
    (d / "billing" / "win.csv").write_bytes(
        (header + "W-1,2025-01-31,Setup \u2013 \u20ac pass-through,20\r\n").encode("cp1252")
    )
    ds = read_dso(d)
    b = ds.billing.set_index("invoice_number")
    assert b.loc["B-1", "description"] == "Caf\u00e9 network"  # BOM not glued to the header
    assert b.loc["W-1", "description"] == "Setup \u2013 \u20ac pass-through"
    assert [p for p in ds.read_problems if p.severity == "error"] == []


def test_messy_values_in_csv(tmp_path):
    t = base_tables()
    nbsp = "\u00a0"
    t["billing"] = {
        "x.csv": [
            {"invoice_number": "I-1", "invoice_date": "45688", "description": "serial text",
             "amount": f"${nbsp}1,234.50"},
            {"invoice_number": "I-1", "invoice_date": "2/28/2025", "description": "credit",
             "amount": "(34.50)"},
            {"invoice_number": "I-1", "invoice_date": "2025-02-28", "description": "credit 2",
             "amount": "10.00-"},
            {"invoice_number": "", "invoice_date": "", "description": "", "amount": ""},
            {"invoice_number": "I-2", "invoice_date": "Feb 30", "description": "bad",
             "amount": "n/a"},
        ]
    }  # fmt: skip
    ds = read_dso(make_dso(tmp_path, tables=t))
    b = ds.billing
    # 45688 days after 1899-12-30 is 2025-01-31
    assert b["invoice_date"].tolist()[:3] == [
        pd.Timestamp("2025-01-31"),
        pd.Timestamp("2025-02-28"),
        pd.Timestamp("2025-02-28"),
    ]
    assert b["amount"].tolist()[:3] == [1234.5, -34.5, -10.0]
    # the all-blank row 5 is skipped; row 6 keeps its row number and its bad text
    assert b["source_row"].tolist() == [2, 3, 4, 6]
    last = b.iloc[3]
    assert last["invoice_date__invalid"] == "Feb 30" and last["amount__invalid"] == "n/a"


def test_duplicate_line_across_files_counted_once(tmp_path):
    t = base_tables()
    line = {"invoice_number": "INV-7", "invoice_date": "2025-01-31", "location_id": "LOC-001",
            "description": "Helpdesk", "amount": "100.00"}  # fmt: skip
    t["billing"] = {"a.csv": [line, dict(line, description="Other")], "b.xlsx": [line]}
    ds = read_dso(make_dso(tmp_path, tables=t))
    b = ds.billing
    assert b["source_file"].tolist() == ["billing/a.csv", "billing/a.csv"]
    assert b["amount"].sum() == 200.0  # 100 (Helpdesk, once) + 100 (Other)
    (p,) = [p for p in ds.read_problems if p.rule == "duplicate_line"]
    assert p.severity == "warning"
    assert (p.file, p.sheet, p.row) == ("billing/b.xlsx", "billing", 2)
    assert "billing/a.csv, row 2" in p.problem


def test_same_line_twice_in_one_file_is_kept(tmp_path):
    t = base_tables()
    line = {"invoice_number": "INV-7", "invoice_date": "2025-01-31", "description": "Licence",
            "amount": "10"}  # fmt: skip
    t["billing"] = {"a.csv": [line, line]}
    ds = read_dso(make_dso(tmp_path, tables=t))
    assert len(ds.billing) == 2
    assert [p for p in ds.read_problems if p.rule == "duplicate_line"] == []
