"""M6 leverage, M7 portfolio, the metrics JSON and the terminal tables."""

from __future__ import annotations

import json
import math

import pandas as pd

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


# --- one growth baseline (issue 17) ------------------------------------------


def _baseline_ds(terms_effective: str | None = None) -> object:
    # org agreement AG-ORG from 2023-01-01 over L1 (2020), L2 (2023-06-01),
    # L3 (2024-03-01); L9 has its own location agreement AG-L9 from 2022-01-01
    # although it joined the DSO only on 2024-06-01 (an acquired practice's contract)
    locs = [
        location("L1", "2020-01-01"),
        location("L2", "2023-06-01", join_type="acquisition", go_live_date="2023-06-05"),
        location("L3", "2024-03-01", join_type="acquisition", go_live_date="2024-03-05"),
        location("L9", "2024-06-01", join_type="acquisition", go_live_date="2024-06-05"),
    ]
    ags = [
        agreement("AG-ORG", "2023-01-01", terms_effective_date=terms_effective),
        agreement("AG-L9", "2022-01-01", scope="location", location_ids="L9"),
        # expired location agreement: not among the current terms of the DSO total
        agreement("AG-OLD", "2019-01-01", scope="location", location_ids="L1",
                  term_months=12, auto_renew=False, notice_days=None),
    ]  # fmt: skip
    bill = [line(f"2024-{m:02d}-28", 1000.0) for m in range(1, 13)]
    return make_ds(locations=locs, agreements=ags, billing=bill)


def test_growth_baseline_start_date_per_agreement_and_dso_total() -> None:
    m = compute_metrics(_baseline_ds(), params("2024-12-31"))
    lev = m.leverage.set_index("agreement_id")
    # AG-ORG baseline = start 2023-01-01: it governed L1 only (L2, L3 joined later;
    # L9 is governed by its own agreement) -> 1 ; now: L1, L2, L3 -> 3 ; growth 2.0
    assert lev.loc["AG-ORG", "baseline_date"] == pd.Timestamp("2023-01-01")
    assert (lev.loc["AG-ORG", "locations_at_start"], lev.loc["AG-ORG", "locations_now"]) == (1, 3)
    assert lev.loc["AG-ORG", "growth"] == 2.0
    # AG-L9 lists one location -> 1 ; governs L9 now -> 1
    assert (lev.loc["AG-L9", "locations_at_start"], lev.loc["AG-L9", "locations_now"]) == (1, 1)
    # DSO total: the same figures summed over the agreements in force (AG-ORG, AG-L9;
    # AG-OLD expired 2020-01-01): at start 1 + 1 = 2, now 3 + 1 = 4, growth 4/2 - 1 = 1.0
    t = m.leverage_total
    assert (t["locations_at_start"], t["locations_now"], t["growth"]) == (2, 4, 1.0)
    # two different baseline dates: no single date, the range is stated
    assert t["baseline_date"] is None
    assert t["baseline"] == (
        "each of the 2 agreements in force at the date its current terms were set, "
        "2022-01-01 to 2023-01-01"
    )
    d = metrics_to_dict(m)
    ag = {a["agreement_id"]: a for a in d["agreements"]}
    assert ag["AG-ORG"]["baseline_date"] == "2023-01-01"
    assert d["leverage_total"]["locations_at_start"] == 2


def test_growth_baseline_moves_to_the_latest_amendment() -> None:
    # amended 2024-04-01: AG-ORG then governed L1, L2, L3 (joined by then) -> 3 ; now 3
    m = compute_metrics(_baseline_ds("2024-04-01"), params("2024-12-31"))
    r = m.leverage.set_index("agreement_id").loc["AG-ORG"]
    assert r["baseline_date"] == pd.Timestamp("2024-04-01")
    assert (r["locations_at_start"], r["locations_now"], r["growth"]) == (3, 3, 0.0)
    # DSO total 3 + 1 = 4 -> 3 + 1 = 4: no growth since the current terms were set
    t = m.leverage_total
    assert (t["locations_at_start"], t["locations_now"], t["growth"]) == (4, 4, 0.0)
    # the report states the baseline next to the growth figure
    from dso_analytics.reporting.notebook import interpret_growth

    assert interpret_growth(m) == (
        "Locations covered when the current terms were set: 4 (baseline: each of the 2 "
        "agreements in force at the date its current terms were set, 2022-01-01 to "
        "2024-04-01); now: 4."
    )


def test_single_agreement_baseline_is_its_date() -> None:
    m = compute_metrics(_ds(), params("2024-12-31"))
    t = m.leverage_total
    # one agreement AG-1 from 2023-01-01: 3 at start (L1, L2, L4), 4 now (see above)
    assert t["baseline_date"] == pd.Timestamp("2023-01-01")
    assert t["baseline"] == "2023-01-01 (AG-1)"
    assert (t["locations_at_start"], t["locations_now"]) == (3, 4)


def test_non_renewing_agreement_ask_is_its_expiry_not_a_notice_deadline() -> None:
    # AG-1 does not auto-renew: 2023-01-01 + 24 months = expiry 2025-01-01, 31 days
    # after the as-of 2024-12-01 (inside the 90-day window): the ask names the expiry
    ds = _ds()
    ds.agreements["term_months"] = 24
    ds.agreements["auto_renew"] = False
    ds.agreements["notice_days"] = pd.NA
    m = compute_metrics(ds, params("2024-12-01"))
    r = m.renewals.iloc[0]
    assert pd.isna(r["notice_deadline"]) and r["expiry"] == pd.Timestamp("2025-01-01")
    assert r["days_to_expiry"] == 31 and r["bucket"] == "31-90"
    assert "notice" not in set(m.terms_to_fix["clause"])
    # a deadline has no dollars of its own: it is a term to fix, never an ask
    assert "expiry" not in set(m.asks["clause"])
    ask = m.terms_to_fix.set_index("clause").loc["expiry"]
    assert ask["ask_key"] == "expiry:AG-1"
    assert ask["ask"] == "Negotiate before the agreement expires (2025-01-01)"
    assert ask["evidence"].startswith("does not auto-renew; expires 2025-01-01, 31 days left")
    assert m.kpis["nearest_notice_deadline"] is None  # no notice deadline exists
    assert "expires 2025-01-01" in format_metrics_table(m)
