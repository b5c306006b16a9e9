"""The rendered HTML reports: self-contained (no remote reference, plotly.js once, no
require.js or MathJax), no code cells, KPI header, escaped data text."""

from __future__ import annotations

import re

import pytest

from dso_analytics.reporting.html import _strip_scripts, check_offline, count_plotlyjs
from tests.support.paths import SAMPLE_DSOS
from tests.support.report_factory import SCRIPT


@pytest.fixture(scope="session")
def run(rendered):
    return rendered


def _all_html(run):
    return [run.out / n / "renewal-leverage.html" for n in (*SAMPLE_DSOS, "hostile-dso")] + [
        run.out / "portfolio" / "portfolio-overview.html"
    ]


@pytest.mark.slow
@pytest.mark.xdist_group("render")
def test_reports_are_self_contained(run):
    for path in _all_html(run):
        text = path.read_text(encoding="utf-8")
        assert check_offline(text) == [], path
        assert count_plotlyjs(text) == 1, path
        assert not re.search(r"""<script[^>]+src=""", text)
        markup = _strip_scripts(text)  # plotly.js itself mentions its CDN in strings
        assert "cdn.plot.ly" not in markup and "cdnjs" not in markup
        assert "require.js" not in text.lower()


@pytest.mark.slow
@pytest.mark.xdist_group("render")
def test_reports_have_no_code_and_a_kpi_header(run):
    text = (run.out / "bright-smiles" / "renewal-leverage.html").read_text(encoding="utf-8")
    # the template's CSS names editor classes; no element may carry them
    assert not re.search(r'class="[^"]*jp-CodeMirrorEditor', text)
    assert '<div class="highlight' not in text  # no highlighted source
    code_cells = re.findall(r'class="(jp-Cell jp-CodeCell[^"]*)"', text)
    assert code_cells and all("jp-mod-noInput" in c for c in code_cells)
    assert "rn.load_metrics" not in text and "import dso_analytics" not in text
    assert 'class="dso-kpi-header"' in text
    # the cover says how each agreement's terms were entered (sample: all typed)
    assert "Terms entered" in text and "<td>typed</td>" in text
    for label in ("Spend (T12M)", "Add-on charges (T12M)", "Credits to claim (all-time to as-of)",
                  "Onboarding overspend vs target cap (all-time to as-of)",
                  "Negotiation asks (next 12 months)", "Clause score", "Nearest notice deadline"):  # fmt: skip
        assert label in text
    for heading in ("Add-on spend by service and month", "Clause scorecard",
                    "Renewal timeline", "Leverage and negotiation asks", "Data-quality notes"):  # fmt: skip
        assert heading in text


@pytest.mark.slow
@pytest.mark.xdist_group("render")
def test_hostile_description_is_escaped_in_html(run):
    text = (run.out / "hostile-dso" / "renewal-leverage.html").read_text(encoding="utf-8")
    assert SCRIPT not in text
    # it is listed (escaped) among the unclassified lines
    assert "&lt;script&gt;document.title=" in text


@pytest.mark.slow
@pytest.mark.xdist_group("render")
def test_executed_notebooks_are_small_and_the_html_carries_plotlyjs_once(run):
    """Report kernels leave plotly.js out of the executed notebook (~4.6 MB each before);
    the HTML export adds the single inlined copy, so the HTML still works offline."""
    notebooks = [run.out / n / "renewal-leverage.ipynb" for n in SAMPLE_DSOS]
    notebooks.append(run.out / "portfolio" / "portfolio-overview.ipynb")
    for nb in notebooks:
        text = nb.read_text(encoding="utf-8")
        assert nb.stat().st_size <= 1_000_000, (nb, nb.stat().st_size)
        assert count_plotlyjs(text) == 0, nb
        assert "plotly-graph-div" in text, nb  # the figures are there, without the library
        html_text = nb.with_suffix(".html").read_text(encoding="utf-8")
        assert count_plotlyjs(html_text) == 1
        # the library comes before the first figure's script
        assert html_text.index("window.PlotlyConfig") < html_text.index("Plotly.newPlot")


@pytest.mark.slow
@pytest.mark.xdist_group("render")
def test_no_code_name_reaches_the_reader(run):
    """No snake_case code name of schema.py in the text, the tables or the charts' labels."""
    from tests.support.code_names import (
        code_names_in,
        identifiers_in,
        schema_code_names,
        visible_text,
    )

    names = schema_code_names()
    assert {"cross_location_incidents", "organizational_reporting", "location_id"} <= names
    for path in _all_html(run):
        text = path.read_text(encoding="utf-8")
        assert code_names_in(visible_text(text), names) == [], path
        assert _no_counted_s(visible_text(text)), path
        # ask keys are identifiers shown exactly, for copying (and only those are left out above)
        if path.parent.name in SAMPLE_DSOS:
            assert identifiers_in(text), path
            assert all(re.fullmatch(r"[a-z_]+:[^\s<>]+", k) for k in identifiers_in(text)), path
        for call in re.findall(r"Plotly\.newPlot\((.*?)\)\s*};", text, re.S):
            assert code_names_in(call, names) == [], path


#: text shown verbatim from the input (an invoice line's description, for traceability)
_INPUT_TEXT = ("server(s)",)


def _no_counted_s(text: str) -> bool:
    """True when no "(s)" plural of ours is in ``text`` ("3 lines", never "3 line(s)")."""
    for verbatim in _INPUT_TEXT:
        text = text.replace(verbatim, "")
    return "(s)" not in text


@pytest.mark.slow
@pytest.mark.xdist_group("render")
def test_briefs_and_workbook_headers_are_words(run):
    """The one-page briefs (DSOs and portfolio) and every table header of the workbooks:
    no snake_case code name of schema.py, no "(s)"."""
    import openpyxl
    import pypdf

    from tests.support.code_names import code_names_in, schema_code_names

    names = schema_code_names()
    folders = [run.out / n for n in (*SAMPLE_DSOS, "hostile-dso", "portfolio")]
    for d in folders:
        text = "\n".join(p.extract_text() for p in pypdf.PdfReader(d / "renewal-brief.pdf").pages)
        assert "Brief" in text or "brief" in text, d
        assert code_names_in(text, names) == [] and _no_counted_s(text), d
        book = d / ("portfolio-overview.xlsx" if d.name == "portfolio" else "renewal-leverage.xlsx")
        wb = openpyxl.load_workbook(book)
        for ws in wb.worksheets:
            for table in ws.tables.values():
                first = ws[table.ref.split(":")[0]]
                headers = " ".join(str(c.value) for c in ws[first.row] if c.value is not None)
                assert code_names_in(headers, names) == [], (book.name, ws.title, headers)
                assert "(s)" not in headers, (book.name, ws.title, headers)
