"""Generic invoice-lines fallback: read an export no profile names, when its
columns are unambiguous.

Many exports are plain invoice lines with their own spellings of the contract's
columns (``Invoice #`` / ``Invoice No`` / ``Inv Num``; ``Date`` / ``Invoice
Date`` / ``Posted``; ``Description`` / ``Memo`` / ``Item``; ``Amount`` / ``Ext
Price`` / ``Line Total``; ``Site`` / ``Location`` / ``Practice`` / ``Office``).
:func:`infer_profile` recognises them by their headers (compared by
:func:`dso_analytics.schema.header_key`) and by their content (dates parse,
amounts parse), and builds a :class:`~dso_analytics.ingest.profile_model.Profile`
only when every required column has exactly one candidate.  The caller reports
the mapping chosen as a warning, so the analyst can confirm it or save it as a
profile (:func:`profile_yaml`, ``dso-analytics profiles --save NAME FILE``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
import yaml

from dso_analytics import schema
from dso_analytics.ingest.parse import parse_date, parse_money
from dso_analytics.ingest.profile_model import Profile, Source

GENERIC_NAME = "generic-invoice-lines"

#: Contract column -> header spellings (as keys) that may hold it, best first.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "invoice_number": ("invoicenumber", "invoiceno", "invoice#", "invnum", "invno", "inv#",
                       "invoicenum", "invoice", "invoiceid", "docnumber", "documentnumber",
                       "billnumber"),
    "invoice_date": ("invoicedate", "date", "posted", "posteddate", "postingdate", "txndate",
                     "transactiondate", "billdate", "documentdate", "docdate", "invdate"),
    "description": ("description", "memo", "item", "product", "itemdescription",
                    "productdescription", "details", "lineitem", "memo/description",
                    "product/service", "itemname", "productname"),
    "amount": ("amount", "extprice", "extendedprice", "linetotal", "extended", "lineamount",
               "netamount", "extendedamount", "amt", "total", "extamount"),
    "quantity": ("quantity", "qty", "units"),
    "unit_price": ("unitprice", "price", "rate", "unitamount", "salesprice", "unitcost"),
}  # fmt: skip
LOCATION_SYNONYMS = ("site", "location", "practice", "office", "clinic", "sitename",
                     "locationname", "practicename", "officename", "clinicname")  # fmt: skip
_REQUIRED = schema.required_columns(schema.BILLING)
_MIN_SHARE = 0.9  # share of non-blank cells that must parse for a date / amount column


@dataclass(frozen=True)
class Inference:
    """The outcome of :func:`infer_profile`.

    Attributes
    ----------
    profile : Profile or None
        The mapping, ``None`` when it is missing a column or ambiguous.
    mapping : dict
        Contract column (or ``location``) -> the export's header as written.
    reason : str
        Why no profile was built (empty when one was).
    """

    profile: Profile | None
    mapping: dict[str, str | list[str]]
    reason: str = ""

    def describe(self) -> str:
        """``invoice_number <- 'Inv No', ...`` for messages."""

        def shown(h: str | list[str]) -> str:
            return " then ".join(repr(x) for x in h) if isinstance(h, list) else repr(h)

        return ", ".join(f"{c} <- {shown(h)}" for c, h in self.mapping.items())


def _parses(values: pd.Series, kind: str) -> bool:
    text = values.astype(object)
    blank = text.isna() | text.astype(str).str.strip().eq("")
    cells = text[~blank]
    if cells.empty:
        return False
    if kind == "date":
        iso = cells.astype(str).str.replace(r"^(\d{4}-\d{2}-\d{2})[T ].*$", r"\1", regex=True)
        parsed, _bad = parse_date(iso.where(cells.map(lambda v: isinstance(v, str)), cells))
    else:
        parsed, _bad = parse_money(cells)
    return float(parsed.notna().mean()) >= _MIN_SHARE


def generic_score(cells: Sequence[str]) -> float:
    """Header-row score: the number of contract columns a row's cells name (0 below 3)."""
    keys = {schema.header_key(c) for c in cells if c}
    found = sum(1 for names in SYNONYMS.values() if keys.intersection(names))
    return float(found) if found >= 3 else 0.0


def infer_profile(
    headers: Sequence[str], frame: pd.DataFrame, shown: Mapping[str, str] | None = None
) -> Inference:
    """Infer a generic invoice-lines mapping from headers and content.

    Parameters
    ----------
    headers : sequence of str
        The export's (normalised) headers.
    frame : pandas.DataFrame
        Its rows (raw cells), columns named by ``headers``.
    shown : mapping, optional
        Normalised header -> header as written (for messages and saved profiles).

    Returns
    -------
    Inference
        A profile when every required contract column has exactly one candidate
        header whose content fits (dates parse for invoice_date, amounts for
        amount), and at most one site column.
    """
    shown = dict(shown or {})
    by_key: dict[str, str] = {}
    for h in headers:
        if h and h not in schema.PROVENANCE:
            by_key.setdefault(schema.header_key(h), h)
    mapping: dict[str, str | list[str]] = {}
    columns: list[tuple[str, Source]] = []
    problems: list[str] = []
    taken: set[str] = set()
    for col, names in SYNONYMS.items():
        cands = [by_key[n] for n in names if n in by_key and by_key[n] not in taken]
        if col in ("invoice_date", "amount", "quantity", "unit_price") and len(cands) > 0:
            kind = "date" if col == "invoice_date" else "money"
            fit = [c for c in cands if c in frame.columns and _parses(frame[c], kind)]
            cands = fit if fit or col in _REQUIRED else []
        if col == "amount" and len(cands) > 1 and "total" in [schema.header_key(c) for c in cands]:
            cands = [c for c in cands if schema.header_key(c) != "total"]  # a line's own amount
        if not cands:
            if col in _REQUIRED:
                problems.append(f"no {col} column")
            continue
        if col == "description" and len(cands) > 1:  # text columns: first non-blank wins
            taken.update(cands)
            mapping[col] = [shown.get(c, c) for c in cands]
            columns.append((col, Source(headers=tuple(schema.header_key(c) for c in cands))))
            continue
        if len(cands) > 1:
            if col in _REQUIRED:
                shown_c = " or ".join(repr(shown.get(c, c)) for c in cands)
                problems.append(f"{col} could be {shown_c}")
            continue
        taken.add(cands[0])
        mapping[col] = shown.get(cands[0], cands[0])
        columns.append((col, Source(headers=(schema.header_key(cands[0]),))))
    sites = [by_key[n] for n in LOCATION_SYNONYMS if n in by_key and by_key[n] not in taken]
    if len(sites) > 1:
        problems.append(
            "the location could be " + " or ".join(repr(shown.get(c, c)) for c in sites)
        )
    if problems:
        return Inference(None, mapping, "; ".join(problems))
    if sites:
        mapping["location"] = shown.get(sites[0], sites[0])
    required = tuple((src.headers[0],) for col, src in columns if col in _REQUIRED)
    profile = Profile(
        name=GENERIC_NAME,
        provider="(any)",
        layout="invoice lines (generic)",
        description="Inferred from the headers and content of one file.",
        source="generic",
        required=required,
        columns=tuple(columns),
        location_columns=(schema.header_key(sites[0]),) if sites else (),
    )
    return Inference(profile, mapping)


def profile_yaml(name: str, inference: Inference, file: str) -> str:
    """The YAML of a DSO profile reproducing an inferred mapping (headers as written).

    Parameters
    ----------
    name : str
        The profile's slug.
    inference : Inference
        A successful :func:`infer_profile` result.
    file : str
        The file it was inferred from (recorded in the description).

    Returns
    -------
    str
        A profile file ``dso-analytics`` loads from ``DSO_DIR/profiles/``.
    """
    m: dict[str, object] = dict(inference.mapping)
    loc = m.pop("location", None)
    data: dict[str, object] = {
        "name": name,
        "provider": "(fill in)",
        "layout": "invoice lines",
        "description": f"Saved from {file} (generic invoice-lines mapping); check it.",
        "recognise": {"required": [m[c] for c in _REQUIRED if c in m]},  # lists: alternatives
        "columns": m,
    }
    if loc:
        data["location"] = {"columns": [loc]}
    data["date_format"] = "auto"
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
