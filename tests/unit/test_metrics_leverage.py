"""M6 leverage, M7 portfolio, the metrics JSON and the terminal tables."""

from __future__ import annotations

import json
import math

from dso_analytics.metrics import (
    compute_metrics,
    compute_portfolio,
    format_metrics_table,
    format_portfolio_table,
    metrics_to_dict,
    portfolio_to_dict,
)
from dso_analytics.metrics.result import ASK_COLUMNS, LEVERAGE_COLUMNS, DsoMetrics
from tests.support.metrics_factory import agreement, line, location, make_ds, params


def _ds(dso: str = "grow-dental") -> object:
    locs = [
        location("L1", workstations=10),
        location("L2", workstations=10),
        location("L4", workstations=8, status="closed"),
        location(
            "L3", "2024-06-01", join_type="acquisition", go_live_date="2024-06-14", workstations=5
        ),
        location(
            "L5", "2024-09-03", join_type="de_novo", go_live_date="2024-09-17", workstations=5
        ),
    ]
    bill = [line(f"2024-{m:02d}-28", 3000.0, "Managed services") for m in range(1, 13)]
    bill.append(line("2023-12-28", 2500.0, "Managed services"))  # before the T12M
    return make_ds(
        locations=locs, agreements=[agreement("AG-1", "2023-01-01")], billing=bill, dso=dso
    )


def test_leverage_locations_growth_effective_price_and_score() -> None:
    m = compute_metrics(_ds(), params("2024-12-31"))
    assert tuple(m.leverage.columns) == LEVERAGE_COLUMNS
    r = m.leverage.iloc[0]
    # at start 2023-01-01: L1, L2, L4 (any status) ; now: active L1, L2, L3, L5
    assert r["locations_at_start"] == 3 and r["locations_now"] == 4
    assert abs(r["growth"] - (4 / 3 - 1)) < 1e-12
    assert r["workstations_now"] == 30  # 10 + 10 + 5 + 5 (closed L4 not covered now)
    # T12M = (2023-12-31, 2024-12-31]: 12 x 3000 = 36000 ; / 12 months / 30 ws = 100.00
    assert r["managed_services_t12m"] == 36000.0
    assert r["effective_workstation_monthly"] == 100.0
    assert r["vs_benchmark"] == "within"
    # score: add-ons 0, credits 0, onboarding 0, clauses 20 * (1 - 0/19) = 20,
    # growth 10 * 1/3 = 3.33, price 0 -> 23.3
    assert r["clause_score"] == 0.0
    assert r["leverage_score"] == 23.3
    assert m.kpis["leverage_score"] == 23.3  # DSO total: same inputs (one agreement)


def test_asks_ranked_with_volume_pricing_above_midpoint() -> None:
    # raise the price: 12 x 5400 = 64800 / 12 / 30 = 180 per workstation per month
    ds = _ds()
    ds.billing.loc[ds.billing["invoice_date"].dt.year == 2024, "amount"] = 5400.0
    m = compute_metrics(ds, params("2024-12-31"))
    assert tuple(m.asks.columns) == ASK_COLUMNS
    asks = m.asks.set_index("clause")
    # volume pricing: (180 - 150 midpoint) x 30 ws x 12 = 10800
    assert asks.loc["pricing", "impact_12m"] == 10800.0
    assert list(m.asks["rank"]) == list(range(1, len(m.asks) + 1))
    assert m.asks["impact_12m"].is_monotonic_decreasing
    assert m.asks.iloc[0]["clause"] == "pricing"


def test_metrics_json_shape() -> None:
    m = compute_metrics(_ds(), params("2024-12-31"))
    d = metrics_to_dict(m)
    text = json.dumps(d, allow_nan=False)  # no NaN leaks into JSON
    back = json.loads(text)
    for key in ("dso", "as_of", "spend", "addon", "onboarding", "agreements",
                "unclassified_lines", "negotiation_asks", "kpis"):  # fmt: skip
        assert key in back
    assert back["as_of"] == "2024-12-31"
    assert back["spend"]["t12m"] == 36000.0 and back["spend"]["all_time"] == 38500.0
    assert set(back["addon"]) >= {
        "billed_despite_included",
        "contractual_add_on",
        "by_service_t12m",
    }
    ob = {o["location_id"]: o for o in back["onboarding"]}
    # hourly agreement: allowance unknown -> null, never 0
    assert ob["L3"]["contractual_allowance"] is None and ob["L3"]["contractual_overspend"] is None
    assert ob["L3"]["target_overspend"] == 0.0
    ag = back["agreements"][0]
    # AG-1: 2023-01-01 + 36 months = 2026-01-01 ; - 90 days = 2025-10-03
    assert ag["current_term_end"] == "2026-01-01" and ag["notice_deadline"] == "2025-10-03"
    assert ag["locations_at_start"] == 3 and ag["locations_now"] == 4
    assert all(isinstance(a["impact_12m"], float) for a in back["negotiation_asks"])
    table = format_metrics_table(m)
    assert "grow-dental" in table and "36,000.00" in table


def test_portfolio_rollup() -> None:
    a = compute_metrics(_ds("alpha"), params("2024-12-31"))
    b = compute_metrics(_ds("beta"), params("2024-06-30"))
    assert isinstance(a, DsoMetrics)
    roll = compute_portfolio([a, b])
    assert list(roll["dso"]) == ["alpha", "beta"]
    # beta: T12M = (2023-06-30, 2024-06-30]: 2023-12-28 2500 + Jan..Jun 2024 6 x 3000 = 20500
    assert list(roll["spend_t12m"]) == [36000.0, 20500.0]
    assert math.isnan(roll.loc[0, "onboarding_contractual_overspend"])  # hourly: unknown
    assert roll.loc[0, "nearest_notice_deadline"].date().isoformat() == "2025-10-03"
    d = portfolio_to_dict(roll, [a, b])
    json.dumps(d, allow_nan=False)
    assert [p["dso"] for p in d["portfolio"]] == ["alpha", "beta"]
    assert "alpha" in format_portfolio_table(roll) and "beta" in format_portfolio_table(roll)


def test_asks_never_count_the_same_dollars_twice() -> None:
    # AG-1 starts 2023-01-01, 36 months -> term ends 2026-01-01; notice 90 days
    # -> deadline 2025-10-03.  As of 2025-09-30 the deadline is 3 days away (at risk).
    ds = _ds()
    extra = [line(f"2025-{m:02d}-28", 5400.0, "Managed services") for m in range(1, 10)] + [
        # organizational reporting billed twice in the T12M: 2 x 400 = 800
        line("2025-03-15", 400.0, "Quarterly IT health report", service="organizational_reporting"),
        line("2025-06-15", 400.0, "Quarterly IT health report", service="organizational_reporting"),
    ]
    ds.billing = __import__("pandas").concat(
        [ds.billing, make_ds(billing=extra).billing], ignore_index=True
    )
    m = compute_metrics(ds, params("2025-09-30"))
    a = m.asks.set_index("ask_key")
    # the reporting add-on ask carries the 800; the reporting clause is a term to fix
    assert a.loc["addon_into_base:AG-1:organizational_reporting", "impact_12m"] == 800.0
    terms = m.terms_to_fix.set_index("ask_key")
    assert "monthly_reporting:AG-1" in terms.index
    assert "monthly_reporting:AG-1" not in a.index
    # the notice deadline restates the AG-1 asks: a term to fix, never an ask with dollars
    assert "notice_deadline:AG-1" in terms.index
    # volume pricing: T12M managed (2024-10..12: 3 x 3000, 2025-01..09: 9 x 5400) = 57600
    # billed in 12 months -> / 12 / 30 ws = 160 -> (160 - 150) x 30 x 12 = 3600; at stake 4400
    assert a.loc["volume_pricing:AG-1", "impact_12m"] == 3600.0
    assert "asks worth 4,400.00 (next 12 months)" in terms.loc["notice_deadline:AG-1", "evidence"]
    # every ask counts in the total: the KPI is the plain sum (800 + 3600)
    assert m.asks["in_total"].all()
    assert m.kpis["asks_impact_12m"] == 4400.0
    assert m.asks["ask_key"].is_unique
