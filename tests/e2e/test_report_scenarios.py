"""The renewal-leverage report's "Negotiation scenarios" section (M8) in the rendered sample.

Always the two built-in scenarios, plus the DSO's scenarios file (every sample DSO
ships a counter-offer); the same totals as ``dso-analytics scenarios --format json``
(one figure: the pipeline hands the comparison to the kernel, which neither
re-validates nor recomputes).
"""

from __future__ import annotations

import contextlib
import html
import io
import json

import openpyxl
import pytest

from dso_analytics.cli import main
from dso_analytics.reporting.notebook import fmt_money
from tests.support.paths import SAMPLE_DSOS


def _cli_json(dso_dir) -> dict:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["scenarios", str(dso_dir), "--format", "json", "--no-cache"]) == 0
    return json.loads(out.getvalue())


@pytest.mark.parametrize("dso", SAMPLE_DSOS)
def test_section_shows_the_cli_totals(rendered, dso):
    text = html.unescape((rendered.out / dso / "renewal-leverage.html").read_text("utf-8"))
    start = text.index(">Negotiation scenarios<")
    end = text.index(">Data-quality notes<")
    assert start < end  # placed before the data-quality notes
    section = text[start:end]
    data = _cli_json(rendered.portfolio / dso)
    names = [r["scenario"] for r in data["scenarios"]]
    assert names[:2] == ["current terms renewed", "DSO-grade target"] and len(names) == 3
    for r in data["scenarios"]:
        assert r["status"] == "ok"
        assert r["scenario"] in section
        for key in ("total_cost", "savings_vs_current", "savings_vs_current_pv"):
            assert fmt_money(r[key], data["currency"], cents=True) in section, (dso, r, key)
    assert "Months modelled" in section
    # the workbook's live Scenarios sheet: the same figures (its formulas' cached values,
    # what a viewer that does not recalculate shows; LibreOffice recalculation:
    # tests/integration/test_excel_scenarios.py)
    ws = openpyxl.load_workbook(rendered.out / dso / "renewal-leverage.xlsx", data_only=True)[
        "Scenarios"
    ]
    shown = {ws.cell(r, 1).value: r for r in range(12, 12 + len(names))}
    assert list(shown) == names
    for r in data["scenarios"]:
        row = shown[r["scenario"]]
        for col, key in ((2, "total_cost"), (3, "present_value"), (4, "savings_vs_current"),
                         (9, "term_months")):  # fmt: skip
            assert ws.cell(row, col).value == r[key], (dso, r["scenario"], key)
