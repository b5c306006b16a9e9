"""The portfolio brief's page: one ranking of every DSO's asks, capped lists, static and escaped."""

from __future__ import annotations

import dataclasses

from dso_analytics.reporting.brief import PORTFOLIO_ASKS, portfolio_asks, portfolio_brief_html
from tests.support.report_factory import make_metrics


def _two_dsos():
    a = make_metrics("dso-a", "Alpha Dental")  # asks at stake: 2500, 550, 125.50 (recovery)
    b = make_metrics("dso-b", "Beta Dental")
    asks = b.asks.copy()
    asks["impact_12m"] = asks["impact_12m"] * 2  # 5000, 1100, 0
    asks["recovery_all_time"] = asks["recovery_all_time"] * 2  # 0, 0, 251
    return a, dataclasses.replace(b, asks=asks)


def test_portfolio_asks_rank_every_dso_by_dollars_at_stake():
    a, b = _two_dsos()
    ranked = portfolio_asks([a, b])
    # stake = next 12 months + one-off recovery: B1 5000, A1 2500, B2 1100, A2 550, B3 251, A3 125.5
    assert list(zip(ranked["dso"], ranked["rank"], strict=True)) == [
        ("dso-b", 1), ("dso-a", 1), ("dso-b", 2), ("dso-a", 2), ("dso-b", 3), ("dso-a", 3),
    ]  # fmt: skip
    assert list(ranked["dso_name"][:2]) == ["Beta Dental", "Alpha Dental"]


def test_portfolio_brief_shows_the_portfolio_totals_and_caps_every_list():
    a, b = _two_dsos()
    many = [
        dataclasses.replace(a, dso=f"dso-{i:02d}", display_name=f"DSO {i:02d}") for i in range(40)
    ]
    page = portfolio_brief_html([b, *many])
    body = page.split("<body>")[1]
    assert "Portfolio brief: 41 DSOs" in body
    # negotiable total: 41 x 3,050 (every DSO's kpis asks_impact_12m, B's left as built) = 125,050
    assert "$125,050" in body
    assert body.count("<tr><td>") <= 6 + PORTFOLIO_ASKS + 5 + 6  # DSOs, asks, deadlines, gaps
    assert "and 35 more DSOs in the portfolio workbook." in body
    assert f"and {41 * 3 - PORTFOLIO_ASKS} more asks in the portfolio workbook." in body
    assert "<script" not in page.lower() and "http" not in page
    assert "<i>" not in body and "<b>" not in body and "(s)" not in body
    assert "_" not in body.replace("</", "")  # no code names
