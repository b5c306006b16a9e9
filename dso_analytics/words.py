"""Counted nouns for sentences a reader sees: ``plural(3, "line")`` -> ``"3 lines"``.

Pure Python, no imports: the domain (metrics, ingest, validation), the CLI and
the reports all say "1 line" / "3 lines", never "line(s)".
"""

from __future__ import annotations


def plural(n: int | float, singular: str, plural_form: str | None = None) -> str:
    """Return ``"1 service"`` / ``"8 services"`` (count and the right form of the noun).

    Parameters
    ----------
    n : int or float
        The count.
    singular : str
        The noun for one (the last word is inflected: ``"billing line"``).
    plural_form : str, optional
        The noun for several (default: ``singular + "s"``, ``"y"`` -> ``"ies"``).

    Returns
    -------
    str
        The count with thousands separators, a space, the noun.

    Examples
    --------
    >>> plural(1, "agreement"), plural(3, "agreement"), plural(2, "company")
    ('1 agreement', '3 agreements', '2 companies')
    >>> plural(0, "billing line"), plural(1200, "day")
    ('0 billing lines', '1,200 days')
    """
    if plural_form is None:
        if singular.endswith("y") and singular[-2:-1] not in "aeiou":
            plural_form = singular[:-1] + "ies"
        elif singular.endswith(("s", "x", "ch", "sh")):
            plural_form = singular + "es"
        else:
            plural_form = singular + "s"
    count = f"{int(n):,}" if float(n).is_integer() else f"{n:,}"
    return f"{count} {singular if n == 1 else plural_form}"
