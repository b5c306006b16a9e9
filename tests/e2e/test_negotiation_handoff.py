"""The render stage shows the negotiation status ``prepare`` computed; it never opens the log.

A copy of the sample DSO ``summit-dental-partners`` is prepared, then its
``negotiation.xlsx`` is replaced by a file that cannot be read: a kernel that
read the log would show "could not be read"; the report and the portfolio
overview show the figures of the log as it was when prepared (worked by hand in
``tests/integration/test_actions_sample.py``).
"""

from __future__ import annotations

import dataclasses
import shutil

import pytest

from dso_analytics import stages
from dso_analytics.standards import resolve_params
from tests.support.code_names import visible_text
from tests.support.paths import SAMPLE

pytestmark = pytest.mark.slow

SUMMIT = "summit-dental-partners"
# the sample log: asked 59,690.00 + 12,600.00 + 150,000.00 + 10,293.07; agreed 40,000.00
FIGURES = "asked $232,583.07, agreed $40,000.00, realised $15,000.00"


def test_render_shows_the_prepared_status_after_the_log_went_bad(tmp_path) -> None:
    portfolio = tmp_path / "in"
    dso = portfolio / SUMMIT
    shutil.copytree(SAMPLE / SUMMIT, dso)
    prepared = stages.prepare(dso, resolve_params(dso), use_cache=False)
    (dso / "negotiation.xlsx").write_bytes(b"not a workbook any more")

    report = dataclasses.replace(stages.DSO_REPORT, brief=False, calendar=False, letters=False)
    art = stages.render(prepared, report, tmp_path / "out" / SUMMIT)
    page = visible_text(art.html.read_text("utf-8"))
    sec = " ".join(page[page.index("Negotiation status") :].split())
    assert f"5 asks and claims in the log, each counted once: {FIGURES}" in sec
    # the claim above the cap, asked 2026-09-15, as-of 2026-10-31: 15 + 31 = 46 days
    assert "1 credit claim still open" in sec
    assert "could not be read" not in page

    overview = dataclasses.replace(stages.PORTFOLIO_REPORT, brief=False, calendar=False)
    art = stages.render_portfolio(
        [prepared], overview, tmp_path / "out" / "portfolio", portfolio_dir=portfolio
    )
    flat = " ".join(visible_text(art.html.read_text("utf-8")).split())
    assert f"1 of 1 DSO keeps a negotiation log: {FIGURES} across them" in flat
