"""Rules that read the agreement columns, services and documentation from an agreement's text.

Every rule looks at one unit (a sentence or a table row, see
:mod:`dso_analytics.extract.text`) and proposes *candidates*: a value, the unit
it came from (page + evidence sentence) and a confidence.  :func:`extract_terms`
then picks one candidate per column:

* a candidate from an amendment (after an "Amendment" heading, or a sentence
  that replaces or amends a section) wins over the original text, the latest
  amendment first;
* otherwise the most confident candidate, the earliest on ties.

A column no rule finds is ``None``: never a guess.  Some rules find the clause
but no usable value (an escalator "CPI plus 2%", a quarterly report): they
return the evidence with ``value=None`` so that the analyst sees why it is
blank.

Confidence is a fixed score per rule (0.95: the clause says it in the usual
words; 0.85: a weaker cue such as "per device" or a table row read by position;
0.7: a mapping the contract's codes force, such as "per user" ->
``per_workstation``).  It is lowered by 0.15 when another candidate of the same
strength disagrees.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from dso_analytics import schema
from dso_analytics.extract.text import Unit

#: The agreement columns extraction fills (``agreement_id`` and ``location_ids`` are the
#: analyst's); ``notice_method`` is the optional column of the data contract.
EXTRACTED_COLUMNS: tuple[str, ...] = (
    "provider",
    "scope",
    "start_date",
    "term_months",
    "auto_renew",
    "renewal_term_months",
    "notice_days",
    "notice_method",
    "pricing_basis",
    "monthly_rate",
    "annual_uplift_pct",
    "new_location_terms",
    "onboarding_terms",
    "onboarding_cap",
    "onboarding_hourly_rate",
    "onboarding_sla_business_days",
    "reporting",
    "change_of_ownership_termination",
    "baa",
    "p1_response_minutes",
    "p1_resolution_hours",
    "terms_effective_date",
)

#: Service codes a rule can read (``managed_services`` is the base fee itself; ``unclassified``
#: is never stated by an agreement).
EXTRACTED_SERVICES: tuple[str, ...] = tuple(
    s for s in schema.SERVICE_CODES if s not in (schema.MANAGED_SERVICES, schema.UNCLASSIFIED)
)


@dataclass(frozen=True)
class Term:
    """One extracted value with its citation.

    Parameters
    ----------
    value : object
        The value in the contract's type (``str``, ``int``, ``float``, ``bool``, ISO date
        text), or ``None`` when the clause is found but states no usable value.
    page : int
        1-based page of the evidence.
    evidence : str
        The sentence (or table row) it was read from.
    confidence : float
        0..1.
    extra : dict
        Rule-specific details (a service's ``add_on_rate`` / ``add_on_unit``).
    file : str or None
        The file of the evidence when the agreement was read from several files.
    """

    value: object
    page: int
    evidence: str
    confidence: float
    extra: dict = field(default_factory=dict)
    file: str | None = None


@dataclass(frozen=True)
class _Cand:
    column: str
    value: object
    unit: Unit
    confidence: float
    extra: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------
# Shared patterns
# ---------------------------------------------------------------------------
_MONEY = re.compile(r"\$\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?(?!\d)")
_DURATION = re.compile(
    r"(?<![\d.$])(\d+(?:\.\d+)?)(?:\s*\(\d+\))?[\s-]*"
    r"(business\s+days?|working\s+days?|calendar\s+days?|days?|weeks?|months?|years?|"
    r"hours?|hrs?|minutes?|mins?)\b(?!-to-)",
)
_PERCENT = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)%")
_MONTHS = {
    m: i
    for i, m in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ],
        start=1,
    )
}
_MONTH_RE = "(" + "|".join(_MONTHS) + ")"
_DATES = (
    (re.compile(rf"\b{_MONTH_RE}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b"), "mdy_name"),
    (
        re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+day\s+of\s+{_MONTH_RE},?\s+(\d{{4}})\b"),
        "dmy_name",
    ),
    (re.compile(rf"\b(\d{{1,2}})\s+{_MONTH_RE},?\s+(\d{{4}})\b"), "dmy_name"),
    (re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"), "iso"),
    (re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b"), "us"),
)


def _money(text: str) -> float | None:
    m = _MONEY.search(text)
    return None if m is None else _money_value(m)


def _money_value(m: re.Match[str]) -> float:
    whole = m.group(1).replace(",", "")
    cents = (m.group(2) or "0").ljust(2, "0")
    return float(f"{whole}.{cents}")


def _durations(text: str) -> list[tuple[float, str, int]]:
    """``(number, unit, position)`` of every duration; unit in minutes/hours/days/... ."""
    out = []
    for m in _DURATION.finditer(text):
        raw = m.group(2)
        if raw.startswith(("business", "working")):
            unit = "business_days"
        elif raw.startswith(("day", "calendar")):
            unit = "days"
        elif raw.startswith("week"):
            unit = "weeks"
        elif raw.startswith("month"):
            unit = "months"
        elif raw.startswith("year"):
            unit = "years"
        elif raw.startswith(("hour", "hr")):
            unit = "hours"
        else:
            unit = "minutes"
        out.append((float(m.group(1)), unit, m.start()))
    return out


def _as_months(n: float, unit: str) -> int | None:
    if unit == "months" and n.is_integer():
        return int(n)
    if unit == "years" and (n * 12).is_integer():
        return int(n * 12)
    return None


def _parse_date(text: str) -> tuple[str, int] | None:
    """First date in ``text`` as ISO text, with its position."""
    best: tuple[str, int] | None = None
    for rx, kind in _DATES:
        m = rx.search(text)
        if not m:
            continue
        try:
            if kind == "mdy_name":
                d = date(int(m.group(3)), _MONTHS[m.group(1)], int(m.group(2)))
            elif kind == "dmy_name":
                d = date(int(m.group(3)), _MONTHS[m.group(2)], int(m.group(1)))
            elif kind == "iso":
                d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            else:
                d = date(int(m.group(3)), int(m.group(1)), int(m.group(2)))
        except ValueError:
            continue
        if best is None or m.start() < best[1]:
            best = (d.isoformat(), m.start())
    return best


def _has(rx: str, text: str) -> bool:
    return re.search(rx, text) is not None


_DEFINITION = re.compile(
    r'^\W*(?:\d+(?:\.\d+)*\.?\s+)?"[^"]{1,40}"\s+(?:means|has the meaning|shall mean)'
)


# ---------------------------------------------------------------------------
# Parties
# ---------------------------------------------------------------------------
_ROLE = re.compile(
    r'\(\s*(?:the\s+|this\s+|hereinafter(?:\s+referred\s+to\s+as)?\s+|each,?\s+a\s+)?"([^"]{1,40})"'
    r'(?:\s*(?:,|or|and)\s*(?:the\s+)?"([^"]{1,40})")?\s*\)'
    r"|\(\s*(?:the\s+)?(Provider|Service Provider|MSP|Contractor|Vendor|Supplier|Consultant|"
    r"Client|Customer|DSO|Practice|Company)\s*\)"
)
_PROVIDER_ROLES = {
    "provider", "service provider", "msp", "contractor", "vendor", "consultant", "supplier",
    "managed service provider", "it provider",
}  # fmt: skip
_CLIENT_ROLES = {
    "client", "customer", "dso", "practice", "company", "you", "owner", "group", "buyer",
    "licensee", "organization",
}  # fmt: skip
_NON_PARTY_ROLES = {"agreement", "effective date", "location", "office", "services", "party"}


def _party_name(segment: str) -> str | None:
    seg = re.split(r"\b(?:by\s+and\s+between|between|by|and|with)\s+", segment)[-1]
    seg = re.split(r",\s+an?\s+(?=[A-Za-z])", seg)[0]
    seg = seg.strip(" ,;:")
    if not seg or not seg[0].isupper() or len(seg) > 90:
        return None
    return seg


_PROVIDER_LABEL = re.compile(
    r"^(?:service\s+provider|provider|msp|vendor|contractor|supplier)\s*:\s*([A-Z][^:]{1,90})$",
    re.I,
)


def _rule_provider(u: Unit) -> Iterable[_Cand]:
    if u.amending or u.page > 2:
        return
    label = _PROVIDER_LABEL.match(u.text.strip())
    if label and label.group(1)[0].isupper():
        yield _Cand("provider", label.group(1).strip(), u, 0.9)
        return
    if u.row:
        return
    text = u.text.replace("\u201c", '"').replace("\u201d", '"')
    parties: list[tuple[str, set[str]]] = []
    prev = 0
    for m in _ROLE.finditer(text):
        roles = {r.strip().lower() for r in m.groups() if r}
        name = _party_name(text[prev : m.start()])
        prev = m.end()
        if name and not roles & _NON_PARTY_ROLES:
            parties.append((name, roles))
    if len(parties) < 2:
        return
    for name, roles in parties:
        if roles & _PROVIDER_ROLES:
            yield _Cand("provider", name, u, 0.95)
            return
    others = [(n, r) for n, r in parties if not r & _CLIENT_ROLES]
    if len(others) == 1 and len(parties) == 2:
        yield _Cand("provider", others[0][0], u, 0.75)


# ---------------------------------------------------------------------------
# Scope, start, term, renewal, notice
# ---------------------------------------------------------------------------
_SITE = r"(?:practices?|offices?|locations?|clinics?|sites?)"


_OWNER = r"(?:the\s+|its\s+|their\s+|\w+'s\s+)?"


def _rule_scope(u: Unit) -> Iterable[_Cand]:
    t = u.norm
    if _has(rf"^covered\s+{_SITE}\s*:\s*all\b", t):
        yield _Cand("scope", "organization", u, 0.9)
        return
    if u.row or _DEFINITION.search(t) or "onboard" in t or "business associate" in t:
        return
    if (
        _has(rf"\b(?:applies|apply)\s+only\s+to\b.{{0,60}}\b{_SITE}\b", t)
        or _has(r"\b(?:single|one)\s+(?:dental\s+)?(?:office|practice|location)\b.{0,20}\bat\b", t)
        or _has(rf"\b(?:covers|cover|applies\s+to)\s+only\s+(?:the\s+)?(?:\w+'s\s+)?{_SITE}\b", t)
    ):
        yield _Cand("scope", "location", u, 0.95)
    elif _has(rf"\b{_SITE}\b[^.]{{0,80}}\bat\s+\d+\b[^.]{{0,80}}\bonly\b", t) or _has(
        r"\b(?:support|services?)\s+of\s+your\s+(?:practice|office)\s+at\s+\d", t
    ):
        yield _Cand("scope", "location", u, 0.85)
    elif _has(rf"\bcovered\s+{_SITE}\s*:\s*all\b|\ball\s+current\s+and\s+future\b", t):
        yield _Cand("scope", "organization", u, 0.9)
    elif _has(rf"\b(?:all|every)\s+(?:of\s+)?{_OWNER}(?:dental\s+)?{_SITE}\b", t) and _has(
        r"\b(?:covers?|governs?|applies|apply|provide|services?\s+to|under\s+(?:this|one)|"
        r"deliver|support)\b",
        t,
    ):
        yield _Cand(
            "scope", "organization", u, 0.8 if _has(r"\b(?:fee|pay|price)\b|\$", t) else 0.9
        )
    elif _has(rf"\bfor\s+(?:all|every)\s+(?:of\s+)?{_OWNER}(?:dental\s+)?{_SITE}\b", t):
        yield _Cand("scope", "organization", u, 0.8)


_START_CUE = re.compile(
    r"\b(?:effective|entered\s+into|made|dated|commenc\w*|starts?|begins?|beginning|"
    r"takes?\s+effect)\b"
)


_START_LABEL = re.compile(r"^(?:effective|start|commencement)(?:\s+date)?\s*:")


def _rule_amendment_date(u: Unit) -> Iterable[_Cand]:
    """The effective date of an amendment (the latest one sets ``terms_effective_date``)."""
    t = u.norm
    if not u.amending or u.row or "amendment" not in t:
        return
    found = _parse_date(t)
    if not found:
        return
    before = t[max(0, found[1] - 80) : found[1]]
    if _has(r"\bamendment\b", before) and _START_CUE.search(before):
        yield _Cand("terms_effective_date", found[0], u, 0.9)


def _rule_start(u: Unit) -> Iterable[_Cand]:
    t = u.norm
    if u.amending or (u.row and not _START_LABEL.match(t)):
        return
    found = _parse_date(t)
    if not found:
        return
    iso, pos = found
    before = t[max(0, pos - 80) : pos]
    if not _START_CUE.search(before) or _has(r"\b(?:signed|executed|invoice|amendment)\b", before):
        return
    if not _START_LABEL.match(t) and not _has(
        r"\b(?:agreement|agree|contract|effective date|this letter|term)\b", t
    ):
        return
    yield _Cand("start_date", iso, u, 0.95 if "effective" in before or "commenc" in before else 0.9)


_RENEW_CTX = re.compile(r"\b(?:renew\w*|successive|additional|thereafter|extend\w*|extension)\b")
_TERM_CTX = re.compile(
    r"\b(?:initial\s+term|term|lasts?|runs?|duration|period\s+of|continues?\s+for)\b"
)
_TERM_EXCLUDE = re.compile(
    r"\b(?:confidential\w*|surviv\w*|liabilit\w*|preceding|warrant\w*|retain\w*|records?|"
    r"insurance|interest|obligations)\b"
)
_AUTO_NO = re.compile(
    r"\b(?:shall|will|does|do)\s+not\s+(?:be\s+)?(?:automatically\s+)?renew\w*|"
    r"no\s+automatic\s+renewal|not\s+renew\s+automatically|"
    r"expires?\s+at\s+the\s+end\s+of\s+(?:its|the)\s+(?:initial\s+)?term|"
    r"renewed\s+only\s+by\s+(?:mutual|written)|may\s+be\s+renewed\s+(?:only\s+)?by\s+(?:mutual|written)"
)
_AUTO_YES = re.compile(
    r"\b(?:automatically\s+(?:be\s+)?renew\w*|renew\w*\s+automatically|auto-?renew\w*|"
    r"(?:will|shall)\s+(?:thereafter\s+)?renew\s+for\s+successive|month-to-month)\b"
)
_EVERGREEN = re.compile(r"\bmonth-to-month\b")
_NOT_AGREEMENT = re.compile(r"\b(?:licen[cs]\w*|subscriptions?|warrant\w*|insurance|domain)\b")


_NAMED_TERM = re.compile(
    r"\d+(?:\.\d+)?(?:\s*\(\d+\))?[\s-]*(?:months?|years?)[\s-]+(initial\s+|renewal\s+)?"
    r"(?:term|period)s?\b"
)


def _rule_term(u: Unit) -> Iterable[_Cand]:
    t = u.norm
    if _DEFINITION.search(t) or _TERM_EXCLUDE.search(t):
        return
    renewal_sentence = bool(_AUTO_YES.search(t) or _RENEW_CTX.search(t))
    for n, unit, pos in _durations(t):
        months = _as_months(n, unit)
        if months is None or months <= 0:
            continue
        before = t[max(0, pos - 90) : pos]
        named = _NAMED_TERM.match(t, pos)  # "a 36-month initial term", "1-year renewal terms"
        if named and named.group(1):
            if named.group(1).startswith("renewal"):
                if renewal_sentence and not _AUTO_NO.search(t):
                    yield _Cand("renewal_term_months", months, u, 0.9)
            else:
                yield _Cand("term_months", months, u, 0.95)
            continue
        last_renew = max((m.end() for m in _RENEW_CTX.finditer(before)), default=-1)
        last_term = max((m.end() for m in _TERM_CTX.finditer(before)), default=-1)
        if last_renew < 0 and last_term < 0:
            continue
        if last_renew > last_term or (
            last_renew >= 0 and "initial" not in before[last_term - 20 :]
        ):
            if renewal_sentence and not _AUTO_NO.search(t):
                yield _Cand("renewal_term_months", months, u, 0.9)
        elif last_term >= 0:
            if not _has(
                r"\b(?:agreement|contract|initial\s+term|term\s+of|the\s+term|lasts|runs)\b|^term\s*:",
                t,
            ):
                continue
            yield _Cand("term_months", months, u, 0.95 if "initial" in before else 0.9)


def _rule_auto_renew(u: Unit) -> Iterable[_Cand]:
    t = u.norm
    if u.row or _DEFINITION.search(t) or _NOT_AGREEMENT.search(t):
        return
    if _AUTO_NO.search(t):
        yield _Cand("auto_renew", False, u, 0.9)
    elif _AUTO_YES.search(t):
        yield _Cand("auto_renew", True, u, 0.95)
        if _EVERGREEN.search(t):
            yield _Cand("renewal_term_months", 1, u, 0.85)


_NOTICE = re.compile(r"\bnoti(?:ce|fy|fies|fication)\b")
_RENEWAL_NOTICE_CTX = re.compile(
    r"non-?renewal|not\s+(?:to\s+)?renew|intent\w*\s+not\s+to\s+renew|\brenew\w*|expir\w*|"
    r"end\s+of\s+the\s+(?:then[- ]current\s+|initial\s+|current\s+)?(?:term|period)|"
    r"month-to-month"
)
_NOTICE_EXCLUDE = re.compile(
    r"\b(?:breach\w*|cure\w*|default|insolven\w*|change\s+(?:of|in)\s+(?:control|ownership)|"
    r"convenience|is\s+sold|invoice\w*|payment)\b"
)


def _rule_notice_days(u: Unit) -> Iterable[_Cand]:
    t = u.norm
    if u.row or not _NOTICE.search(t) or not _RENEWAL_NOTICE_CTX.search(t):
        return
    if _NOTICE_EXCLUDE.search(t):
        return
    days = [(n, pos) for n, unit, pos in _durations(t) if unit == "days" and n.is_integer()]
    if len(days) == 1:
        yield _Cand("notice_days", int(days[0][0]), u, 0.95)


_TERMINATION_EXCLUDE = re.compile(
    r"\b(?:breach\w*|cure\w*|default|insolven\w*|change\s+(?:of|in)\s+(?:control|ownership)|"
    r"is\s+sold|invoice\w*|payment|cause)\b"
)


def _rule_termination_notice(u: Unit) -> Iterable[_Cand]:
    """Notice to end the agreement at will ("Termination: 45 days' written notice"): the notice
    of an agreement that runs month to month (used only then, see :func:`extract_terms`)."""
    t = u.norm
    if u.row or not _NOTICE.search(t) or "terminat" not in t or _TERMINATION_EXCLUDE.search(t):
        return
    days = [n for n, unit, _ in _durations(t) if unit == "days" and n.is_integer()]
    if len(days) == 1:
        yield _Cand("_termination_notice_days", int(days[0]), u, 0.85)


_METHODS = (
    (re.compile(r"\bcertified\s+mail"), "certified mail"),
    (re.compile(r"\bregistered\s+mail"), "registered mail"),
    (re.compile(r"\b(?:overnight|express|nationally\s+recognized)\s+courier|\bcourier\b"),
     "overnight courier"),
    (re.compile(r"\bby\s+hand\b|\bhand[- ]deliver\w*|\bpersonal(?:ly)?\s+deliver\w*|"
                r"\bdelivered\s+personally\b"),
     "hand delivery"),
    (re.compile(r"\be-?mail\b"), "email"),
    (re.compile(r"\bfax\b|\bfacsimile\b"), "fax"),
)  # fmt: skip
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def _rule_notice_method(u: Unit) -> Iterable[_Cand]:
    t = u.norm
    if not re.search(r"\bnotices?\b", t):
        return
    if not _has(r"\b(?:sent|send|delivered|deliver|given|give|by|via)\b", t):
        return
    if _has(r"\breports?\b|\binvoices?\b", t):
        return
    found: list[tuple[int, str]] = []
    for rx, label in _METHODS:
        m = rx.search(t)
        if not m:
            continue
        if label == "email":
            addr = _EMAIL.search(t, m.end())
            if addr:
                label = f"email to {addr.group(0).rstrip('.')}"
        found.append((m.start(), label))
    if not found:
        return
    value = "; ".join(label for _, label in sorted(found))
    renewal = bool(_RENEWAL_NOTICE_CTX.search(t) or "terminat" in t)
    yield _Cand("notice_method", value, u, 0.9 if renewal else 0.85)


# ---------------------------------------------------------------------------
# Pricing
# ---------------------------------------------------------------------------
_BASIS = (
    (re.compile(r"\bper\s+(?:managed\s+)?(?:workstation|desktop)s?\b|/\s?workstation"),
     "per_workstation", 0.95),
    (re.compile(r"\bper\s+(?:managed\s+)?(?:device|computer|pc|endpoint|seat)s?\b|"
                r"/\s?(?:device|computer|endpoint|seat)\b"), "per_workstation", 0.85),
    (re.compile(r"\bper\s+(?:named\s+)?users?\b|/\s?user\b"), "per_workstation", 0.7),
    (re.compile(rf"\bper\s+(?:dental\s+)?{_SITE}\b|/\s?(?:location|office|practice|site)\b"),
     "per_location", 0.9),
    (re.compile(r"\b(?:flat|fixed)\s+(?:monthly\s+)?(?:fee|charge|price|rate)\b|"
                r"\bflat\s+monthly\b"), "flat", 0.9),
)  # fmt: skip
_MONTHLY = re.compile(
    r"\bper\s+month\b|\ba\s+month\b|\bmonthly\b|/\s?mo(?:nth)?\b|\beach\s+month\b"
)
_NOT_BASE_FEE = re.compile(
    r"\b(?:per\s+hour|hourly|per\s+incident|after[- ]hours|onboard\w*|projects?|insurance|"
    r"liabilit\w*|late|interest|not\s+to\s+exceed|one-time|outside\s+business\s+hours|"
    r"hardware|licen[cs]\w*|increase\w*)\b"
)


def _rule_pricing(u: Unit, context: str) -> Iterable[_Cand]:
    t = u.norm
    if not _MONEY.search(t) or _NOT_BASE_FEE.search(t):
        return
    if not (_MONTHLY.search(t) or (u.row and _MONTHLY.search(context))):
        return
    if u.row and not _has(r"managed|monthly|base|services?\b|fee", t + " " + context):
        return
    for rx, basis, conf in _BASIS:
        m = rx.search(t)
        if not m:
            continue
        monies = list(_MONEY.finditer(t))
        nearest = min(monies, key=lambda x: abs(x.start() - m.start()))
        value = _money_value(nearest)
        if value <= 0:
            return
        if u.row and not _MONTHLY.search(t):
            conf -= 0.1
        yield _Cand("pricing_basis", basis, u, conf)
        yield _Cand("monthly_rate", value, u, conf)
        return


_UPLIFT_CTX = re.compile(r"\b(?:increas\w*|adjust\w*|escalat\w*|rais\w*|uplift)\b")
_UPLIFT_TIME = re.compile(r"\b(?:annual\w*|years?|anniversar\w*|contract\s+year|each\s+year)\b")
_UPLIFT_EXCLUDE = re.compile(
    r"\b(?:interest|late|cost\s+plus|insurance|liabilit\w*|discount\w*|credits?)\b"
)
_CPI = re.compile(r"\bcpi\b|consumer\s+price\s+index")
_FIXED = re.compile(
    r"\b(?:fees?|prices?|pricing|rates?|charges?)\s+(?:is|are|shall\s+be|will\s+be|remains?|"
    r"shall\s+remain|will\s+remain)\s+fixed\b|\b(?:shall|will)\s+not\s+increase\b|"
    r"\bno\s+(?:price\s+)?increases?\b"
)


def _rule_uplift(u: Unit) -> Iterable[_Cand]:
    t = u.norm
    if _UPLIFT_EXCLUDE.search(t):
        return
    if _FIXED.search(t) and not _PERCENT.search(t):
        yield _Cand("annual_uplift_pct", 0.0, u, 0.8)
        return
    if not _UPLIFT_CTX.search(t) or not _UPLIFT_TIME.search(t):
        return
    pcts = [float(m.group(1)) for m in _PERCENT.finditer(t)]
    if _CPI.search(t) and (not pcts or _has(r"\bcpi\s+(?:plus|\+)|index\s+(?:plus|\+)", t)):
        yield _Cand("annual_uplift_pct", None, u, 0.9)
        return
    if len(pcts) == 1:
        yield _Cand("annual_uplift_pct", pcts[0], u, 0.95)


# ---------------------------------------------------------------------------
# New locations and onboarding
# ---------------------------------------------------------------------------
_NEW_SITE = re.compile(
    rf"\b(?:new|additional|acquired|acquires?|acquisitions?|future|other|opened|newly)\b"
    rf"[^.]{{0,60}}\b{_SITE}\b|\b{_SITE}\b[^.]{{0,40}}\b(?:acquired|acquires?|opened)\b|"
    r"\bacquisitions?\b"
)


def _rule_new_locations(u: Unit) -> Iterable[_Cand]:
    t = u.norm
    if u.row or "onboard" in t or _DEFINITION.search(t) or not _NEW_SITE.search(t):
        return
    if _has(
        r"\bnot\s+(?:be\s+)?covered\b|\bdoes\s+not\s+(?:extend|apply|cover)\b|"
        r"\brequires?\s+a\s+separate\s+agreement\b|\bsign\s+a\s+separate\s+agreement\b",
        t,
    ):
        yield _Cand("new_location_terms", "not_covered", u, 0.9)
    elif _has(
        r"\b(?:by|through|via|with)\s+(?:a\s+)?(?:separate\s+)?(?:written\s+)?amendment\b", t
    ):
        yield _Cand("new_location_terms", "amendment", u, 0.9)
    elif _has(
        r"\bautomatically\s+(?:be\s+)?(?:covered|added|included|become|subject)|"
        r"\b(?:covered|added|included)\b[^.;]{0,30}\bautomatically\b",
        t,
    ):
        yield _Cand("new_location_terms", "automatic", u, 0.95)


_CAP = re.compile(
    r"(?:not\s+to\s+exceed|capped\s+at|cap\s+of|maximum\s+of|no\s+more\s+than|"
    r"shall\s+not\s+exceed|will\s+not\s+exceed|up\s+to)\s+\$"
)


def _rule_onboarding(u: Unit) -> Iterable[_Cand]:
    t = u.norm
    if not re.search(r"\bon-?board", t) or _has(
        r"\binitial\s+onboarding|existing\s+(?:locations|practices|offices)", t
    ):
        return
    if not _has(rf"\b(?:new|additional|acquired|acquires?|each|newly)\b|\b{_SITE}\b", t):
        return
    cap = _CAP.search(t)
    hourly = re.search(r"\$\s?[\d,]+(?:\.\d+)?\s*(?:per\s+hour|/\s?hour|an\s+hour)", t) or (
        u.row and "per hour" in t and _MONEY.search(t)
    )
    cap_value = _money(t[cap.start() :]) if cap else None
    if cap_value is None:
        cap = None
    if cap:
        yield _Cand("onboarding_terms", "capped", u, 0.95)
        yield _Cand("onboarding_cap", cap_value, u, 0.95)
    if hourly:
        if not cap:
            yield _Cand("onboarding_terms", "hourly", u, 0.95)
        m = _MONEY.search(t[hourly.start() :]) if hasattr(hourly, "start") else _MONEY.search(t)
        if m is not None:
            yield _Cand("onboarding_hourly_rate", _money_value(m), u, 0.95)
    if not cap and not hourly:
        if _has(
            r"\bno\s+(?:additional|extra)\s+(?:charge|cost|fee)|\bincluded\b|"
            r"\bas\s+part\s+of\s+the\s+(?:services|monthly\s+fee)|\bwithout\s+(?:additional\s+)?charge",
            t,
        ):
            yield _Cand("onboarding_terms", "included", u, 0.9)
        elif _has(r"\bquot(?:ed|e)\b|\bstatement\s+of\s+work\b|\bpriced\s+separately\b", t):
            yield _Cand("onboarding_terms", "quote", u, 0.9)
        elif _has(r"\btime[- ]and[- ]materials?\b|\bhourly\s+rates?\b", t):
            yield _Cand("onboarding_terms", "hourly", u, 0.85)
        elif (
            m2 := re.search(
                rf"\bfee\s+of\s+\$\d[\d,.]*\s+per\s+(?:new\s+)?{_SITE}|"
                rf"\$\d[\d,.]*\s+(?:flat\s+|one-time\s+)+(?:fee\s+)?per\s+(?:new\s+)?{_SITE}",
                t,
            )
        ) and (flat := _money(t[m2.start() :])) is not None:
            yield _Cand("onboarding_terms", "capped", u, 0.7)
            yield _Cand("onboarding_cap", flat, u, 0.7)
    sla = re.search(r"\bwithin\s+(\d+)\s+business\s+days\b", t)
    if sla:
        yield _Cand("onboarding_sla_business_days", int(sla.group(1)), u, 0.9)


# ---------------------------------------------------------------------------
# Reporting, change of ownership, BAA, P1
# ---------------------------------------------------------------------------
def _rule_reporting(u: Unit) -> Iterable[_Cand]:
    t = u.norm
    if not re.search(r"\breports?\b|\breporting\b", t) or u.row:
        return
    if _has(
        r"\breport\s+(?:any\s+|all\s+)?(?:security\s+)?(?:incident|breach)|incident\s+report", t
    ):
        return
    if _has(
        r"\bno\s+(?:obligation\s+to\s+provide\s+)?reports?\b|not\s+(?:be\s+)?required\s+to\s+(?:provide|deliver)\s+reports?",
        t,
    ):
        yield _Cand("reporting", "none", u, 0.85)
        return
    monthly = _has(r"\bmonthly\b|\bevery\s+month\b|\beach\s+month\b", t)
    automatic = _has(
        r"\bautomatic\w*|\bwithout\s+(?:a\s+|any\s+)?(?:request|being\s+asked)|"
        r"\b(?:shall|will)\s+(?:\w+\s+)?(?:deliver|provide|send|email|e-mail)\b",
        t,
    )
    if _has(r"\bwithout\s+(?:a\s+|any\s+)?request", t):
        pass
    elif _has(
        r"\b(?:upon|on|at)\s+(?:the\s+)?(?:\w+'s\s+)?(?:written\s+)?request\b|\bif\s+requested|\bwhen\s+requested",
        t,
    ):
        yield _Cand("reporting", "on_request", u, 0.9)
        return
    if monthly and automatic:
        yield _Cand("reporting", "monthly_automatic", u, 0.95)


def _rule_change_of_ownership(u: Unit) -> Iterable[_Cand]:
    t = u.norm
    if u.row or not _has(
        r"change\s+(?:of|in)\s+(?:control|ownership)|\bis\s+sold\b|\bsale\s+of\s+(?:the\s+)?(?:practice|business|dso|client|company)",
        t,
    ):
        return
    if not _has(r"\bterminat\w*", t):
        return
    if _has(r"\b(?:provider|msp|vendor|contractor|consultant)\s+may\s+terminate", t):
        return
    if _has(
        r"\bshall\s+not\s+(?:entitle|permit|allow|give)|\bnot\s+(?:be\s+)?entitled\s+to\s+terminate|"
        r"\bno\s+right\s+to\s+terminate|\bmay\s+not\s+terminate|\bshall\s+not\s+(?:relieve|constitute)",
        t,
    ):
        yield _Cand("change_of_ownership_termination", False, u, 0.9)
    elif _has(r"\bmay\s+terminate|\bright\s+to\s+terminate|\bentitled\s+to\s+terminate", t):
        yield _Cand("change_of_ownership_termination", True, u, 0.95)


def _rule_baa(u: Unit) -> Iterable[_Cand]:
    t = u.norm
    if not _has(r"\bbusiness\s+associate\b|\bbaa\b", t) or _DEFINITION.search(t):
        return
    if _has(
        r"\bno\s+(?:business\s+associate\s+agreement|baa)\b|\bnot\s+(?:be\s+)?required\b|"
        r"\bwill\s+not\s+(?:create|receive|access)|\bdoes\s+not\s+(?:access|create|receive)",
        t,
    ):
        yield _Cand("baa", "none", u, 0.9)
    elif _has(
        rf"\b(?:with|for)\s+each\s+(?:dental\s+)?{_SITE}|\beach\s+{_SITE}\s+separately|"
        rf"\bwith\s+the\s+(?:location|office)\b|\bfor\s+the\s+(?:location|office|practice)\b",
        t,
    ):
        yield _Cand("baa", "per_location", u, 0.9)
    elif _has(
        rf"\bsingle\b|\bone\s+business\s+associate|\ball\s+(?:of\s+)?(?:its\s+|\w+'s\s+)?{_SITE}|"
        r"\bas\s+an\s+organi[sz]ation\b",
        t,
    ):
        yield _Cand("baa", "organization", u, 0.9)


_P1 = re.compile(
    r"\b(?:priority|severity|sev|p)\s*-?\s*(?:level\s+)?(?:1|one)\b(?!\.\d)|\bpriority\s+one\b"
)
_RESPONSE_WORD = r"\b(?:respon\w*|acknowledg\w*)"
_RESOLUTION_WORD = r"\b(?:resol\w*|restor\w*|fix\w*)"


def _rule_p1(u: Unit, header: str) -> Iterable[_Cand]:
    t = u.norm
    m = _P1.search(t)
    if not m:
        return
    tail = t[m.end() :]
    durs = _durations(tail)
    if not durs:
        return
    slots: dict[str, tuple[float, str]] = {}
    if _has(_RESPONSE_WORD, t) or _has(_RESOLUTION_WORD, t):
        for n, unit, pos in durs:
            # "a 30-minute response": the word right after the duration names it
            after = re.match(r"[\d.]+(?:\s*\(\d+\))?[\s-]*[a-z]+\s+(\w+)", tail[pos:])
            if after and re.match(_RESPONSE_WORD, after.group(1)):
                slots.setdefault("response", (n, unit))
                continue
            if after and re.match(_RESOLUTION_WORD, after.group(1)):
                slots.setdefault("resolution", (n, unit))
                continue
            before = t[max(0, m.end() + pos - 60) : m.end() + pos]
            r1 = max((x.end() for x in re.finditer(_RESPONSE_WORD, before)), default=-1)
            r2 = max((x.end() for x in re.finditer(_RESOLUTION_WORD, before)), default=-1)
            if r1 > r2:
                slots.setdefault("response", (n, unit))
            elif r2 > r1:
                slots.setdefault("resolution", (n, unit))
        conf = 0.95
    elif u.row and header:
        i1 = header.find("respon")
        i2 = max(header.find("resol"), header.find("restor"))
        if i1 < 0 or i2 < 0 or len(durs) < 2:
            return
        first, second = durs[0][:2], durs[1][:2]
        slots = {"response": first, "resolution": second} if i1 < i2 else {
            "response": second, "resolution": first}  # fmt: skip
        conf = 0.85
    else:
        return
    if "response" in slots:
        n, unit = slots["response"]
        mins = n if unit == "minutes" else n * 60 if unit == "hours" else None
        if mins is not None and float(mins).is_integer():
            yield _Cand("p1_response_minutes", int(mins), u, conf)
    if "resolution" in slots:
        n, unit = slots["resolution"]
        hours = (
            n
            if unit == "hours"
            else n * 24
            if unit == "days"
            else n / 60
            if unit == "minutes"
            else None
        )
        if hours is not None and float(hours).is_integer():
            yield _Cand("p1_resolution_hours", int(hours), u, conf)


# ---------------------------------------------------------------------------
# Services and documentation
# ---------------------------------------------------------------------------
SERVICE_PATTERNS: dict[str, re.Pattern[str]] = {
    "helpdesk": re.compile(r"\bhelp\s?desk\b|\bservice\s+desk\b|\bend-user\s+support\b"),
    "remote_monitoring": re.compile(
        r"\bremote\s+monitoring\b|\bmonitoring\s+of\s+(?:the\s+)?(?:servers|network|workstations)\b|\brmm\b"
    ),
    "patch_management": re.compile(r"\bpatch\s+management\b|\bpatching\b"),
    "backup_monitoring": re.compile(
        r"\bbackup\s+(?:monitoring|management)\b|\bmonitoring\s+of\s+backups\b"
    ),
    "security_tools": re.compile(
        r"\bsecurity\s+tools\b|\banti-?virus\b|\bendpoint\s+detection\b|\bedr\b|\bfirewall\s+management\b"
    ),
    "cross_location_incidents": re.compile(
        r"\b(?:incidents?|outages?)\s+(?:that\s+)?(?:affect\w*|spanning|across)\s+(?:more\s+than\s+one|multiple|several)\b|"
        r"\bmulti-?(?:site|location|practice)\s+incidents?\b|\bcross-location\b"
    ),
    "new_location_onboarding": re.compile(r"(?!x)x"),  # read from the onboarding terms
    "compliance_documentation": re.compile(r"\bcompliance\s+documentation\b|\baudit\s+packages?\b"),
    "organizational_reporting": re.compile(
        r"\borgani[sz]ation-wide\s+(?:it\s+)?(?:health\s+)?report\w*|\bexecutive\s+reporting\b"
    ),
    "after_hours_support": re.compile(
        r"\bafter-?\s?hours\b|\boutside\s+(?:of\s+)?(?:normal\s+)?business\s+hours\b|\bsupport\s+outside\b"
    ),
    "project_work": re.compile(r"\bproject\s+work\b|\bprojects?\b"),
    "hardware": re.compile(r"\bhardware\b"),
    "third_party_licensing": re.compile(
        r"\bthird-party\s+(?:software\s+)?licen[cs]\w*|\bsoftware\s+licen[cs]\w*|\blicen[cs](?:es|ing)\b"
    ),
}
_ADD_ON = re.compile(
    r"\bbilled\b|\bcharged\b|\binvoiced\b|\bat\s+(?:the\s+|provider's\s+|\w+'s\s+)?(?:then-current\s+|standard\s+)?"
    r"(?:hourly\s+|project\s+)?rates?\b|\bper\s+hour\b|\bper\s+incident\b|\bat\s+cost\b|\bquoted\b|"
    r"\bcost\s+plus\b|\badditional\s+(?:fee|charge|cost)s?\b"
)
_EXCLUDED = re.compile(
    r"\bexcluded\b|\bnot\s+included\b|\bnot\s+covered\b|\boutside\s+(?:the\s+)?scope\b|"
    r"\bresponsibility\s+of\s+(?:the\s+)?(?:client|customer|practice|dso|company)\b|"
    r"\b(?:client|customer|practice|dso|company)\s+is\s+responsible\b|\bnot\s+part\s+of\b"
)
_INCLUDED = re.compile(
    r"\bno\s+(?:additional|extra)\s+(?:charge|cost|fee)|\binclud\w*|\bcovers?\b|\bas\s+part\s+of\b|"
    r"\bin\s+the\s+services\b|\bpart\s+of\s+the\s+(?:base|monthly|standard|core)\b"
)
_PROVIDES = re.compile(
    r"\b(?:shall|will)\s+(?:\w+\s+)?(?:provide|deliver|send|e-?mail)\b|\b(?:provides|delivers|sends|e-?mails)\b"
)
_UNITS = (
    ("per hour", "per_hour"), ("per incident", "per_incident"), ("per month", "per_month"),
    ("per location", "per_location"), ("per office", "per_location"), ("per practice", "per_location"),
)  # fmt: skip


def _coverage(clause: str) -> tuple[str, float] | None:
    if re.search(r"\bno\s+(?:additional|extra)\s+(?:charge|cost|fee)", clause):
        return "included", 0.9
    if _ADD_ON.search(clause):
        return "add_on", 0.9
    if _EXCLUDED.search(clause):
        return "excluded", 0.9
    if _INCLUDED.search(clause):
        return "included", 0.9
    if _PROVIDES.search(clause):
        return "included", 0.75
    return None


def _rule_services(u: Unit) -> Iterable[_Cand]:
    t = u.norm
    if _DEFINITION.search(t):
        return
    clauses = re.split(r";|\s-\s(?=[a-z])|,\s+(?:except|but)\s+|\.\s+", t) if not u.row else [t]
    for clause in clauses:
        hits = [s for s, rx in SERVICE_PATTERNS.items() if rx.search(clause)]
        if not hits:
            continue
        if "after_hours_support" in hits and "helpdesk" in hits:
            hits.remove("helpdesk")
        cov = _coverage(clause)
        if cov is None:
            continue
        coverage, conf = cov
        extra: dict = {}
        if coverage == "add_on" and len(hits) == 1:
            m = _MONEY.search(clause)
            if m:
                extra["add_on_rate"] = _money_value(m)
                for word, code in _UNITS:
                    if word in clause[m.end() : m.end() + 30] or (u.row and word in clause):
                        extra["add_on_unit"] = code
                        break
        shared = {"unlimited": True} if coverage == "included" and "unlimited" in clause else {}
        for s in hits:
            yield _Cand(
                f"service:{s}", coverage, u, conf, (extra if len(hits) == 1 else {}) | shared
            )


DOCUMENTATION_PATTERNS: dict[str, re.Pattern[str]] = {
    "encryption_configuration_records": re.compile(
        r"\bencryption\s+(?:configuration\s+)?(?:records|documentation)|\bencryption\s+configuration\b"
    ),
    "mfa_deployment_documentation": re.compile(
        r"\b(?:mfa|multi-factor\s+authentication)\s+(?:deployment\s+)?(?:documentation|records)\b"
    ),
    "access_control_logs": re.compile(r"\baccess\s+(?:control\s+)?logs\b"),
    "backup_verification_records": re.compile(
        r"\bbackup\s+verification\b|\brestore[- ]tests?\s+(?:results|records)\b"
    ),
    "security_rule_safeguards_documentation": re.compile(
        r"\bsecurity\s+rule\b.{0,60}\bsafeguards\b|\bsafeguards\b.{0,60}\bsecurity\s+rule\b"
    ),
}
_DOC_OBLIGATION = re.compile(
    r"\b(?:shall|will|must|agrees\s+to)\s+(?:\w+\s+){0,2}(?:produce|maintain|provide|deliver|create|"
    r"retain|keep|document)\b|\bis\s+responsible\s+for\s+(?:producing|maintaining)\b"
)
_DOC_NEGATIVE = re.compile(
    r"\bnot\s+(?:be\s+)?(?:required|responsible|obligated)\s+to\s+(?:produce|provide|maintain)|"
    r"\b(?:shall|will)\s+not\s+(?:produce|provide|maintain)"
)


def _rule_documentation(u: Unit) -> Iterable[_Cand]:
    t = u.norm
    hits = [d for d, rx in DOCUMENTATION_PATTERNS.items() if rx.search(t)]
    if not hits:
        return
    if _DOC_NEGATIVE.search(t):
        for d in hits:
            yield _Cand(f"documentation:{d}", False, u, 0.85)
    elif _DOC_OBLIGATION.search(t):
        for d in hits:
            yield _Cand(f"documentation:{d}", True, u, 0.9)


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------
_SIMPLE_RULES: tuple[Callable[[Unit], Iterable[_Cand]], ...] = (
    _rule_provider,
    _rule_scope,
    _rule_start,
    _rule_amendment_date,
    _rule_term,
    _rule_auto_renew,
    _rule_notice_days,
    _rule_termination_notice,
    _rule_notice_method,
    _rule_uplift,
    _rule_new_locations,
    _rule_onboarding,
    _rule_reporting,
    _rule_change_of_ownership,
    _rule_baa,
    _rule_services,
    _rule_documentation,
)


_LIST_ITEM = re.compile(r"^\s*(?:[-\u2022*\u00b7\u25aa\u2013]|\(?[a-z0-9]{1,3}[.)])\s+")
_NUMBERED = re.compile(r"^\s*\d+(?:\.\d+)*\.?\s")


def _list_intro(u: Unit) -> tuple[str, float] | None:
    """The coverage a list introduction announces ("The following services are included:")."""
    text = u.norm.rstrip()
    if not text.endswith(":") or not re.search(r"\bservices?\b|\bfollowing\b", text):
        return None
    cov = _coverage(text)
    return None if cov is None else (cov[0], 0.85)


def _is_list_item(u: Unit) -> bool:
    """A bullet (or, as Word keeps its list marks out of the text, a short unnumbered line)."""
    if _LIST_ITEM.match(u.text):
        return True
    return len(u.text) < 90 and not _NUMBERED.match(u.text) and not u.text.rstrip().endswith(":")


def _listed_services(u: Unit, listed: tuple[str, float]) -> Iterable[_Cand]:
    """Services named by one item of an announced list, with the list's coverage (an item's
    own cue, "billed at $150 per hour", wins)."""
    own = list(_rule_services(u))
    named = {c.column for c in own}
    for s, rx in SERVICE_PATTERNS.items():
        col = f"service:{s}"
        if col not in named and rx.search(u.norm):
            if s == "helpdesk" and SERVICE_PATTERNS["after_hours_support"].search(u.norm):
                continue
            yield _Cand(col, listed[0], u, listed[1])


def collect_candidates(units: list[Unit]) -> list[_Cand]:
    """Every candidate of every rule, in reading order."""
    out: list[_Cand] = []
    listed: tuple[str, float] | None = None  # coverage announced by "... are included:"
    for i, u in enumerate(units):
        for rule in _SIMPLE_RULES:
            out.extend(rule(u))
        if listed and _is_list_item(u):
            out.extend(_listed_services(u, listed))
        else:
            listed = _list_intro(u)
        if u.row or len(u.text) < 80:
            near = [
                w for w in units[max(0, i - 6) : i] if w.page == u.page and w.source == u.source
            ]
            context = " ".join(w.norm for w in near[-3:])
            header = next(
                (
                    w.norm
                    for w in reversed(near)
                    if "respon" in w.norm and ("resol" in w.norm or "restor" in w.norm)
                ),
                "",
            )
        else:
            context = header = ""
        out.extend(_rule_pricing(u, context))
        out.extend(_rule_p1(u, header))
    return out


def _pick(cands: list[_Cand]) -> Term:
    amending = [c for c in cands if c.unit.amending]
    if amending:
        best = amending[-1]
        conf = best.confidence
    else:
        top = max(c.confidence for c in cands)
        strongest = [c for c in cands if c.confidence == top]
        best = strongest[0]
        conf = best.confidence
        if any(c.value != best.value for c in strongest):
            conf -= 0.15
    return Term(
        value=best.value,
        page=best.unit.page,
        evidence=best.unit.text,
        confidence=round(max(0.05, conf), 2),
        extra=dict(best.extra),
        file=best.unit.source or None,
    )


@dataclass
class TermSet:
    """The terms read from one agreement.

    Attributes
    ----------
    agreement : dict
        Column -> :class:`Term` or ``None`` (every column of :data:`EXTRACTED_COLUMNS`).
    services : dict
        Service code -> :class:`Term` (value: coverage; ``extra``: ``add_on_rate``,
        ``add_on_unit``) for the services the agreement states.
    documentation : dict
        Deliverable code -> :class:`Term` (value: bool) for the deliverables it states.
    """

    agreement: dict[str, Term | None]
    services: dict[str, Term]
    documentation: dict[str, Term]


def extract_terms(units: list[Unit]) -> TermSet:
    """Read the agreement's terms from its units.

    Parameters
    ----------
    units : list of Unit
        :func:`dso_analytics.extract.text.segment` of the document.

    Returns
    -------
    TermSet
    """
    by_col: dict[str, list[_Cand]] = {}
    for c in collect_candidates(units):
        by_col.setdefault(c.column, []).append(c)
    agreement: dict[str, Term | None] = {
        col: _pick(by_col[col]) if col in by_col else None for col in EXTRACTED_COLUMNS
    }
    evergreen = agreement.get("renewal_term_months")
    if (
        agreement["notice_days"] is None
        and evergreen is not None
        and evergreen.value == 1
        and "_termination_notice_days" in by_col
    ):
        agreement["notice_days"] = _pick(by_col["_termination_notice_days"])
    _coherence(agreement)
    services = {
        s: _pick(by_col[f"service:{s}"]) for s in EXTRACTED_SERVICES if f"service:{s}" in by_col
    }
    onboarding = agreement.get("onboarding_terms")
    if onboarding is not None and onboarding.value is not None:
        extra: dict = {}
        if onboarding.value == "hourly" and agreement.get("onboarding_hourly_rate"):
            extra = {
                "add_on_rate": agreement["onboarding_hourly_rate"].value,
                "add_on_unit": "per_hour",
            }
        elif onboarding.value == "capped" and agreement.get("onboarding_cap"):
            extra = {
                "add_on_rate": agreement["onboarding_cap"].value,
                "add_on_unit": "per_location",
            }
        services[schema.ONBOARDING_SERVICE] = Term(
            value="included" if onboarding.value == "included" else "add_on",
            page=onboarding.page,
            evidence=onboarding.evidence,
            confidence=onboarding.confidence,
            extra=extra,
            file=onboarding.file,
        )
    documentation = {
        d: _pick(by_col[f"documentation:{d}"])
        for d in schema.DELIVERABLES
        if f"documentation:{d}" in by_col
    }
    return TermSet(agreement=agreement, services=services, documentation=documentation)


def _coherence(a: dict[str, Term | None]) -> None:
    """Drop values the other columns contradict (no renewal term without auto-renewal...)."""
    auto = a.get("auto_renew")
    if auto is not None and auto.value is False:
        a["renewal_term_months"] = None
    if a.get("renewal_term_months") is not None and auto is None:
        rt = a["renewal_term_months"]
        a["auto_renew"] = Term(
            True, rt.page, rt.evidence, round(rt.confidence - 0.1, 2), file=rt.file
        )
    resp, resol = a.get("p1_response_minutes"), a.get("p1_resolution_hours")
    if resp is not None and resol is not None and resp.value > resol.value * 60:  # type: ignore[operator]
        a["p1_response_minutes"] = a["p1_resolution_hours"] = None  # misread: say nothing
    ob = a.get("onboarding_terms")
    if ob is None or ob.value != "capped":
        a["onboarding_cap"] = (
            None if ob is None or ob.value not in ("capped",) else a["onboarding_cap"]
        )
    if ob is not None and ob.value not in ("hourly", "capped"):
        a["onboarding_hourly_rate"] = None
