"""The leadership workbook, on the hand-built DsoMetrics of report_factory."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd
import pytest

from dso_analytics.reporting.excel import (
    clean_text,
    sheet_name,
    write_dso_workbook,
    write_portfolio_workbook,
)
from dso_analytics.reporting.labels import terms_provenance
from tests.support.code_names import read_table
from tests.support.report_factory import FORMULA, SCRIPT, make_metrics


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    m = make_metrics()
    m.terms_sources = {"AG-1": "extracted from AG-1.pdf, reviewed 2026-06-01", "AG-0": None}
    path = tmp_path_factory.mktemp("xlsx") / "out" / "report.xlsx"
    written = write_dso_workbook(
        m, path, validation_summary={"ok": True, "errors": 0, "warnings": 1},
        sources=["billing/organization.csv", "locations.xlsx"],
    )  # fmt: skip
    assert written == path
    return m, path, openpyxl.load_workbook(path)


def test_sheet_order_summary_first_and_names_valid(book):
    _, path, wb = book
    assert wb.sheetnames[0] == "Summary"  # the one-page leadership summary
    assert wb.sheetnames[1] == "Cover"
    assert wb.sheetnames[2] == "KPI summary"
    for name in (
        "Negotiation asks", "Add-ons by service", "Add-on lines", "Onboarding",
        "Clause scorecard", "Renewal calendar", "Data issues",
    ):  # fmt: skip
        assert name in wb.sheetnames
    assert all(len(n) <= 31 for n in wb.sheetnames)
    # no temp file left next to the workbook
    assert [p.name for p in path.parent.iterdir()] == ["report.xlsx"]


def test_cover_lists_dso_asof_params_sources_validation(book):
    _, _, wb = book
    ws = wb["Cover"]
    values = {r[0].value: r[1].value for r in ws.iter_rows(min_row=1) if r[0].value}
    assert values["DSO"] == "test-dso"
    assert values["As-of date"] == dt.datetime(2026, 6, 30)
    assert values["Parameter: target_onboarding_cap"] == 5000.0
    assert values["Validation status"] == "passed"
    assert isinstance(values["Generated at"], dt.datetime)
    cells = [c.value for c in ws["B"]]
    assert "billing/organization.csv" in cells
    assert values["Agreement terms: AG-1"] == "extracted from AG-1.pdf, reviewed 2026-06-01"
    assert values["Agreement terms: AG-0"] == "typed"


def test_terms_provenance_typed_or_extracted():
    got = terms_provenance(
        {"AG-1": "extracted from MSA.pdf, reviewed 2026-12-02", "AG-2": None, "AG-3": "  ",
         "AG-4": float("nan")}
    )  # fmt: skip
    assert got == [
        ("AG-1", "extracted from MSA.pdf, reviewed 2026-12-02"),
        ("AG-2", "typed"), ("AG-3", "typed"), ("AG-4", "typed"),
    ]  # fmt: skip
    assert terms_provenance({}) == []


def test_terms_from_agreements_sheet_column():
    from dso_analytics.metrics import _terms_sources

    ag = pd.DataFrame({"agreement_id": ["A", "B"], "terms_source": ["extracted from a.pdf", None]})
    assert _terms_sources(ag) == {"A": "extracted from a.pdf", "B": None}
    assert _terms_sources(ag[["agreement_id"]]) == {"A": None, "B": None}


def test_kpis_are_numbers_with_formats(book):
    m, _, wb = book
    ws = wb["KPI summary"]
    rows = {r[0].value: r[1] for r in ws.iter_rows(min_row=2)}
    # spend T12M by hand: 2400 + 250 + 125.50 + 300 + 99.99 = 3175.49
    assert rows["Spend (T12M)"].value == 3175.49
    assert "$" in rows["Spend (T12M)"].number_format
    assert rows["Credits to claim (all-time to as-of)"].value == 125.5
    assert rows["Clause score"].number_format == "0.0%"
    assert rows["Onboarding overspend vs target cap (all-time to as-of)"].value == 2000.0
    assert rows["Negotiation asks (next 12 months)"].value == 3050.0
    assert rows["Nearest notice deadline"].value == dt.datetime(2026, 10, 3)
    assert rows["Unclassified lines"].value == 1
    assert ws.freeze_panes == "A2"


def test_untrusted_text_is_text_not_formula(book):
    _, path, wb = book
    ws = wb["Add-on lines"]
    descs = [c for c in ws["J"] if c.value in (FORMULA, SCRIPT)]
    assert {c.value for c in descs} == {FORMULA, SCRIPT}
    for c in descs:
        assert c.data_type == "s"  # a string, not "f"
    # the bell character \x07 was stripped from the unclassified description
    issues = read_table(path, "Data issues")
    assert list(issues["description"]) == ["??? bell", "??? bell"]
    assert list(issues["issue"]) == ["unclassified line", "no governing agreement"]
    # source_row traced as integers
    assert list(issues["source_row"]) == [7, 7]


def test_addon_lines_trace_to_source(book):
    m, path, _ = book
    raw = pd.read_excel(path, sheet_name="Add-on lines", engine="calamine")
    # readable headers; the last row is the totals row (our SUBTOTAL, cached value 675.50)
    total = raw.iloc[-1]
    assert total["Source file"] == "Total" and total["Amount"] == pytest.approx(675.5)
    lines = read_table(path, "Add-on lines")
    assert list(lines["source_file"]) == list(m.addon_lines["source_file"])
    assert list(lines["source_row"]) == [3, 4, 5]
    # 250 + 125.50 + 300 = 675.50
    assert lines["amount"].sum() == pytest.approx(675.5)


def test_tables_filters_frozen_header_and_a_chart(book):
    _, _, wb = book
    ws = wb["Negotiation asks"]
    assert ws.tables, "an Excel table with filter buttons"
    assert ws.freeze_panes == "A2"
    assert wb["Onboarding"]["I2"].number_format.startswith("$")
    assert ws._charts or wb["Add-ons by service"]._charts


def test_onboarding_unknown_stays_blank(book):
    _, path, _ = book
    onb = read_table(path, "Onboarding")
    assert onb.loc[0, "billed"] == 7000.0
    assert pd.isna(onb.loc[0, "contractual_allowance"])  # hourly -> unknown, not 0
    assert onb.loc[1, "contractual_overspend"] == 500.0


def test_portfolio_workbook(tmp_path):
    a = make_metrics("a-dso", "A")
    b = make_metrics("b-dso", SCRIPT)
    path = write_portfolio_workbook([a, b], None, tmp_path / "p.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "Cover"
    # every DSO's benchmark band and its provenance on the cover
    assert wb["Cover"]["C7"].value.startswith("benchmark band 100.00-200.00 per workstation")
    assert "source: " in wb["Cover"]["C7"].value
    side = read_table(path, "DSOs side by side")
    assert list(side["dso"]) == ["a-dso", "b-dso", "Portfolio total"]
    # the total row is the sum of the DSOs: 3175.49 x 2 = 6350.98
    assert list(side["Spend (T12M)"]) == [3175.49, 3175.49, 6350.98]
    # asks next 12 months: (2500 + 550) x 2 = 6100
    assert list(side["Negotiation asks (next 12 months)"]) == [3050.0, 3050.0, 6100.0]
    assert side.loc[1, "display_name"] == SCRIPT
    asks = read_table(path, "All negotiation asks")
    assert len(asks) == 6  # 3 asks per DSO
    assert list(asks["ask_key"][:3]) == [
        "onboarding_cap:AG-1", "addon_into_base:AG-1:cross_location_incidents",
        "claim_included:AG-1",
    ]  # fmt: skip


def test_helpers():
    assert clean_text("a\x00b\tc\nd\x1f") == "ab\tc\nd"
    assert sheet_name("a/b:c[d]*e?" + "x" * 40) == ("a-b-c-d--e-" + "x" * 40)[:31]
