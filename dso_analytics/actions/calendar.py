"""Renewal deadlines as an iCalendar file (RFC 5545) for Outlook, Google, Apple.

One all-day event per upcoming notice deadline and per current term end (see
:func:`dso_analytics.actions.deadlines.compute_deadlines`), each with a
display alarm at every reminder offset (``TRIGGER:-P90D``...; an alarm whose
day has already passed is kept: calendar clients show it as overdue or skip it).

Re-importing an updated file updates the events instead of duplicating them:

- ``UID`` is stable per DSO, agreement and kind of event
  (``notice-deadline.<agreement-slug>-<hash>.<dso>@dso-analytics``), so a
  deadline that moves (a window missed, a term renewed, an agreement amended)
  moves the same event;
- ``SEQUENCE`` is the number of minutes since 2020-01-01 UTC at the time the
  file is written, so a newer file always wins over an older one;
- ``DTSTAMP`` is the time the file is written.

Text (provider names, agreement ids, locations) is data: the ``icalendar``
library escapes it (``,`` ``;`` ``\\`` and newlines) and control characters are
removed, so no value can start a new property or component.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from dso_analytics.actions.deadlines import NOTICE, describe
from dso_analytics.atomic import replacing

DEFAULT_REMIND_DAYS = (120, 90, 60, 30)
PRODID = "-//dso-analytics//renewal deadlines//EN"
_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SLUG_BAD = re.compile(r"[^a-z0-9]+")


def clean(value: object) -> str:
    """Return ``value`` as one-line-safe text: control characters removed."""
    return _CONTROL.sub("", str(value))


def event_uid(dso: str, agreement_id: str, kind: str) -> str:
    """The stable UID of one deadline event.

    Parameters
    ----------
    dso : str
        The DSO slug.
    agreement_id : str
        The agreement id as written (any text).
    kind : str
        ``notice_deadline`` or ``term_end``.

    Returns
    -------
    str
        E.g. ``notice-deadline.ag-1-5d41402a.bright-smiles@dso-analytics``: a
        slug of the agreement id plus a hash of the exact id, so two ids that
        slug alike still differ.
    """
    slug = _SLUG_BAD.sub("-", agreement_id.lower()).strip("-")[:40] or "agreement"
    digest = hashlib.sha256(agreement_id.encode("utf-8")).hexdigest()[:8]
    return f"{kind.replace('_', '-')}.{slug}-{digest}.{dso}@dso-analytics"


def parse_remind(text: str | Sequence[int] | None) -> tuple[int, ...]:
    """Parse reminder offsets such as ``"120,90,60,30"`` (days before the event).

    Parameters
    ----------
    text : str or sequence of int, optional
        ``None`` gives :data:`DEFAULT_REMIND_DAYS`.

    Returns
    -------
    tuple of int
        Distinct offsets, largest first.

    Raises
    ------
    ValueError
        A value that is not a whole number of days between 0 and 3650.
    """
    if text is None:
        return DEFAULT_REMIND_DAYS
    parts = [p.strip() for p in text.split(",")] if isinstance(text, str) else list(text)
    out: set[int] = set()
    for p in parts:
        if p == "":
            continue
        try:
            n = int(p)
        except (TypeError, ValueError):
            raise ValueError(f"--remind: {p!r} is not a whole number of days") from None
        if not 0 <= n <= 3650:
            raise ValueError(f"--remind: {n} is not between 0 and 3650 days")
        out.add(n)
    return tuple(sorted(out, reverse=True))


def _title(row: pd.Series) -> str:
    what = "Notice deadline" if row["kind"] == NOTICE else "Term end"
    return clean(f"{what}: {row['provider']} {row['agreement_id']} ({row['display_name']})")


def build_calendar(
    deadlines: pd.DataFrame,
    *,
    remind: Sequence[int] = DEFAULT_REMIND_DAYS,
    name: str = "Renewal deadlines",
    currency: str | dict[str, str] = "USD",
    now: datetime | None = None,
) -> object:
    """Build the ``icalendar.Calendar`` of some deadlines.

    Parameters
    ----------
    deadlines : DataFrame
        Rows of :func:`~dso_analytics.actions.deadlines.compute_deadlines`
        (one DSO, or several concatenated for a portfolio).
    remind : sequence of int
        Alarm offsets in days before each event.
    name : str
        Calendar name (``X-WR-CALNAME``).
    currency : str or dict
        Currency shown with money, or ``dso -> currency``.
    now : datetime, optional
        The writing time (``DTSTAMP``, ``SEQUENCE``); default: now, UTC.

    Returns
    -------
    icalendar.Calendar
    """
    from icalendar import Alarm, Calendar, Event

    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    seq = max(0, int((now - _EPOCH).total_seconds() // 60))
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", clean(name))
    for _, row in deadlines.iterrows():
        cur = currency.get(str(row["dso"]), "USD") if isinstance(currency, dict) else currency
        day = pd.Timestamp(row["date"]).date()
        ev = Event()
        ev.add("uid", event_uid(str(row["dso"]), str(row["agreement_id"]), str(row["kind"])))
        ev.add("dtstamp", now)
        ev.add("sequence", seq)
        ev.add("summary", _title(row))
        ev.add("dtstart", day)
        ev.add("dtend", day + timedelta(days=1))
        ev.add("transp", "TRANSPARENT")
        ev.add("categories", ["Notice deadline" if row["kind"] == NOTICE else "Term end"])
        ev.add("description", "\n".join(clean(f"{k}: {v}") for k, v in describe(row, cur)))
        for d in remind:
            al = Alarm()
            al.add("action", "DISPLAY")
            al.add("trigger", timedelta(days=-int(d)))
            al.add("description", clean(f"In {int(d)} days: {_title(row)}"))
            ev.add_component(al)
        cal.add_component(ev)
    return cal


def write_calendar(
    deadlines: pd.DataFrame,
    path: str | Path,
    *,
    remind: Sequence[int] = DEFAULT_REMIND_DAYS,
    name: str = "Renewal deadlines",
    currency: str | dict[str, str] = "USD",
    now: datetime | None = None,
) -> Path:
    """Write the deadlines as an ``.ics`` file (atomically: temp file, then rename).

    Parameters
    ----------
    deadlines : DataFrame
        See :func:`build_calendar`.
    path : str or Path
        Target ``.ics`` file.
    remind, name, currency, now
        See :func:`build_calendar`.

    Returns
    -------
    Path
        The file written.
    """
    cal = build_calendar(deadlines, remind=remind, name=name, currency=currency, now=now)
    final = Path(path)
    with replacing(final) as tmp:
        tmp.write_bytes(cal.to_ical())  # type: ignore[attr-defined]
    return final
