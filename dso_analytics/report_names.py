"""The names of a report's output files: the one place they are defined.

A render writes a **dated set** that says whose report it is and for which
as-of date, so attachments from two DSOs or two dates can be told apart and a
rerun at another date keeps the earlier files::

    reports/<dso>/<dso>-renewal-leverage-<as-of>.html|.xlsx|.ipynb|.pdf   (the .pdf is the brief)
    reports/portfolio/portfolio-overview-<as-of>.html|.xlsx|.ipynb|.pdf

and a **stable alias** per file, a relative symbolic link to the newest run's
dated file, so scripts and docs keep a fixed path::

    reports/<dso>/renewal-leverage.html|.xlsx|.ipynb, renewal-brief.pdf
    reports/portfolio/portfolio-overview.html|.xlsx|.ipynb, renewal-brief.pdf

Beside them, with fixed names that every successful run replaces: the deadlines
calendar :data:`CALENDAR_FILE` and the letters folder :data:`LETTERS_DIR`.
The links are switched together with the dated files, in the same folder swap
(:func:`dso_analytics.runguard.publish_files`).  A failed run keeps the previous
set and its links and adds ``<stem>.failed.ipynb`` for debugging.

Pure Python: the standard library and :mod:`dso_analytics.actions` (names only).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# The calendar and the letters folder keep fixed names, not dated (the report links the
# calendar by its name, and ``dso-analytics calendar`` / ``letters`` write the same paths);
# each successful report run replaces them.  Their names belong to dso_analytics.actions.
from dso_analytics.actions import CALENDAR_FILE, LETTERS_DIR

__all__ = [
    "BRIEF_ALIAS", "CALENDAR_FILE", "DSO_STEM", "KINDS", "LETTERS_DIR", "PORTFOLIO_STEM",
    "ReportNames", "dso_report_names", "failed_name", "portfolio_report_names",
]  # fmt: skip

#: the output kinds of one report, in publishing order (``pdf`` is the one-page brief)
KINDS = ("html", "xlsx", "ipynb", "pdf")

DSO_STEM = "renewal-leverage"
PORTFOLIO_STEM = "portfolio-overview"
#: the fixed name of the one-page brief (the alias of the dated ``.pdf``)
BRIEF_ALIAS = "renewal-brief.pdf"


@dataclass(frozen=True)
class ReportNames:
    """The file names of one report in its folder.

    ``dated[kind]`` is the file a run writes, ``alias[kind]`` the fixed name
    linked to it, ``failed`` the executed notebook a failed run leaves.
    """

    dated: dict[str, str]
    alias: dict[str, str]
    failed: str

    def links(self, kinds: tuple[str, ...] | list[str] | None = None) -> dict[str, str]:
        """``{alias name: dated name}`` for ``kinds`` (default: every kind)."""
        return {self.alias[k]: self.dated[k] for k in (kinds or KINDS)}

    def owned(self, kinds: tuple[str, ...] | list[str] | None = None) -> list[str]:
        """The names a successful run of these ``kinds`` replaces (its dated files, their
        aliases and a stale failed notebook); every other entry of the folder is kept."""
        ks = kinds or KINDS
        return [*(self.dated[k] for k in ks), *self.alias.values(), self.failed]


def _date(as_of: object) -> str:
    if isinstance(as_of, str):
        return dt.date.fromisoformat(as_of[:10]).isoformat()
    if isinstance(as_of, dt.datetime):
        return as_of.date().isoformat()
    if isinstance(as_of, dt.date):
        return as_of.isoformat()
    raise TypeError(f"as_of must be a date, not {type(as_of).__name__}")


def _names(prefix: str, stem: str, as_of: object) -> ReportNames:
    day = _date(as_of)
    dated = {k: f"{prefix}{stem}-{day}.{k}" for k in KINDS}
    alias = {k: f"{stem}.{k}" for k in KINDS if k != "pdf"} | {"pdf": BRIEF_ALIAS}
    return ReportNames(dated=dated, alias=alias, failed=failed_name(stem))


def failed_name(stem: str) -> str:
    """The executed notebook a failed run of ``stem`` leaves: ``<stem>.failed.ipynb``."""
    return f"{stem}.failed.ipynb"


def dso_report_names(dso: str, as_of: object) -> ReportNames:
    """The names of a DSO's report: ``<dso>-renewal-leverage-<as-of>.*`` and its aliases.

    Parameters
    ----------
    dso : str
        The DSO's slug (its folder name).
    as_of : date, datetime, pandas Timestamp or ISO text
        The report's as-of date.

    Returns
    -------
    ReportNames

    Examples
    --------
    >>> n = dso_report_names("bright-smiles", "2026-10-31")
    >>> n.dated["xlsx"], n.alias["xlsx"], n.alias["pdf"]
    ('bright-smiles-renewal-leverage-2026-10-31.xlsx', 'renewal-leverage.xlsx', 'renewal-brief.pdf')
    """
    return _names(f"{dso}-", DSO_STEM, as_of)


def portfolio_report_names(as_of: object) -> ReportNames:
    """The names of the portfolio overview: ``portfolio-overview-<as-of>.*`` and its aliases.

    Examples
    --------
    >>> portfolio_report_names("2026-10-31").dated["pdf"]
    'portfolio-overview-2026-10-31.pdf'
    """
    return _names("", PORTFOLIO_STEM, as_of)
