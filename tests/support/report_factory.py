"""A hand-built :class:`DsoMetrics` for reporting tests (no ingest, no metrics code).

Every number here is written by hand so chart and workbook tests can check
figures without running the metrics layer.  Descriptions, names and provider
strings carry hostile text on purpose (HTML and formula injection).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dso_analytics.metrics.result import (
    ADDON_BY_LOCATION_COLUMNS,
    ADDON_BY_MONTH_COLUMNS,
    ADDON_BY_SERVICE_COLUMNS,
    ADDON_LINE_COLUMNS,
    ASK_COLUMNS,
    LEVERAGE_COLUMNS,
    LINES_COLUMNS,
    ONBOARDING_COLUMNS,
    PIPELINE_COLUMNS,
    RENEWAL_COLUMNS,
    SCORECARD_CHECKS,
    SCORECARD_COLUMNS,
    TERMS_COLUMNS,
    DsoMetrics,
)
from dso_analytics.standards import Params

SCRIPT = "<script>document.title='x'</script>"
FORMULA = '=HYPERLINK("http://x","y")'
EVIL_PROVIDER = "Evil <b>IT</b> & Co"

T = pd.Timestamp


def _frame(rows: list[dict], columns: tuple[str, ...]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(columns))
    return df


def make_metrics(dso: str = "test-dso", display_name: str = "Test <i>Dental</i>") -> DsoMetrics:
    """Return a small, internally consistent DsoMetrics built by hand.

    Billing lines (as_of 2026-06-30, T12M = (2025-06-30, 2026-06-30]):

    ===  ==========  =======  ========  ========================  ========  ======================
    row  date        loc      agr       service                   amount    addon_kind
    ===  ==========  =======  ========  ========================  ========  ======================
    2    2026-01-31  -        AG-1      managed_services          2400.00   -
    3    2026-01-31  LOC-002  AG-1      cross_location_incidents  250.00    contractual_add_on
    4    2026-02-28  LOC-002  AG-1      helpdesk (SCRIPT desc)    125.50    billed_despite_included
    5    2026-03-31  -        AG-1      compliance_documentation  FORMULA   contractual_add_on 300.00
    6    2024-03-31  LOC-002  AG-1      new_location_onboarding   7000.00   -
    7    2026-03-31  -        (none)    unclassified ("???")      99.99     -
    ===  ==========  =======  ========  ========================  ========  ======================

    Spend T12M = 2400 + 250 + 125.50 + 300 + 99.99 = 3175.49; all-time + 7000 = 10175.49.
    Add-ons: billed_despite_included 125.50; contractual_add_on 250 + 300 = 550.00.
    """
    lines = _frame(
        [
            dict(source_file="billing/organization.csv", source_sheet="", source_row=2,
                 invoice_number="INV-1", invoice_date=T("2026-01-31"), month="2026-01",
                 location_id=None, agreement_id=None, governing_agreement_id="AG-1",
                 description="Managed services", service=None,
                 service_resolved="managed_services", classified_by="r1", amount=2400.00,
                 in_t12m=True, addon_kind=None),
            dict(source_file="billing/organization.csv", source_sheet="", source_row=3,
                 invoice_number="INV-1", invoice_date=T("2026-01-31"), month="2026-01",
                 location_id="LOC-002", agreement_id=None, governing_agreement_id="AG-1",
                 description="Multi-site outage", service=None,
                 service_resolved="cross_location_incidents", classified_by="r2",
                 amount=250.00, in_t12m=True, addon_kind="contractual_add_on"),
            dict(source_file="billing/LOC-002.xlsx", source_sheet="billing", source_row=4,
                 invoice_number="INV-2", invoice_date=T("2026-02-28"), month="2026-02",
                 location_id="LOC-002", agreement_id=None, governing_agreement_id="AG-1",
                 description=SCRIPT, service="helpdesk", service_resolved="helpdesk",
                 classified_by="explicit", amount=125.50, in_t12m=True,
                 addon_kind="billed_despite_included"),
            dict(source_file="billing/organization.csv", source_sheet="", source_row=5,
                 invoice_number="INV-3", invoice_date=T("2026-03-31"), month="2026-03",
                 location_id=None, agreement_id=None, governing_agreement_id="AG-1",
                 description=FORMULA, service="compliance_documentation",
                 service_resolved="compliance_documentation", classified_by="explicit",
                 amount=300.00, in_t12m=True, addon_kind="contractual_add_on"),
            dict(source_file="billing/LOC-002.xlsx", source_sheet="billing", source_row=6,
                 invoice_number="INV-0", invoice_date=T("2024-03-31"), month="2024-03",
                 location_id="LOC-002", agreement_id=None, governing_agreement_id="AG-1",
                 description="New location setup", service="new_location_onboarding",
                 service_resolved="new_location_onboarding", classified_by="explicit",
                 amount=7000.00, in_t12m=False, addon_kind=None),
            dict(source_file="billing/other.csv", source_sheet="", source_row=7,
                 invoice_number="INV-9", invoice_date=T("2026-03-31"), month="2026-03",
                 location_id=None, agreement_id=None, governing_agreement_id=None,
                 description="???\x07 bell", service=None, service_resolved="unclassified",
                 classified_by="unclassified", amount=99.99, in_t12m=True, addon_kind=None),
        ],
        LINES_COLUMNS,
    )  # fmt: skip
    addon_lines = lines.loc[lines["addon_kind"].notna(), list(ADDON_LINE_COLUMNS)].reset_index(
        drop=True
    )
    addon_by_service = _frame(
        [
            dict(service="compliance_documentation", addon_kind="contractual_add_on",
                 t12m=300.0, all_time=300.0),
            dict(service="cross_location_incidents", addon_kind="contractual_add_on",
                 t12m=250.0, all_time=250.0),
            dict(service="helpdesk", addon_kind="billed_despite_included",
                 t12m=125.5, all_time=125.5),
        ],
        ADDON_BY_SERVICE_COLUMNS,
    )  # fmt: skip
    addon_by_location = _frame(
        [
            dict(location_id="(organization)", addon_kind="contractual_add_on", t12m=300.0,
                 all_time=300.0),
            dict(location_id="LOC-002", addon_kind="contractual_add_on", t12m=250.0,
                 all_time=250.0),
            dict(location_id="LOC-002", addon_kind="billed_despite_included", t12m=125.5,
                 all_time=125.5),
        ],
        ADDON_BY_LOCATION_COLUMNS,
    )  # fmt: skip
    addon_by_month = _frame(
        [
            dict(month="2026-01", service="cross_location_incidents",
                 addon_kind="contractual_add_on", amount=250.0),
            dict(month="2026-02", service="helpdesk", addon_kind="billed_despite_included",
                 amount=125.5),
            dict(month="2026-03", service="compliance_documentation",
                 addon_kind="contractual_add_on", amount=300.0),
        ],
        ADDON_BY_MONTH_COLUMNS,
    )  # fmt: skip
    onboarding = _frame(
        [
            dict(location_id="LOC-002", location_name="Elm <Dental>", join_type="acquisition",
                 status="active", join_date=T("2024-03-04"), go_live_date=T("2024-04-05"),
                 governing_agreement_id="AG-1", onboarding_terms="hourly", billed=7000.0,
                 contractual_allowance=np.nan, contractual_overspend=np.nan, target_cap=5000.0,
                 target_overspend=2000.0, business_days=23, sla_business_days=10,
                 sla_breached=True),
            dict(location_id="LOC-003", location_name="Oak Dental", join_type="de_novo",
                 status="active", join_date=T("2025-09-01"), go_live_date=pd.NaT,
                 governing_agreement_id="AG-2", onboarding_terms="capped", billed=4000.0,
                 contractual_allowance=3500.0, contractual_overspend=500.0, target_cap=5000.0,
                 target_overspend=0.0, business_days=np.nan, sla_business_days=10,
                 sla_breached=None),
        ],
        ONBOARDING_COLUMNS,
    )  # fmt: skip
    onboarding["business_days"] = onboarding["business_days"].astype("Int64")
    onboarding["sla_breached"] = onboarding["sla_breached"].astype("boolean")
    pipeline = _frame(
        [
            dict(location_id="LOC-009", location_name="Pine Dental", join_date=T("2026-09-01"),
                 governing_agreement_id="AG-1", onboarding_terms="hourly",
                 expected_cost_current=5500.0, expected_cost_target=5000.0,
                 expected_saving=500.0, basis="mean billed of past onboardings"),
        ],
        PIPELINE_COLUMNS,
    )  # fmt: skip
    checks1 = {c: ("pass" if i % 3 == 0 else "fail") for i, c in enumerate(SCORECARD_CHECKS)}
    checks2 = {c: ("unknown" if c.startswith("hipaa_") else "fail") for c in SCORECARD_CHECKS}
    checks2["automatic_monthly_reporting"] = "pass"
    # AG-1: passes indices 0,3,6,9,12,15,18 -> 7 of 19 checked; AG-2: 1 pass of 14 checked
    scorecard = _frame(
        [
            {"agreement_id": "AG-1", "provider": EVIL_PROVIDER, **checks1, "passed": 7,
             "checked": 19, "clause_score": round(7 / 19, 4)},
            {"agreement_id": "AG-2", "provider": "Plain IT", **checks2, "passed": 1,
             "checked": 14, "clause_score": round(1 / 14, 4)},
        ],
        SCORECARD_COLUMNS,
    )  # fmt: skip
    renewals = _frame(
        [
            dict(agreement_id="AG-1", provider=EVIL_PROVIDER, scope="organization",
                 start_date=T("2023-01-01"), term_months=36, initial_term_end=T("2026-01-01"),
                 auto_renew=True, renewal_term_months=12, notice_days=90,
                 current_term_end=T("2027-01-01"), status="auto_renewed",
                 notice_deadline=T("2026-10-03"), days_to_notice_deadline=95,
                 notice_window_missed=False, next_notice_deadline=pd.NaT, bucket=">90"),
            dict(agreement_id="AG-2", provider="Plain IT", scope="location",
                 start_date=T("2025-08-01"), term_months=12, initial_term_end=T("2026-08-01"),
                 auto_renew=True, renewal_term_months=12, notice_days=60,
                 current_term_end=T("2026-08-01"), status="initial_term",
                 notice_deadline=T("2026-06-02"), days_to_notice_deadline=-28,
                 notice_window_missed=True, next_notice_deadline=T("2027-06-02"),
                 bucket="missed"),
        ],
        RENEWAL_COLUMNS,
    )  # fmt: skip
    leverage = _frame(
        [
            dict(agreement_id="AG-1", provider=EVIL_PROVIDER, scope="organization",
                 locations_at_start=1, locations_now=2, growth=1.0, spend_t12m=3075.5,
                 addon_t12m=675.5, billed_despite_included_t12m=125.5,
                 onboarding_contractual_overspend=np.nan, onboarding_target_overspend=2000.0,
                 workstations_now=16, managed_services_t12m=2400.0,
                 effective_workstation_monthly=12.5, benchmark_low=100.0,
                 benchmark_high=200.0, vs_benchmark="below", clause_score=round(7 / 19, 4),
                 leverage_score=62.0),
            dict(agreement_id="AG-2", provider="Plain IT", scope="location",
                 locations_at_start=1, locations_now=1, growth=0.0, spend_t12m=0.0,
                 addon_t12m=0.0, billed_despite_included_t12m=0.0,
                 onboarding_contractual_overspend=500.0, onboarding_target_overspend=0.0,
                 workstations_now=5, managed_services_t12m=0.0,
                 effective_workstation_monthly=np.nan, benchmark_low=100.0,
                 benchmark_high=200.0, vs_benchmark=None, clause_score=round(1 / 14, 4),
                 leverage_score=20.0),
        ],
        LEVERAGE_COLUMNS,
    )  # fmt: skip
    asks = _frame(
        [
            dict(rank=1, ask_key="onboarding_cap:AG-1", ask="Cap onboarding at $5,000 per location",
                 clause="onboarding", agreement_id="AG-1", evidence="LOC-002 billed 7000",
                 basis="pipeline", impact_12m=2500.0, recovery_all_time=0.0),
            dict(rank=2, ask_key="addon_into_base:AG-1:cross_location_incidents",
                 ask="Move cross-location incidents & docs into base",
                 clause="base_services", agreement_id="AG-1", evidence=FORMULA,
                 basis="T12M add-on spend", impact_12m=550.0, recovery_all_time=0.0),
            dict(rank=3, ask_key="claim_included:AG-1", ask="Claim credits " + SCRIPT,
                 clause="credits", agreement_id="AG-1", evidence="INV-2 row 4",
                 basis="all-time to as-of", impact_12m=0.0, recovery_all_time=125.5),
        ],
        ASK_COLUMNS,
    )  # fmt: skip
    asks["in_total"] = True
    terms = _frame(
        [dict(ask_key="monthly_reporting:AG-1", ask="Add automatic monthly reporting",
              clause="reporting", agreement_id="AG-1", evidence="reporting=on_request")],
        TERMS_COLUMNS,
    )  # fmt: skip
    return DsoMetrics(
        dso=dso,
        display_name=display_name,
        currency="USD",
        as_of=T("2026-06-30"),
        t12m_start=T("2025-06-30"),
        params=Params(as_of=T("2026-06-30")),
        lines=lines,
        spend_total={"t12m": 3175.49, "all_time": 10175.49},
        spend_by_location=_frame(
            [
                dict(key="(organization)", t12m=2799.99, all_time=2799.99),
                dict(key="LOC-002", t12m=375.5, all_time=7375.5),
            ],
            ("key", "t12m", "all_time"),
        ),  # fmt: skip
        spend_by_service=_frame(
            [
                dict(key="managed_services", t12m=2400.0, all_time=2400.0),
                dict(key="new_location_onboarding", t12m=0.0, all_time=7000.0),
            ],
            ("key", "t12m", "all_time"),
        ),  # fmt: skip
        spend_by_agreement=_frame(
            [
                dict(key="AG-1", t12m=3075.5, all_time=10075.5),
                dict(key="(none)", t12m=99.99, all_time=99.99),
            ],
            ("key", "t12m", "all_time"),
        ),  # fmt: skip
        spend_by_month=_frame(
            [
                dict(month="2024-03", amount=7000.0),
                dict(month="2026-01", amount=2650.0),
                dict(month="2026-02", amount=125.5),
                dict(month="2026-03", amount=399.99),
            ],
            ("month", "amount"),
        ),  # fmt: skip
        addon_summary={
            "billed_despite_included": {"t12m": 125.5, "all_time": 125.5},
            "contractual_add_on": {"t12m": 550.0, "all_time": 550.0},
        },
        addon_lines=addon_lines,
        addon_by_service=addon_by_service,
        addon_by_location=addon_by_location,
        addon_by_month=addon_by_month,
        onboarding=onboarding,
        pipeline=pipeline,
        scorecard=scorecard,
        renewals=renewals,
        leverage=leverage,
        leverage_total={"agreement_id": "(total)", "spend_t12m": 3075.5, "leverage_score": 55.0},
        asks=asks,
        terms_to_fix=terms,
        unclassified=lines.iloc[[5]].reset_index(drop=True),
        ungoverned=lines.iloc[[5]].reset_index(drop=True),
        kpis={
            "spend_t12m": 3175.49,
            "spend_all_time": 10175.49,
            "addon_t12m": 675.5,
            "asks_impact_12m": 3050.0,
            "asks_recovery_all_time": 125.5,
            "credits_to_claim": 125.5,
            "onboarding_contractual_overspend": 500.0,
            "onboarding_target_overspend": 2000.0,
            "clause_score": round(8 / 33, 4),
            "nearest_notice_deadline": T("2026-10-03"),
            "nearest_notice_agreement": "AG-1",
            "leverage_score": 55.0,
        },
        notes=["A note with <b>markup</b>"],
    )
