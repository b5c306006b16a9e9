"""Write an agreement as a contract would state it, from a row of the agreements sheet.

Used to ship a specimen PDF next to a sample DSO's ``agreements.xlsx`` (so that
``dso-analytics extract`` can be tried on it) and to test extraction end to
end: the text is composed clause by clause from the typed row, its services
and its documentation deliverables, with the distractors real agreements have
(payment terms, a hardware warranty, records retention), and printed as a text
PDF with fpdf2 (deterministic bytes: fixed creation date, no compression).
A column the row leaves blank is not stated.

Printing needs fpdf2 (imported only by :func:`write_agreement_pdf`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

_SMALL = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
          "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
          "eighteen", "nineteen"]  # fmt: skip
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SERVICE_WORDS = {
    "helpdesk": "help desk support during business hours",
    "remote_monitoring": "remote monitoring of servers and workstations",
    "patch_management": "patch management",
    "backup_monitoring": "backup monitoring",
    "security_tools": "security tools (antivirus and firewall management)",
    "cross_location_incidents": "resolution of incidents affecting more than one location",
    "compliance_documentation": "HIPAA compliance documentation",
    "organizational_reporting": "organization-wide IT health reporting",
    "after_hours_support": "after-hours support",
    "project_work": "project work",
    "hardware": "hardware",
    "third_party_licensing": "third-party software licensing",
}
_UNIT_WORDS = {"per_incident": "per incident", "per_hour": "per hour", "per_month": "per month",
               "per_location": "per location", "flat": "as a flat fee"}  # fmt: skip
_DELIVERABLE_WORDS = {
    "encryption_configuration_records": "encryption configuration records",
    "mfa_deployment_documentation": "MFA deployment documentation",
    "access_control_logs": "access control logs",
    "backup_verification_records": "backup verification records with restore-test results",
    "security_rule_safeguards_documentation": "documentation of the HIPAA Security Rule safeguards",
}


#: The clauses a code of the row states on its own: column -> code -> paragraph.
_CODED_CLAUSES: dict[str, dict[str, str]] = {
    "new_location_terms": {
        "automatic": "5. New locations. Locations acquired by Client after the Effective Date "
                     "are automatically covered by this Agreement.",
        "amendment": "5. New locations. Additional locations may be added only by a written "
                     "amendment to this Agreement.",
        "not_covered": "5. New locations. This Agreement does not extend to any location other "
                       "than the Location; any other location requires a separate agreement.",
    },
    "reporting": {
        "monthly_automatic": "7. Reporting. Provider shall deliver a monthly report to Client "
                             "automatically each month.",
        "on_request": "7. Reporting. Provider will provide service reports upon Client's request.",
        "none": "7. Reporting. Provider has no obligation to provide reports.",
    },
    "baa": {
        "per_location": "10. HIPAA. Provider shall execute a Business Associate Agreement with "
                        "each location.",
        "organization": "10. HIPAA. Provider shall execute one Business Associate Agreement with "
                        "Client covering all of its practices.",
        "none": "10. HIPAA. Provider will not access protected health information, and no "
                "business associate agreement is required.",
    },
}  # fmt: skip


def number_words(n: int) -> str:
    """English words for ``0 <= n < 1000`` ("one hundred twenty").

    >>> number_words(36), number_words(120)
    ('thirty-six', 'one hundred twenty')
    """
    if n < 20:
        return _SMALL[n]
    if n < 100:
        return _TENS[n // 10 - 2] + ("" if n % 10 == 0 else "-" + _SMALL[n % 10])
    rest = n % 100
    return f"{_SMALL[n // 100]} hundred" + ("" if rest == 0 else " " + number_words(rest))


def _num(n: object) -> str:
    i = int(n)  # type: ignore[call-overload]
    return f"{number_words(i)} ({i})" if 0 <= i < 1000 else str(i)


def _money(v: object) -> str:
    return f"${float(v):,.2f}"  # type: ignore[arg-type]


def _blank(v: object) -> bool:
    if v is None:
        return True
    try:
        return bool(v != v) or (isinstance(v, float) and math.isnan(v))  # NaN / NA
    except (TypeError, ValueError):  # pandas NA in a boolean context
        return True


def _date(v: object) -> str:
    """``v`` (a date, datetime, Timestamp or ISO text) as "March 1, 2024"."""
    if hasattr(v, "to_pydatetime"):
        v = v.to_pydatetime()  # type: ignore[union-attr]
    d = v.date() if isinstance(v, dt.datetime) else v
    if not isinstance(d, dt.date):
        d = dt.date.fromisoformat(str(d)[:10])
    return f"{d:%B} {d.day}, {d.year}"


def _join(items: Sequence[str], word: str = "and") -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


def compose_agreement(
    agreement: Mapping[str, object],
    services: Sequence[Mapping[str, object]] = (),
    documentation: Sequence[Mapping[str, object]] = (),
    *,
    client: str = "the Client",
    locations: str = "",
) -> list[list[str]]:
    """Compose an agreement's text, page by page (a page is a list of paragraphs).

    Parameters
    ----------
    agreement : mapping
        One typed row of the agreements table (blank = not stated).
    services, documentation : sequence of mapping
        Its rows of the services and documentation tables.
    client : str
        The DSO's (or practice's) legal name.
    locations : str
        How the covered location is named in a per-location agreement.

    Returns
    -------
    list of list of str
    """
    a = {k: (None if _blank(v) else v) for k, v in agreement.items()}
    p1 = [*_parties(a, client), *_scope_clause(a, locations), *_services_clauses(services)]
    p2 = [
        *_term_clauses(a),
        *_fees_clauses(a),
        *_coded_clause(a, "new_location_terms"),
        *_onboarding_clause(a),
    ]
    p3 = [
        *_coded_clause(a, "reporting"),
        *_service_levels_clause(a),
        *_change_of_ownership_clause(a),
        *_coded_clause(a, "baa"),
        *_documentation_clauses(documentation),
        "12. Hardware. Hardware supplied by Provider carries a ninety (90) day warranty.",
        *_notices_clause(a),
        "Each party shall retain the records of this Agreement for six (6) years.",
    ]
    return [p for p in (p1, p2, p3) if p]


# Each clause below reads the agreement row ``a`` (blanks already ``None``) and returns
# its paragraphs: none when the row does not state it.


def _parties(a: Mapping[str, object], client: str) -> list[str]:
    """The title and the parties (with the effective date, when stated)."""
    provider = a.get("provider") or "the Provider"
    lead = 'This Managed IT Services Agreement (the "Agreement") is entered into'
    if a.get("start_date") is not None:
        lead += f' as of {_date(a["start_date"])} (the "Effective Date")'
    return [
        "MANAGED IT SERVICES AGREEMENT",
        f'{lead} by and between {client} ("Client") and {provider} ("Provider").',
    ]


def _scope_clause(a: Mapping[str, object], locations: str) -> list[str]:
    """1. Scope: one location (named by ``locations``) or the whole organization."""
    if a.get("scope") == "location":
        where = f" at {locations}" if locations else ""
        return [f"1. Scope. This Agreement applies only to the dental practice of Client{where} "
                '(the "Location").']  # fmt: skip
    if a.get("scope") == "organization":
        return ["1. Scope. This Agreement covers all dental practices owned or operated by Client."]
    return []


def _services_clauses(services: Sequence[Mapping[str, object]]) -> list[str]:
    """2. Services: what the fee includes, each add-on billed separately, what is excluded."""
    out = []
    included = [_SERVICE_WORDS[s["service"]] for s in services
                if s.get("coverage") == "included" and s.get("service") in _SERVICE_WORDS]  # fmt: skip
    if included:
        out.append(f"2. Services. The monthly fee includes {_join(included)}.")
    for s in services:
        if s.get("coverage") != "add_on" or s.get("service") not in _SERVICE_WORDS:
            continue
        words = _SERVICE_WORDS[str(s["service"])]
        text = f"{words[0].upper()}{words[1:]} is billed separately"
        if not _blank(s.get("add_on_rate")):
            text += f" at {_money(s['add_on_rate'])}"
            if not _blank(s.get("add_on_unit")):
                text += f" {_UNIT_WORDS.get(str(s['add_on_unit']), '')}".rstrip()
        out.append(text + ".")
    excluded = [_SERVICE_WORDS[s["service"]] for s in services
                if s.get("coverage") == "excluded" and s.get("service") in _SERVICE_WORDS]  # fmt: skip
    if excluded:
        out.append(f"The following are excluded from this Agreement: {_join(excluded)}.")
    return out


def _term_clauses(a: Mapping[str, object]) -> list[str]:
    """3. Term: the initial term, and how (or whether) it renews."""
    out = []
    if a.get("term_months") is not None:
        out.append(
            f"3. Term. The initial term of this Agreement is {_num(a['term_months'])} months."
        )
    if a.get("auto_renew") is True:
        text = "This Agreement shall automatically renew for successive renewal terms"
        if a.get("renewal_term_months") is not None:
            text += f" of {_num(a['renewal_term_months'])} months each"
        if a.get("notice_days") is not None:
            text += (" unless either party gives written notice of non-renewal at least "
                     f"{_num(a['notice_days'])} days before the end of the then-current term")  # fmt: skip
        out.append(text + ".")
    elif a.get("auto_renew") is False:
        out.append("This Agreement expires at the end of its term and may be renewed only by "
                   "mutual written agreement of the parties.")  # fmt: skip
    return out


def _fees_clauses(a: Mapping[str, object]) -> list[str]:
    """4. Fees: the rate and its basis, the annual uplift, the payment terms."""
    out = []
    basis, rate = a.get("pricing_basis"), a.get("monthly_rate")
    if rate is not None and basis in ("per_workstation", "per_location"):
        unit = "workstation" if basis == "per_workstation" else "location"
        out.append(f"4. Fees. Client shall pay {_money(rate)} per {unit} per month.")
    elif rate is not None and basis == "flat":
        out.append(f"4. Fees. Client shall pay a flat monthly fee of {_money(rate)}.")
    uplift = a.get("annual_uplift_pct")
    if uplift is not None and float(uplift) > 0:  # type: ignore[arg-type]
        out.append("Provider may increase the fees once per year on the anniversary of the "
                   f"Effective Date by not more than {float(uplift):g}%.")  # type: ignore[arg-type]  # fmt: skip
    elif uplift is not None:
        out.append("The fees shall not increase during the initial term.")
    out.append("Invoices are due within thirty (30) days of the invoice date.")
    return out


def _coded_clause(a: Mapping[str, object], column: str) -> list[str]:
    """5. New locations, 7. Reporting or 10. HIPAA: the paragraph of the row's code in
    ``column`` (:data:`_CODED_CLAUSES`)."""
    code = a.get(column)
    text = _CODED_CLAUSES[column].get(code) if isinstance(code, str) else None
    return [] if text is None else [text]


def _onboarding_clause(a: Mapping[str, object]) -> list[str]:
    """6. Onboarding of a new location: included, capped, hourly or quoted (with its SLA)."""
    ob = a.get("onboarding_terms")
    sla = a.get("onboarding_sla_business_days")
    done = f", and will be completed within {_num(sla)} business days" if sla is not None else ""
    cap, hourly = a.get("onboarding_cap"), a.get("onboarding_hourly_rate")
    if ob == "included":
        return ["6. Onboarding. Onboarding of each new location is included in the monthly fee "
                f"at no additional charge{done}."]  # fmt: skip
    if ob == "capped" and cap is not None:
        how = f"billed at {_money(hourly)} per hour, " if hourly is not None else "billed "
        return [f"6. Onboarding. Onboarding of each new location is {how}not to exceed "
                f"{_money(cap)} per location{done}."]  # fmt: skip
    if ob == "hourly":
        rate_text = f" at {_money(hourly)} per hour" if hourly is not None else " hourly"
        return [f"6. Onboarding. Onboarding of each new location is billed{rate_text}{done}."]
    if ob == "quote":
        return [f"6. Onboarding. Onboarding of each new location will be quoted separately{done}."]
    return []


def _service_levels_clause(a: Mapping[str, object]) -> list[str]:
    """8. Service levels: the priority 1 response and resolution times."""
    resp, resol = a.get("p1_response_minutes"), a.get("p1_resolution_hours")
    if resp is None and resol is None:
        return []
    parts = []
    if resp is not None:
        parts.append(f"response within {_num(resp)} minutes")
    if resol is not None:
        parts.append(f"resolution within {_num(resol)} hours")
    return [f"8. Service levels. Priority 1 incidents: {', '.join(parts)}."]


def _change_of_ownership_clause(a: Mapping[str, object]) -> list[str]:
    """9. Change of ownership: whether Client may then terminate."""
    coo = a.get("change_of_ownership_termination")
    if coo is True:
        return ["9. Change of ownership. If Client undergoes a change of ownership, Client may "
                "terminate this Agreement upon sixty (60) days' notice without penalty."]  # fmt: skip
    if coo is False:
        return ["9. Change of ownership. A change of ownership of Client shall not entitle "
                "Client to terminate this Agreement before the end of its term."]  # fmt: skip
    return []


def _documentation_clauses(documentation: Sequence[Mapping[str, object]]) -> list[str]:
    """11. Documentation: the deliverables specified, and those not required."""
    out = []
    yes = [_DELIVERABLE_WORDS[d["deliverable"]] for d in documentation
           if d.get("specified") is True and d.get("deliverable") in _DELIVERABLE_WORDS]  # fmt: skip
    no = [_DELIVERABLE_WORDS[d["deliverable"]] for d in documentation
          if d.get("specified") is False and d.get("deliverable") in _DELIVERABLE_WORDS]  # fmt: skip
    if yes:
        out.append(f"11. Documentation. Provider shall produce and retain {_join(yes)}.")
    if no:
        out.append(f"Provider is not required to produce {_join(no, 'or')}.")
    return out


def _notices_clause(a: Mapping[str, object]) -> list[str]:
    """13. Notices: how a notice of non-renewal is sent."""
    method = a.get("notice_method")
    if not method:
        return []
    ways = [m.strip() for m in str(method).split(";") if m.strip()]
    return [f"13. Notices. Notices of non-renewal shall be sent by {_join(ways, 'or by')}."]


def write_agreement_pdf(pages: Sequence[Sequence[str]], path: str | Path) -> Path:
    """Print composed pages as a text PDF (fpdf2, one PDF page per page; deterministic bytes).

    Parameters
    ----------
    pages : sequence of sequence of str
        From :func:`compose_agreement` (ASCII or Latin-1 text).
    path : str or Path

    Returns
    -------
    Path
    """
    from fpdf import FPDF

    pdf = FPDF(format="letter")
    pdf.set_creation_date(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    pdf.set_compression(False)
    pdf.set_margins(22, 20, 22)
    pdf.set_auto_page_break(True, margin=18)
    for paragraphs in pages:
        pdf.add_page()
        for i, text in enumerate(paragraphs):
            heading = i == 0 and text.isupper()
            pdf.set_font("Helvetica", style="B" if heading else "", size=12 if heading else 10)
            pdf.multi_cell(0, 5.5, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2.5)
    out = Path(path)
    pdf.output(str(out))
    return out
