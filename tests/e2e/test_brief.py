"""The one-page renewal brief: printed by headless Chromium to one Letter page (pypdf),
showing the negotiable total of the workbook Summary; data text escaped."""

from __future__ import annotations

import shutil

import openpyxl
import pytest

from dso_analytics.reporting import notebook as rn
from dso_analytics.reporting.brief import (
    CHROMIUM,
    brief_html,
    write_brief,
    write_portfolio_brief,
)
from dso_analytics.reporting.excel import write_dso_workbook, write_portfolio_workbook
from tests.support.code_names import read_table
from tests.support.paths import SAMPLE
from tests.support.report_factory import make_metrics

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_brief_is_one_page_with_the_workbook_negotiable_total(tmp_path):
    import pypdf

    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (see .ci/run)")
    m = rn.load_metrics(SAMPLE / "summit-dental-partners")
    pdf = write_brief(m, tmp_path / "renewal-brief.pdf")
    assert [p.name for p in tmp_path.iterdir()] == ["renewal-brief.pdf"]  # no temp left
    reader = pypdf.PdfReader(pdf)
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    # the negotiable total as the workbook Summary holds it
    book = openpyxl.load_workbook(write_dso_workbook(m, tmp_path / "book.xlsx"))
    ws = book["Summary"]
    label = "Negotiation asks (next 12 months)"
    cell = next(c for row in ws.iter_rows() for c in row if c.value == label)
    value = next(ws.cell(cell.row, j).value for j in range(cell.column + 1, 8)
                 if ws.cell(cell.row, j).value is not None)  # fmt: skip
    assert value == pytest.approx(237645.73)  # the sample's asks, next 12 months
    assert f"${value:,.0f}" in text
    assert "Renewal brief: Summit Dental Partners" in text
    assert "AG-SDP-01" in text and "2027-01-01" in text  # the notice deadline


def test_portfolio_brief_is_one_page_with_the_portfolio_workbook_total(tmp_path):
    import dataclasses

    import pypdf

    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (see .ci/run)")
    results = rn.load_portfolio(SAMPLE)
    pdf = write_portfolio_brief(results, tmp_path / "renewal-brief.pdf")
    reader = pypdf.PdfReader(pdf)
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    # the portfolio total row of the portfolio workbook's side-by-side sheet
    side = read_table(write_portfolio_workbook(results, None, tmp_path / "p.xlsx"),
                      "DSOs side by side")  # fmt: skip
    total = side.loc[side["dso"] == "Portfolio total", "Negotiation asks (next 12 months)"].iloc[0]
    # by hand: the DSOs' negotiable totals 26,456.74 + 4,418.41 + 237,645.73
    assert total == pytest.approx(268520.88)
    assert f"${total:,.0f}" in text and "Portfolio brief: 3 DSOs" in text
    # the largest ask of the portfolio (summit's volume pricing, $217,401) comes first
    assert "1 Summit Dental" in text and "$217,401" in text
    # sixty DSOs still fit on one page ("and N more")
    many = [dataclasses.replace(results[i % 3], dso=f"dso-{i:02d}", display_name=f"DSO {i:02d}")
            for i in range(60)]  # fmt: skip
    reader = pypdf.PdfReader(write_portfolio_brief(many, tmp_path / "many.pdf"))
    assert len(reader.pages) == 1
    assert "and 54 more DSOs" in reader.pages[0].extract_text()


def test_brief_html_is_static_and_escaped():
    m = make_metrics()  # display name "Test <i>Dental</i>", a hostile provider name
    page = brief_html(m)
    assert "<script" not in page.lower() and "http" not in page
    assert "Test &lt;i&gt;Dental&lt;/i&gt;" in page and "<i>Dental" not in page
    assert "_" not in page.split("<body>")[1].replace("</", "")  # no code names
