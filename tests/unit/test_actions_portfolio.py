"""Portfolio views: one renewal calendar, one ranked list of asks, spend per provider."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from dso_analytics.actions.deadlines import NOTICE, attach_deadlines
from dso_analytics.actions.portfolio import (
    MISSED_COLOUR,
    WINDOW_COLOURS,
    bucket_colour,
    compute_portfolio_asks,
    compute_portfolio_calendar,
    compute_provider_spend,
)
from dso_analytics.metrics import compute_metrics
from tests.support.metrics_factory import agreement, line, location, make_ds, params

AS_OF = "2024-12-31"


def _two_dsos():
    a = make_ds(
        dso="dso-a",
        locations=[location("L1")],
        agreements=[
            # missed (2024-11-16); next notice deadline 2025-11-16
            agreement("A1", "2022-01-15", term_months=12, notice_days=60, provider="Acme  IT"),
        ],
        services=[{"agreement_id": "A1", "service": "helpdesk", "coverage": "add_on"}],
        billing=[
            line("2024-06-01", 1000.0, location_id="L1"),
            line("2024-07-01", 400.0, "Helpdesk", service="helpdesk", location_id="L1"),
        ],
    )
    b = make_ds(
        dso="dso-b",
        locations=[location("M1")],
        agreements=[
            # initial term to 2025-03-01, 30 days' notice -> 2025-01-30 (30 days: "<=30")
            agreement("B1", "2024-03-01", term_months=12, notice_days=30, provider="acme it"),
            # does not renew: expiry 2025-06-01
            agreement(
                "B2",
                "2024-06-01",
                term_months=12,
                auto_renew=False,
                provider="Zed MSP",
                scope="location",
                location_ids="M1",
            ),  # fmt: skip
        ],
        services=[{"agreement_id": "B1", "service": "helpdesk", "coverage": "included"}],
        billing=[
            line("2024-05-01", 250.0, location_id="M1", agreement_id="B1"),
            line("2024-05-02", 75.25, "Helpdesk", service="helpdesk", agreement_id="B1"),
            line("2024-09-01", 99.0, location_id="M1", agreement_id="B2"),
        ],
    )
    # prepared as the pipeline prepares them: deadlines computed once
    return [attach_deadlines(compute_metrics(ds, params(AS_OF)), ds.agreements, ds.locations)
            for ds in (a, b)]  # fmt: skip


def test_portfolio_calendar_sorted_with_colours() -> None:
    cal = compute_portfolio_calendar(_two_dsos())
    got = [(r.dso, r.agreement_id, r.act_by.date().isoformat(), r.what, r.days, r.bucket)
           for r in cal.itertuples()]  # fmt: skip
    assert got == [
        ("dso-b", "B1", "2025-01-30", "notice deadline", 30, "<=30"),
        ("dso-b", "B2", "2025-06-01", "expiry", 152, ">90"),
        ("dso-a", "A1", "2025-11-16", "notice deadline", 320, "missed"),
    ]
    assert cal["colour"].tolist() == [WINDOW_COLOURS[0], WINDOW_COLOURS[2], MISSED_COLOUR]
    assert bool(cal.loc[2, "window_missed"])


def test_portfolio_calendar_reads_the_prepared_deadlines() -> None:
    a, b = _two_dsos()
    dl = a.deadlines.copy()
    at = (dl["agreement_id"] == "A1") & (dl["kind"] == NOTICE)
    dl.loc[at, "date"] = pd.Timestamp("2025-02-01")  # 32 days after as-of, not 2025-11-16
    dl.loc[at, "days_from_as_of"] = 32
    cal = compute_portfolio_calendar([dataclasses.replace(a, deadlines=dl), b])
    row = cal[cal["agreement_id"] == "A1"].iloc[0]
    assert (row["act_by"], row["days"]) == (pd.Timestamp("2025-02-01"), 32)
    assert list(cal["agreement_id"]) == ["B1", "A1", "B2"]  # sorted by the date read
    with pytest.raises(ValueError, match="attach_deadlines"):
        compute_portfolio_calendar([dataclasses.replace(a, deadlines=None)])


def test_bucket_colours() -> None:
    w = (30, 90)
    assert [bucket_colour(b, w) for b in ("missed", "<=30", "31-90", ">90", "expired")] == [
        MISSED_COLOUR,
        *WINDOW_COLOURS,
        "#6b7280",
    ]


def test_portfolio_asks_counted_once_and_ranked() -> None:
    res = _two_dsos()
    asks = compute_portfolio_asks(res)
    assert asks["rank"].tolist() == list(range(1, len(asks) + 1))
    assert (asks["impact_12m"] + asks["recovery_all_time"]).is_monotonic_decreasing
    # the DSOs' own totals of asks add up to the portfolio list, each window on its own
    assert round(asks["impact_12m"].sum(), 2) == round(
        sum(m.kpis["asks_impact_12m"] for m in res), 2
    )
    assert round(asks["recovery_all_time"].sum(), 2) == round(
        sum(m.kpis["asks_recovery_all_time"] for m in res), 2
    )
    # dso-a: helpdesk add-on 400 into base (next 12 months); dso-b: credit claim 75.25 (one-off)
    assert {(r.dso, r.impact_12m, r.recovery_all_time) for r in asks.itertuples()} >= {
        ("dso-a", 400.0, 0.0),
        ("dso-b", 0.0, 75.25),
    }


def test_provider_spend_across_dsos() -> None:
    sp = compute_provider_spend(_two_dsos()).set_index("provider")
    # "Acme  IT" and "acme it" are one provider: 1400 (dso-a) + 325.25 (dso-b)
    assert sp.loc["Acme  IT", "dsos"] == 2
    assert sp.loc["Acme  IT", "spend_t12m"] == 1725.25
    assert sp.loc["Acme  IT", "by_dso"] == "dso-a: 1,400.00; dso-b: 325.25"
    assert sp.loc["Zed MSP", "spend_t12m"] == 99.0 and sp.loc["Zed MSP", "dsos"] == 1
    assert list(sp.index) == ["Acme  IT", "Zed MSP"]
    assert isinstance(sp, pd.DataFrame)
