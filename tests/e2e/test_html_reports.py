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
