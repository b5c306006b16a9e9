"""The provider-export profile model: :class:`Profile`, :class:`Source`, :class:`Rule`.

Plain frozen dataclasses with no parsing or reading logic, so that both
:mod:`dso_analytics.ingest.profiles` (which reads profile files and applies
profiles) and :mod:`dso_analytics.ingest.generic` (which infers a profile for
an export no profile names) can build them without importing each other.
The YAML form is described in :mod:`dso_analytics.ingest.profiles`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from dso_analytics import schema

BUILTIN = "built-in"
DATE_AUTO = "auto"
DEFAULT_MAX_UNRESOLVED = 0.5  # share of a file's lines a location rule may leave unresolved

#: Header key -> a readable spelling of it (as a profile first wrote it), for display.
_SHOWN: dict[str, str] = {}


def remember_spelling(key: str, written: str) -> None:
    """Remember how a profile first wrote header ``key``, for :func:`shown_header`."""
    _SHOWN.setdefault(key, written)


def shown_header(key: str) -> str:
    """A readable spelling of a header key (``ext_price`` for ``extprice``)."""
    return _SHOWN.get(key, key)


@dataclass(frozen=True)
class Source:
    """How one contract column is obtained from an export.

    Exactly one of ``headers`` (coalesced: first non-blank of the present
    headers), ``join`` (non-blank parts joined by ``sep``; each part is itself a
    tuple of alternative headers) or ``value`` (a constant) is set.
    """

    headers: tuple[str, ...] = ()
    join: tuple[tuple[str, ...], ...] = ()
    sep: str = " "
    value: str | None = None

    def referenced(self) -> tuple[str, ...]:
        """Every export header this source may read."""
        return self.headers + tuple(h for part in self.join for h in part)


@dataclass(frozen=True)
class Rule:
    """A row condition: a header's value matches globs, is a non-zero amount,
    or two date columns fall in the same month.

    ``service`` is the code given to matching rows (service rules only).
    """

    columns: tuple[str, ...] = ()
    match: tuple[str, ...] = ()
    nonzero: bool = False
    same_month: tuple[str, ...] = ()
    service: str = schema.ONBOARDING_SERVICE

    def referenced(self) -> tuple[str, ...]:
        """Every export header this rule may read."""
        return self.columns + self.same_month


@dataclass(frozen=True)
class Profile:
    """A provider-export profile (see the module docstring for the YAML form).

    Parameters
    ----------
    name : str
        Unique slug, e.g. ``halopsa-invoice-lines``.
    provider, layout, description : str
        For people (``dso-analytics profiles``).
    source : str
        ``"built-in"`` or the YAML file it was read from.
    required : tuple of tuple of str
        Normalised headers that must all be present to recognise the layout
        (each entry lists alternatives).
    optional : tuple of str
        Further headers that raise the recognition score.
    columns : tuple of (str, Source)
        Contract billing column -> how to obtain it.  Contract columns not listed
        are taken from a header of the same name when the export has one.
    location_columns, location_if_mapped : tuple of str
        Headers identifying the location (see the module docstring).
    date_format : str
        ``"auto"`` or a ``strftime`` format for text dates.
    derive_amount : bool
        Fill a blank amount with quantity (default 1) x unit_price.
    credit_when, exclude_when, service_rules : tuple of Rule
        Sign, exclusion and service rules (onboarding rules are service rules).
    location_value : str or None
        A constant location for every line (``columns: {location_id: {value: LOC-1}}``).
    max_unresolved : float
        Largest share of a file's lines the location rule may leave without a
        known location before validation reports it (``location.max_unresolved_share``).
    codes : tuple
        Per header, numeric or coded values -> their label (``codes:``).
    heading_into, heading_blank : str or None, tuple of str
        Heading rows (``heading_rows:``): a row whose ``heading_blank`` headers
        are all blank carries its text down into column ``heading_into``.
    recurring : tuple of (str, str) or None
        ``(start, end)`` headers of a recurring monthly charge (``recurring:``).
    """

    name: str
    provider: str
    layout: str
    description: str = ""
    source: str = BUILTIN
    required: tuple[tuple[str, ...], ...] = ()
    optional: tuple[str, ...] = ()
    columns: tuple[tuple[str, Source], ...] = ()
    location_columns: tuple[str, ...] = ()
    location_if_mapped: tuple[str, ...] = ()
    date_format: str = DATE_AUTO
    derive_amount: bool = False
    credit_when: tuple[Rule, ...] = ()
    exclude_when: tuple[Rule, ...] = ()
    service_rules: tuple[Rule, ...] = field(default_factory=tuple)
    location_value: str | None = None
    max_unresolved: float = DEFAULT_MAX_UNRESOLVED
    codes: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    heading_into: str | None = None
    heading_blank: tuple[str, ...] = ()
    recurring: tuple[str, str] | None = None

    @property
    def has_location_rule(self) -> bool:
        """Whether the profile says where the location comes from."""
        return bool(self.location_columns or self.location_if_mapped)

    @property
    def builtin(self) -> bool:
        """Whether the profile ships with the package."""
        return self.source == BUILTIN

    def column_source(self, column: str) -> Source | None:
        """The declared source of contract ``column`` (``None`` if not declared)."""
        for name, src in self.columns:
            if name == column:
                return src
        return None

    def recognising_headers(self) -> list[str]:
        """Required headers (alternatives joined by ``|``) for display."""
        return ["|".join(shown_header(a) for a in alts) for alts in self.required]

    def missing(self, headers: Sequence[str]) -> list[str]:
        """Required entries (alternatives joined by ``|``) absent from ``headers``."""
        present = {schema.header_key(h) for h in headers}
        return [
            "|".join(shown_header(a) for a in alts)
            for alts in self.required
            if not any(a in present for a in alts)
        ]

    def score(self, headers: Sequence[str]) -> int | None:
        """Recognition score for a header row, ``None`` when a required header is missing.

        Parameters
        ----------
        headers : sequence of str
            Header cells (normalised here).

        Returns
        -------
        int or None
            Number of required entries plus optional headers present.
        """
        present = {schema.header_key(h) for h in headers}
        if not self.required:
            return None
        if not all(any(a in present for a in alts) for alts in self.required):
            return None
        return len(self.required) + sum(1 for h in self.optional if h in present)
