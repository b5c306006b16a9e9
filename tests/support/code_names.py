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


def visible_text(page: str) -> str:
    """The text of an HTML page as a reader sees it (no scripts, styles or tags)."""
    return html.unescape(_TAG.sub(" ", _HIDDEN.sub(" ", page)))


def code_names_in(text: str, names: set[str]) -> list[str]:
    """The code names of ``names`` that appear as whole words in ``text``."""
    words = set(re.findall(r"[A-Za-z0-9_]+", text))
    return sorted(words & names)
