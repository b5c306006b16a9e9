"""From findings to action: deadlines in a calendar, letters, a negotiation log.

Everything here presents figures computed by :mod:`dso_analytics.metrics`; it
never recomputes one.  The per-agreement facts that several outputs show (the
effective notice deadline, the dollars at stake, the credits to claim) come
from :mod:`dso_analytics.actions.deadlines` only.

- :mod:`~dso_analytics.actions.deadlines`: pure (pandas) -- upcoming notice
  deadlines and term ends, dollars at stake, credit lines per provider.
- :mod:`~dso_analytics.actions.calendar`: ``write_calendar`` (iCalendar, RFC 5545).
- :mod:`~dso_analytics.actions.letters`: ``write_claim_letters`` /
  ``write_notice_letters`` (Word, python-docx).
- :mod:`~dso_analytics.actions.negotiation`: the optional ``negotiation.xlsx``
  log (``read_log``, ``validate_log``, ``write_new_log``, ``sync_log``).

Importing this package imports nothing heavy; ``icalendar``, ``docx`` and
``openpyxl`` are imported by the module that writes with them.
"""

from __future__ import annotations

__all__ = ["CALENDAR_FILE", "LETTERS_DIR"]

#: The deadlines calendar beside a report (the report links it by this name).
CALENDAR_FILE = "renewal-deadlines.ics"
#: The folder of claim and notice letters beside a DSO's report.
LETTERS_DIR = "letters"
