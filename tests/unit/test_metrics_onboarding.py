"""M3 onboarding: included / capped / hourly / quote, business days across holidays, pipeline."""

from __future__ import annotations

import math

import pandas as pd

from dso_analytics.metrics import compute_metrics
from dso_analytics.metrics.result import ONBOARDING_COLUMNS, PIPELINE_COLUMNS
from tests.support.metrics_factory import agreement, line, location, make_ds, params


def _loc_agreement(aid: str, loc: str, **kw: object) -> dict:
    return agreement(aid, "2024-01-01", scope="location", location_ids=loc, **kw)


def _ds() -> object:
    locs = [
        location("L-INC", "2024-07-01", join_type="acquisition", go_live_date="2024-07-15"),
        location("L-CAP", "2024-11-25", join_type="de_novo", go_live_date="2024-12-02"),
        location("L-HR", "2024-03-04", join_type="acquisition"),  # not live yet
        location("L-Q", "2024-05-01", join_type="acquisition", go_live_date="2024-06-28"),
        location("L-FND", "2020-01-01"),  # founding: never onboarded
        location("L-PLAN", "2025-03-01", join_type="acquisition", status="planned"),
    ]
    ags = [
        _loc_agreement("A-INC", "L-INC", onboarding_terms="included"),
        _loc_agreement(
            "A-CAP",
            "L-CAP",
            onboarding_terms="capped",
            onboarding_cap=4000.0,
            onboarding_sla_business_days=3,
        ),  # fmt: skip
        _loc_agreement("A-HR", "L-HR", onboarding_terms="hourly"),
        _loc_agreement("A-Q", "L-Q", onboarding_terms="quote"),
        agreement("A-ORG", "2024-01-01", onboarding_terms="hourly"),
    ]
    ob = "New location setup"
    bill = [
        line("2024-07-20", 3000.0, ob, location_id="L-INC"),
        line("2024-12-05", 7000.0, ob, location_id="L-CAP"),
        line("2024-12-20", -500.0, "Credit memo: onboarding overbilling", location_id="L-CAP"),
        line("2024-04-01", 7000.0, ob, location_id="L-HR"),
        line("2024-12-31", 100.0, "Managed services", location_id="L-Q"),
    ]
    return make_ds(locations=locs, agreements=ags, billing=bill)


def test_onboarding_allowance_overspend_and_business_days() -> None:
    m = compute_metrics(_ds(), params("2024-12-31"))
    ob = m.onboarding.set_index("location_id")
    assert tuple(m.onboarding.columns) == ONBOARDING_COLUMNS
    assert set(ob.index) == {"L-INC", "L-CAP", "L-HR", "L-Q", "L-PLAN"}  # no founding
    # included: allowance 0 -> contractual 3000 ; target max(0, 3000-5000) = 0
    assert ob.loc["L-INC", "contractual_allowance"] == 0.0
    assert ob.loc["L-INC", "contractual_overspend"] == 3000.0
    assert ob.loc["L-INC", "target_overspend"] == 0.0
    # capped 4000, billed 7000 - 500 credit = 6500 -> contractual 2500, target 1500
    assert ob.loc["L-CAP", "billed"] == 6500.0
    assert ob.loc["L-CAP", "contractual_overspend"] == 2500.0
    assert ob.loc["L-CAP", "target_overspend"] == 1500.0
    # hourly / quote: allowance unknown (never 0), contractual overspend unknown
    for loc in ("L-HR", "L-Q"):
        assert math.isnan(ob.loc[loc, "contractual_allowance"])
        assert math.isnan(ob.loc[loc, "contractual_overspend"])
    assert ob.loc["L-HR", "target_overspend"] == 2000.0  # 7000 - 5000
    assert ob.loc["L-Q", "billed"] == 0.0 and ob.loc["L-Q", "target_overspend"] == 0.0
    # 2024-07-01 (Mon) .. 2024-07-15: weekdays Jul 1-5 and 8-12 = 10, minus July 4 -> 9
    assert ob.loc["L-INC", "business_days"] == 9
    # 2024-11-25 (Mon) .. 2024-12-02: Nov 25-29 = 5 weekdays minus Thanksgiving (28th) -> 4
    assert ob.loc["L-CAP", "business_days"] == 4
    # SLA: A-CAP promises 3 -> 4 > 3 breached ; A-INC none -> target 10 -> 9 not breached
    assert ob.loc["L-CAP", "sla_business_days"] == 3 and bool(ob.loc["L-CAP", "sla_breached"])
    assert not bool(ob.loc["L-INC", "sla_breached"])
    # 2024-05-01 .. 2024-06-28: May has 23 weekdays - Memorial Day = 22; June 3..27 = 19 weekdays
    # minus Juneteenth (Wed 19th) = 18 -> 40 business days
    assert ob.loc["L-Q", "business_days"] == 40
    # L-HR not live: business days unknown, but already far past the 10-day target SLA
    assert pd.isna(ob.loc["L-HR", "business_days"])
    assert bool(ob.loc["L-HR", "sla_breached"])
    # KPIs: contractual sums the known ones 3000 + 2500 ; target 1500 + 2000
    assert m.kpis["onboarding_contractual_overspend"] == 5500.0
    assert m.kpis["onboarding_target_overspend"] == 3500.0


def test_pipeline_projection() -> None:
    m = compute_metrics(_ds(), params("2024-12-31"))
    assert tuple(m.pipeline.columns) == PIPELINE_COLUMNS
    p = m.pipeline.set_index("location_id")
    # L-PLAN falls under A-ORG (hourly): mean billed of past onboardings with billed != 0:
    # (3000 + 6500 + 7000) / 3 = 5500 ; under the target cap: 5000 ; saving 500
    assert p.loc["L-PLAN", "governing_agreement_id"] == "A-ORG"
    assert p.loc["L-PLAN", "expected_cost_current"] == 5500.0
    assert p.loc["L-PLAN", "expected_cost_target"] == 5000.0
    assert p.loc["L-PLAN", "expected_saving"] == 500.0
    # raising the target cap to 6000 removes the saving (min(5500, 6000) = 5500)
    m2 = compute_metrics(_ds(), params("2024-12-31", target_onboarding_cap=6000))
    assert m2.pipeline.loc[0, "expected_saving"] == 0.0


def test_onboarding_ask_uses_pipeline_saving() -> None:
    m = compute_metrics(_ds(), params("2024-12-31"))
    asks = m.asks[m.asks["clause"] == "onboarding_cost_ceiling"].set_index("agreement_id")
    assert asks.loc["A-ORG", "impact_12m"] == 500.0  # the pipeline saving above
    # A-HR: no pipeline; L-HR joined 2024-03-04, inside the T12M: its target overspend 2000
    assert asks.loc["A-HR", "impact_12m"] == 2000.0


def test_add_business_days_is_the_inverse_of_business_days() -> None:
    """The sample generator dates go-lives with it: by hand, Thanksgiving 2026 is Thursday
    Nov 26, so one business day after Wednesday Nov 25 is Friday Nov 27; a Saturday start
    rolls to Monday Nov 30 first, and 5 business days after it skip nothing -> Dec 7."""
    from datetime import date

    import numpy as np

    from dso_analytics.metrics._util import add_business_days, business_days

    start = np.array(["2026-11-25", "2026-11-28", "2026-11-28"], dtype="datetime64[D]")
    got = add_business_days(start, np.array([1, 0, 5]))
    assert got.tolist() == [date(2026, 11, 27), date(2026, 11, 30), date(2026, 12, 7)]
    rolled = np.array(["2026-11-25", "2026-11-30", "2026-11-30"], dtype="datetime64[D]")
    assert business_days(rolled, got).tolist() == [1, 0, 5]
