"""M8 negotiation scenarios: the hand-worked model (pure, in memory).

The fixture (as-of 2026-06-30):

- LOC-1 founding, 10 workstations; LOC-2 acquired 2024-03-04, 6 workstations
  (onboarding billed 6,000.00: the historical mean); LOC-3 planned, joins
  2027-03-10 with 4 workstations.
- AG-1 organization, started 2023-01-01, 36 months, auto-renews 12 months,
  per workstation at 80.00 with a 5% uplift, onboarding hourly;
  helpdesk included, cross_location_incidents add-on.
- T12M cross_location_incidents spend 1,920.00 -> run-rate
  1,920 / 12 / 16 workstations = 10.00 per workstation-month.

Next term: 2027-01-01 (2026-01-01 + 12), 12 months.  Rate at its start:
2023-01-01 -> 2027-01-01 is 4 whole years: round(80 x 1.05^4, 2) = 97.24.
Workstations: 16 in months 1-2, 20 from month 3 (LOC-3 joins in March):
sum W = 2 x 16 + 10 x 20 = 232 workstation-months.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dso_analytics.metrics import compute_metrics
from dso_analytics.metrics.scenarios import (
    CURRENT,
    TARGET,
    ScenarioSpec,
    compare_scenarios,
    project_scenario,
    sensitivity_grid,
    term_cost,
)
from tests.support.metrics_factory import params
from tests.support.scenario_factory import AS_OF
from tests.support.scenario_factory import scenario_ds as _ds


@pytest.fixture(scope="module")
def dm():
    ds = _ds()
    return ds, compute_metrics(ds, params(AS_OF))


def _row(cmp, name):
    return cmp.table.set_index("scenario").loc[name]


def test_estate_facts(dm):
    ds, m = dm
    e = compare_scenarios(ds, m).estate
    assert e.term_start == pd.Timestamp("2027-01-01") and e.months == 12
    (b,) = e.agreements
    assert (b.existing_workstations, b.existing_locations) == (16.0, 2.0)
    assert b.planned_workstations.tolist() == [0, 0, 4] + [0] * 9
    assert b.current_rate == 97.24
    assert b.run_rate["cross_location_incidents"] == pytest.approx(10.0)
    assert e.assumptions.workstations_per_new_location == 8.0  # 16 / 2
    assert e.onboarding_mean == 6000.0


def test_current_terms_renewed_hand_worked(dm):
    ds, m = dm
    cmp = compare_scenarios(ds, m)
    r = _row(cmp, CURRENT)
    # base 97.24 x 232; add-ons 10 x 232; onboarding: hourly at the 6,000 mean x 1 location
    assert r["base_fee"] == 22559.68
    assert r["add_ons"] == 2320.00
    assert r["onboarding"] == 6000.00
    assert r["total_cost"] == 30879.68
    assert r["workstation_months"] == 232
    assert r["cost_per_workstation_month"] == round(30879.68 / 232, 2) == 133.1
    # month 1: 97.24 x 16 + 10 x 16 = 1,715.84; month 3: 97.24 x 20 + 10 x 20 + 6,000
    monthly = [1715.84] * 2 + [1944.80 + 200 + 6000] + [1944.80 + 200] * 9
    pv = sum(v / 1.08 ** (t / 12) for t, v in enumerate(monthly))
    assert r["present_value"] == round(pv, 2)
    assert r["savings_vs_current"] == 0.0
    assert r["clause_score"] == round(1 / 19, 4)  # only base_helpdesk passes
    got = cmp.monthly[cmp.monthly["scenario"] == CURRENT]["total"].to_numpy()
    np.testing.assert_allclose(got, monthly)


def test_dso_grade_target_hand_worked(dm):
    ds, m = dm
    cmp = compare_scenarios(ds, m)
    r = _row(cmp, TARGET)
    # rate min(97.24 x 1.10, 200) = 106.96 per workstation; no add-ons; onboarding capped 5,000
    assert cmp.by_agreement.set_index("scenario").loc[TARGET, "rate_at_term_start"] == 106.96
    assert r["base_fee"] == 24814.72  # 106.96 x 232
    assert r["add_ons"] == 0.0
    assert r["onboarding"] == 5000.0
    assert r["total_cost"] == 29814.72
    assert r["savings_vs_current"] == round(30879.68 - 29814.72, 2) == 1064.96
    assert r["clause_score"] == 1.0
    # month 1: extra base 9.72 x 16 = 155.52 < add-ons removed 160 -> pays back at once
    assert r["break_even"] == "month 1"


def test_file_scenario_and_break_even(dm):
    ds, m = dm
    spec = ScenarioSpec("Counter", "AG-1", terms={
        "base_fee_increase_pct": 5.0, "included_services": ("cross_location_incidents",),
        "onboarding_terms": "capped", "onboarding_cap": 7000.0})  # fmt: skip
    r = _row(compare_scenarios(ds, m, [spec]), "Counter")
    # rate round(97.24 x 1.05, 2) = 102.10; base 102.10 x 232 = 23,687.20; onboarding 7,000
    assert r["total_cost"] == 30687.20
    assert r["savings_vs_current"] == 192.48
    # net per month (add-ons removed - extra base 4.86 x W - extra onboarding):
    # +82.24, +82.24, -897.20 (LOC-3: 97.20 extra base, 1,000 extra onboarding), then +102.80;
    # cumulative: 82.24, 164.48, -732.72, ... -13.12 (month 10), +89.68 (month 11)
    assert r["break_even_month"] == 11


def test_term_months_uplift_on_anniversary(dm):
    ds, m = dm
    r = _row(compare_scenarios(ds, m, term_months=24), CURRENT)
    # year 2 at 97.24 x 1.05 on 240 workstation-months; add-ons 10 x 472; onboarding 6,000
    assert r["base_fee"] == round(97.24 * 232 + 97.24 * 1.05 * 240, 2) == 47064.16
    assert r["total_cost"] == 57784.16


def test_a_scenario_models_its_own_term(dm):
    """A scenario with term_months 24 is modelled over 24 months and compared with
    current terms renewed over the same 24 months; the others keep the default 12."""
    ds, m = dm
    spec = ScenarioSpec("Counter", "AG-1", terms={
        "base_fee_increase_pct": 5.0, "included_services": ("cross_location_incidents",),
        "onboarding_terms": "capped", "onboarding_cap": 7000.0, "term_months": 24})  # fmt: skip
    cmp = compare_scenarios(ds, m, [spec])
    assert (cmp.estate.term_months, cmp.estate.months) == (12, 24)
    r, cur = _row(cmp, "Counter"), _row(cmp, CURRENT)
    assert (r["term_months"], cur["term_months"], _row(cmp, TARGET)["term_months"]) == (24, 12, 12)
    # rate 102.10, year 2 at 102.10 x 1.05 = 107.205 (its own 5% uplift) on 240 ws-months;
    # no add-ons; onboarding capped 7,000 x LOC-3
    assert r["base_fee"] == round(102.10 * 232 + 107.205 * 240, 2) == 49416.40
    assert r["total_cost"] == 56416.40
    assert r["workstation_months"] == 472
    # current terms stay a 12-month table row (30,879.68) ...
    assert cur["total_cost"] == 30879.68
    # ... and the savings compare the same 24 months: current over 24 is 57,784.16
    # (test_term_months_uplift_on_anniversary)
    assert r["savings_vs_current"] == round(57784.16 - 56416.40, 2) == 1367.76
    months = cmp.monthly.groupby("scenario", sort=False)["month"].max().to_dict()
    assert months == {CURRENT: 12, TARGET: 12, "Counter": 24}
    # --term-months models every scenario over that term (its own term_months ignored)
    r6 = _row(compare_scenarios(ds, m, [spec], term_months=6), "Counter")
    assert r6["term_months"] == 6
    assert r6["total_cost"] == round(102.10 * 16 * 2 + 102.10 * 20 * 4 + 7000, 2) == 18435.20


def test_acquisitions_and_growth(dm):
    ds, m = dm
    cmp = compare_scenarios(ds, m, assumptions={"acquisitions_per_year": 12.0,
                                                "workstation_growth_pct": 12.0})  # fmt: skip
    r = _row(cmp, CURRENT)
    # acq(t) = t + 1 locations x 8 ws; growth: 16 x (1 + 0.12 x t / 12) = 16 + 0.16 t
    t = np.arange(12)
    w = 16 + 0.16 * t + np.where(t >= 2, 4, 0) + (t + 1) * 8
    new_locs = np.where(t == 2, 1, 0) + 1.0
    total = (97.24 + 10) * w + 6000 * new_locs
    assert r["total_cost"] == round(total.sum(), 2)
    assert r["workstation_months"] == round(w.sum(), 2)


def test_vectorised_equals_loop_and_grid(dm):
    ds, m = dm
    cmp = compare_scenarios(ds, m)
    e, sc = cmp.estate, cmp.scenario(CURRENT)
    a = np.array([0.0, 1.0, 3.5])
    many = term_cost(project_scenario(e, sc, acquisitions_per_year=a))
    one = [term_cost(project_scenario(e, sc, acquisitions_per_year=x))[0] for x in a]
    np.testing.assert_allclose(many, one)
    grid = sensitivity_grid(e, sc)
    assert len(grid) == 7 * 7 * 7 * 5 >= 1000
    base = grid[(grid.acquisitions_per_year == 0) & (grid.workstation_growth_pct == 0)
                & (grid.uplift_points == 0) & (grid.addon_factor == 1.0)]  # fmt: skip
    assert base["total_cost"].item() == 30879.68


def test_tornado_hand_worked(dm):
    ds, m = dm
    tor = compare_scenarios(ds, m).tornado
    t = tor[tor["scenario"] == CURRENT].set_index("driver")
    # add-on run-rate x0.8 / x1.2: 2,320 -> 1,856 / 2,784
    assert t.loc["addon_run_rate", "cost_low"] == round(30879.68 - 464, 2)
    assert t.loc["addon_run_rate", "cost_high"] == round(30879.68 + 464, 2)
    # acquisitions 0 / 2 a year: + (2/12 x (t+1) x 8 ws x 107.24) + 2/12 x 6,000 per month
    extra = sum(2 / 12 * (t + 1) * 8 * 107.24 + 2 / 12 * 6000 for t in range(12))
    assert t.loc["acquisitions_per_year", "cost_high"] == round(30879.68 + extra, 2)
    assert t.loc["annual_uplift_pct", "swing"] == 0.0  # a 12-month term has no anniversary
    g = tor[tor["scenario"] == TARGET].set_index("driver")
    # market band: the target rate capped at 100 (low) instead of 106.96
    assert g.loc["market_band", "cost_low"] == round(100 * 232 + 5000, 2)
    assert list(t.index[:1]) == ["acquisitions_per_year"]  # largest swing first


def test_unpriceable_scenario_listed_others_shown(dm):
    ds, m = dm
    spec = ScenarioSpec("Bad", "AG-1", terms={"onboarding_terms": "capped"})
    cmp = compare_scenarios(ds, m, [spec])
    assert not cmp.ok
    r = _row(cmp, "Bad")
    assert r["status"] == "not evaluated" and "onboarding_cap is blank" in r["reason"]
    assert _row(cmp, CURRENT)["total_cost"] == 30879.68


def test_per_location_and_flat_bases_and_an_expired_agreement():
    from tests.support.metrics_factory import agreement, line, location, make_ds

    ds = make_ds(
        [location("LOC-A", workstations=5), location("LOC-B", workstations=10)],
        [
            agreement("AG-L", "2024-01-01", scope="location", location_ids="LOC-A",
                      term_months=24, pricing_basis="per_location", monthly_rate=500.0),
            agreement("AG-F", "2025-01-01", term_months=12, pricing_basis="flat",
                      monthly_rate=300.0),
            agreement("AG-OLD", "2020-01-01", scope="location", location_ids="LOC-B",
                      term_months=12, auto_renew=False, monthly_rate=999.0),
        ],
        billing=[line("2026-06-30", 800.0)],
    )  # fmt: skip
    m = compute_metrics(ds, params(AS_OF))
    cmp = compare_scenarios(ds, m)
    e = cmp.estate
    # AG-OLD expired in 2021: not modelled; AG-F governs LOC-B (10 ws) -> primary;
    # its term 2025-01-01 + 12, renewed to 2027-01-01
    assert e.ids == ["AG-L", "AG-F"] and e.primary == "AG-F"
    assert e.term_start == pd.Timestamp("2027-01-01") and e.months == 12
    t = cmp.table.set_index("scenario")
    # per location: 500 x 1 location x 12; flat: 300 x 12
    assert t.loc[CURRENT, "total_cost"] == 6000.0 + 3600.0
    assert t.loc[CURRENT, "cost_per_workstation_month"] == round(9600 / 180, 2)
    # target: today's base fee per workstation (500 + 300) / 15, +10% -> 58.67, per workstation
    assert t.loc[TARGET, "total_cost"] == round(58.67 * 15 * 12, 2) == 10560.6
    # a scenario naming the expired agreement renews it: 999 per workstation x 10 (LOC-B is
    # governed by AG-F now, so AG-OLD has no workstations: 0), onboarding never priced
    spec = ScenarioSpec("Revive", "AG-OLD", terms={"monthly_rate": 999.0})
    r = compare_scenarios(ds, m, [spec]).table.set_index("scenario").loc["Revive"]
    assert r["total_cost"] == 9600.0
