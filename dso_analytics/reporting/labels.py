"""Words for people: one table from code names to readable labels, and plurals.

Service codes (``cross_location_incidents``), clause checks
(``hipaa_mfa_deployment_documentation``) and frame columns (``impact_12m``)
are code names.  Charts, sentences, HTML tables and workbooks show
:func:`label` of them instead, so a reader sees "Cross-location incidents",
"HIPAA: MFA deployment documentation" and "Impact, next 12 months".

Pure Python (no pandas, no plotly): usable from any layer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from dso_analytics.words import plural as plural  # re-exported: labels and plurals in one place

#: Words written in capitals (or with a fixed spelling) when a code is spelled out.
_WORDS = {
    "hipaa": "HIPAA", "mfa": "MFA", "baa": "BAA", "sla": "SLA", "id": "ID", "ids": "IDs",
    "t12m": "T12M", "12m": "12 months", "it": "IT", "msp": "MSP", "dso": "DSO", "url": "URL",
    "de": "de", "vs": "vs", "pct": "%", "usd": "USD", "csv": "CSV", "addon": "add-on",
    "p1": "P1",
}  # fmt: skip

#: Explicit labels (code name -> label); everything else is spelled out by rule.
LABELS: dict[str, str] = {
    # service codes
    "helpdesk": "Helpdesk",
    "remote_monitoring": "Remote monitoring",
    "patch_management": "Patch management",
    "backup_monitoring": "Backup monitoring",
    "security_tools": "Security tools",
    "cross_location_incidents": "Cross-location incidents",
    "new_location_onboarding": "New-location onboarding",
    "compliance_documentation": "Compliance documentation",
    "organizational_reporting": "Organization-wide reporting",
    "managed_services": "Managed services (base fee)",
    "after_hours_support": "After-hours support",
    "project_work": "Project work",
    "hardware": "Hardware",
    "third_party_licensing": "Third-party licensing",
    "unclassified": "Unclassified",
    # clause checks (metrics.result.SCORECARD_CHECKS)
    "all_location_coverage": "All locations covered",
    "onboarding_sla": "Onboarding deadline (SLA)",
    "onboarding_cost_ceiling": "Onboarding cost ceiling",
    "automatic_monthly_reporting": "Automatic monthly reporting",
    "hipaa_encryption_configuration_records": "HIPAA: encryption records",
    "hipaa_mfa_deployment_documentation": "HIPAA: MFA documentation",
    "hipaa_access_control_logs": "HIPAA: access-control logs",
    "hipaa_backup_verification_records": "HIPAA: backup verification",
    "hipaa_security_rule_safeguards_documentation": "HIPAA: Security Rule safeguards",
    "base_helpdesk": "Base fee: helpdesk",
    "base_remote_monitoring": "Base fee: remote monitoring",
    "base_patch_management": "Base fee: patch management",
    "base_backup_monitoring": "Base fee: backup monitoring",
    "base_security_tools": "Base fee: security tools",
    "base_cross_location_incidents": "Base fee: cross-location incidents",
    "base_compliance_documentation": "Base fee: compliance documentation",
    "base_organizational_reporting": "Base fee: organization-wide reporting",
    "change_of_ownership_exit": "Exit on change of ownership",
    "per_location_baa": "BAA for every location",
    # add-on kinds
    "billed_despite_included": "Billed despite included (credit)",
    "contractual_add_on": "Contractual add-on (leverage)",
    # columns
    "agreement_id": "Agreement",
    "location_id": "Location ID",
    "location_name": "Location",
    "governing_agreement_id": "Governing agreement",
    "impact_12m": "Impact, next 12 months",
    "in_total": "Counted in total",
    "spend_t12m": "Spend (T12M)",
    "addon_t12m": "Add-on charges (T12M)",
    "billed_despite_included_t12m": "Billed despite included (T12M)",
    "managed_services_t12m": "Managed services (T12M)",
    "effective_workstation_monthly": "Price per workstation / month",
    "benchmark_low": "Market band low",
    "benchmark_high": "Market band high",
    "vs_benchmark": "Versus market band",
    "clause_score": "Clause score",
    "passed": "Checks passed",
    "checked": "Checks known",
    "contractual_allowance": "Contractual allowance",
    "contractual_overspend": "Overspend vs contract",
    "target_cap": "Target cap",
    "target_overspend": "Overspend vs target",
    "sla_business_days": "SLA (business days)",
    "sla_breached": "SLA breached",
    "business_days": "Business days to go-live",
    "days_to_notice_deadline": "Days to notice deadline",
    "notice_window_missed": "Notice window missed",
    "current_term_end": "Current term ends",
    "go_live_date": "Go-live date",
    "join_date": "Joined",
    "join_type": "Joined as",
    "addon_kind": "Kind of add-on",
    "service": "Service",
    "amount": "Amount",
    "bucket": "Deadline bucket",
    "de_novo": "De novo",
    "source_file": "Source file",
    "source_sheet": "Source sheet",
    "source_row": "Source row",
    "age_days": "Age (days)",
    "ask_key": "Ask key",
}

_CODE = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)+$")


def is_code_name(text: str) -> bool:
    """Return True when ``text`` looks like a ``snake_case`` code name (two words or more)."""
    return bool(_CODE.match(text))


def label(code: object) -> str:
    """Return the readable label of a code name (service, check, column, term).

    Known codes come from :data:`LABELS`; other ``snake_case`` text is spelled
    out (underscores to spaces, first letter capitalised, acronyms such as
    HIPAA and SLA in capitals).  Text that is not a code is returned unchanged.

    Parameters
    ----------
    code : object
        A code name, e.g. ``"cross_location_incidents"``; ``None`` -> ``""``.

    Returns
    -------
    str
        e.g. ``"Cross-location incidents"``.

    Examples
    --------
    >>> label("hipaa_access_control_logs")
    'HIPAA: access-control logs'
    >>> label("notice_days")
    'Notice days'
    """
    if code is None:
        return ""
    text = str(code)
    if text in LABELS:
        return LABELS[text]
    if not (is_code_name(text) or text.isidentifier() and text.islower()):
        return text
    words = [_WORDS.get(w, w) for w in text.split("_") if w]
    if not words:
        return text
    first = words[0]
    words[0] = first if first.isupper() or first[:1].isdigit() else first[:1].upper() + first[1:]
    return " ".join(words)


_CODE_IN_TEXT = re.compile(r"(?<![\w./\\-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/\\-])")


def humanize(text: str) -> str:
    """Replace code names inside a sentence by their labels (first letter kept lower-case).

    ``"Move organizational_reporting into the base fee"`` ->
    ``"Move organization-wide reporting into the base fee"``.  A whole-cell
    code becomes its label (``"cross_location_incidents"`` ->
    ``"Cross-location incidents"``).  File names and paths are left alone.

    Examples
    --------
    >>> humanize("Move organizational_reporting into the base fee")
    'Move organization-wide reporting into the base fee'
    """
    if text in LABELS or is_code_name(text):
        return label(text)

    def one(mt: re.Match[str]) -> str:
        out = label(mt.group(0))
        if len(out) > 1 and out[0].isupper() and not out[1].isupper():
            out = out[0].lower() + out[1:]
        return out

    return _CODE_IN_TEXT.sub(one, text)


def labels(codes: object) -> list[str]:
    """Return :func:`label` of every item of an iterable."""
    return [label(c) for c in codes]  # type: ignore[union-attr]


def terms_provenance(terms_sources: Mapping[str, str | None]) -> list[tuple[str, str]]:
    """How each agreement's terms were entered, for the report cover.

    Parameters
    ----------
    terms_sources : mapping
        ``agreement_id`` -> the agreements sheet's ``terms_source`` text
        (:attr:`~dso_analytics.metrics.result.DsoMetrics.terms_sources`).

    Returns
    -------
    list of (str, str)
        ``(agreement_id, how)`` in agreement order; ``how`` is ``"typed"`` when
        ``terms_source`` is blank or missing, else its text (e.g. ``extracted from
        MSA.pdf, reviewed 2026-12-02``).
    """
    out = []
    for aid, source in terms_sources.items():
        text = "" if source is None or source != source else str(source).strip()
        out.append((str(aid), text or "typed"))
    return out
