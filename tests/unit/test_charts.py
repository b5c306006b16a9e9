"""Chart functions: trace counts, names and escaping on a hand-built DsoMetrics."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dso_analytics.reporting import charts
from tests.support.report_factory import EVIL_PROVIDER, SCRIPT, make_metrics


@pytest.fixture(scope="module")
def m():
    return make_metrics()


def _json(fig) -> str:
    return fig.to_json()


def test_addon_by_service_month_one_stacked_trace_per_service(m):
    fig = charts.plot_addon_by_service_month(m.addon_by_month)
    # three services in the fixture: compliance_documentation, cross_location_incidents, helpdesk
    assert [t.name for t in fig.data] == [
        "Compliance documentation",
        "Cross-location incidents",
        "Helpdesk",
    ]
    assert fig.layout.barmode == "stack"
    helpdesk = fig.data[2]
    # months 2026-01..03; helpdesk billed 125.50 in 2026-02 only
    assert list(helpdesk.x) == ["2026-01", "2026-02", "2026-03"]
    assert helpdesk.y[1] == 125.5
    assert pd.isna(helpdesk.y[0])


def test_onboarding_three_traces_and_escaped_location_names(m):
    fig = charts.plot_onboarding(m.onboarding)
    assert [t.name for t in fig.data] == ["Billed", "Contractual allowance", "Target cap"]
    # horizontal bars, largest billed first
    assert list(fig.data[0].x) == [7000.0, 4000.0]
    assert fig.data[0].y[0] == "Elm &lt;Dental&gt; (LOC-002)"
    assert fig.data[0].orientation == "h"
    assert pd.isna(fig.data[1].x[0]) and fig.data[1].x[1] == 3500.0


def test_onboarding_leaves_out_locations_without_a_governing_agreement(m):
    df = m.onboarding.copy()
    df.loc[df.index[0], "governing_agreement_id"] = pd.NA
    fig = charts.plot_onboarding(df)
    assert len(fig.data[0].x) == len(df) - 1


def test_scorecard_heatmap_values(m):
    fig = charts.plot_scorecard(m.scorecard)
    assert fig.data[0].type == "heatmap" and fig.data[0].name == "Clause checks"
    # a legend for the three outcomes
    assert [t.name for t in fig.data[1:]] == ["✓ pass", "✗ fail", "? unknown"]
    assert fig.data[0].x[0] == "All locations covered"  # readable check labels
    z = fig.data[0].z
    assert len(z) == 2 and len(z[0]) == 19
    # AG-1: check index 0 pass, 1 fail; AG-2 hipaa_* unknown (index 4)
    assert z[0][0] == 1.0 and z[0][1] == 0.0 and z[1][4] == 0.5
    assert fig.data[0].y[0] == "AG-1 (Evil &lt;b&gt;IT&lt;/b&gt; &amp; Co)"


def test_renewal_timeline_traces(m):
    fig = charts.plot_renewal_timeline(m.renewals, m.as_of)
    # AG-2 missed its window -> a next-deadline trace exists
    assert [t.name for t in fig.data] == [
        "Contract term",
        "Notice deadline",
        "Next notice deadline",
    ]
    assert len(fig.layout.shapes) == 1  # the as-of marker
    no_missed = m.renewals.iloc[[0]]
    assert len(charts.plot_renewal_timeline(no_missed, m.as_of).data) == 2


def test_asks_drop_unknown_impact_and_rank_order(m):
    fig = charts.plot_asks(m.asks)
    assert [t.name for t in fig.data] == [
        "12-month impact", "one-off recovery (all-time to as-of)"
    ]  # fmt: skip
    # 3 asks in rank order; the credit claim is a one-off recovery, not a 12-month impact
    assert list(fig.data[0].x) == [2500.0, 550.0, 0.0]
    assert list(fig.data[1].x) == [0.0, 0.0, 125.5]
    assert fig.data[0].y[2].startswith("3. Claim credits &lt;script&gt;")
    # an ask without dollars is not drawn
    no_dollars = m.asks.assign(impact_12m=[2500.0, np.nan, 0.0], recovery_all_time=0.0)
    assert len(charts.plot_asks(no_dollars).data[0].x) == 1


def test_leverage_and_spend_and_portfolio(m):
    assert len(charts.plot_leverage(m.leverage).data) == 1
    fig = charts.plot_spend_by_month(m.spend_by_month)
    assert list(fig.data[0].y) == [7000.0, 2650.0, 125.5, 399.99]
    roll = pd.DataFrame(
        {"dso": ["a", "b"], "display_name": [SCRIPT, "B"], "spend_t12m": [1.0, 2.0],
         "addon_t12m": [0.5, 0.0], "clause_score": [0.5, 0.25]}
    )  # fmt: skip
    fig = charts.plot_portfolio_comparison(roll)
    assert [t.name for t in fig.data] == ["Spend (T12M)", "Add-on charges (T12M)"]
    assert fig.data[0].x[0] == "&lt;script&gt;document.title=&#x27;x&#x27;&lt;/script&gt;"
    assert len(charts.plot_portfolio_clause_scores(roll).data) == 1


def test_no_raw_markup_from_data_in_any_figure(m):
    figs = [
        charts.plot_addon_by_service_month(m.addon_by_month),
        charts.plot_onboarding(m.onboarding),
        charts.plot_scorecard(m.scorecard),
        charts.plot_renewal_timeline(m.renewals, m.as_of),
        charts.plot_asks(m.asks),
        charts.plot_leverage(m.leverage),
    ]
    for fig in figs:
        text = json.dumps(json.loads(_json(fig)))
        assert "<script" not in text
        assert EVIL_PROVIDER not in text


def test_empty_frames_give_a_message_not_an_error(m):
    fig = charts.plot_addon_by_service_month(m.addon_by_month.iloc[0:0])
    assert len(fig.data) == 0 and fig.layout.annotations[0].text == "No add-on charges"
    assert len(charts.plot_asks(m.asks.iloc[0:0]).data) == 0
