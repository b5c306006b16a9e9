"""Provider-export profiles: recognise a PSA's export by its headers and map it
to the billing contract.

A profile is a small YAML file (see ``dso_analytics/profiles/*.yaml`` for the
shipped ones; a DSO adds its own in ``DSO_DIR/profiles/*.yaml``)::

    name: halopsa-invoice-lines          # slug, unique
    provider: HaloPSA
    layout: invoice lines
    description: free text
    recognise:
      required: [invoicenumber, net_amount, [item_shortdescription, item_description]]
      optional: [invoice_date, sitenumber, site, item_code]
    columns:                             # contract billing column -> export headers
      invoice_number: invoicenumber      # one header
      description: [item_shortdescription, item_code]   # first non-blank of several
      invoice_date: {join: [Agreement Name, Effective], sep: " "}  # non-blank parts joined
      agreement_id: {value: AG-1}        # a constant
    location:
      columns: [sitenumber, site]        # must map to a location (else validation error)
      if_mapped: [client_name]           # used only when it names a location
      max_unresolved_share: 0.5          # more lines without a location: validation error
    date_format: auto                    # or a strftime format such as "%m/%d/%Y"
    derive_amount: true                  # blank amount -> quantity x unit_price
    credit_when:   [{column: Invoice Type, match: ["credit*"]}]   # amount made negative
    exclude_when:  [{column: Bill, match: ["do not bill"]}]       # rows dropped
    onboarding:                          # -> service new_location_onboarding
      - {column: item_code, match: ["setup*"]}       # case-insensitive globs
      - {column: Setup Fee, nonzero: true}
      - {same_month: [Effective, Cancelled]}
    services:                            # other item codes -> any service code
      - {column: item_code, match: ["hw-*"], service: hardware}
    codes:                               # coded values -> labels, before any rule
      BillingItemType: {6: Recurring Service, 7: Recurring Contract Setup Fee}
    heading_rows: {into: Customer, when_blank: [Date, Amount]}   # see below
    recurring: {start: Effective, end: Cancelled}                 # see below

Header names are compared by :func:`dso_analytics.schema.header_key` (case,
spaces, underscores, dots, camelCase and spaces around ``/`` do not matter:
``Ext Price``, ``extPrice`` and ``ext_price`` are the same; ``Project / Phase``
is ``Project/Phase``).  Wherever a header is expected, a list gives
alternatives (the first present, non-blank one wins).  ``location_id`` and
``agreement_id`` are never taken from a same-named export header unless the
profile maps them (an export's own ``location.id`` is not the DSO's).

``heading_rows``: a row whose ``when_blank`` headers are all blank is a heading
(QuickBooks puts the customer above its block); its text is carried down as
column ``into`` of the rows below and the heading row itself is dropped.

``recurring``: each row is a monthly charge from ``start`` up to ``end`` (or the
as-of date, default today, when it is blank or later): one line per month,
dated on ``start``'s day of the month.  Rules read the row as exported.

Location coverage: when the DSO has locations, a file whose location rule leaves
lines without a location is a validation problem (``location_unresolved``) if
it resolves none of them or more than ``max_unresolved_share`` stay blank, unless
the file is named after a location_id (then that is their location).  The fix it
suggests for a single-location file: ``dso-analytics import FILE --location ID``
(every line gets that location) or naming the file after the location_id.

Parsing of money, dates and numbers stays with the ingest parsers: a mapped
value the profile cannot interpret is passed through as exported, so validation
reports it by file, sheet, row and column instead of it becoming blank.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml

from dso_analytics import schema
from dso_analytics.atomic import replacing
from dso_analytics.errors import DsoError, Problem, UnsafePathError, printable
from dso_analytics.ingest.aliases import map_location_values, normalise_site
from dso_analytics.ingest.generic import generic_score, infer_profile, profile_yaml
from dso_analytics.ingest.parse import ExcelError, parse_money
from dso_analytics.ingest.profile_model import (
    BUILTIN,
    DATE_AUTO,
    DEFAULT_MAX_UNRESOLVED,
    Profile,
    Rule,
    Source,
    remember_spelling,
    shown_header,
)
from dso_analytics.money import round_to_cents
from dso_analytics.words import plural

if TYPE_CHECKING:
    from dso_analytics.ingest.workbook import RawTable

LOCATION_ID = "location_id"
SITE_VALUE = "site_value"  # the export's own site value, kept next to the mapped location_id

_BILLING_NAMES = schema.column_names(schema.BILLING)
_TOP_KEYS = {
    "name",
    "provider",
    "layout",
    "description",
    "recognise",
    "columns",
    "location",
    "date_format",
    "derive_amount",
    "credit_when",
    "exclude_when",
    "onboarding",
    "services",
    "codes",
    "heading_rows",
    "recurring",
}


# ---------------------------------------------------------------------------
# Loading and validating profile files
# ---------------------------------------------------------------------------
class _Bad(Exception):
    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


def _headers(value: object, key: str, allow_nested: bool = False) -> tuple[Any, ...]:
    """A header name or a list of names -> tuple of normalised names."""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        h = schema.header_key(value)
        if not h:
            raise _Bad(key, "a header name is blank")
        remember_spelling(h, schema.normalise_header(value))
        return (h,)
    if isinstance(value, list) and value:
        out: list[Any] = []
        for i, v in enumerate(value):
            if allow_nested and isinstance(v, list):
                out.append(_headers(v, f"{key}[{i}]"))
            else:
                out.extend(_headers(v, f"{key}[{i}]"))
        return tuple(out)
    raise _Bad(key, "expected a header name or a non-empty list of header names")


def _alts(value: object, key: str) -> tuple[tuple[str, ...], ...]:
    """Entries that are each a header or a list of alternative headers."""
    items = _headers(value, key, allow_nested=True)
    return tuple(i if isinstance(i, tuple) else (i,) for i in items)


def _mapping(value: object, key: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _Bad(key, "expected a mapping (key: value lines)")
    return value


def _only(d: Mapping[str, Any], allowed: set[str], key: str) -> None:
    unknown = sorted(str(k) for k in d if k not in allowed)
    if unknown:
        raise _Bad(
            f"{key}.{unknown[0]}" if key else unknown[0],
            f"unknown key (allowed: {', '.join(sorted(allowed))})",
        )


def _text(d: Mapping[str, Any], name: str, required: bool = False) -> str:
    v = d.get(name)
    if v is None:
        if required:
            raise _Bad(name, "is required")
        return ""
    if not isinstance(v, str | int | float) or isinstance(v, bool):
        raise _Bad(name, "expected text")
    return str(v).strip()


def _source(value: object, key: str) -> Source:
    if isinstance(value, dict):
        _only(value, {"join", "sep", "value"}, key)
        if ("join" in value) == ("value" in value):
            raise _Bad(key, "give a header, a list of headers, {join: [...]} or {value: ...}")
        if "value" in value:
            v = value["value"]
            if isinstance(v, dict | list):
                raise _Bad(f"{key}.value", "expected text")
            return Source(value="" if v is None else str(v))
        sep = value.get("sep", " ")
        if not isinstance(sep, str):
            raise _Bad(f"{key}.sep", "expected text")
        return Source(join=_alts(value["join"], f"{key}.join"), sep=sep)
    return Source(headers=_headers(value, key))


def _rules(value: object, key: str, service_key: bool, fixed_service: str | None) -> list[Rule]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Bad(key, "expected a list of rules")
    out: list[Rule] = []
    for i, item in enumerate(value):
        k = f"{key}[{i}]"
        d = _mapping(item, k)
        allowed = {"column", "match", "nonzero", "same_month"} | (
            {"service"} if service_key else set()
        )
        _only(d, allowed, k)
        service = fixed_service or schema.ONBOARDING_SERVICE
        if service_key:
            code = d.get("service")
            if (
                not isinstance(code, str)
                or schema.normalise_header(code) not in schema.SERVICE_CODES
            ):
                raise _Bad(
                    f"{k}.service",
                    f"expected a service code ({', '.join(schema.SERVICE_CODES)})",
                )
            service = schema.normalise_header(code)
        if "same_month" in d:
            if set(d) - {"same_month", "service"}:
                raise _Bad(k, "same_month stands alone (no column/match/nonzero)")
            cols = _headers(d["same_month"], f"{k}.same_month")
            if len(cols) != 2:
                raise _Bad(f"{k}.same_month", "expected exactly two date headers")
            out.append(Rule(same_month=cols, service=service))
            continue
        if "column" not in d:
            raise _Bad(f"{k}.column", "is required")
        cols = _headers(d["column"], f"{k}.column")
        nonzero = d.get("nonzero", False)
        if not isinstance(nonzero, bool):
            raise _Bad(f"{k}.nonzero", "expected true or false")
        pats: tuple[str, ...] = ()
        if "match" in d:
            m = d["match"]
            m = [m] if isinstance(m, str | int | float) and not isinstance(m, bool) else m
            if not isinstance(m, list) or not m or any(isinstance(p, dict | list) for p in m):
                raise _Bad(f"{k}.match", "expected a pattern or a list of patterns")
            pats = tuple(normalise_site(p) for p in m)
        if bool(pats) == nonzero:
            raise _Bad(k, "give either match: [patterns] or nonzero: true")
        out.append(Rule(columns=cols, match=pats, nonzero=nonzero, service=service))
    return out


def _codes(value: object) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """``codes: {Header: {1: Labor, 7: Setup Fee}}`` -> keyed (header, ((value, label), ...))."""
    if value is None:
        return ()
    out = []
    for header, table in _mapping(value, "codes").items():
        k = f"codes.{header}"
        h = _headers(header, k)[0]
        pairs = []
        for code, label in _mapping(table, k).items():
            if isinstance(label, dict | list) or label is None or isinstance(code, dict | list):
                raise _Bad(f"{k}.{code}", "expected a code: label line")
            pairs.append((normalise_site(code), str(label).strip()))
        out.append((h, tuple(pairs)))
    return tuple(out)


def _heading_rows(value: object) -> tuple[str | None, tuple[str, ...]]:
    """``heading_rows: {into: Customer, when_blank: [Date, Amount]}``."""
    if value is None:
        return None, ()
    d = _mapping(value, "heading_rows")
    _only(d, {"into", "when_blank"}, "heading_rows")
    if "into" not in d or "when_blank" not in d:
        raise _Bad("heading_rows", "give into: (a new column name) and when_blank: [headers]")
    into = _headers(d["into"], "heading_rows.into")[0]
    return into, _headers(d["when_blank"], "heading_rows.when_blank")


def _recurring(value: object) -> tuple[str, str] | None:
    """``recurring: {start: Effective, end: Cancelled}`` (monthly charges)."""
    if value is None:
        return None
    d = _mapping(value, "recurring")
    _only(d, {"start", "end", "every"}, "recurring")
    if d.get("every", "month") != "month":
        raise _Bad("recurring.every", "only 'month' is supported")
    if "start" not in d or "end" not in d:
        raise _Bad("recurring", "give start: and end: (the date headers of the charge)")
    start = _headers(d["start"], "recurring.start")[0]
    end = _headers(d["end"], "recurring.end")[0]
    return start, end


def _columns(d: Mapping[str, Any]) -> list[tuple[str, Source]]:
    """``columns:``: contract billing column -> its :class:`Source`."""
    cols_in = _mapping(d.get("columns", {}) or {}, "columns")
    columns: list[tuple[str, Source]] = []
    for col, spec in cols_in.items():
        if col not in _BILLING_NAMES:
            raise _Bad(
                f"columns.{col}",
                f"not a billing column (expected one of {', '.join(_BILLING_NAMES)})",
            )
        if col == LOCATION_ID and "location" in d:
            raise _Bad("columns.location_id", "give the location either here or under location")
        columns.append((col, _source(spec, f"columns.{col}")))
    return columns


def _location_rule(
    d: Mapping[str, Any], columns: list[tuple[str, Source]]
) -> tuple[list[tuple[str, Source]], tuple[str, ...], tuple[str, ...], str | None, float]:
    """The location rule (``columns: {location_id: ...}`` or ``location:``): the other
    columns, the location headers, the ``if_mapped`` headers, a constant location and
    the largest share of lines it may leave unresolved."""
    loc_cols: tuple[str, ...] = ()
    loc_if: tuple[str, ...] = ()
    loc_value: str | None = None
    max_unresolved = DEFAULT_MAX_UNRESOLVED
    loc_src = dict(columns).pop(LOCATION_ID, None)
    if loc_src is not None:  # columns: {location_id: ...} is a location rule too
        columns = [(c, s) for c, s in columns if c != LOCATION_ID]
        if loc_src.join:
            raise _Bad("columns.location_id", "give a header, a list of headers or {value: ...}")
        loc_cols, loc_value = loc_src.headers, loc_src.value
    if d.get("location") is not None:
        loc = _mapping(d["location"], "location")
        _only(loc, {"columns", "if_mapped", "max_unresolved_share"}, "location")
        if loc.get("columns") is not None:
            loc_cols = _headers(loc["columns"], "location.columns")
        if loc.get("if_mapped") is not None:
            loc_if = _headers(loc["if_mapped"], "location.if_mapped")
        share = loc.get("max_unresolved_share", DEFAULT_MAX_UNRESOLVED)
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
            raise _Bad("location.max_unresolved_share", "expected a share between 0 and 1")
        max_unresolved = float(share)
    return columns, loc_cols, loc_if, loc_value, max_unresolved


def _date_format(d: Mapping[str, Any]) -> str:
    """``date_format:``: ``auto`` or a usable ``strftime`` format."""
    date_format = _text(d, "date_format") or DATE_AUTO
    if date_format != DATE_AUTO:
        if "%" not in date_format:
            raise _Bad("date_format", "expected 'auto' or a strftime format like '%m/%d/%Y'")
        try:
            datetime(2025, 1, 31).strftime(date_format)
            datetime.strptime(datetime(2025, 1, 31).strftime(date_format), date_format)
        except ValueError as exc:
            raise _Bad("date_format", f"not a usable strftime format ({exc})") from None
    return date_format


def parse_profile(data: object, source: str = BUILTIN) -> Profile:
    """Build a :class:`Profile` from the parsed YAML of one profile file.

    Parameters
    ----------
    data : object
        The result of ``yaml.safe_load``.
    source : str
        Where it came from (used in error messages).

    Returns
    -------
    Profile

    Raises
    ------
    DsoError
        ``"<file>: key 'columns.amount': expected ..."`` for any schema problem.
    """
    try:
        d = _mapping(data, "(top level)")
        _only(d, _TOP_KEYS, "")
        name = _text(d, "name", required=True)
        if not schema.is_slug(name):
            raise _Bad("name", f"{name!r} is not a slug (lower case letters, digits, - and _)")
        rec = _mapping(d.get("recognise"), "recognise")
        _only(rec, {"required", "optional"}, "recognise")
        if "required" not in rec:
            raise _Bad("recognise.required", "is required (the headers that identify the layout)")
        required = _alts(rec["required"], "recognise.required")
        optional = _headers(rec["optional"], "recognise.optional") if rec.get("optional") else ()
        columns = _columns(d)
        columns, loc_cols, loc_if, loc_value, max_unresolved = _location_rule(d, columns)
        codes = _codes(d.get("codes"))
        heading_into, heading_blank = _heading_rows(d.get("heading_rows"))
        recurring = _recurring(d.get("recurring"))
        date_format = _date_format(d)
        derive = d.get("derive_amount", False)
        if not isinstance(derive, bool):
            raise _Bad("derive_amount", "expected true or false")
        credit = _rules(d.get("credit_when"), "credit_when", False, None)
        exclude = _rules(d.get("exclude_when"), "exclude_when", False, None)
        services = _rules(d.get("onboarding"), "onboarding", False, schema.ONBOARDING_SERVICE)
        services += _rules(d.get("services"), "services", True, None)
        has_amount = any(c == "amount" for c, _ in columns)
        if not has_amount and not derive:
            raise _Bad("columns.amount", "map amount or set derive_amount: true")
        return Profile(
            name=name,
            provider=_text(d, "provider", required=True),
            layout=_text(d, "layout", required=True),
            description=_text(d, "description"),
            source=source,
            required=required,
            optional=tuple(optional),
            columns=tuple(columns),
            location_columns=loc_cols,
            location_if_mapped=loc_if,
            date_format=date_format,
            derive_amount=derive,
            credit_when=tuple(credit),
            exclude_when=tuple(exclude),
            service_rules=tuple(services),
            location_value=loc_value,
            max_unresolved=max_unresolved,
            codes=codes,
            heading_into=heading_into,
            heading_blank=heading_blank,
            recurring=recurring,
        )
    except _Bad as exc:
        raise DsoError(f"{source}: key {exc.key!r}: {exc.problem}") from None


def _read_profile_file(path: Path, shown: str, source: str) -> Profile:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DsoError(f"{shown}: cannot read the profile ({exc.__class__.__name__})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise DsoError(f"{shown}: not valid YAML{where}") from None
    return parse_profile(data, source=source)


@functools.lru_cache(maxsize=1)
def _builtin_profiles() -> tuple[Profile, ...]:
    """The shipped profiles (package data, parsed once per process)."""
    out: list[Profile] = []
    folder = resources.files("dso_analytics") / "profiles"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            text = entry.read_text(encoding="utf-8")
            out.append(parse_profile(yaml.safe_load(text), source=BUILTIN))
    return tuple(out)


def load_profiles(dso_dir: Path | None = None) -> list[Profile]:
    """Return the shipped profiles plus the DSO's own ``profiles/*.yaml``.

    A DSO profile with the name of a shipped one replaces it.

    Parameters
    ----------
    dso_dir : Path, optional
        A DSO folder; its ``profiles/`` folder is optional.

    Returns
    -------
    list of Profile
        Shipped profiles first (by name), then the DSO's (by file name).

    Raises
    ------
    DsoError
        A DSO profile file that is not valid (message names the file and key),
        or two DSO profile files declaring the same name.
    """
    profiles = {p.name: p for p in _builtin_profiles()}
    if dso_dir is not None:
        folder = Path(dso_dir) / schema.PROFILES_DIR
        if folder.is_dir():
            seen: dict[str, str] = {}
            files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".yaml", ".yml"))
            for path in files:
                if not path.is_file():
                    continue
                shown = f"{schema.PROFILES_DIR}/{path.name}"
                prof = _read_profile_file(path, shown, shown)
                if prof.name in seen:
                    raise DsoError(
                        f"{shown}: key 'name': profile {prof.name!r} is already defined "
                        f"in {seen[prof.name]}"
                    )
                seen[prof.name] = shown
                profiles[prof.name] = prof
    builtins = sorted((p for p in profiles.values() if p.builtin), key=lambda p: p.name)
    own = sorted((p for p in profiles.values() if not p.builtin), key=lambda p: p.source)
    return builtins + own


def list_profiles(dso_dir: Path | None = None) -> list[Profile]:
    """Return the profiles ``dso-analytics profiles`` shows (see :func:`load_profiles`)."""
    return load_profiles(dso_dir)


def format_profiles(profiles: Sequence[Profile]) -> str:
    """Render profiles as a plain-text table.

    Parameters
    ----------
    profiles : sequence of Profile

    Returns
    -------
    str
        Columns: name, provider, layout, source, recognised by.
    """
    if not profiles:
        return "no provider-export profiles"
    head = ("name", "provider", "layout", "source", "recognised by")
    rows = [
        (p.name, p.provider, p.layout, p.source, ", ".join(p.recognising_headers()))
        for p in profiles
    ]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head) - 1)]

    def line(r: Sequence[str]) -> str:
        cells = [c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)]
        return "  ".join([*cells, r[-1]]).rstrip()

    out = [line(head), line(["-" * w for w in widths] + ["-" * len(head[-1])])]
    out += [line(r) for r in rows]
    return "\n".join(out)


# ---------------------------------------------------------------------------
# Matching
# ---------------------------------------------------------------------------
def match_profile(headers: Sequence[str], profiles: Sequence[Profile]) -> Profile | None:
    """Return the profile that best recognises a header row.

    Every required header of a profile must be present; the score is the number
    of required entries plus optional headers present.  On a tie a DSO's own
    profile beats a shipped one.

    Parameters
    ----------
    headers : sequence of str
        Header cells (normalised here).
    profiles : sequence of Profile

    Returns
    -------
    Profile or None
        ``None`` when no profile recognises the headers.

    Raises
    ------
    DsoError
        Two profiles of the same kind (both shipped or both the DSO's) recognise
        the headers equally well.
    """
    scored = [(s, p) for p in profiles if (s := p.score(headers)) is not None]
    if not scored:
        return None
    best = max(s for s, _ in scored)
    top = [p for s, p in scored if s == best]
    if len(top) > 1:
        own = [p for p in top if not p.builtin]
        top = own or top
    if len(top) > 1:
        names = ", ".join(f"{p.name} ({p.source})" for p in top)
        raise DsoError(
            f"the headers match several profiles equally well: {names}; "
            "choose one with --profile or make their recognise.required more specific"
        )
    return top[0]


def header_matcher(
    profiles: Sequence[Profile], table: str | None = schema.BILLING
) -> Callable[[Sequence[str]], float]:
    """Return a header-row scorer for :func:`~dso_analytics.ingest.workbook.read_raw_table`.

    Parameters
    ----------
    profiles : sequence of Profile
        A row recognised by a profile scores that profile's score.
    table : str, optional
        Also score rows by this contract table's columns (default billing), so a
        contract file and a provider export are both found below title rows.

    Returns
    -------
    callable
        ``f(normalised_cells) -> float``; 0 for a row nothing recognises.
    """
    contract = set(schema.column_names(table)) if table else set()
    required = set(schema.required_columns(table)) if table else set()

    def score(cells: Sequence[str]) -> float:
        heads = [c for c in cells if c]
        best = float(len(contract.intersection(heads)) + len(required.intersection(heads)))
        if table == schema.BILLING:
            best = max(best, generic_score(heads))
        for p in profiles:
            s = p.score(heads)
            if s is not None:
                best = max(best, float(s) + 1.0)
        return best

    return score


def find_profile(name: str, profiles: Sequence[Profile]) -> Profile:
    """Return the profile called ``name``.

    Raises
    ------
    DsoError
        No such profile; the message lists the available ones.
    """
    for p in profiles:
        if p.name == name:
            return p
    avail = ", ".join(p.name for p in profiles) or "none"
    raise DsoError(f"no profile named {name!r} (available: {avail})")


# ---------------------------------------------------------------------------
# Applying a profile to a frame
# ---------------------------------------------------------------------------
def _is_text(s: pd.Series) -> bool:
    return isinstance(s.dtype, pd.StringDtype)


def _per_unique(s: pd.Series, fn: Callable[[Any], Any], na_value: Any, dtype: Any) -> pd.Series:
    """Apply ``fn`` once per distinct value of ``s`` (missing -> ``na_value``)."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    values = [fn(u) for u in uniques]
    values.append(na_value)
    codes = np.where(codes < 0, len(values) - 1, codes)
    if dtype == "str":
        table = pd.array(values, dtype="str")
        return pd.Series(table.take(codes), index=s.index, dtype="str")
    arr = np.empty(len(values), dtype=bool if dtype is bool else object)
    arr[:] = values
    return pd.Series(arr[codes], index=s.index, dtype=dtype)


def _errors(s: pd.Series) -> pd.Series:
    """True where a cell is an Excel error (only object columns from workbooks hold them)."""
    if s.dtype != object:
        return pd.Series(False, index=s.index)
    return s.map(type).eq(ExcelError).astype(bool)


def _blank(s: pd.Series) -> pd.Series:
    """True where a cell is missing or only whitespace (NBSP included)."""
    if s.dtype != object and not _is_text(s):
        return s.isna()
    return _per_unique(s, lambda u: _cell_text(u) == "", True, bool)


def _coalesce(raw: pd.DataFrame, headers: Sequence[str]) -> pd.Series:
    """First non-blank value among the present ``headers``; blanks become missing.

    One present header keeps its dtype; several give an ``object`` column.
    """
    present = [h for h in headers if h in raw.columns]
    if not present:
        return pd.Series(None, index=raw.index, dtype=object)
    if len(present) == 1:
        col = raw[present[0]]
        return col.where(~_blank(col), None)
    out = raw[present[0]].astype(object)
    empty = _blank(out)
    for h in present[1:]:
        col = raw[h].astype(object)
        out = out.where(~empty, col)
        empty = empty & _blank(col)
    return out.where(~empty, None)


def _present(raw: pd.DataFrame, headers: Sequence[str]) -> bool:
    return any(h in raw.columns for h in headers)


def _cell_text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, pd.Timestamp | datetime | date):
        return "" if pd.isna(v) else v.strftime("%Y-%m-%d")
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        if v.is_integer():
            return str(int(v))
    try:
        if pd.isna(v):
            return ""
    except (TypeError, ValueError):
        pass
    return re.sub(r"\s+", " ", str(v).replace("\u00a0", " ")).strip()


def _as_text(s: pd.Series) -> pd.Series:
    """Cell values as display text (dates as ISO, 12.0 as 12; blank ``""``), ``str`` dtype."""
    return _per_unique(s, _cell_text, "", "str")


def _join(raw: pd.DataFrame, parts: Sequence[Sequence[str]], sep: str) -> pd.Series:
    acc = pd.Series("", index=raw.index, dtype="str")
    for alts in parts:
        v = _as_text(_coalesce(raw, alts))
        both = acc.ne("") & v.ne("")
        acc = acc.where(v.eq(""), v.where(~both, acc + sep + v))
    out = acc.where(acc.ne(""), None).astype(object)
    for alts in parts:  # an Excel error cell in any part stays an error (never text)
        v = _coalesce(raw, alts)
        err = _errors(v)
        if err.any():
            out = out.where(~err, v)
    return out


def _money(s: pd.Series) -> pd.Series:
    """float64 reading of money cells (NaN where blank or unreadable), parsed once per
    distinct value with the ingest parser."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    values, _invalid = parse_money(pd.Series(np.asarray(uniques, dtype=object), dtype=object))
    table = np.append(values.to_numpy(dtype="float64", na_value=np.nan), np.nan)
    return pd.Series(table[codes], index=s.index, dtype="float64")


def _iso_date(u: object, fmt: str) -> object:
    if isinstance(u, pd.Timestamp | datetime | date):
        return u.strftime("%Y-%m-%d")
    if fmt != DATE_AUTO and isinstance(u, str) and not isinstance(u, ExcelError):
        try:
            return datetime.strptime(u.replace("\u00a0", " ").strip(), fmt).strftime("%Y-%m-%d")
        except ValueError:
            pass
    return u


_ISO_TIMESTAMP = re.compile(
    r"^\s*(\d{4}-\d{2}-\d{2})[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?\s*$"
)


def _strip_iso_time(s: pd.Series) -> pd.Series:
    """API timestamps (``2025-01-31T00:00:00Z``) -> their date (``2025-01-31``)."""

    def cut(u: object) -> object:
        if isinstance(u, str) and not isinstance(u, ExcelError):
            m = _ISO_TIMESTAMP.match(u)
            if m:
                return m.group(1)
        return u

    if not (_is_text(s) or s.dtype == object):
        return s
    return _per_unique(s.astype(object), cut, None, object)


def _normalise_dates(s: pd.Series, fmt: str) -> pd.Series:
    """Text dates in ``fmt``, API timestamps and date objects -> ISO text; anything
    else unchanged."""
    s = _strip_iso_time(s)
    if _is_text(s):
        if fmt == DATE_AUTO:
            return s
        text = s.str.replace("\u00a0", " ", regex=False).str.strip()
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        iso = parsed.dt.strftime("%Y-%m-%d").astype(object)
        return s.astype(object).where(parsed.isna(), iso)
    if s.dtype.kind == "M":
        return s.dt.strftime("%Y-%m-%d").astype(object)
    if s.dtype != object:
        return s
    err = _errors(s)
    out = _per_unique(s, lambda u: _iso_date(u, fmt), None, object)
    return out.where(~err, s) if err.any() else out


def _month(s: pd.Series, fmt: str) -> pd.Series:
    iso = _as_text(_normalise_dates(s, fmt))
    return pd.to_datetime(iso, format="%Y-%m-%d", errors="coerce").dt.to_period("M")


def _rule_mask(raw: pd.DataFrame, rule: Rule, fmt: str) -> pd.Series:
    if rule.same_month:
        a, b = rule.same_month
        if a not in raw.columns or b not in raw.columns:
            return pd.Series(False, index=raw.index)
        ma, mb = _month(raw[a], fmt), _month(raw[b], fmt)
        return (ma.notna() & mb.notna() & (ma == mb)).fillna(False).astype(bool)
    if not _present(raw, rule.columns):
        return pd.Series(False, index=raw.index)
    val = _coalesce(raw, rule.columns)
    if rule.nonzero:
        m = _money(val)
        return (m.notna() & m.ne(0)).astype(bool)
    keys = _as_text(val)

    def hit(u: str) -> bool:
        key = normalise_site(u)
        return any(fnmatch.fnmatchcase(key, p) for p in rule.match)

    return _per_unique(keys, hit, False, bool)


#: Contract columns never taken from a same-named export header unless the
#: profile maps them: an export's own ids (``agreement.id``, ConnectWise's
#: ``location.id``) are not the DSO's ids.
_ID_COLUMNS = frozenset({"agreement_id", LOCATION_ID})


def _column(raw: pd.DataFrame, src: Source | None, name: str) -> pd.Series:
    if src is None:
        if name in _ID_COLUMNS:
            return pd.Series(None, index=raw.index, dtype=object)
        return _coalesce(raw, (schema.header_key(name),))
    if src.value is not None:
        return pd.Series([src.value or None] * len(raw), index=raw.index, dtype=object)
    if src.join:
        return _join(raw, src.join, src.sep).astype(object)
    return _coalesce(raw, src.headers)


def _used_headers(profile: Profile) -> set[str]:
    used: set[str] = set(profile.location_columns) | set(profile.location_if_mapped)
    for _, src in profile.columns:
        used.update(src.referenced())
    for r in profile.credit_when + profile.exclude_when + profile.service_rules:
        used.update(r.referenced())
    if profile.recurring:
        used.update(profile.recurring)
    return used


def location_headers(profile: Profile) -> list[str]:
    """The export headers a profile reads the location from (keys, in order)."""
    if profile.has_location_rule:
        return [*profile.location_columns, *profile.location_if_mapped]
    return [schema.header_key(LOCATION_ID)]


def _locations(
    raw: pd.DataFrame, profile: Profile, locations: pd.DataFrame | None
) -> tuple[pd.Series, pd.Series]:
    """Return (location_id, site value as exported)."""
    if profile.location_value is not None:
        const = pd.Series(profile.location_value, index=raw.index, dtype=object)
        return const, const
    if profile.has_location_rule:
        cols = [c for c in profile.location_columns if c in raw.columns]
    else:
        key = schema.header_key(LOCATION_ID)
        cols = [key] if key in raw.columns else []
    site = _as_text(_coalesce(raw, cols)) if cols else pd.Series("", index=raw.index, dtype="str")
    site = site.where(site.ne(""), None)
    if_mapped = [c for c in profile.location_if_mapped if c in raw.columns]
    if not cols and if_mapped:  # no site column: show what the if_mapped columns hold
        shown = _as_text(_coalesce(raw, if_mapped))
        site = shown.where(shown.ne(""), None)
    if locations is None:
        return (site if cols else pd.Series(None, index=raw.index, dtype=object)), site
    loc = pd.Series(None, index=raw.index, dtype="str")
    for c in [*cols, *if_mapped]:
        mapped = map_location_values(raw[c].astype(object), locations)
        loc = loc.where(loc.notna(), mapped)
    # unmapped site values stay as exported, so validation names them
    if cols:
        site_only = _as_text(_coalesce(raw, cols))
        site_only = site_only.where(site_only.ne(""), None)
        loc = loc.astype(object).where(loc.notna(), site_only)
    return _keep_errors(loc.astype(object), raw, cols), site


def _keep_errors(values: pd.Series, raw: pd.DataFrame, headers: Sequence[str]) -> pd.Series:
    """Put Excel error cells of ``headers`` back into ``values`` (never read as blank)."""
    if not headers:
        return values
    v = _coalesce(raw, headers)
    err = _errors(v)
    return values.astype(object).where(~err, v) if err.any() else values


def _keyed(raw: pd.DataFrame) -> pd.DataFrame:
    """``raw`` with its headers replaced by their matching keys (made unique)."""
    names: list[str] = []
    seen: set[str] = set()
    for c in raw.columns:
        k = c if c in schema.PROVENANCE else schema.header_key(c)
        base, i = k, 1
        while k in seen:
            i += 1
            k = f"{base}{i}"
        seen.add(k)
        names.append(k)
    out = raw.copy()
    out.columns = names
    out.attrs["header_names"] = dict(zip(names, (str(c) for c in raw.columns), strict=True))
    return out


def _carry_headings(raw: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """Heading rows (``heading_rows``): their text becomes a column of the rows below."""
    into = profile.heading_into
    if into is None or raw.empty:
        return raw
    data = [c for c in raw.columns if c not in schema.PROVENANCE]
    blanks = [h for h in profile.heading_blank if h in raw.columns]
    if not blanks:
        return raw
    heading = pd.Series(True, index=raw.index)
    for h in blanks:
        heading &= _blank(raw[h])
    text = _as_text(_coalesce(raw, data))
    heading &= text.ne("")
    label = text.where(heading.to_numpy(), None).astype(object).ffill()
    out = raw.loc[~heading.to_numpy()].copy()
    out[into] = label.loc[out.index]
    return out


def _apply_codes(raw: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """Replace coded values (``codes``) by their labels; other values unchanged."""
    for h, pairs in profile.codes:
        if h not in raw.columns:
            continue
        table = dict(pairs)
        raw[h] = _per_unique(
            raw[h].astype(object), lambda u, t=table: t.get(normalise_site(u), u), None, object
        )
    return raw


def _expand_recurring(raw: pd.DataFrame, profile: Profile, as_of: date) -> pd.DataFrame:
    """One row per month of a recurring charge, from its start up to its end or ``as_of``.

    The start column of each repeated row holds that month's charge date (the
    start's day of month, clipped to the month's end).  A row whose start cannot
    be read is kept once, as it is, so validation reports it.
    """
    assert profile.recurring is not None
    start_h, end_h = profile.recurring
    if start_h not in raw.columns or raw.empty:
        return raw
    start = pd.to_datetime(_as_text(raw[start_h]), format="%Y-%m-%d", errors="coerce")
    if end_h in raw.columns:
        end = pd.to_datetime(_as_text(raw[end_h]), format="%Y-%m-%d", errors="coerce")
    else:
        end = pd.Series(pd.NaT, index=raw.index)
    limit = pd.Timestamp(as_of)
    stop = end.where(end.notna() & (end < limit), limit)
    span = (stop.dt.year * 12 + stop.dt.month) - (start.dt.year * 12 + start.dt.month) + 1
    ok = (start.notna() & (start <= stop)).to_numpy()
    months = np.where(ok, span.fillna(0).to_numpy(dtype="float64"), 0).astype("int64")
    counts = np.where(start.isna().to_numpy(), 1, months)
    pos = np.repeat(np.arange(len(raw)), counts)
    out = raw.iloc[pos].copy()
    k = np.arange(len(pos)) - np.repeat(np.cumsum(counts) - counts, counts)
    base = start.iloc[pos].reset_index(drop=True)
    dates = [
        (b + pd.DateOffset(months=int(i))).strftime("%Y-%m-%d") if pd.notna(b) else None
        for b, i in zip(base, k, strict=True)
    ]
    keep = [
        d is None or pd.Timestamp(d) <= s
        for d, s in zip(dates, stop.iloc[pos].reset_index(drop=True), strict=True)
    ]
    orig = out[start_h].to_numpy(dtype=object)
    out[start_h] = [o if d is None else d for o, d in zip(orig, dates, strict=True)]
    out = out.loc[np.asarray(keep, dtype=bool)] if len(out) else out
    return out.reset_index(drop=True)


def _row_rules(raw: pd.DataFrame, profile: Profile, fmt: str) -> tuple[pd.Series, pd.Series]:
    """Per row: whether a ``credit_when`` rule matches, and the service the first
    matching service rule gives (None where none does)."""
    credit = pd.Series(False, index=raw.index)
    for r in profile.credit_when:
        credit |= _rule_mask(raw, r, fmt)
    service = pd.Series(None, index=raw.index, dtype=object)
    for r in profile.service_rules:
        hit = _rule_mask(raw, r, fmt) & service.isna()
        service = service.where(~hit, r.service)
    return credit, service


def _contract_columns(raw: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """The contract billing columns but ``location_id``, as the profile maps them.

    Raises
    ------
    DsoError
        A required column whose headers the export has none of.
    """
    out = pd.DataFrame(index=raw.index)
    missing: list[str] = []
    for col in _BILLING_NAMES:
        if col == LOCATION_ID:
            continue
        src = profile.column_source(col)
        if (
            src is not None
            and src.headers
            and not _present(raw, src.headers)
            and col in schema.required_columns(schema.BILLING)
            and not (col == "amount" and profile.derive_amount)
        ):
            shown = dict.fromkeys(shown_header(h) for h in src.headers)
            missing.append(f"{col} (from {' or '.join(shown)})")
        out[col] = _column(raw, src, col)
    if missing:
        raise DsoError(
            f"profile {profile.name!r} cannot fill {', '.join(missing)}: "
            "the export has none of those headers"
        )
    return out


def _amounts(out: pd.DataFrame, profile: Profile, credit: pd.Series) -> pd.Series:
    """The amount column after the profile's rules: blank amounts derived from quantity
    x unit price (``derive_amount``), credits made negative (``credit_when``); text that
    is not an amount is passed through for validation to report."""
    amount = out["amount"].astype(object)
    num = _money(amount)
    need = _blank(amount)
    if profile.derive_amount and need.any():
        qty = _money(out["quantity"][need]).fillna(1.0)
        price = _money(out["unit_price"][need])
        with np.errstate(over="ignore", invalid="ignore"):  # huge values: validation says so
            derived = round_to_cents(qty * price)
        num.loc[derived.index] = num.loc[derived.index].where(derived.isna(), derived)
        # a blank amount whose price is unreadable: show the price text
        bad = price.index[(price.isna() & ~_blank(out["unit_price"][need])).to_numpy()]
        amount.loc[bad] = out["unit_price"].loc[bad]
    if profile.credit_when:
        num = num.where(~credit, -num.abs())
    amount = amount.astype(object).where(num.isna(), round_to_cents(num).astype(object))
    return amount.where(~_blank(amount), None)


def apply_profile(
    raw: pd.DataFrame,
    profile: Profile,
    locations: pd.DataFrame | None = None,
    as_of: date | None = None,
) -> pd.DataFrame:
    """Map an export frame to the billing contract columns.

    Parameters
    ----------
    raw : pandas.DataFrame
        The export as read: normalised headers (``ext_price``, ``company_name``)
        with raw cell values, plus ``source_file``, ``source_sheet`` and
        ``source_row``.  Headers are compared by :func:`dso_analytics.schema.header_key`.
    profile : Profile
        The profile recognising it.
    locations : pandas.DataFrame, optional
        The DSO's locations (``location_id``, ``location_name``, ``aliases``):
        site values are then mapped to ``location_id`` through the aliases.
        Without it (or for values that map to nothing) ``location_id`` holds the
        site value as exported.
    as_of : datetime.date, optional
        Last day recurring charges (``recurring:``) still open are expanded to
        (default: today).

    Returns
    -------
    pandas.DataFrame
        The billing contract columns in contract order (dates as ISO text where
        the profile's format read them, amounts as numbers where the profile
        changed or derived them, other values as exported for the ingest
        parsers), ``site_value`` (the export's site value), the provenance
        columns, then the export's unused columns.  Heading rows are carried
        down and dropped, rows matching ``exclude_when`` are dropped, recurring
        charges are one row per month.  ``raw`` is not modified.

    Raises
    ------
    DsoError
        A required contract column that the profile cannot produce from these
        headers.
    """
    raw = _keyed(raw)
    shown_names = dict(raw.attrs.get("header_names", {}))
    fmt = profile.date_format
    raw = _carry_headings(raw, profile)
    raw = _apply_codes(raw, profile)
    if profile.exclude_when and len(raw):
        drop = pd.Series(False, index=raw.index)
        for r in profile.exclude_when:
            drop |= _rule_mask(raw, r, fmt)
        raw = raw.loc[~drop]
    # dates: every header read as a date is normalised to ISO text when readable
    date_src = profile.column_source("invoice_date")
    date_headers = set(date_src.referenced() if date_src else ("invoicedate",))
    date_headers.update(profile.recurring or ())
    for h in date_headers:
        if h in raw.columns:
            raw[h] = _normalise_dates(raw[h], fmt)
    # row rules read the rows as exported (before a recurring charge is expanded)
    credit, service = _row_rules(raw, profile, fmt)
    if profile.recurring:
        raw = raw.assign(__credit=credit.to_numpy(), __service=service.to_numpy())
        raw = _expand_recurring(raw, profile, as_of or date.today())
        credit = raw.pop("__credit").astype(bool)
        service = raw.pop("__service").astype(object)
    out = _contract_columns(raw, profile)
    loc, site = _locations(raw, profile, locations)
    out.insert(_BILLING_NAMES.index(LOCATION_ID), LOCATION_ID, loc)
    # amounts: profile rules need numbers; unreadable text is passed through
    if profile.derive_amount or profile.credit_when:
        out["amount"] = _amounts(out, profile, credit)
    if profile.service_rules:
        given = out["service"]
        out["service"] = given.where(~_blank(given), service)
    out[SITE_VALUE] = site
    for p in schema.PROVENANCE:
        if p in raw.columns:
            out[p] = raw[p]
    used = _used_headers(profile) | {schema.header_key(c) for c in _BILLING_NAMES}
    for c in raw.columns:
        name = shown_names.get(c, c)
        if c not in used and name not in out.columns and c != SITE_VALUE:
            out[name] = raw[c]
    return out.reset_index(drop=True)


# ---------------------------------------------------------------------------
# import: export file -> contract billing file
# ---------------------------------------------------------------------------
def safe_stem(name: str) -> str:
    """Slugify a file stem for an output name (``"CW Export (Jan).csv"`` -> ``cw-export-jan``).

    Raises
    ------
    UnsafePathError
        Nothing usable is left.
    """
    s = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-_")
    s = re.sub(r"-{2,}", "-", s)[:64].strip("-_")
    if not schema.is_slug(s):
        raise UnsafePathError(f"{name!r}: no safe output name can be made from it")
    return s


def _inside(child: Path, parent: Path) -> bool:
    try:
        child.resolve().relative_to(parent.resolve())
    except ValueError:
        return False
    return True


def _write_atomic(frame: pd.DataFrame, dest: Path, force: bool) -> None:
    try:
        with replacing(dest, overwrite=force) as tmp:
            frame.to_csv(tmp, index=False, encoding="utf-8")
    except FileExistsError:
        raise DsoError(
            f"{dest.parent.name}/{dest.name} already exists (use --force to overwrite)"
        ) from None


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


def defuse_cell(value: object) -> object:
    """Make a text cell inert in a spreadsheet (OWASP CSV-injection guidance).

    Text starting with ``= + - @``, a tab or a carriage return is prefixed with
    ``'`` so that Excel, LibreOffice and Google Sheets show it as text instead of
    evaluating it; plain numbers (``-50.00``) and non-text values are unchanged.

    >>> defuse_cell("=1+1"), defuse_cell("-2+3+cmd|' /C calc'!A0"), defuse_cell("-50.00")
    ("'=1+1", "'-2+3+cmd|' /C calc'!A0", '-50.00')
    """
    if (
        isinstance(value, str)
        and value.startswith(_FORMULA_START)
        and not _PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


def _contract_frame(mapped: pd.DataFrame) -> pd.DataFrame:
    """The columns written to a contract billing file: contract columns + site_value,
    every text cell defused (:func:`defuse_cell`), amounts as plain numbers."""
    cols = [c for c in (*_BILLING_NAMES, SITE_VALUE) if c in mapped.columns]
    out = mapped[cols].copy()
    for c in cols:
        if c != "amount":
            out[c] = _per_unique(_as_text(out[c]), defuse_cell, "", object)
    if "amount" in out.columns:
        amt = out["amount"].astype(object)
        out["amount"] = amt.map(
            lambda v: f"{v:.2f}" if isinstance(v, float) and math.isfinite(v) else v
        ).map(lambda v: defuse_cell(_cell_text(v)) if v is not None else v)
    return out


def _read_locations(dso_dir: Path) -> pd.DataFrame | None:
    """The DSO's locations as raw cells (for alias mapping), ``None`` if absent."""
    for ext in schema.TABLE_EXTENSIONS:
        path = dso_dir / f"{schema.LOCATIONS_FILE_STEM}{ext}"
        if path.is_file():
            st = path.stat()
            return _read_locations_file(str(path.resolve()), st.st_mtime_ns, st.st_size)
    return None


@functools.lru_cache(maxsize=8)
def _read_locations_file(path: str, mtime_ns: int, size: int) -> pd.DataFrame:
    """Read a locations file once per version (billing files of a DSO share it)."""
    from dso_analytics.ingest.workbook import contract_header_matcher, read_raw_table

    p = Path(path)
    raw = read_raw_table(
        p, header_matcher=contract_header_matcher(schema.LOCATIONS), display=p.name
    )
    keep = [c for c in ("location_id", "location_name", "aliases") if c in raw.frame.columns]
    return raw.frame[keep].copy()


def _refuse_excel_errors(mapped: pd.DataFrame, shown: str) -> None:
    cols = [c for c in (*_BILLING_NAMES, SITE_VALUE) if c in mapped.columns]
    for c in cols:
        err = _errors(mapped[c])
        if err.any():
            first = mapped.loc[err].iloc[0]
            row = first.get(schema.SOURCE_ROW)
            raise DsoError(
                f"{shown}, row {row}, {c}: Excel error cell ({str(first[c])!r}); "
                f"{plural(int(err.sum()), 'such cell')} in this column: fix the export first"
            )


def _refuse_unlocated(
    mapped: pd.DataFrame,
    profile: Profile,
    shown: str,
    locations: pd.DataFrame | None,
    headers: Mapping[str, str],
) -> None:
    """Refuse an import whose site values map to no location, or whose location
    rule leaves too many lines without one (the message says what to fix)."""
    if locations is None:
        return
    from dso_analytics.ingest.aliases import check_site_values

    problems = check_site_values(mapped, locations)
    problems += location_coverage(mapped, profile, shown, locations, headers)
    if problems:
        lines = [str(p) for p in problems[:5]]
        more = f"\n... and {len(problems) - 5} more" if len(problems) > 5 else ""
        raise DsoError("nothing written:\n" + "\n".join(lines) + more)


def _known_location(dso_dir: Path, location: str) -> str:
    """``--location``, stripped, when it is a location_id of the DSO (else DsoError)."""
    known = _location_ids(_read_locations(dso_dir))
    location = location.strip()
    if location not in known:
        listed = ", ".join(sorted(known)[:10]) + (" ..." if len(known) > 10 else "")
        raise DsoError(
            f"--location {printable(location)!r}: not a location_id of this DSO "
            f"(known: {listed or 'none'}); nothing written"
        )
    return location


def _recognised_profile(
    raw: RawTable, src: Path, profiles: Sequence[Profile], chosen: Profile | None
) -> Profile:
    """The profile named (``chosen``, which must find its headers) or the one that
    recognises the export; DsoError naming the closest profile, or the generic mapping
    to save as a profile, when none does."""
    if chosen is None:
        chosen = match_profile(raw.headers, profiles)
        if chosen is None:
            closest = closest_profile(raw.original_headers or raw.headers, profiles)
            generic, _notes, why = _generic(raw, src)
            if generic is not None:  # import is explicit: the analyst confirms a guess first
                shown = dict(zip(raw.headers, raw.original_headers or raw.headers, strict=False))
                mapping = infer_profile(raw.headers, raw.frame, shown).describe()
                raise DsoError(
                    f"{src.name}: no provider profile matches its headers; the generic "
                    f"invoice-lines mapping would read {mapping}. Save it as a profile to "
                    f"confirm it: dso-analytics profiles --save NAME {src.name} --dso DSO_DIR "
                    "(then check the YAML and import again)"
                )
            raise DsoError(
                f"{src.name}: no provider profile matches its headers "
                f"({', '.join(raw.headers) or 'none found'})"
                + (f"; {closest}" if closest else "")
                + (f"; the generic invoice-lines mapping does not apply ({why})" if why else "")
                + f"; available: {', '.join(p.name for p in profiles)}. Add a profile in "
                f"{schema.PROFILES_DIR}/ or choose one with --profile"
            )
    elif chosen.score(raw.headers) is None:
        raise DsoError(
            f"{src.name}: lacks the headers profile {chosen.name!r} requires: "
            f"{', '.join(chosen.missing(raw.headers))}"
        )
    return chosen


def _import_dest(billing_dir: Path, stem: str, shown: str, force: bool) -> Path:
    """``billing/<stem>.csv``, refused when it would leave the folder or exists (unless
    ``force``)."""
    billing_dir.mkdir(parents=True, exist_ok=True)
    dest = billing_dir / f"{stem}.csv"
    if not _inside(dest, billing_dir) or dest.resolve().parent != billing_dir.resolve():
        raise UnsafePathError(f"{shown}: the output name would leave {schema.BILLING_DIR}/")
    if dest.exists() and not force:
        raise DsoError(
            f"{schema.BILLING_DIR}/{dest.name} already exists (use --force to overwrite)"
        )
    return dest


def import_export(
    src: Path,
    dso_dir: Path,
    profile: str | None = None,
    force: bool = False,
    location: str | None = None,
) -> Path:
    """Convert a provider export into a contract billing file of a DSO.

    The export is read (hostile-file checks, header row found below title rows,
    Total rows set aside), recognised by a profile (or the one named), mapped to
    the billing contract, its site values mapped to ``location_id`` through the
    DSO's location aliases, and written atomically as
    ``DSO_DIR/billing/<slug of the file name>.csv`` with the contract columns,
    ``site_value`` and ``export_row`` (the export's row number).

    Parameters
    ----------
    src : Path
        The export (.xlsx or .csv), outside the DSO's ``billing/`` folder.
    dso_dir : Path
        The DSO folder.
    profile : str, optional
        Profile name (default: recognised from the headers).
    force : bool
        Overwrite an existing billing file of the same name.
    location : str, optional
        A ``location_id`` of the DSO: every line of the export is that
        location's (a single-location export with no site column); the
        profile's location rule is not used.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    DsoError
        Unknown profile (the message lists the available ones), no or an
        ambiguous profile match, an existing output without ``force``, an
        export inside ``billing/`` (it would be read twice), Excel error cells
        in mapped columns, a name from which no safe output name can be made,
        or a ``location`` that is not a location_id of the DSO.
    """
    from dso_analytics.ingest.workbook import read_raw_table

    src = Path(src)
    dso_dir = Path(dso_dir)
    billing_dir = dso_dir / schema.BILLING_DIR
    if location is not None:
        location = _known_location(dso_dir, location)
    if _inside(src, billing_dir):
        raise DsoError(
            f"{src.name}: already inside {schema.BILLING_DIR}/, where it is read as it is; "
            "import a copy kept outside the DSO folder"
        )
    stem = safe_stem(src.stem)
    profiles = load_profiles(dso_dir)
    chosen = find_profile(profile, profiles) if profile else None
    raw = read_raw_table(
        src, header_matcher=header_matcher([chosen] if chosen else profiles), display=src.name
    )
    chosen = _recognised_profile(raw, src, profiles, chosen)
    locations = _read_locations(dso_dir)
    if location is not None:
        chosen = dataclasses.replace(chosen, location_value=location)
    mapped = apply_profile(raw.frame, chosen, locations)
    _refuse_excel_errors(mapped, src.name)
    _refuse_unlocated(mapped, chosen, src.name, locations, _shown_headers(raw, chosen))
    out = _contract_frame(mapped)
    out["export_row"] = mapped[schema.SOURCE_ROW].to_numpy() if len(mapped) else []
    dest = _import_dest(billing_dir, stem, src.name, force)
    _write_atomic(out, dest, force)
    return dest


# ---------------------------------------------------------------------------
# Checks of a mapped file: location coverage, closest profile
# ---------------------------------------------------------------------------
def _location_ids(locations: pd.DataFrame | None) -> set[str]:
    if locations is None or LOCATION_ID not in locations.columns:
        return set()
    return {str(v).strip() for v in locations[LOCATION_ID].dropna() if str(v).strip()}


def _stem_location(file: str, locations: pd.DataFrame | None) -> str | None:
    """The location_id a file is named after (its lines default to it), if any."""
    stem = Path(file).stem.strip().casefold()
    return next((i for i in _location_ids(locations) if i.casefold() == stem), None)


def _tried_columns(profile: Profile, shown: Mapping[str, str] | None) -> str:
    """The location columns a profile tried, as exported, and those not in the file."""
    names = dict(shown or {})
    headers = list(dict.fromkeys(location_headers(profile)))
    present = [names[h] for h in headers if h in names]
    absent = [shown_header(h) for h in headers if h not in names]
    if present:
        tried = ", ".join(present) + (f" (not in this file: {', '.join(absent)})" if absent else "")
    else:
        tried = f"none of {', '.join(absent)} is in this file"
    return tried


def _values_seen(mapped: pd.DataFrame, blank: pd.Series) -> tuple[str, bool]:
    """The site values of the lines left without a location (the five most frequent,
    with their counts), and whether they all look like numeric ids."""
    seen = _as_text(mapped[SITE_VALUE][blank.to_numpy()]) if SITE_VALUE in mapped else None
    counts = seen[seen.ne("")].value_counts() if seen is not None else pd.Series(dtype=int)
    values = ", ".join(f"{v!r} ({c} line{'s' if c > 1 else ''})" for v, c in counts.head(5).items())
    if len(counts) > 5:
        values += f" and {len(counts) - 5} more"
    numeric = len(counts) and all(re.fullmatch(r"\d+", str(v)) for v in counts.index)
    return values, bool(numeric)


def location_coverage(
    mapped: pd.DataFrame,
    profile: Profile,
    file: str,
    locations: pd.DataFrame | None,
    shown: Mapping[str, str] | None = None,
    sheet: str | None = None,
) -> list[Problem]:
    """Report a location rule that leaves a file's lines at organization level.

    A profile's location rule must resolve a location for some of the file's
    lines, and may leave at most ``profile.max_unresolved`` of them without one
    (a site value that matches no location is reported per value by
    :func:`dso_analytics.ingest.aliases.check_site_values`, not here).

    Parameters
    ----------
    mapped : pandas.DataFrame
        The output of :func:`apply_profile` for the file.
    profile : Profile
    file : str
        The file as shown in messages (``billing/x.csv``).
    locations : pandas.DataFrame or None
        The DSO's locations; without them nothing is checked.
    shown : mapping, optional
        Header key -> header as exported, for the message.
    sheet : str, optional

    Returns
    -------
    list of Problem
        Zero or one ``location_unresolved`` error naming the columns tried, the
        values seen and the fixes.
    """
    known = _location_ids(locations)
    if (
        not known
        or mapped.empty
        or profile.location_value is not None
        or _stem_location(file, locations) is not None
    ):
        return []
    loc = mapped[LOCATION_ID]
    text = _as_text(loc)
    resolved = text.isin(known)
    blank = text.eq("")
    n, n_blank = len(mapped), int(blank.sum())
    if n_blank == 0 or (resolved.any() and n_blank / n <= profile.max_unresolved):
        return []
    tried = _tried_columns(profile, shown)
    values, numeric = _values_seen(mapped, blank)
    first = mapped.loc[blank.to_numpy()].iloc[0]
    row = first.get(schema.SOURCE_ROW)
    some = sorted(known)[0]
    problem = (
        f"profile {profile.name!r} found no location for {n_blank} of {n} lines "
        f"(at most {profile.max_unresolved:.0%} may stay organization-level); columns tried: "
        f"{tried}"
        + f"; values seen: {values or 'none (all blank)'}. Fix: "
        + (
            "these look like the provider's numeric ids: add each to the aliases of its "
            "location in locations"
            if numeric
            else "add each value to the aliases of its location in locations"
        )
        + f", or map the export's site column in a profile of {schema.PROFILES_DIR}/, or, for a "
        f"file holding one location's lines, import it with --location (dso-analytics import "
        f"{Path(file).name} --dso DSO_DIR --location {some}) or name it after the location_id "
        f"({schema.BILLING_DIR}/{some}{Path(file).suffix or '.csv'})"
    )
    return [
        Problem(
            file=file,
            sheet=sheet or None,
            row=int(row) if row is not None and not pd.isna(row) else None,
            column=LOCATION_ID,
            problem=problem,
            rule="location_unresolved",
        )
    ]


def closest_profile(headers: Sequence[str], profiles: Sequence[Profile]) -> str:
    """Describe the profile closest to recognising ``headers`` and what it lacks.

    Returns
    -------
    str
        ``"closest profile: 'xero-invoices' (Xero), lacking InvoiceDate"`` or
        ``""`` when no profile shares a required header with them.
    """
    present = {schema.header_key(h) for h in headers}
    best: tuple[int, int, Profile] | None = None
    for p in profiles:
        have = sum(1 for alts in p.required if any(a in present for a in alts))
        if have and (best is None or (have, -len(p.required)) > (best[0], -best[1])):
            best = (have, len(p.required), p)
    if best is None:
        return ""
    p = best[2]
    lacking = p.missing(headers)
    return f"closest profile: {p.name!r} ({p.provider}), lacking {', '.join(lacking)}"


# ---------------------------------------------------------------------------
# read_dso hook: a billing file that is not in contract form
# ---------------------------------------------------------------------------
def _shown_headers(raw: RawTable, profile: Profile) -> dict[str, str]:
    """Header key -> the header as exported (for messages)."""
    shown = {
        schema.header_key(h): (o or h)
        for h, o in zip(raw.headers, raw.original_headers or raw.headers, strict=False)
        if h
    }
    if profile.heading_into:
        shown[profile.heading_into] = f"{profile.heading_into} (from the heading rows)"
    return shown


def _generic(raw: RawTable, path: Path) -> tuple[Profile | None, list[Problem], str]:
    """The generic invoice-lines mapping of ``raw`` (with its warning), or why not."""
    if not raw.headers:
        return None, [], ""
    shown = dict(zip(raw.headers, raw.original_headers or raw.headers, strict=False))
    inf = infer_profile(raw.headers, raw.frame, shown)
    if inf.profile is None:
        return None, [], inf.reason
    warning = Problem(
        file=raw.file,
        sheet=raw.sheet or None,
        problem=(
            f"no provider profile matches; read with the generic invoice-lines mapping "
            f"{inf.describe()}. Check it, then save it as a profile: dso-analytics profiles "
            f"--save NAME {path.name} --dso DSO_DIR"
        ),
        rule="generic_mapping",
        severity="warning",
    )
    return inf.profile, [warning], ""


def _file_problem(file: str, problem: str, rule: str, sheet: str | None = None) -> Problem:
    return Problem(file=file, sheet=sheet or None, problem=problem, rule=rule)


def _unread(raw: RawTable, problem: Problem) -> tuple[RawTable, list[Problem]]:
    """A billing file that could not be mapped contributes no lines, only its problem."""
    return dataclasses.replace(raw, frame=raw.frame.iloc[0:0], footers=raw.footers.iloc[0:0]), [
        problem
    ]


def _no_profile(raw: RawTable, profiles: Sequence[Profile], why: str, sheet: str | None) -> Problem:
    """The ``no_profile`` error of a billing file nothing maps: the contract columns it
    lacks, its header row, the closest profile and why the generic mapping does not apply."""
    missing = [c for c in schema.required_columns(schema.BILLING) if c not in raw.headers]
    closest = closest_profile(raw.original_headers or raw.headers, profiles)
    return _file_problem(
        raw.file,
        "not a contract billing file and no provider profile matches its headers: "
        f"missing {', '.join(missing)}"
        + (f" (header row {raw.header_row}: {', '.join(raw.headers)})" if raw.header_row else "")
        + (f"; {closest}" if closest else "")
        + (f"; the generic invoice-lines mapping does not apply ({why})" if why else "")
        + f"; add a profile in {schema.PROFILES_DIR}/ or rename the columns",
        "no_profile",
        sheet,
    )


def map_billing_table(
    raw: RawTable, path: Path, dso_dir: Path, as_of: date | None = None
) -> tuple[RawTable, list[Problem]]:
    """Map a billing file that lacks contract columns through a provider profile.

    Called by :func:`dso_analytics.ingest.read_dso` for each billing file whose
    headers lack some required billing column.  The export is recognised among
    the shipped profiles and the DSO's own ``profiles/`` (re-reading ``path``
    with the profiles' header scorer when the first read found no recognisable
    header row), mapped with :func:`apply_profile` (site values through the
    locations' aliases) and returned as a :class:`RawTable` in contract columns
    whose ``profile`` names the profile used.  ``Total`` rows are mapped too, so
    ingest checks them against the lines.

    Parameters
    ----------
    raw : RawTable
        The file as first read (contract header scorer).
    path : Path
        The file, for re-reading.
    dso_dir : Path
        The DSO folder (profiles and locations are read from it).
    as_of : datetime.date, optional
        Last day open recurring charges are expanded to (default: today).

    Returns
    -------
    raw : RawTable
        The mapped table; when no profile applies, ``raw`` without rows (an
        unrecognised file contributes no lines).
    problems : list of Problem
        Empty when mapped; otherwise one ``no_profile`` (or ``bad_profile``,
        ``ambiguous_profile``) error naming the file and what is missing.
    """
    from dso_analytics.ingest.workbook import read_raw_table

    sheet = raw.sheet or None
    try:
        profiles = load_profiles(dso_dir)
    except DsoError as exc:
        return _unread(
            raw, _file_problem(raw.file, f"cannot be mapped: {exc}", "bad_profile", sheet)
        )
    again: RawTable | None = None
    try:
        prof = match_profile(raw.headers, profiles)
        if prof is None:
            again = read_raw_table(path, header_matcher=header_matcher(profiles), display=raw.file)
            prof = match_profile(again.headers, profiles)
            if prof is not None:
                raw = again
                sheet = raw.sheet or None
    except DsoError as exc:
        return _unread(raw, _file_problem(raw.file, str(exc), "ambiguous_profile", sheet))
    notes: list[Problem] = []
    why = ""
    if prof is None:  # no profile names it: the generic mapping, when unambiguous
        prof, notes, why = _generic(raw, path)
        if prof is None and again is not None and again.header_row != raw.header_row:
            prof2, notes2, why2 = _generic(again, path)
            if prof2 is not None:
                prof, notes, raw, sheet = prof2, notes2, again, again.sheet or None
            else:
                why = why or why2
    if prof is None:
        return _unread(raw, _no_profile(raw, profiles, why, sheet))
    try:
        locations = _read_locations(dso_dir)
    except DsoError:
        locations = None  # the locations file's own problem is reported by ingest
    try:
        mapped = apply_profile(raw.frame, prof, locations, as_of=as_of)
    except DsoError as exc:
        return _unread(raw, _file_problem(raw.file, str(exc), "bad_profile", sheet))
    footers = raw.footers
    if len(footers):
        try:
            footers = apply_profile(footers, prof)
        except DsoError:
            footers = footers.iloc[0:0]
    problems = notes + location_coverage(
        mapped, prof, raw.file, locations, _shown_headers(raw, prof), sheet
    )
    headers = [c for c in mapped.columns if c not in schema.PROVENANCE]
    fmt = () if prof.date_format == DATE_AUTO else (prof.date_format,)
    return (
        dataclasses.replace(
            raw,
            headers=headers,
            original_headers=list(headers),
            frame=mapped,
            footers=footers,
            date_formats=fmt,
            profile=prof.name,
        ),
        problems,
    )


# ---------------------------------------------------------------------------
# profiles --save: a DSO profile from the generic mapping of one file
# ---------------------------------------------------------------------------
def save_profile(name: str, src: Path, dso_dir: Path | None = None) -> tuple[Path | None, str]:
    """Infer a profile for ``src`` with the generic invoice-lines mapping and save it.

    Parameters
    ----------
    name : str
        The new profile's slug (also its file name, ``NAME.yaml``).
    src : Path
        An export (.csv or .xlsx).
    dso_dir : Path, optional
        Write ``DSO_DIR/profiles/NAME.yaml``; without it nothing is written.

    Returns
    -------
    path : Path or None
        The file written (``None`` without ``dso_dir``).
    text : str
        The profile's YAML.

    Raises
    ------
    DsoError
        A name that is not a slug, an existing profile file, or a file whose
        columns the generic mapping cannot tell apart (the message says which).
    """
    from dso_analytics.ingest.workbook import read_raw_table

    if not schema.is_slug(name):
        raise DsoError(f"{name!r} is not a profile name (lower case letters, digits, - and _)")
    src = Path(src)
    raw = read_raw_table(src, header_matcher=header_matcher([]), display=src.name)
    shown = dict(zip(raw.headers, raw.original_headers or raw.headers, strict=False))
    inf = infer_profile(raw.headers, raw.frame, shown)
    if inf.profile is None:
        raise DsoError(
            f"{src.name}: the generic invoice-lines mapping does not apply "
            f"({inf.reason or 'no header row found'}); write the profile by hand "
            "(the schema is in the README and in dso_analytics/ingest/profiles.py)"
        )
    text = profile_yaml(name, inf, src.name)
    parse_profile(yaml.safe_load(text), source=f"{schema.PROFILES_DIR}/{name}.yaml")
    if dso_dir is None:
        return None, text
    folder = Path(dso_dir) / schema.PROFILES_DIR
    dest = folder / f"{name}.yaml"
    if dest.exists():
        raise DsoError(f"{schema.PROFILES_DIR}/{dest.name} already exists: choose another name")
    folder.mkdir(parents=True, exist_ok=True)
    dest.write_text(text, encoding="utf-8")
    return dest, text
