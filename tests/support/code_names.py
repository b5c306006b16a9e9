"""The code names (``snake_case``) of schema.py and the text a reader sees in a report."""

from __future__ import annotations

import html
import re

from dso_analytics import schema
from dso_analytics.reporting.labels import is_code_name


def schema_code_names() -> set[str]:
    """Every snake_case string schema.py defines (codes, column names, table names)."""
    found: set[str] = set()

    def add(v: object) -> None:
        if isinstance(v, str):
            if is_code_name(v):
                found.add(v)
        elif isinstance(v, tuple | list | set | frozenset):
            for x in v:
                add(x)
        elif isinstance(v, dict):
            for k, x in v.items():
                add(k)
                add(x)
        elif isinstance(v, schema.Column):
            add(v.name)
            add(getattr(v, "codes", None))

    for name in dir(schema):
        if not name.startswith("_"):
            add(getattr(schema, name))
    return found


_HIDDEN = re.compile(r"<(script|style)\b[^>]*>.*?</\1>", re.S | re.I)
_TAG = re.compile(r"<[^>]+>")
#: an ask key, shown exactly so the analyst can copy it into negotiation.xlsx: an identifier,
#: not a sentence (``dso_analytics.reporting.notebook.table_html``)
KEY = re.compile(r'<code class="dso-key">(.*?)</code>', re.S)


def visible_text(page: str, identifiers: bool = False) -> str:
    """The text of an HTML page as a reader sees it (no scripts, styles or tags).

    Ask keys (``<code class="dso-key">``) are left out unless ``identifiers``.
    """
    if not identifiers:
        page = KEY.sub(" ", page)
    return html.unescape(_TAG.sub(" ", _HIDDEN.sub(" ", page)))


def identifiers_in(page: str) -> list[str]:
    """The ask keys an HTML page shows for copying, unescaped, in order."""
    return [html.unescape(k) for k in KEY.findall(page)]


def code_names_in(text: str, names: set[str]) -> list[str]:
    """The code names of ``names`` that appear as whole words in ``text``."""
    words = set(re.findall(r"[A-Za-z0-9_]+", text))
    return sorted(words & names)


def read_table(path, sheet: str):
    """A workbook table as a frame with code-name columns and without its totals row.

    The workbook shows readable headers (:func:`dso_analytics.reporting.labels.label`);
    tests compare with the metrics frames, so the headers are mapped back to the codes
    of :mod:`dso_analytics.metrics.result` (and a few more).
    """
    import pandas as pd

    from dso_analytics.metrics import result
    from dso_analytics.metrics.headline import HEADLINE
    from dso_analytics.metrics.headline import LABELS as HEADLINE_LABELS
    from dso_analytics.reporting.labels import label

    codes: set[str] = {"issue", "t12m", "all_time", "dso", "display_name", "month", "amount"}
    for name in dir(result):
        v = getattr(result, name)
        if name.endswith("_COLUMNS") and isinstance(v, tuple):
            codes.update(x for x in v if isinstance(x, str))
    codes.update(k for k, *_ in HEADLINE)
    keep = set(HEADLINE_LABELS.values())  # headline labels are the portfolio's own headers
    back = {label(c): c for c in sorted(codes) if label(c) not in keep}
    df = pd.read_excel(path, sheet_name=sheet, engine="calamine")
    df = df[~df.eq("Total").any(axis=1)].reset_index(drop=True)
    return df.rename(columns=lambda c: back.get(c, c))
