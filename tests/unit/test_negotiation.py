"""Negotiation-grade numbers (issue 10): one hand-worked test per rule of docs/metrics.md.

Each expected figure is written as the arithmetic done by hand from the fixture.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from dso_analytics.metrics import (
    compute_metrics,
    compute_portfolio,
    headline,
    metrics_to_dict,
    portfolio_totals,
)
from dso_analytics.metrics._util import round_money
from dso_analytics.metrics.result import CREDIT_COLUMNS, FINDING_COLUMNS, TERMS_COLUMNS
from dso_analytics.standards import read_standard
from tests.support.metrics_factory import agreement, line, location, make_ds, params


def _ds(uplift: float = 0.0, unlimited: bool | None = None, dso: str = "neg-dso") -> object:
    """One organization agreement capped at 7,500 for onboarding, 15-day SLA.

    - L1, L2 founding, 10 workstations each; L9 acquired 2025-01-06, live 2025-02-13,
      10 workstations.
    - managed services 12 x 4,650.00 in 2025 (= 155.00 x 30 workstations);
    - helpdesk is included: one ticket billed 125.00 (billed despite included) and one
      "Help desk overage - 12 tickets over plan" 300.00 (overage, not a credit);
    - organizational_reporting is an add-on: 4 x 100.00 in 2025;
    - L9 onboarding: 7,000.00 (2025-01-10) + 4,350.00 (2025-02-10) = 11,350.00 vs cap 7,500.
    """
    locs = [
        location("L1", workstations=10),
        location("L2", workstations=10),
        location("L9", "2025-01-06", join_type="acquisition", go_live_date="2025-02-13",
                 workstations=10),
    ]  # fmt: skip
    ag = agreement("AG-1", "2023-01-01", onboarding_terms="capped", onboarding_cap=7500.0,
                   onboarding_sla_business_days=15, annual_uplift_pct=uplift)  # fmt: skip
    svc = {"agreement_id": "AG-1", "service": "helpdesk", "coverage": "included"}
    if unlimited is not None:
        svc["unlimited"] = unlimited
    services = [svc, {"agreement_id": "AG-1", "service": "organizational_reporting",
                      "coverage": "add_on"}]  # fmt: skip
    bill = [line(f"2025-{m:02d}-28", 4650.0, "Managed services", source_file="org.csv",
                 source_row=m + 1) for m in range(1, 13)]  # fmt: skip
    bill += [
        line("2025-03-03", 125.0, "Helpdesk ticket #7", location_id="L1",
             source_file="billing/L1.xlsx", source_row=21),
        line("2025-04-03", 300.0, "Help desk overage - 12 tickets over plan", location_id="L2",
             source_file="billing/L2.xlsx", source_row=9),
        line("2025-01-10", 7000.0, "New location setup", location_id="L9",
             source_file="billing/L9.xlsx", source_row=4),
        line("2025-02-10", 4350.0, "New location setup - phase 2", location_id="L9",
             source_file="billing/L9.xlsx", source_row=5),
    ]  # fmt: skip
    bill += [line(f"2025-{m:02d}-15", 100.0, "Monthly IT health report",
                  service="organizational_reporting") for m in (3, 6, 9, 12)]  # fmt: skip
    return make_ds(locations=locs, agreements=[ag], services=services, billing=bill, dso=dso)


AS_OF = "2025-12-31"


def test_ask_keys_are_stable_and_unique() -> None:
    a = compute_metrics(_ds(), params(AS_OF))
    b = compute_metrics(_ds(), params(AS_OF))
    assert list(a.asks["ask_key"]) == list(b.asks["ask_key"])
    keys = [*a.asks["ask_key"], *a.terms_to_fix["ask_key"]]
    assert len(keys) == len(set(keys))
    assert {"claim_included:AG-1", "claim_above_cap:AG-1", "overage:AG-1:helpdesk",
            "addon_into_base:AG-1:organizational_reporting"} <= set(a.asks["ask_key"])  # fmt: skip


def test_credits_to_claim_is_included_plus_above_cap_each_line_traced() -> None:
    m = compute_metrics(_ds(), params(AS_OF))
    # billed despite included: the 125.00 helpdesk ticket (the overage line is not a credit)
    # above the contract: L9 billed 7,000 + 4,350 = 11,350 vs cap 7,500 -> 3,850
    # credits to claim = 125 + 3,850 = 3,975
    assert m.kpis["credits_to_claim"] == 3975.0
    assert m.kpis["onboarding_contractual_overspend"] == 3850.0
    assert tuple(m.credits.columns) == CREDIT_COLUMNS
    c = m.credits.set_index(["source_file", "source_row"])
    assert c.loc[("billing/L1.xlsx", 21), "claim"] == 125.0
    # date order: 7,000 stays under the 7,500 cap (claims 0), 4,350 crosses it by 3,850
    assert c.loc[("billing/L9.xlsx", 4), "claim"] == 0.0
    assert c.loc[("billing/L9.xlsx", 5), "claim"] == 3850.0
    assert m.credits["claim"].sum() == m.kpis["credits_to_claim"]
    a = m.asks.set_index("ask_key")
    assert a.loc["claim_included:AG-1", "recovery_all_time"] == 125.0
    assert a.loc["claim_above_cap:AG-1", "recovery_all_time"] == 3850.0
    # a claim is one-off money (all-time to as-of), not a next-12-month saving
    assert a.loc["claim_above_cap:AG-1", "impact_12m"] == 0.0


def test_overage_is_leverage_not_a_credit_unless_unlimited() -> None:
    m = compute_metrics(_ds(uplift=3.0), params(AS_OF))
    kinds = m.lines.set_index("description")["addon_kind"]
    assert kinds["Help desk overage - 12 tickets over plan"] == "overage"
    assert kinds["Helpdesk ticket #7"] == "billed_despite_included"
    # next 12 months: 300.00 x 1.03 = 309.00
    assert m.asks.set_index("ask_key").loc["overage:AG-1:helpdesk", "impact_12m"] == 309.0
    assert m.addon_summary["overage"] == {"t12m": 300.0, "all_time": 300.0}
    # add-ons T12M = 125 (included) + 400 (reporting add-on) + 300 (overage) = 825
    assert m.kpis["addon_t12m"] == 825.0
    # the agreement says helpdesk is unlimited: the overage line is a credit to claim
    u = compute_metrics(_ds(unlimited=True), params(AS_OF))
    assert (
        u.lines.set_index("description").loc[
            "Help desk overage - 12 tickets over plan", "addon_kind"
        ]
        == "billed_despite_included"
    )
    assert u.kpis["credits_to_claim"] == 3975.0 + 300.0  # 4,275


def test_annual_uplift_escalates_next_12_month_impacts() -> None:
    m = compute_metrics(_ds(uplift=3.5), params(AS_OF))
    a = m.asks.set_index("ask_key")
    # reporting add-on T12M 4 x 100 = 400 ; next 12 months 400 x 1.035 = 414.00
    assert a.loc["addon_into_base:AG-1:organizational_reporting", "impact_12m"] == 414.0
    assert "3.5% annual uplift" in a.loc["addon_into_base:AG-1:organizational_reporting", "basis"]
    # claims are not escalated (money already billed)
    assert a.loc["claim_included:AG-1", "recovery_all_time"] == 125.0
    # renewal maths: base fee 12 x 4,650 = 55,800 over 12 months billed -> 4,650/month
    # x 12 x 1.035 = 57,753.00 to renew unchanged over the next 12 months
    assert m.leverage.loc[0, "base_fee_next_12m"] == 57753.0
    assert m.leverage_total["base_fee_next_12m"] == 57753.0


def test_contractual_onboarding_sla_breach_is_a_finding() -> None:
    m = compute_metrics(_ds(), params(AS_OF))
    ob = m.onboarding.set_index("location_id")
    # 2025-01-06 (Mon) .. 2025-02-13: 5 full weeks to Feb 10 = 25 weekdays + Feb 10, 11, 12
    # = 28, minus Martin Luther King Day (Jan 20) = 27 > the contract's 15
    assert ob.loc["L9", "business_days"] == 27
    assert ob.loc["L9", "sla_source"] == "contract"
    assert tuple(m.findings.columns) == FINDING_COLUMNS
    f = m.findings.set_index("finding_key")
    assert "27 business days" in f.loc["onboarding_sla:L9", "evidence"]
    assert "contractual SLA 15" in f.loc["onboarding_sla:L9", "evidence"]
    assert "billing/L9.xlsx row 5" in f.loc["onboarding_above_contract:L9", "evidence"]
    # the data names no remedy amount: enforcing the SLA is a term to fix, not a $ ask
    assert "onboarding_sla:AG-1" in set(m.terms_to_fix["ask_key"])


def test_effective_price_divides_by_months_billed_and_rounds_half_up() -> None:
    # 12 x 4,650.00 / 12 months billed / 30 workstations = 155.00, the contract rate
    m = compute_metrics(_ds(), params(AS_OF))
    assert m.leverage.loc[0, "effective_workstation_monthly"] == 155.0
    assert m.leverage_total["effective_workstation_monthly"] == 155.0
    # as-of three months after the last invoice: T12M = (2025-03-31, 2026-03-31] holds
    # Apr..Dec = 9 invoices; 9 x 4,650 / 9 months billed / 30 = 155.00 (not 9/12 of it)
    late = compute_metrics(_ds(), params("2026-03-31"))
    assert late.leverage.loc[0, "effective_workstation_monthly"] == 155.0
    # half-up to the cent: 4,537.05 / 30 = 151.235 -> 151.24 (not banker's 151.23)
    ds = _ds()
    ds.billing.loc[ds.billing["description"] == "Managed services", "amount"] = 4537.05
    assert compute_metrics(ds, params(AS_OF)).leverage.loc[0, "effective_workstation_monthly"] == (
        151.24
    )
    assert round_money(151.235) == 151.24 and round_money(2.675) == 2.68


def test_volume_pricing_shows_formula_band_provenance_and_sensitivity() -> None:
    ds = _ds()
    # price 180/workstation: 12 x 5,400 / 12 / 30 = 180 ; locations grew 2 -> 3 (L9 joined)
    ds.billing.loc[ds.billing["description"] == "Managed services", "amount"] = 5400.0
    std = read_standard()  # the shipped standard file, with its band provenance
    m = compute_metrics(ds, std.with_overrides(as_of=AS_OF))
    v = m.asks.set_index("ask_key").loc["volume_pricing:AG-1"]
    assert v["impact_12m"] == (180 - 150) * 30 * 12  # 10,800 at the band midpoint
    assert v["impact_12m_low"] == 0.0  # at the band high: max(0, 180 - 200) = 0
    assert v["impact_12m_high"] == (180 - 100) * 30 * 12  # 28,800 at the band low
    assert std.benchmark_source in v["basis"] and std.benchmark_date in v["basis"]
    assert std.benchmark_source.startswith("order of magnitude")
    assert std.benchmark_source in v["basis"] and "band 100.00-200.00" in v["basis"]
    assert "sensitivity" in v["basis"]
    # a band given on the command line is labelled as such
    m2 = compute_metrics(
        ds, std.with_overrides(as_of=AS_OF, benchmark_workstation_monthly=(90, 160))
    )
    v2 = m2.asks.set_index("ask_key").loc["volume_pricing:AG-1"]
    assert v2["impact_12m"] == (180 - 125) * 30 * 12  # 19,800
    assert "parameter override" in v2["basis"]
    assert metrics_to_dict(m2)["params"]["benchmark_provenance"]["source"] == "parameter override"


def test_consolidation_is_one_ask_per_dso_and_zero_dollar_asks_are_terms() -> None:
    locs = [location("L1"), location("L2"), location("L3")]
    ags = [
        agreement("ORG", "2023-01-01", location_ids=None),
        agreement("LOC-A", "2023-01-01", scope="location", location_ids="L2"),
        agreement("LOC-B", "2023-01-01", scope="location", location_ids="L3"),
    ]
    bill = []
    for m in range(1, 13):
        d = f"2025-{m:02d}-28"
        bill += [
            line(d, 1500.0, "Managed services", agreement_id="ORG"),  # 150 x 10 ws (L1)
            line(d, 1700.0, "Managed services", agreement_id="LOC-A"),  # 170 x 10 ws
            line(d, 1500.0, "Managed services", agreement_id="LOC-B"),
        ]  # 150: no premium
    ds = make_ds(locations=locs, agreements=ags, billing=bill, dso="multi")
    m = compute_metrics(ds, params(AS_OF))
    cons = m.asks[m.asks["ask_key"].str.startswith("consolidate:")]
    assert list(cons["ask_key"]) == ["consolidate:multi"]  # one ask for the DSO
    # (170 - 150) x 10 ws x 12 + (150 - 150) x 10 x 12 = 2,400
    assert cons.iloc[0]["impact_12m"] == 2400.0
    assert "LOC-A" in cons.iloc[0]["evidence"] and "LOC-B" in cons.iloc[0]["evidence"]
    assert "notice dates to align" in cons.iloc[0]["evidence"]
    # the organization agreement not billed in the T12M: its contract rate (150.00 per
    # workstation, the fixture's default) stands in: the same 2,400
    ds.billing = ds.billing[ds.billing["agreement_id"] != "ORG"].reset_index(drop=True)
    m2 = compute_metrics(ds, params(AS_OF))
    cons2 = m2.asks.set_index("ask_key").loc["consolidate:multi"]
    assert cons2["impact_12m"] == 2400.0 and "contract organization rate 150.00" in cons2["basis"]
    # no ask without dollars: those are terms to fix
    assert ((m.asks["impact_12m"] > 0) | (m.asks["recovery_all_time"] > 0)).all()
    assert tuple(m.terms_to_fix.columns) == TERMS_COLUMNS


def test_headline_and_portfolio_use_one_rule() -> None:
    a = compute_metrics(_ds(dso="alpha"), params(AS_OF))
    b = compute_metrics(_ds(dso="beta", uplift=3.0), params(AS_OF))
    roll = compute_portfolio([a, b])
    for m, row in zip((a, b), roll.itertuples(index=False), strict=True):
        for h in headline(m):
            if h["kind"] == "money":
                assert getattr(row, h["key"]) == h["value"], h["key"]
        # the asks total is the plain sum of the DSO's asks (each dollar once)
        assert row.asks_impact_12m == round(m.asks["impact_12m"].sum(), 2)
    tot = portfolio_totals(roll)
    assert tot["credits_to_claim"] == 3975.0 + 3975.0
    assert tot["spend_t12m"] == a.kpis["spend_t12m"] + b.kpis["spend_t12m"]
    # a DSO whose figure is unknown makes the portfolio total unknown
    roll.loc[1, "credits_to_claim"] = float("nan")
    assert portfolio_totals(roll)["credits_to_claim"] is None
    labels = [h["label"] for h in headline(a)]
    assert "Credits to claim (all-time to as-of)" in labels
    assert "Negotiation asks (next 12 months)" in labels


def test_unknown_coverage_stays_unknown_in_leverage() -> None:
    ds = _ds()
    ds.present_tables = ds.present_tables - {"services"}
    m = compute_metrics(ds, params(AS_OF))
    assert m.kpis["credits_to_claim"] is None and m.kpis["addon_t12m"] is None
    assert m.leverage_total["addon_t12m"] is None
    assert math.isnan(m.leverage.loc[0, "billed_despite_included_t12m"])
    # the onboarding cap overbilling is known without the services sheet
    assert m.kpis["onboarding_contractual_overspend"] == 3850.0
    d = metrics_to_dict(m)
    assert d["kpis"]["credits_to_claim"] is None


@pytest.mark.parametrize("value,expected", [(151.235, 151.24), (0.125, 0.13), (-1.005, -1.01)])
def test_round_money_half_up(value: float, expected: float) -> None:
    assert round_money(value) == expected
    assert pd.isna(round_money(float("nan")))
