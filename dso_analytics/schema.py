"""Table, column and code names: the one source of truth of the data contract.

Every other module names tables, columns and codes through this module
(see ``../shared/spec/data-contract.md``; an in-repo copy lives in
``docs/data-contract.md``).

Typed columns after ingest (pandas 3):

=========  ==========================================================
kind       dtype after :func:`dso_analytics.ingest.read_dso`
=========  ==========================================================
text       ``str`` (pandas' string dtype); blank -> missing
code       ``str``, normalised: lower case, trimmed, spaces/hyphens -> ``_``
money      ``float64`` (NaN when blank), rounded to the cent for ``amount``
number     ``float64``
integer    ``Int64`` (nullable)
date       ``datetime64[ns]`` (midnight, tz-naive); NaT when blank
bool       ``boolean`` (nullable)
=========  ==========================================================

A value that is present but cannot be parsed becomes missing in the typed
column and its original text is kept in ``<column>__invalid`` (``str``; missing
where the cell parsed).  Validation reports every such cell by file, sheet,
row and column.  Every row also carries :data:`PROVENANCE` columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# --------------------------------------------------------------------------
# Provenance and naming
# --------------------------------------------------------------------------
SOURCE_FILE = "source_file"  # path relative to the DSO folder, POSIX style
SOURCE_SHEET = "source_sheet"  # sheet name; "" for CSV
SOURCE_ROW = "source_row"  # 1-based row number a person sees in Excel
PROVENANCE: tuple[str, ...] = (SOURCE_FILE, SOURCE_SHEET, SOURCE_ROW)

INVALID_SUFFIX = "__invalid"

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")

# Tables
LOCATIONS = "locations"
AGREEMENTS = "agreements"
SERVICES = "services"
DOCUMENTATION = "documentation"
BILLING = "billing"
TABLES: tuple[str, ...] = (LOCATIONS, AGREEMENTS, SERVICES, DOCUMENTATION, BILLING)

# Files inside a DSO folder
LOCATIONS_FILE_STEM = "locations"
AGREEMENTS_FILE_STEM = "agreements"
BILLING_DIR = "billing"
PROFILES_DIR = "profiles"
DSO_META_FILE = "dso.yaml"
TABLE_EXTENSIONS: tuple[str, ...] = (".xlsx", ".csv")

# --------------------------------------------------------------------------
# Vocabularies
# --------------------------------------------------------------------------
JOIN_TYPES = ("founding", "acquisition", "de_novo")
LOCATION_STATUSES = ("active", "closed", "planned")
SCOPES = ("organization", "location")
PRICING_BASES = ("per_workstation", "per_location", "flat")
NEW_LOCATION_TERMS = ("automatic", "amendment", "not_covered")
ONBOARDING_TERMS = ("included", "capped", "hourly", "quote")
REPORTING_TERMS = ("monthly_automatic", "on_request", "none")
BAA_TERMS = ("per_location", "organization", "none")
COVERAGES = ("included", "add_on", "excluded")
ADD_ON_UNITS = ("per_incident", "per_hour", "per_month", "per_location", "flat")

DELIVERABLES = (
    "encryption_configuration_records",
    "mfa_deployment_documentation",
    "access_control_logs",
    "backup_verification_records",
    "security_rule_safeguards_documentation",
)

# Service codes and their groups (the groups' membership in the should-be-base
# set is read from the editable standard file, see dso_analytics.standards).
BASE_FEE = ("managed_services",)
STANDARD_BASE = (
    "helpdesk",
    "remote_monitoring",
    "patch_management",
    "backup_monitoring",
    "security_tools",
)
DSO_GRADE_BASE = (
    "cross_location_incidents",
    "new_location_onboarding",
    "compliance_documentation",
    "organizational_reporting",
)
LEGITIMATELY_EXTRA = ("after_hours_support", "project_work", "hardware", "third_party_licensing")
UNCLASSIFIED = "unclassified"
ONBOARDING_SERVICE = "new_location_onboarding"
MANAGED_SERVICES = "managed_services"
SERVICE_CODES: tuple[str, ...] = (
    BASE_FEE + STANDARD_BASE + DSO_GRADE_BASE + LEGITIMATELY_EXTRA + (UNCLASSIFIED,)
)
SERVICE_GROUPS: dict[str, str] = {
    **{s: "base fee" for s in BASE_FEE},
    **{s: "standard base" for s in STANDARD_BASE},
    **{s: "DSO-grade base" for s in DSO_GRADE_BASE},
    **{s: "legitimately extra" for s in LEGITIMATELY_EXTRA},
    UNCLASSIFIED: "unclassified",
}


# --------------------------------------------------------------------------
# Column specifications
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    """One column of the data contract.

    Parameters
    ----------
    name : str
        snake_case column name (the header, matched case-insensitively).
    kind : str
        ``text``, ``code``, ``money``, ``number``, ``integer``, ``date`` or ``bool``.
    required : bool
        Whether every row must have a value (conditional rules live in validation).
    codes : tuple of str, optional
        The vocabulary for ``code`` columns.
    min_value : float, optional
        Smallest allowed value for numeric columns.
    default : object, optional
        Value used when the column or cell is blank (documented defaults only).
    """

    name: str
    kind: str
    required: bool = False
    codes: tuple[str, ...] = ()
    min_value: float | None = None
    default: object = None


LOCATION_COLUMNS: tuple[Column, ...] = (
    Column("location_id", "text", required=True),
    Column("location_name", "text", required=True),
    Column("state", "text"),
    Column("join_date", "date", required=True),
    Column("join_type", "code", required=True, codes=JOIN_TYPES),
    Column("go_live_date", "date"),
    Column("workstations", "integer", required=True, min_value=0),
    Column("servers", "integer", min_value=0, default=0),
    Column("status", "code", required=True, codes=LOCATION_STATUSES),
    Column("aliases", "text"),
)

AGREEMENT_COLUMNS: tuple[Column, ...] = (
    Column("agreement_id", "text", required=True),
    Column("provider", "text", required=True),
    Column("scope", "code", required=True, codes=SCOPES),
    Column("location_ids", "text"),
    Column("start_date", "date", required=True),
    Column("terms_effective_date", "date"),
    Column("term_months", "integer", required=True, min_value=1),
    Column("auto_renew", "bool", required=True),
    Column("renewal_term_months", "integer", min_value=1, default=12),
    Column("notice_days", "integer", min_value=0),
    Column("notice_method", "text"),  # how notice must be sent, e.g. "certified mail"
    Column("pricing_basis", "code", required=True, codes=PRICING_BASES),
    Column("monthly_rate", "money", required=True, min_value=0),
    Column("annual_uplift_pct", "number", default=0.0),
    Column("new_location_terms", "code", required=True, codes=NEW_LOCATION_TERMS),
    Column("onboarding_terms", "code", required=True, codes=ONBOARDING_TERMS),
    Column("onboarding_cap", "money", min_value=0),
    Column("onboarding_hourly_rate", "money", min_value=0),
    Column("onboarding_sla_business_days", "integer", min_value=0),
    Column("reporting", "code", required=True, codes=REPORTING_TERMS),
    Column("change_of_ownership_termination", "bool"),
    Column("baa", "code", codes=BAA_TERMS),
    Column("p1_response_minutes", "integer", min_value=0),
    Column("p1_resolution_hours", "integer", min_value=0),
)

SERVICE_COLUMNS: tuple[Column, ...] = (
    Column("agreement_id", "text", required=True),
    Column("service", "code", required=True, codes=SERVICE_CODES[:-1]),
    Column("coverage", "code", required=True, codes=COVERAGES),
    Column("add_on_rate", "money", min_value=0),
    Column("add_on_unit", "code", codes=ADD_ON_UNITS),
    Column("unlimited", "bool"),
)

DOCUMENTATION_COLUMNS: tuple[Column, ...] = (
    Column("agreement_id", "text", required=True),
    Column("deliverable", "code", required=True, codes=DELIVERABLES),
    Column("specified", "bool", required=True),
)

BILLING_COLUMNS: tuple[Column, ...] = (
    Column("invoice_number", "text", required=True),
    Column("invoice_date", "date", required=True),
    Column("location_id", "text"),
    Column("agreement_id", "text"),
    Column("description", "text", required=True),
    Column("service", "code", codes=SERVICE_CODES),
    Column("quantity", "number", default=1.0),
    Column("unit_price", "money"),
    Column("amount", "money", required=True),
    Column("hours", "number", min_value=0),
)

TABLE_COLUMNS: dict[str, tuple[Column, ...]] = {
    LOCATIONS: LOCATION_COLUMNS,
    AGREEMENTS: AGREEMENT_COLUMNS,
    SERVICES: SERVICE_COLUMNS,
    DOCUMENTATION: DOCUMENTATION_COLUMNS,
    BILLING: BILLING_COLUMNS,
}

# Key columns (unique within a DSO)
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    LOCATIONS: ("location_id",),
    AGREEMENTS: ("agreement_id",),
    SERVICES: ("agreement_id", "service"),
    DOCUMENTATION: ("agreement_id", "deliverable"),
}

# Column added by classification (dso_analytics.classify) to billing
SERVICE_RESOLVED = "service_resolved"  # explicit service, else the rule's code, else unclassified
CLASSIFIED_BY = "classified_by"  # "explicit", the rule id, or "unclassified"
GOVERNING_AGREEMENT = "governing_agreement_id"  # see metrics.md "Governing agreement"
# Optional agreements column written by `extract --accept` ("extracted from X, reviewed DATE")
TERMS_SOURCE = "terms_source"


def column_names(table: str) -> tuple[str, ...]:
    """Return the contract column names of ``table`` in contract order.

    Parameters
    ----------
    table : str
        One of :data:`TABLES`.

    Returns
    -------
    tuple of str
    """
    return tuple(c.name for c in TABLE_COLUMNS[table])


def required_columns(table: str) -> tuple[str, ...]:
    """Return the columns of ``table`` that every row must fill."""
    return tuple(c.name for c in TABLE_COLUMNS[table] if c.required)


_CAMEL_LOWER_UPPER = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")  # extPrice -> ext_Price
_CAMEL_ACRONYM = re.compile(r"(?<=[A-Z])(?=[A-Z][a-z])")  # IDNumber -> ID_Number
_SPACED_PUNCT = re.compile(r"\s*([/#&+()])\s*")  # "Project / Phase" -> "project/phase"


def normalise_header(text: object) -> str:
    """Normalise a header cell for matching: trimmed, camelCase split into
    words, lower case, no spaces around ``/ # & + ( )``, runs of spaces,
    hyphens and dots turned into one underscore; a leading ``*`` (Xero's mark
    of a required column) is dropped.

    Applied once, where a table is read, and to every header a profile names.

    >>> normalise_header("  Invoice Number ")
    'invoice_number'
    >>> normalise_header("Location-ID")
    'location_id'
    >>> normalise_header("Project / Phase")
    'project/phase'
    >>> normalise_header("extPrice"), normalise_header("agreement.id")
    ('ext_price', 'agreement_id')
    >>> normalise_header("BillingItemType"), normalise_header("*InvoiceNumber")
    ('billing_item_type', 'invoice_number')
    """
    s = str(text).replace("\u00a0", " ").strip().lstrip("*").strip()
    s = _CAMEL_LOWER_UPPER.sub("_", s)
    s = _CAMEL_ACRONYM.sub("_", s).lower()
    s = _SPACED_PUNCT.sub(r"\1", s)
    s = re.sub(r"[\s\-\._]+", "_", s)
    return s.strip("_")


def header_key(text: object) -> str:
    """The separator-free matching key of a header (``invoicenumber`` for
    ``Invoice Number``, ``InvoiceNumber``, ``invoice_number`` and ``INVOICE-NUMBER``).

    Provider profiles compare headers by this key, so an export's spelling
    (spaces, underscores, camelCase, dots) never decides whether a column is found.

    >>> header_key("Ext Price") == header_key("extPrice") == header_key("EXTPRICE")
    True
    """
    return normalise_header(text).replace("_", "")


def is_slug(name: str) -> bool:
    """Return whether ``name`` is a safe DSO slug (``^[a-z0-9][a-z0-9_-]{0,63}$``)."""
    return bool(SLUG_RE.match(name))
