"""The leadership workbook of a sample DSO: a one-page "Summary" first, print-ready data
sheets (landscape, fit to width, print titles), totals rows of our own formulas,
conditional formatting, formatted chart axes; printed to PDF by LibreOffice headless."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest

from dso_analytics.metrics.headline import headline
from dso_analytics.reporting import notebook as rn
from dso_analytics.reporting.excel import write_dso_workbook
from tests.support.paths import SAMPLE

pytestmark = pytest.mark.xdist_group("libreoffice")

_RECALC = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def soffice_convert(src: Path, work: Path, to: str) -> Path:
    """Convert ``src`` with LibreOffice headless (formulas recalculated on load)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice (soffice) is required: .ci/run installs libreoffice-calc"
    profile = work / "lo-profile"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(_RECALC)
    out = work / f"out-{to}"
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [soffice, "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}",
         "--convert-to", to, "--outdir", str(out), str(src)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    result = out / f"{src.stem}.{to}"
    assert result.is_file()
    return result


@pytest.fixture(scope="module")
def summit(tmp_path_factory):
    m = rn.load_metrics(SAMPLE / "summit-dental-partners")
    work = tmp_path_factory.mktemp("leadership")
    path = write_dso_workbook(m, work / "summit.xlsx")
    return m, path, work


def _money(v: float) -> str:
    return f"${v:,.0f}"


def test_summary_is_the_first_sheet_with_the_headline_counted_once(summit):
    m, path, _ = summit
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "Summary" and wb.active.title == "Summary"
    ws = wb["Summary"]

    def value_right_of(c):  # the next filled cell to the right of a label
        return next((ws.cell(c.row, j) for j in range(c.column + 1, 8)
                     if ws.cell(c.row, j).value is not None), ws.cell(c.row, c.column + 1))  # fmt: skip

    cells = {c.value: value_right_of(c) for row in ws.iter_rows() for c in row
             if isinstance(c.value, str)}  # fmt: skip
    assert ws["A1"].value == "Renewal leverage: Summit Dental Partners"
    assert ws["A2"].value.startswith("As of 2026-10-31")
    # every headline figure with its window, the value from headline() (never recomputed)
    for h in headline(m):
        label = h["label"]
        assert label in cells, label
        if h["kind"] == "money":
            assert cells[label].value == pytest.approx(round(h["value"], 2))
            assert "$" in cells[label].number_format
    total = cells["Negotiation asks (next 12 months)"]
    assert total.value == pytest.approx(round(m.kpis["asks_impact_12m"], 2))
    assert total.font.b
    # the print setup: one landscape page
    assert ws.page_setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    # (1 is the default of fitToWidth / fitToHeight: openpyxl reads an absent one as None)
    assert (ws.page_setup.fitToWidth or 1) == 1 and (ws.page_setup.fitToHeight or 1) == 1
    # the notice deadline row is coloured by bucket (31-90 days for AG-SDP-01)
    rules = [r for cf in ws.conditional_formatting for r in cf.rules]
    assert any('"31-90"' in f for r in rules for f in r.formula)


def test_data_sheets_print_landscape_fit_to_width_with_titles(summit):
    _, path, _ = summit
    wb = openpyxl.load_workbook(path)
    for name in ("Negotiation asks", "Credits to claim", "Add-on lines", "Clause scorecard",
                 "Renewal calendar", "Onboarding"):  # fmt: skip
        ws = wb[name]
        assert ws.page_setup.orientation == "landscape", name
        assert ws.sheet_properties.pageSetUpPr.fitToPage, name
        assert (ws.page_setup.fitToWidth or 1) == 1 and ws.page_setup.fitToHeight == 0, name
        assert ws.print_title_rows.replace("$", "") == "1:1", name
        assert ws.tables, name


def test_totals_rows_are_our_own_subtotal_formulas(summit):
    m, path, work = summit
    wb = openpyxl.load_workbook(path)
    ws = wb["Credits to claim"]
    n = len(m.credits)
    claim_col = list(m.credits.columns).index("claim") + 1
    letter = openpyxl.utils.get_column_letter(claim_col)
    cell = ws.cell(n + 2, claim_col)
    assert cell.value == f"=SUBTOTAL(109,{letter}2:{letter}{n + 1})"
    # every formula in the workbook is a SUBTOTAL over a cell range (never input text)
    for sheet in wb.worksheets:
        if sheet.title == "Scenarios":
            continue
        for row in sheet.iter_rows():
            for c in row:
                if c.data_type == "f":
                    assert re.fullmatch(r"=SUBTOTAL\(109,[A-Z]+\d+(:[A-Z]+\d+)?\)", c.value), (
                        c.value
                    )
    # LibreOffice recalculates the total to the headline figure
    got = openpyxl.load_workbook(soffice_convert(path, work, "xlsx"), data_only=True)
    assert got["Credits to claim"].cell(n + 2, claim_col).value == pytest.approx(
        m.kpis["credits_to_claim"]
    )


def test_conditional_formatting_and_chart_axes(summit):
    _, path, _ = summit
    wb = openpyxl.load_workbook(path)
    score_rules = [r for cf in wb["Clause scorecard"].conditional_formatting for r in cf.rules]
    assert {f for r in score_rules for f in r.formula} >= {'"pass"', '"fail"', '"unknown"'}
    bucket_rules = [r for cf in wb["Renewal calendar"].conditional_formatting for r in cf.rules]
    assert {f for r in bucket_rules for f in r.formula} >= {'"missed"', '"<=30"', '"31-90"'}
    with zipfile.ZipFile(path) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert charts and all('formatCode="$#,##0"' in c for c in charts)


def test_libreoffice_prints_the_summary_on_one_page(summit):
    import pypdf

    m, path, work = summit
    pdf = pypdf.PdfReader(soffice_convert(path, work, "pdf"))
    pages = [p.extract_text() or "" for p in pdf.pages]
    # the footer names the sheet: exactly one page belongs to the Summary
    summary_pages = [t for t in pages if t.startswith("Summary")]
    assert len(summary_pages) == 1
    assert _money(m.kpis["asks_impact_12m"]) in summary_pages[0]
    assert "Renewal leverage: Summit Dental Partners" in summary_pages[0]
    # the whole workbook prints to a bounded number of pages (77 before)
    assert len(pages) <= 30


def test_workbook_headers_are_words_not_code_names(summit):
    from tests.support.code_names import code_names_in, schema_code_names

    _, path, _ = summit
    names = schema_code_names()
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for table in ws.tables.values():
            first = ws[table.ref.split(":")[0]]
            headers = [c.value for c in ws[first.row] if c.value is not None]
            assert code_names_in(" ".join(map(str, headers)), names) == [], (ws.title, headers)
    asks = wb["Negotiation asks"]
    assert "Impact, next 12 months" in [c.value for c in asks[1]]
