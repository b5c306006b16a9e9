"""A real browser: Debian's headless Chromium opens the reports from file:// with the network
off, every chart renders (plotly SVG), no console or page errors, injected text stays inert."""

from __future__ import annotations

import pytest

from dso_analytics.reporting.browser import CHROMIUM, check_in_browser

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.xdist_group("render")]


@pytest.fixture(scope="session")
def run(rendered):
    import shutil

    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (see .ci/run)")
    return rendered


def test_dso_report_renders_every_chart_offline(run, tmp_path):
    shot = tmp_path / "report.png"
    res = check_in_browser(run.out / "bright-smiles" / "renewal-leverage.html", screenshot=shot)
    # the notebook draws 6 figures: add-ons, onboarding, scorecard, timeline, asks, leverage;
    # then its negotiation scenarios section 6 more: cumulative cost, one tornado per scenario
    # (current terms, DSO-grade target, the sample's counter-offer), clause scores, savings grid
    assert res.figures == 6 + 6
    assert res.rendered == res.figures
    assert res.errors == []
    assert res.blocked == []
    assert shot.stat().st_size > 50_000


def test_portfolio_overview_renders(run, tmp_path):
    shot = tmp_path / "portfolio.png"
    res = check_in_browser(run.out / "portfolio" / "portfolio-overview.html", screenshot=shot)
    assert res.figures == 2 and res.rendered == 2
    assert res.errors == [] and res.blocked == []
    # at 1280 px the side-by-side table fits the page: no table wider than the content
    # column, no sideways scrolling (it was 1324 px wide in a 1230 px page)
    assert res.overflow == []


def test_overflow_check_sees_a_table_wider_than_the_page(tmp_path):
    page = tmp_path / "wide.html"
    cells = "".join(f"<td>{'x' * 40}</td>" for _ in range(12))
    page.write_text(f'<html><body style="max-width: 600px"><table><tr><th>A</th></tr>'
                    f"<tr>{cells}</tr></table></body></html>", encoding="utf-8")  # fmt: skip
    res = check_in_browser(page, width=800)
    assert res.overflow and res.overflow[0] == "page"
    assert res.overflow[1].startswith("table [A]: right edge")


def test_injected_script_stays_inert(run):
    res = check_in_browser(run.out / "hostile-dso" / "renewal-leverage.html")
    assert res.title != "x" and res.title.startswith("Renewal leverage")
    assert res.injected_scripts == 0
    assert res.rendered == res.figures and res.errors == []
