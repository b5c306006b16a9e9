"""M5 renewal calendar and M4 clause scorecard on hand-built agreements."""

from __future__ import annotations

import pandas as pd

from dso_analytics import schema
from dso_analytics.metrics import compute_renewals, compute_scorecard
from dso_analytics.metrics.result import RENEWAL_COLUMNS, SCORECARD_CHECKS, SCORECARD_COLUMNS
from tests.support.metrics_factory import agreement, make_ds, params

T = pd.Timestamp


def _renewals(as_of: str) -> pd.DataFrame:
    ags = [
        # tacit: 2023-01-15 and 2024-01-15 rolled past as-of -> current end 2025-01-15
        agreement("TACIT", "2022-01-15", term_months=12, notice_days=60),
        # non-renewing, ended 2024-01-01 <= as-of -> expired
        agreement("GONE", "2022-01-01", term_months=24, auto_renew=False, notice_days=None),
        # in its initial term: end 2025-03-01, notice 30 -> deadline 2025-01-30
        agreement("SOON", "2024-03-01", term_months=12, notice_days=30),
        # far: end 2027-01-01, notice 90 -> 2026-10-03
        agreement("FAR", "2024-01-01", term_months=36, notice_days=90),
        # non-renewing, blank notice: expires 2025-06-01 (no notice deadline)
        agreement("ENDS", "2024-06-01", term_months=12, auto_renew=False, notice_days=None),
        # non-renewing with a notice_days given: still an expiry, 2025-02-01
        agreement("ENDS30", "2024-02-01", term_months=12, auto_renew=False, notice_days=30),
    ]
    ds = make_ds(agreements=ags)
    return compute_renewals(ds.agreements, T(as_of), params(as_of)).set_index("agreement_id")


def test_tacit_renewal_and_missed_window() -> None:
    r = _renewals("2024-12-31")
    assert r.loc["TACIT", "initial_term_end"] == T("2023-01-15")
    assert r.loc["TACIT", "current_term_end"] == T("2025-01-15")
    assert r.loc["TACIT", "status"] == "renewed"
    # 2025-01-15 - 60 days = 2024-11-16 ; 2024-11-16 - 2024-12-31 = -45 days -> missed
    assert r.loc["TACIT", "notice_deadline"] == T("2024-11-16")
    assert r.loc["TACIT", "days_to_notice_deadline"] == -45
    assert bool(r.loc["TACIT", "notice_window_missed"])
    # next: (2025-01-15 + 12 months) - 60 days = 2026-01-15 - 60 = 2025-11-16
    assert r.loc["TACIT", "next_notice_deadline"] == T("2025-11-16")
    assert r.loc["TACIT", "bucket"] == "missed"


def test_expired_and_buckets() -> None:
    r = _renewals("2024-12-31")
    assert r.loc["GONE", "status"] == "expired" and r.loc["GONE", "bucket"] == "expired"
    assert pd.isna(r.loc["GONE", "notice_deadline"])
    # 2025-03-01 - 30 days = 2025-01-30 ; 30 days after 2024-12-31 -> "<=30"
    assert r.loc["SOON", "notice_deadline"] == T("2025-01-30")
    assert r.loc["SOON", "days_to_notice_deadline"] == 30
    assert r.loc["SOON", "bucket"] == "<=30"
    # 2027-01-01 - 90 days = 2026-10-03
    assert r.loc["FAR", "notice_deadline"] == T("2026-10-03")
    assert r.loc["FAR", "bucket"] == ">90"
    assert tuple(r.reset_index().columns) == RENEWAL_COLUMNS


def test_non_renewing_agreements_show_expiry_never_a_notice_deadline() -> None:
    r = _renewals("2024-12-31")
    for a in ("ENDS", "ENDS30", "GONE"):
        assert pd.isna(r.loc[a, "notice_deadline"]), a
        assert pd.isna(r.loc[a, "days_to_notice_deadline"]), a
        assert pd.isna(r.loc[a, "notice_window_missed"]), a
        assert pd.isna(r.loc[a, "next_notice_deadline"]), a
    # ENDS: 2024-06-01 + 12 months = 2025-06-01 ; 2025-06-01 - 2024-12-31 = 152 days -> >90
    assert r.loc["ENDS", "expiry"] == T("2025-06-01")
    assert r.loc["ENDS", "days_to_expiry"] == 152
    assert r.loc["ENDS", "status"] == "initial_term" and r.loc["ENDS", "bucket"] == ">90"
    # ENDS30: expires 2025-02-01, 32 days after 2024-12-31 -> 31-90 (the notice_days
    # of a non-renewing agreement do not move the date: there is nothing to give notice of)
    assert r.loc["ENDS30", "expiry"] == T("2025-02-01")
    assert r.loc["ENDS30", "days_to_expiry"] == 32
    assert r.loc["ENDS30", "bucket"] == "31-90"
    # GONE expired on 2024-01-01: 365 days before 2024-12-31 (2024 is a leap year)
    assert r.loc["GONE", "expiry"] == T("2024-01-01")
    assert r.loc["GONE", "days_to_expiry"] == -365
    # auto-renewing agreements have no expiry
    for a in ("TACIT", "SOON", "FAR"):
        assert pd.isna(r.loc[a, "expiry"]) and pd.isna(r.loc[a, "days_to_expiry"]), a
    # on its expiry day a non-renewing agreement is expired (term end <= as-of)
    r = _renewals("2025-06-01")
    assert r.loc["ENDS", "status"] == "expired" and r.loc["ENDS", "bucket"] == "expired"
    assert r.loc["ENDS", "days_to_expiry"] == 0


def test_bucket_31_90_and_on_the_deadline_day() -> None:
    # as-of 2024-12-01: SOON deadline 2025-01-30 is 60 days away -> 31-90
    assert _renewals("2024-12-01").loc["SOON", "bucket"] == "31-90"
    # as-of on the deadline day itself: 0 days, not missed
    r = _renewals("2025-01-30")
    assert r.loc["SOON", "days_to_notice_deadline"] == 0
    assert not bool(r.loc["SOON", "notice_window_missed"])


def _good(aid: str, **kw: object) -> dict:
    good = {"new_location_terms": "automatic", "onboarding_sla_business_days": 10,
            "onboarding_terms": "capped", "onboarding_cap": 5000.0,
            "reporting": "monthly_automatic", "change_of_ownership_termination": True,
            "baa": "per_location"}  # fmt: skip
    good.update(kw)
    return agreement(aid, "2024-01-01", **good)


def _tables(ids: list[str]) -> tuple[list[dict], list[dict]]:
    base = [c.removeprefix("base_") for c in SCORECARD_CHECKS if c.startswith("base_")]
    svc = [{"agreement_id": a, "service": s, "coverage": "included"} for a in ids for s in base]
    doc = [{"agreement_id": a, "deliverable": d, "specified": True}
           for a in ids for d in schema.DELIVERABLES]  # fmt: skip
    return svc, doc


def test_scorecard_blank_terms_fail() -> None:
    svc, doc = _tables(["GOOD", "BLANK"])
    svc = [s for s in svc if not (s["agreement_id"] == "BLANK" and s["service"] == "helpdesk")]
    ds = make_ds(
        agreements=[
            _good("GOOD"),
            _good("BLANK", onboarding_sla_business_days=None, change_of_ownership_termination=None),
        ],  # fmt: skip
        services=svc,
        documentation=doc,
    )
    sc = compute_scorecard(ds.agreements, ds.services, ds.documentation, params()).set_index(
        "agreement_id"
    )
    assert tuple(sc.reset_index().columns) == SCORECARD_COLUMNS
    assert (sc.loc["GOOD", list(SCORECARD_CHECKS)] == "pass").all()
    assert sc.loc["GOOD", "clause_score"] == 1.0  # 19 / 19
    # blank SLA, blank change-of-ownership, helpdesk not listed -> 3 fails: 16 / 19
    assert sc.loc["BLANK", "onboarding_sla"] == "fail"
    assert sc.loc["BLANK", "change_of_ownership_exit"] == "fail"
    assert sc.loc["BLANK", "base_helpdesk"] == "fail"
    assert sc.loc["BLANK", "passed"] == 16 and sc.loc["BLANK", "checked"] == 19
    assert abs(sc.loc["BLANK", "clause_score"] - 16 / 19) < 1e-12


def test_scorecard_thresholds() -> None:
    ds = make_ds(
        agreements=[
            _good("SLOW", onboarding_sla_business_days=11),  # 11 > 10 fails
            _good("DEAR", onboarding_cap=5000.01),  # cap above target fails
            _good("LOC", scope="location", location_ids="LOC-1"),  # not organization
            _good("INC", onboarding_terms="included", onboarding_cap=None),  # included passes
        ],
    )
    sc = compute_scorecard(ds.agreements, ds.services, ds.documentation, params()).set_index(
        "agreement_id"
    )
    assert sc.loc["SLOW", "onboarding_sla"] == "fail"
    assert sc.loc["DEAR", "onboarding_cost_ceiling"] == "fail"
    assert sc.loc["LOC", "all_location_coverage"] == "fail"
    assert sc.loc["INC", "onboarding_cost_ceiling"] == "pass"


def test_scorecard_unknown_only_when_whole_table_missing() -> None:
    svc, _ = _tables(["GOOD"])
    ds = make_ds(agreements=[_good("GOOD", baa=None)], services=svc)
    sc = compute_scorecard(
        ds.agreements, ds.services, ds.documentation, params(), documentation_known=False
    )
    hipaa = [c for c in SCORECARD_CHECKS if c.startswith("hipaa_")]
    assert (sc.loc[0, hipaa] == "unknown").all()
    # 19 - 5 unknown = 14 checked ; blank baa fails -> 13 / 14
    assert sc.loc[0, "checked"] == 14 and sc.loc[0, "passed"] == 13
    # documentation present but empty: not specified -> fail, not unknown
    sc2 = compute_scorecard(ds.agreements, ds.services, ds.documentation, params())
    assert (sc2.loc[0, hipaa] == "fail").all()
