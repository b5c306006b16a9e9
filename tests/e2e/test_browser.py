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
    res = check_in_browser(run.out / "portfolio" / "portfolio-overview.html")
    assert res.figures == 2 and res.rendered == 2
    assert res.errors == [] and res.blocked == []


def test_injected_script_stays_inert(run):
    res = check_in_browser(run.out / "hostile-dso" / "renewal-leverage.html")
    assert res.title != "x" and res.title.startswith("Renewal leverage")
    assert res.injected_scripts == 0
    assert res.rendered == res.figures and res.errors == []
