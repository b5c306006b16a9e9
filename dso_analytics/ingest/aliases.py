"""Map the site values of provider exports to ``location_id``.

A location is known by its ``location_id``, by the names, site numbers or codes
listed in its optional ``aliases`` column (separated by ``;``) and, as a last
resort, by its ``location_name``.  Matching ignores case and whitespace
differences (leading/trailing, non-breaking spaces, runs of inner spaces), and
a whole-number site value read from Excel as ``12.0`` matches the alias ``12``.
A value that matches nothing is tried again without a legal suffix (``Elm
Dental, LLC`` -> ``elm dental``; LLC, PLLC, Inc, Corp, Ltd, PC, PA).

The lookup is a dict built once per locations table and applied to the unique
values of a column, so mapping a million billing lines costs one dict look-up
per distinct site value.

An alias claimed by two locations is ambiguous: it maps to nothing and
:func:`check_aliases` reports it.
"""

from __future__ import annotations

import difflib
import math
import re

import pandas as pd

from dso_analytics.errors import Problem
from dso_analytics.schema import BILLING as BILLING_TABLE
from dso_analytics.schema import LOCATIONS, SOURCE_FILE, SOURCE_ROW, SOURCE_SHEET

LOCATION_ID = "location_id"
LOCATION_NAME = "location_name"
ALIASES = "aliases"
ALIAS_SEPARATOR = ";"

_WS = re.compile(r"\s+")

# Precedence of the ways a location is known (lower wins when two kinds claim a key).
_KIND_ID, _KIND_ALIAS, _KIND_NAME = 0, 1, 2


def normalise_site(value: object) -> str:
    """Return the matching key of a site value: trimmed, case-folded, inner
    whitespace collapsed; ``""`` for blanks.

    Parameters
    ----------
    value : object
        A cell value: text, a number (``12.0`` -> ``"12"``) or missing.

    Returns
    -------
    str

    Examples
    --------
    >>> normalise_site("  Main\u00a0St   Dental ")
    'main st dental'
    >>> normalise_site(12.0)
    '12'
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).casefold()
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            return str(int(value))
    try:
        if pd.isna(value):  # pd.NA, NaT
            return ""
    except (TypeError, ValueError):
        pass
    return _WS.sub(" ", str(value).replace("\u00a0", " ")).strip().casefold()


def _split_aliases(text: object) -> list[str]:
    key = normalise_site(text)
    if not key:
        return []
    return [a.strip() for a in key.split(ALIAS_SEPARATOR) if a.strip()]


def _claims(locations: pd.DataFrame) -> list[tuple[str, str, int, int]]:
    """Every (key, location_id, kind, row position) a locations table declares."""
    out: list[tuple[str, str, int, int]] = []
    if LOCATION_ID not in locations.columns:
        return out
    ids = locations[LOCATION_ID].tolist()
    names = locations[LOCATION_NAME].tolist() if LOCATION_NAME in locations else [None] * len(ids)
    aliases = locations[ALIASES].tolist() if ALIASES in locations else [None] * len(ids)
    for pos, (loc, name, alias_text) in enumerate(zip(ids, names, aliases, strict=True)):
        loc_key = normalise_site(loc)
        if not loc_key:
            continue
        loc_id = str(loc).strip()
        out.append((loc_key, loc_id, _KIND_ID, pos))
        for a in _split_aliases(alias_text):
            out.append((a, loc_id, _KIND_ALIAS, pos))
        name_key = normalise_site(name)
        if name_key:
            out.append((name_key, loc_id, _KIND_NAME, pos))
    return out


def alias_table(locations: pd.DataFrame) -> dict[str, str]:
    """Return the lookup ``normalised key -> location_id`` of a locations table.

    A key is a location's own ``location_id``, one of its ``aliases`` or its
    ``location_name``.  When several locations claim one key, the strongest kind
    of claim wins (id, then alias, then name); a tie between two different
    locations at the strongest kind makes the key ambiguous and it is left out.

    Parameters
    ----------
    locations : pandas.DataFrame
        Needs ``location_id``; ``location_name`` and ``aliases`` are optional.

    Returns
    -------
    dict of str to str
    """
    best: dict[str, tuple[int, set[str]]] = {}
    for key, loc_id, kind, _pos in _claims(locations):
        cur = best.get(key)
        if cur is None or kind < cur[0]:
            best[key] = (kind, {loc_id})
        elif kind == cur[0]:
            cur[1].add(loc_id)
    return {k: next(iter(ids)) for k, (_kind, ids) in best.items() if len(ids) == 1}


_LEGAL_SUFFIX = re.compile(r"[\s,]+(?:llc|l\.l\.c\.|pllc|inc\.?|corp\.?|ltd\.?|p\.?c\.?|p\.?a\.?)$")


def _lookup(table: dict[str, str], key: str) -> str | None:
    """The location of a key; a customer name with a legal suffix (``Elm Dental, LLC``)
    falls back to the name without it."""
    hit = table.get(key)
    while hit is None and key:
        bare = _LEGAL_SUFFIX.sub("", key)
        if bare == key:
            break
        key = bare
        hit = table.get(key)
    return hit


def map_location_values(values: pd.Series, locations: pd.DataFrame) -> pd.Series:
    """Map site values (names, site numbers, codes, location_ids) to ``location_id``.

    Parameters
    ----------
    values : pandas.Series
        Site values as exported (text or numbers; blanks allowed).
    locations : pandas.DataFrame
        The locations table (``location_id``, optional ``location_name`` and
        ``aliases``), e.g.::

            location_id  location_name   aliases
            LOC-001      Main St Dental  1001; Main Street
            LOC-002      Elm Dental      1002

    Returns
    -------
    pandas.Series
        ``str`` dtype, same index as ``values``: the matched ``location_id``,
        missing where the value is blank, matches no location or is ambiguous.
        The input is not modified.

    Examples
    --------
    >>> locs = pd.DataFrame({"location_id": ["LOC-001"], "location_name": ["Main"],
    ...                      "aliases": ["1001; Main Street"]})
    >>> map_location_values(pd.Series([" main  STREET", 1001.0, "x", None]), locs).tolist()
    ['LOC-001', 'LOC-001', nan, nan]
    """
    table = alias_table(locations)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped_uniques = [_lookup(table, normalise_site(u)) for u in uniques]
    lookup = pd.array(mapped_uniques + [None], dtype="str")
    # code -1 (missing) indexes the trailing None
    return pd.Series(lookup[codes], index=values.index, dtype="str", name=values.name)


def _candidates(locations: pd.DataFrame) -> dict[str, str]:
    """Shown text -> location_id for every id, alias and name (original spelling)."""
    out: dict[str, str] = {}
    if LOCATION_ID not in locations.columns:
        return out
    for _, row in locations.iterrows():
        loc = row.get(LOCATION_ID)
        if not normalise_site(loc):
            continue
        loc_id = str(loc).strip()
        out.setdefault(loc_id, loc_id)
        raw = row.get(ALIASES)
        if normalise_site(raw):
            for a in str(raw).split(ALIAS_SEPARATOR):
                a = _WS.sub(" ", a.replace("\u00a0", " ")).strip()
                if a:
                    out.setdefault(a, loc_id)
        name = row.get(LOCATION_NAME)
        if normalise_site(name):
            out.setdefault(_WS.sub(" ", str(name)).strip(), loc_id)
    return out


def suggest_locations(value: str, locations: pd.DataFrame, n: int = 3) -> list[str]:
    """Return the known location_ids/aliases closest to an unmatched site value.

    Parameters
    ----------
    value : str
        The site value that matched no location.
    locations : pandas.DataFrame
        The locations table.
    n : int
        At most this many suggestions.

    Returns
    -------
    list of str
        Best first, each shown as ``"LOC-002"`` or ``"Elm Street (LOC-002)"``
        for an alias or name; empty when nothing is reasonably close.

    Examples
    --------
    >>> locs = pd.DataFrame({"location_id": ["LOC-001", "LOC-002"],
    ...                      "location_name": ["Main St Dental", "Elm Dental"],
    ...                      "aliases": ["1001", "1002; Elm Street"]})
    >>> suggest_locations("Elm Stret", locs, n=1)
    ['Elm Street (LOC-002)']
    """
    cands = _candidates(locations)
    if not cands:
        return []
    by_key: dict[str, str] = {}
    for shown in cands:
        by_key.setdefault(normalise_site(shown), shown)
    key = normalise_site(value)
    matches = difflib.get_close_matches(key, list(by_key), n=max(n * 3, n), cutoff=0.5)
    out: list[str] = []
    for m in matches:
        shown = by_key[m]
        loc_id = cands[shown]
        label = shown if shown == loc_id else f"{shown} ({loc_id})"
        if label not in out:
            out.append(label)
        if len(out) >= n:
            break
    return out


def _where(locations: pd.DataFrame, pos: int) -> tuple[str, str | None, int | None]:
    def cell(col: str) -> object:
        return locations[col].iloc[pos] if col in locations.columns else None

    file = cell(SOURCE_FILE)
    sheet = cell(SOURCE_SHEET)
    row = cell(SOURCE_ROW)
    file_s = str(file) if normalise_site(file) else LOCATIONS
    sheet_s = str(sheet) if normalise_site(sheet) else None
    row_i = int(row) if normalise_site(row) else None
    return file_s, sheet_s, row_i


def check_aliases(locations: pd.DataFrame) -> list[Problem]:
    """Report aliases that cannot map to one location.

    An alias claimed by two different locations (or one location's alias equal
    to another location's ``location_id``) is ambiguous.  Two locations sharing a
    ``location_name`` are not reported (names are only a fallback; such a name
    simply maps to nothing).

    Parameters
    ----------
    locations : pandas.DataFrame
        The locations table with provenance columns.

    Returns
    -------
    list of Problem
        One per ambiguous alias, located at the last row claiming it as an
        alias, rule ``ambiguous_alias``.
    """
    claims: dict[str, list[tuple[str, int, int]]] = {}
    for key, loc_id, kind, pos in _claims(locations):
        if kind != _KIND_NAME:
            claims.setdefault(key, []).append((loc_id, kind, pos))
    problems: list[Problem] = []
    for key, owners in claims.items():
        loc_ids = sorted({o[0] for o in owners})
        alias_rows = [p for _, kind, p in owners if kind == _KIND_ALIAS]
        if len(loc_ids) < 2 or not alias_rows:
            continue  # duplicate location_ids are the key check's business
        file, sheet, row = _where(locations, max(alias_rows))
        problems.append(
            Problem(
                file=file,
                sheet=sheet,
                row=row,
                column=ALIASES,
                value=key,
                problem=(
                    f"alias is claimed by several locations ({', '.join(loc_ids)}); "
                    "site values carrying it cannot be mapped"
                ),
                rule="ambiguous_alias",
            )
        )
    return problems


def _rows_text(rows: list[int], cap: int = 10) -> str:
    shown = ", ".join(str(r) for r in rows[:cap])
    more = f" and {len(rows) - cap} more" if len(rows) > cap else ""
    return f"row{'s' if len(rows) > 1 else ''} {shown}{more}"


def numeric_site_hint(value: str) -> str:
    """Advice for a site value that is a bare number (a provider's site id), else ``""``."""
    text = str(value).strip()
    if re.fullmatch(r"\d+(?:\.0+)?", text):
        num = text.split(".")[0]
        return (
            f"{num!r} looks like the provider's numeric site id: add {num} to the aliases "
            "of the location it stands for in locations"
        )
    return ""


def check_site_values(
    billing: pd.DataFrame,
    locations: pd.DataFrame,
    column: str = LOCATION_ID,
    rule: str = "unknown_location",
) -> list[Problem]:
    """Report billing site values that match no location, with suggestions.

    Parameters
    ----------
    billing : pandas.DataFrame
        Billing lines with ``column`` (after alias mapping, an unmapped value is
        left as exported) and provenance columns.
    locations : pandas.DataFrame
        The locations table.
    column : str
        The column holding location ids / site values.
    rule : str
        The rule name the problems carry.

    Returns
    -------
    list of Problem
        One per (file, sheet, value), located at its first row and naming every
        row, e.g. ``billing/cw.csv, row 3, location_id: site value 'Elm Stret'
        is not in locations (closest: Elm Street (LOC-002)); rows 3, 7. ...``.
        A bare number also gets the advice to list it as an alias (a provider's
        numeric site id).
    """
    if column not in billing.columns or billing.empty:
        return []
    vals = billing[column]
    known = (
        set(locations[LOCATION_ID].dropna().astype(str).str.strip())
        if (LOCATION_ID in locations.columns)
        else set()
    )
    text = vals.astype("str").str.strip()
    bad = text.notna() & (text != "") & ~text.isin(known)
    if not bad.any():
        return []
    sub = pd.DataFrame(
        {
            "value": text[bad],
            "file": billing[SOURCE_FILE][bad].astype("str")
            if SOURCE_FILE in billing
            else BILLING_TABLE,
            "sheet": billing[SOURCE_SHEET][bad].astype("str").fillna("")
            if SOURCE_SHEET in billing
            else "",
            "row": billing[SOURCE_ROW][bad] if SOURCE_ROW in billing else -1,
        }
    )
    problems: list[Problem] = []
    for (file, sheet, value), grp in sub.groupby(["file", "sheet", "value"], sort=True):
        rows = sorted(int(r) for r in grp["row"].dropna() if int(r) >= 0)
        numeric = numeric_site_hint(str(value))
        close = [] if numeric else suggest_locations(str(value), locations)
        hint = f" (closest: {', '.join(close)})" if close else ""
        fix = numeric or "Add it to the aliases of its location in locations"
        problems.append(
            Problem(
                file=str(file),
                sheet=str(sheet) or None,
                row=rows[0] if rows else None,
                column=column,
                value=str(value),
                problem=(
                    f"site value {value!r} is not in locations{hint}; "
                    f"{_rows_text(rows) if rows else 'rows unknown'}. {fix}"
                ),
                rule=rule,
            )
        )
    return problems
