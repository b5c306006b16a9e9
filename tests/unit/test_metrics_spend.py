"""M1 spend, M2 add-ons and the governing agreement, on hand-built fixtures."""

from __future__ import annotations

import math

import pandas as pd

from dso_analytics import schema
from dso_analytics.metrics import compute_metrics, governing_agreement
from dso_analytics.metrics.result import (
    ADDON_BY_SERVICE_COLUMNS,
    ADDON_LINE_COLUMNS,
    LINES_COLUMNS,
    SPEND_BY_COLUMNS,
    SPEND_BY_MONTH_COLUMNS,
)
from tests.support.metrics_factory import agreement, line, location, make_ds, params


def test_t12m_boundaries() -> None:
    # as-of 2025-06-30: T12M = (2024-06-30, 2025-06-30]
    ds = make_ds(
        locations=[location("LOC-1")],
        agreements=[agreement("AG-1", "2020-01-01")],
        billing=[
            line("2024-06-30", 100.0),  # exactly 12 months before: OUT
            line("2024-07-01", 200.0),  # first day in
            line("2025-06-30", 400.0),  # as-of itself: IN
            line("2025-07-01", 800.0),  # after as-of: left out of everything
        ],
    )
    m = compute_metrics(ds, params("2025-06-30"))
    assert m.spend_total == {"t12m": 600.0, "all_time": 700.0}  # 200+400 ; 100+200+400
    assert m.t12m_start == pd.Timestamp("2024-06-30")
    assert list(m.lines["in_t12m"]) == [False, True, True]
    assert any("after the as-of" in n for n in m.notes)
    assert tuple(m.lines.columns) == LINES_COLUMNS
    assert tuple(m.spend_by_month.columns) == SPEND_BY_MONTH_COLUMNS
    # months: 2024-06 100, 2024-07 200, 2025-06 400
    assert dict(zip(m.spend_by_month["month"], m.spend_by_month["amount"], strict=True)) == {
        "2024-06": 100.0, "2024-07": 200.0, "2025-06": 400.0}  # fmt: skip


def test_default_as_of_is_latest_invoice_and_cents_are_exact() -> None:
    # 0.1 + 0.2 three times in floats is 0.9000000000000001; in cents it is 90
    ds = make_ds(
        agreements=[agreement("AG-1", "2020-01-01")],
        billing=[line("2025-01-01", 0.1), line("2025-01-02", 0.2)] * 3,
    )
    m = compute_metrics(ds, params())
    assert m.as_of == pd.Timestamp("2025-01-02")
    assert m.spend_total["all_time"] == 0.9


def test_spend_by_location_service_agreement() -> None:
    ds = make_ds(
        locations=[location("LOC-1"), location("LOC-2")],
        agreements=[agreement("AG-1", "2024-01-01")],
        billing=[
            line("2025-01-31", 1500.0, location_id="LOC-1"),
            line("2025-01-31", 900.0, location_id="LOC-2"),
            line("2025-01-31", 300.0, "HIPAA risk assessment"),  # org-level
            line("2023-06-01", 50.0, "Dell OptiPlex", location_id="LOC-1"),  # before AG-1: none
        ],
    )
    m = compute_metrics(ds, params("2025-01-31"))
    for f in (m.spend_by_location, m.spend_by_service, m.spend_by_agreement):
        assert tuple(f.columns) == SPEND_BY_COLUMNS
    loc = m.spend_by_location.set_index("key")
    assert loc.loc["LOC-1", "t12m"] == 1500.0 and loc.loc["LOC-1", "all_time"] == 1550.0
    assert loc.loc["(organization)", "t12m"] == 300.0
    svc = m.spend_by_service.set_index("key")["all_time"]
    assert svc["managed_services"] == 2400.0  # 1500 + 900
    assert svc["compliance_documentation"] == 300.0 and svc["hardware"] == 50.0
    ag = m.spend_by_agreement.set_index("key")["all_time"]
    assert ag["AG-1"] == 2700.0 and ag["(none)"] == 50.0  # 1500+900+300 ; the 2023 line
    assert len(m.ungoverned) == 1


def test_addons_split_credits_and_by_service() -> None:
    # AG-1 includes helpdesk, lists cross_location_incidents as add_on; compliance not listed
    ds = make_ds(
        locations=[location("LOC-1")],
        agreements=[agreement("AG-1", "2023-01-01")],
        services=[
            {"agreement_id": "AG-1", "service": "helpdesk", "coverage": "included"},
            {"agreement_id": "AG-1", "service": "cross_location_incidents", "coverage": "add_on"},
        ],
        billing=[
            line("2025-03-01", 125.0, "Helpdesk ticket #1", location_id="LOC-1"),
            line("2025-03-02", 125.0, "Helpdesk ticket #2", location_id="LOC-1"),
            line(
                "2025-03-20",
                -125.0,
                "Credit - helpdesk ticket #2 billed in error",
                location_id="LOC-1",
            ),
            line("2025-03-05", 400.0, "Multi-site outage #77"),
            line(
                "2024-01-10", 600.0, "HIPAA audit package"
            ),  # not listed -> excluded -> add-on; before T12M
            line("2025-03-05", 2000.0, "Managed services"),  # base fee: not an add-on
            line("2025-03-05", 300.0, "Weekend support"),  # legitimately extra: not an add-on
            line("2025-03-05", 4000.0, "New location setup", location_id="LOC-1"),  # M3, not M2
        ],
    )
    m = compute_metrics(ds, params("2025-03-31"))
    s = m.addon_summary
    # billed despite included: 125 + 125 - 125 = 125 (T12M and all-time)
    assert s["billed_despite_included"] == {"t12m": 125.0, "all_time": 125.0}
    # contractual: 400 (T12M) ; 400 + 600 all-time
    assert s["contractual_add_on"] == {"t12m": 400.0, "all_time": 1000.0}
    assert m.kpis["credits_to_claim"] == 125.0
    assert m.kpis["addon_t12m"] == 525.0
    assert tuple(m.addon_lines.columns) == ADDON_LINE_COLUMNS
    assert len(m.addon_lines) == 5  # 3 helpdesk + incident + audit
    by = m.addon_by_service.set_index(["service", "addon_kind"])
    assert tuple(m.addon_by_service.columns) == ADDON_BY_SERVICE_COLUMNS
    assert by.loc[("compliance_documentation", "contractual_add_on"), "all_time"] == 600.0
    assert by.loc[("compliance_documentation", "contractual_add_on"), "t12m"] == 0.0
    kinds = m.lines.set_index("description")["addon_kind"]
    assert pd.isna(kinds["Managed services"]) and pd.isna(kinds["Weekend support"])


def test_services_table_missing_makes_included_split_unknown() -> None:
    ds = make_ds(
        agreements=[agreement("AG-1", "2023-01-01")],
        billing=[line("2025-03-01", 125.0, "Helpdesk ticket #1")],
        present={schema.LOCATIONS, schema.AGREEMENTS, schema.DOCUMENTATION, schema.BILLING},
    )
    m = compute_metrics(ds, params("2025-03-31"))
    assert m.addon_summary["billed_despite_included"] == {"t12m": None, "all_time": None}
    # coverage unknown: no add-on figure is known (never a silent 0 or a guess)
    assert m.addon_summary["contractual_add_on"]["t12m"] is None
    assert m.kpis["addon_t12m"] is None
    assert m.kpis["credits_to_claim"] is None
    assert m.lines.loc[0, "addon_kind"] == "coverage_unknown"
    assert m.leverage_total["billed_despite_included_t12m"] is None
    assert math.isnan(m.leverage.loc[0, "billed_despite_included_t12m"])
    assert math.isnan(m.leverage.loc[0, "addon_t12m"])
    assert not len(m.asks)  # no add-on ask on unknown coverage
    assert m.scorecard.loc[0, "base_helpdesk"] == "unknown"


def test_governing_location_scope_beats_org_and_legacy_expires_into_org() -> None:
    ags = make_ds(
        agreements=[
            agreement("AG-ORG", "2022-01-01"),
            # acquired LOC-2's legacy agreement: 12 months from 2023-01-01, not renewing
            agreement(
                "AG-LEG",
                "2023-01-01",
                scope="location",
                location_ids="LOC-2",
                term_months=12,
                auto_renew=False,
            ),  # fmt: skip
        ]
    ).agreements
    loc = pd.Series(["LOC-2", "LOC-2", "LOC-1", None, None, "LOC-2"], dtype="str")
    d = pd.to_datetime(pd.Series(
        ["2023-06-01", "2024-01-01", "2023-06-01", "2023-06-01", "2021-06-01", "2023-12-31"]))  # fmt: skip
    got = list(governing_agreement(loc, d, ags))
    # LOC-2 mid-2023: legacy wins; 2024-01-01 = start + 12 months: no longer in force -> org;
    # LOC-1: org; org-level line: org; before AG-ORG started: none; last day of the term: legacy
    assert got == ["AG-LEG", "AG-ORG", "AG-ORG", "AG-ORG", None, "AG-LEG"]


def test_explicit_agreement_id_wins_and_org_listing_locations() -> None:
    ds = make_ds(
        locations=[location("LOC-1"), location("LOC-2")],
        agreements=[
            agreement("AG-A", "2023-01-01", location_ids="LOC-1"),  # org scope listing LOC-1
            agreement("AG-L", "2023-01-01", scope="location", location_ids="LOC-2"),
        ],
        billing=[
            line("2024-05-01", 10.0, location_id="LOC-2", agreement_id="AG-A"),  # explicit
            line("2024-05-01", 20.0, location_id="LOC-2"),  # location scope
            line("2024-05-01", 30.0, location_id="LOC-1"),  # org listing LOC-1
            line("2024-05-01", 40.0),  # org-level -> org agreement
        ],
    )
    m = compute_metrics(ds, params("2024-05-31"))
    assert list(m.lines[schema.GOVERNING_AGREEMENT]) == ["AG-A", "AG-L", "AG-A", "AG-A"]


# --- the one T12M window (issue 17): month-end rule ---------------------------


def test_t12m_start_month_end_rule() -> None:
    from dso_analytics.metrics._util import t12m_start

    T = pd.Timestamp
    # 2025-02-28 is the last day of February: the window starts after the last
    # day of February 2024 (2024-02-29), not after 2024-02-28
    assert t12m_start(T("2025-02-28")) == T("2024-02-29")
    # 2024-02-29 (leap day, month end): last day of February 2023 = 2023-02-28
    assert t12m_start(T("2024-02-29")) == T("2023-02-28")
    # 2025-03-31: last day of March 2024 = 2024-03-31 (same as minus 12 months)
    assert t12m_start(T("2025-03-31")) == T("2024-03-31")
    # mid-month: plain calendar 12 months
    assert t12m_start(T("2025-06-15")) == T("2024-06-15")
    # 2024-02-28 is not a month end in a leap year: minus 12 months = 2023-02-28
    assert t12m_start(T("2024-02-28")) == T("2023-02-28")


def _month_end_invoices() -> list[dict]:
    # one 1,000.00 managed-services invoice at every month end 2023-01-31 .. 2025-06-30
    ends = pd.date_range("2023-01-31", "2025-06-30", freq="ME")
    return [line(f"{d.date()}", 1000.0) for d in ends]


def test_t12m_at_month_ends_counts_twelve_monthly_invoices() -> None:
    ds = make_ds(
        locations=[location("LOC-1")],
        agreements=[agreement("AG-1", "2020-01-01")],
        billing=_month_end_invoices(),
    )
    # (as-of, first invoice in the window, last one): always 12 invoices = 12,000.00
    cases = {
        # (2024-02-29, 2025-02-28]: 2024-03-31 .. 2025-02-28; the 2024-02-29
        # invoice is OUT (with as-of - 12 months = 2024-02-28 it was in: 13 invoices)
        "2025-02-28": ("2024-03-31", "2025-02-28"),
        # (2023-02-28, 2024-02-29]: 2023-03-31 .. 2024-02-29
        "2024-02-29": ("2023-03-31", "2024-02-29"),
        # (2024-03-31, 2025-03-31]: 2024-04-30 .. 2025-03-31
        "2025-03-31": ("2024-04-30", "2025-03-31"),
        # mid-month (2024-06-15, 2025-06-15]: 2024-06-30 .. 2025-05-31
        "2025-06-15": ("2024-06-30", "2025-05-31"),
    }
    for as_of, (first, last) in cases.items():
        m = compute_metrics(ds, params(as_of))
        inside = m.lines.loc[m.lines["in_t12m"], "invoice_date"]
        assert (inside.min(), inside.max(), len(inside)) == (
            pd.Timestamp(first), pd.Timestamp(last), 12), as_of  # fmt: skip
        assert m.spend_total["t12m"] == 12000.0, as_of
        # every T12M figure uses the same window: the agreement's T12M spend and
        # managed-services spend are the same 12 invoices; the price per
        # workstation is 12,000 / 12 months / 10 workstations = 100.00
        lev = m.leverage.iloc[0]
        assert lev["spend_t12m"] == 12000.0 and lev["managed_services_t12m"] == 12000.0, as_of
        assert lev["effective_workstation_monthly"] == 100.0, as_of
        assert m.leverage_total["spend_t12m"] == 12000.0, as_of
