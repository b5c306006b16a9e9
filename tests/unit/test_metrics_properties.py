"""Hypothesis properties of the metrics."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dso_analytics import schema
from dso_analytics.metrics import compute_addons, compute_lines, compute_onboarding, compute_spend
from tests.support.metrics_factory import agreement, line, location, make_ds, params

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
SERVICES = [s for s in schema.SERVICE_CODES if s != schema.UNCLASSIFIED]
cents = st.integers(min_value=-200_000, max_value=2_000_000)


@SETTINGS
@given(
    rows=st.lists(
        st.tuples(st.sampled_from(SERVICES), cents, st.integers(0, 500)), min_size=1, max_size=30
    ),
    included=st.sets(st.sampled_from(SERVICES)),
)
def test_addon_kinds_plus_everything_else_is_total(rows, included) -> None:
    bill = [line(str(np.datetime64("2024-01-01") + d), c / 100, "x", service=s) for s, c, d in rows]
    ds = make_ds(
        agreements=[agreement("AG-1", "2020-01-01")],
        billing=bill,
        services=[
            {"agreement_id": "AG-1", "service": s, "coverage": "included"} for s in sorted(included)
        ],
    )
    p = params("2025-06-30")
    lines = compute_lines(ds.billing, ds.agreements, ds.services, p.as_of, p)
    total = compute_spend(lines)["total"]
    add = compute_addons(lines)["summary"]
    no_kind = lines["addon_kind"].isna()
    for period in ("t12m", "all_time"):
        sel = no_kind if period == "all_time" else no_kind & lines["in_t12m"]
        other = int(lines.loc[sel, "amount_cents"].sum())
        kinds = round(add["billed_despite_included"][period] * 100) + round(
            add["contractual_add_on"][period] * 100
        )
        assert kinds + other == round(total[period] * 100)
    # and the total is the exact sum of the generated cents
    assert round(total["all_time"] * 100) == sum(c for _, c, _ in rows)


@SETTINGS
@given(
    billed=st.lists(cents, min_size=1, max_size=6),
    terms=st.sampled_from(["included", "capped", "hourly", "quote"]),
    cap=st.integers(0, 2_000_000),
    target1=st.integers(0, 2_000_000),
    raise_by=st.integers(0, 2_000_000),
)
def test_overspend_never_negative_and_monotone_in_target_cap(
    billed, terms, cap, target1, raise_by
) -> None:
    locs = [location(f"L{i}", "2024-02-01", join_type="acquisition") for i in range(len(billed))]
    bill = [
        line("2024-03-01", c / 100, "setup", service=schema.ONBOARDING_SERVICE, location_id=f"L{i}")
        for i, c in enumerate(billed)
    ]
    ds = make_ds(
        locations=locs,
        billing=bill,
        agreements=[
            agreement("AG-1", "2024-01-01", onboarding_terms=terms, onboarding_cap=cap / 100)
        ],
    )
    p1 = params("2024-12-31", target_onboarding_cap=target1 / 100)
    p2 = params("2024-12-31", target_onboarding_cap=(target1 + raise_by) / 100)
    lines = compute_lines(ds.billing, ds.agreements, ds.services, p1.as_of, p1)
    o1, _ = compute_onboarding(ds.locations, ds.agreements, lines, p1.as_of, p1)
    o2, _ = compute_onboarding(ds.locations, ds.agreements, lines, p2.as_of, p2)
    assert (o1["target_overspend"] >= 0).all()
    assert (o1["contractual_overspend"].dropna() >= 0).all()
    if terms in ("hourly", "quote"):
        assert o1["contractual_overspend"].isna().all()
    else:
        assert o1["contractual_overspend"].notna().all()
    assert (o2["target_overspend"].to_numpy() <= o1["target_overspend"].to_numpy()).all()
