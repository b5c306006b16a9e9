"""The result of :func:`dso_analytics.metrics.compute_metrics` for one DSO.

This is the contract between the metrics layer and everything that presents
it (CLI, notebooks, charts, Excel, JSON).  Presentation code reads these
frames; it never recomputes a figure.

Money columns are ``float64`` rounded to the cent (sums are done in integer
cents, so they are exact); dates are ``datetime64``; "unknown" is ``NaN`` /
``NaT`` / ``<NA>`` in frames and ``null`` in JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from dso_analytics.standards import Params

# Column lists of every frame (the documented contract; tests check them).
LINES_COLUMNS = (
    "source_file", "source_sheet", "source_row", "invoice_number", "invoice_date", "month",
    "location_id", "agreement_id", "governing_agreement_id", "description", "service",
    "service_resolved", "classified_by", "amount", "in_t12m", "addon_kind",
)  # fmt: skip
SPEND_BY_COLUMNS = ("key", "t12m", "all_time")  # key = location_id / service / agreement_id
SPEND_BY_MONTH_COLUMNS = ("month", "amount")  # month = "YYYY-MM"
ADDON_LINE_COLUMNS = (
    "source_file", "source_sheet", "source_row", "invoice_number", "invoice_date", "month",
    "location_id", "governing_agreement_id", "service_resolved", "description", "amount",
    "addon_kind", "in_t12m",
)  # fmt: skip
ADDON_BY_SERVICE_COLUMNS = ("service", "addon_kind", "t12m", "all_time")
ADDON_BY_LOCATION_COLUMNS = ("location_id", "addon_kind", "t12m", "all_time")
ADDON_BY_MONTH_COLUMNS = ("month", "service", "addon_kind", "amount")
ONBOARDING_COLUMNS = (
    "location_id", "location_name", "join_type", "status", "join_date", "go_live_date",
    "governing_agreement_id", "onboarding_terms", "billed", "contractual_allowance",
    "contractual_overspend", "target_cap", "target_overspend", "business_days",
    "sla_business_days", "sla_source", "sla_breached",
)  # fmt: skip
PIPELINE_COLUMNS = (
    "location_id", "location_name", "join_date", "governing_agreement_id", "onboarding_terms",
    "expected_cost_current", "expected_cost_target", "expected_saving", "basis",
)  # fmt: skip
SCORECARD_CHECKS = (
    "all_location_coverage", "onboarding_sla", "onboarding_cost_ceiling",
    "automatic_monthly_reporting",
    "hipaa_encryption_configuration_records", "hipaa_mfa_deployment_documentation",
    "hipaa_access_control_logs", "hipaa_backup_verification_records",
    "hipaa_security_rule_safeguards_documentation",
    "base_helpdesk", "base_remote_monitoring", "base_patch_management", "base_backup_monitoring",
    "base_security_tools", "base_cross_location_incidents", "base_compliance_documentation",
    "base_organizational_reporting",
    "change_of_ownership_exit", "per_location_baa",
)  # fmt: skip
SCORECARD_COLUMNS = (
    "agreement_id",
    "provider",
    *SCORECARD_CHECKS,
    "passed",
    "checked",
    "clause_score",
)
RENEWAL_COLUMNS = (
    "agreement_id", "provider", "scope", "start_date", "term_months", "initial_term_end",
    "auto_renew", "renewal_term_months", "notice_days", "current_term_end", "status",
    "notice_deadline", "days_to_notice_deadline", "notice_window_missed",
    "next_notice_deadline", "expiry", "days_to_expiry", "bucket",
)  # fmt: skip
LEVERAGE_COLUMNS = (
    "agreement_id", "provider", "scope", "baseline_date", "locations_at_start", "locations_now",
    "growth", "spend_t12m", "addon_t12m", "billed_despite_included_t12m", "onboarding_contractual_overspend",
    "onboarding_target_overspend", "workstations_now", "managed_services_t12m",
    "annual_uplift_pct", "base_fee_next_12m", "effective_workstation_monthly", "benchmark_low", "benchmark_high", "vs_benchmark",
    "clause_score", "leverage_score",
)  # fmt: skip
# Negotiation asks (see metrics.asks): ask_key is stable across runs
# (<rule>:<agreement_id>[:<service>], consolidate:<dso>).  impact_12m is the
# saving over the next 12 months (T12M run-rate with the annual uplift);
# impact_12m_low / _high its sensitivity to the benchmark band (volume pricing
# only); recovery_all_time a one-off recovery of money billed all-time to as-of.
# in_total is always True: no ask restates another's dollars.
ASK_COLUMNS = (
    "rank", "ask_key", "ask", "clause", "agreement_id", "evidence", "basis", "impact_12m",
    "impact_12m_low", "impact_12m_high", "recovery_all_time", "in_total",
)  # fmt: skip
# asks without dollars of their own: clauses to add, deadlines to act on
TERMS_COLUMNS = ("ask_key", "ask", "clause", "agreement_id", "evidence")
# every billing line behind a credit claim, with the amount claimed from it
CREDIT_COLUMNS = (
    "ask_key", "agreement_id", "location_id", "kind", "service", "source_file", "source_sheet",
    "source_row", "invoice_number", "invoice_date", "description", "amount", "claim",
)  # fmt: skip
# contractual breaches (onboarding SLA, onboarding billed above the contract)
FINDING_COLUMNS = ("finding_key", "kind", "agreement_id", "location_id", "finding", "evidence")


@dataclass
class DsoMetrics:
    """All metrics M1-M6 of one DSO at one as-of date.

    Attributes
    ----------
    dso, display_name, currency : str
        Identity of the DSO.
    as_of : pandas.Timestamp
        The as-of date used.
    t12m_start : pandas.Timestamp
        From :func:`~dso_analytics.metrics._util.t12m_start` (month-end rule); T12M is
        ``(t12m_start, as_of]``.
    params : Params
        Parameters used.
    lines : DataFrame
        Every billing line, enriched (:data:`LINES_COLUMNS`); ``addon_kind`` is
        ``billed_despite_included``, ``contractual_add_on`` or missing.
    spend_total : dict
        ``{"t12m": float, "all_time": float}`` (M1).
    spend_by_location, spend_by_service, spend_by_agreement : DataFrame
        :data:`SPEND_BY_COLUMNS`; organization-level lines have key ``"(organization)"``,
        lines without a governing agreement ``"(none)"``.
    spend_by_month : DataFrame
        :data:`SPEND_BY_MONTH_COLUMNS`.
    addon_summary : dict
        ``{"billed_despite_included": {"t12m", "all_time"}, "contractual_add_on": {...}}`` (M2).
    addon_lines, addon_by_service, addon_by_location, addon_by_month : DataFrame
        M2 detail (see the column constants).
    onboarding : DataFrame
        M3, one row per acquisition / de_novo location (:data:`ONBOARDING_COLUMNS`).
    pipeline : DataFrame
        M3 projection for ``planned`` locations (:data:`PIPELINE_COLUMNS`).
    scorecard : DataFrame
        M4, one row per agreement, checks are ``"pass"``/``"fail"``/``"unknown"``.
    renewals : DataFrame
        M5, one row per agreement; ``bucket`` is ``missed``, ``<=30``, ``31-90``,
        ``>90`` or ``expired`` (non-renewing agreement past its term).
    leverage : DataFrame
        M6 per agreement (:data:`LEVERAGE_COLUMNS`).
    leverage_total : dict
        M6 DSO total (same keys as a leverage row, summed / recomputed), plus
        ``baseline_date`` (the growth baseline date when the agreements in force
        share one, else ``None``) and ``baseline`` (the baseline in words).
    asks : DataFrame
        Ranked negotiation asks with dollars (:data:`ASK_COLUMNS`), most dollars first.
    terms_to_fix : DataFrame
        Asks with no dollars of their own (:data:`TERMS_COLUMNS`).
    credits : DataFrame
        The billing lines behind ``credits_to_claim`` (:data:`CREDIT_COLUMNS`).
    findings : DataFrame
        Contractual breaches with their evidence (:data:`FINDING_COLUMNS`).
    unclassified : DataFrame
        Lines no rule matched (subset of ``lines``).
    ungoverned : DataFrame
        Lines with no governing agreement (subset of ``lines``).
    kpis : dict
        Headline figures: ``spend_t12m``, ``addon_t12m``, ``credits_to_claim``,
        ``onboarding_contractual_overspend``, ``onboarding_target_overspend``,
        ``clause_score``, ``nearest_notice_deadline``, ``nearest_notice_agreement``,
        ``leverage_score``.
    notes : list of str
        Decisions and data caveats worth telling the reader.
    terms_sources : dict
        ``agreement_id`` -> the agreements sheet's ``terms_source`` text (``None`` when
        blank or the column is absent: typed by hand); shown on the report cover.
    as_of_warning : str or None
        Set when an explicit as-of date lies outside the billed period
        (:func:`dso_analytics.standards.as_of_warning`); shown on the report cover
        and by the CLI.
    deadlines : DataFrame or None
        The notice deadlines and term ends to act on, with the dollars at stake
        (:func:`dso_analytics.actions.deadlines.compute_deadlines`), computed
        once when the DSO is prepared (:func:`dso_analytics.actions.deadlines.attach_deadlines`)
        so the calendar, the letters, the HTML report and the workbook show the
        same dates and dollars; ``None`` until then.
    """

    dso: str
    display_name: str
    currency: str
    as_of: pd.Timestamp
    t12m_start: pd.Timestamp
    params: Params
    lines: pd.DataFrame
    spend_total: dict[str, float]
    spend_by_location: pd.DataFrame
    spend_by_service: pd.DataFrame
    spend_by_agreement: pd.DataFrame
    spend_by_month: pd.DataFrame
    addon_summary: dict[str, dict[str, float]]
    addon_lines: pd.DataFrame
    addon_by_service: pd.DataFrame
    addon_by_location: pd.DataFrame
    addon_by_month: pd.DataFrame
    onboarding: pd.DataFrame
    pipeline: pd.DataFrame
    scorecard: pd.DataFrame
    renewals: pd.DataFrame
    leverage: pd.DataFrame
    leverage_total: dict[str, Any]
    asks: pd.DataFrame
    unclassified: pd.DataFrame
    ungoverned: pd.DataFrame
    kpis: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    as_of_warning: str | None = None
    terms_to_fix: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=TERMS_COLUMNS))
    credits: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CREDIT_COLUMNS))
    findings: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FINDING_COLUMNS))
    terms_sources: dict[str, str | None] = field(default_factory=dict)
    deadlines: pd.DataFrame | None = None
