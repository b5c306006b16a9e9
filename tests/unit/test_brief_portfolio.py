"""The portfolio brief's page: one ranking of every DSO's asks, capped lists, static and escaped."""

from __future__ import annotations

import dataclasses
import re

from dso_analytics.actions.portfolio import compute_portfolio_asks
from dso_analytics.reporting.actions import portfolio_asks_html
from dso_analytics.reporting.brief import PORTFOLIO_ASKS, portfolio_brief_html
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
    ranked = compute_portfolio_asks([a, b])
    # stake = next 12 months + one-off recovery: B1 5000, A1 2500, B2 1100, A2 550, B3 251, A3 125.5
    assert list(zip(ranked["dso"], ranked["rank"], ranked["dso_rank"], strict=True)) == [
        ("dso-b", 1, 1), ("dso-a", 2, 1), ("dso-b", 3, 2), ("dso-a", 4, 2), ("dso-b", 5, 3),
        ("dso-a", 6, 3),
    ]  # fmt: skip
    assert list(ranked["display_name"][:2]) == ["Beta Dental", "Alpha Dental"]


def test_ties_rank_by_dso_id_whatever_the_order_of_the_dsos():
    a = make_metrics("dso-a", "Zeta Dental")  # the same asks: 2500, 550, 125.50 (recovery)
    b = make_metrics("dso-b", "Alpha Dental")
    ranked = compute_portfolio_asks([b, a])
    assert list(zip(ranked["dso"], ranked["dso_rank"], strict=True)) == [
        ("dso-a", 1), ("dso-b", 1), ("dso-a", 2), ("dso-b", 2), ("dso-a", 3), ("dso-b", 3),
    ]  # fmt: skip


def _asks_left_out():
    """Alpha's first ask carries no dollar (2500 -> 0) and its second restates another's
    dollars (in_total False): the portfolio counts B1 5000, B2 1100, B3 251, A3 125.50."""
    a, b = _two_dsos()
    asks = a.asks.copy()
    asks.loc[asks["rank"] == 1, "impact_12m"] = 0.0
    asks.loc[asks["rank"] == 2, "in_total"] = False
    return dataclasses.replace(a, asks=asks), b


def test_asks_not_counted_in_the_totals_are_not_ranked():
    a, b = _asks_left_out()
    ranked = compute_portfolio_asks([a, b])
    assert list(zip(ranked["dso"], ranked["dso_rank"], strict=True)) == [
        ("dso-b", 1), ("dso-b", 2), ("dso-b", 3), ("dso-a", 3),
    ]  # fmt: skip
    assert ranked["impact_12m"].sum() == 6100.0  # 5000 + 1100
    assert ranked["recovery_all_time"].sum() == 376.5  # 251 + 125.50


def _ranked_rows(html: str) -> list[tuple[str, str]]:
    """(rank, DSO name) of each data row of an asks table (its first two cells, tags removed)."""
    out = []
    for row in re.findall(r"<tr>(.*?)</tr>", html, flags=re.S):
        cells = [
            re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row, re.S)
        ]
        if cells and cells[0].isdigit():
            out.append((cells[0], cells[1]))
    return out


def test_the_brief_and_the_overview_show_the_same_ranked_asks():
    a, b = _asks_left_out()
    brief = portfolio_brief_html([a, b]).split("What to ask for", 1)[1].split("</table>")[0]
    overview = portfolio_asks_html([a, b])
    want = [("1", "Beta Dental"), ("2", "Beta Dental"), ("3", "Beta Dental"),
            ("4", "Alpha Dental")]  # fmt: skip
    assert _ranked_rows(brief) == want
    assert _ranked_rows(overview) == want
    assert "4 asks across the portfolio" in portfolio_brief_html([a, b])


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
