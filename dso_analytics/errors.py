"""Errors and plain-language problems.

Every problem a user can cause is a :class:`DsoError` (or a subclass); the CLI
prints its message and exits non-zero without a traceback.  Problems located in
a file are :class:`Problem` records rendered as one plain line:
``file, sheet S, row N, column: problem (value)``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

# C0/C1 controls, DEL, line/paragraph separators, zero-width and bidi controls, BOM
_UNPRINTABLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(m: re.Match[str]) -> str:
    c = m.group(0)
    return _NAMED.get(c) or (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")


def printable(text: object) -> str:
    """Return ``text`` safe to print as (part of) one message line.

    Control characters (newline, carriage return, ESC sequences...), Unicode
    line separators and bidi/zero-width controls are shown escaped
    (``\\n``, ``\\x1b``, ``\\u202e``), so text taken from a file name, header or
    cell can neither forge a line of output nor restyle the terminal.

    Parameters
    ----------
    text : object
        Any value (converted with ``str``).

    Returns
    -------
    str

    Examples
    --------
    >>> printable("a\\nall checks passed\\x1b[2J")
    'a\\\\nall checks passed\\\\x1b[2J'
    """
    s = str(text)
    return _UNPRINTABLE.sub(_escape_char, s) if _UNPRINTABLE.search(s) else s


@dataclass(frozen=True)
class Problem:
    """One located problem in the input.

    Parameters
    ----------
    file : str
        Path relative to the DSO folder (or the file name given by the user).
    problem : str
        What is wrong, in plain words ("is blank or an Excel error").
    sheet : str, optional
        Sheet name; ``None`` for CSV files or whole-file problems.
    row : int, optional
        1-based row number as a person sees it in Excel.
    column : str, optional
        Column name (contract name).
    value : str, optional
        The offending value as text.
    rule : str
        Short identifier of the rule that found it (for grouping and capping).
    severity : str
        ``"error"`` (the DSO fails validation) or ``"warning"`` (reported, e.g.
        a duplicate invoice line that was counted once).
    """

    file: str
    problem: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None
    rule: str = ""
    severity: str = "error"

    def __str__(self) -> str:
        parts = [self.file]
        if self.sheet:
            parts.append(f"sheet {self.sheet}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        where = ", ".join(parts)
        head = f"{where}, {self.column}" if self.column else where
        text = f"{head}: {self.problem}"
        if self.value is not None and self.value != "":
            shown = self.value if len(self.value) <= 60 else self.value[:57] + "..."
            text += f" ({shown!r})"
        return printable(text)

    def to_dict(self) -> dict[str, object]:
        """Return the problem as a JSON-ready dict (plus its ``message`` line)."""
        d: dict[str, object] = asdict(self)
        d["message"] = str(self)
        return d


class DsoError(Exception):
    """A problem caused by the user's input or arguments (no traceback shown)."""

    exit_code = 1


class InputFileError(DsoError):
    """A file that cannot or must not be read (hostile, corrupt, too large, wrong type).

    Parameters
    ----------
    file : str
        The file, as the user knows it.
    problem : str
        Plain-words reason.
    """

    def __init__(self, file: str, problem: str) -> None:
        self.file = file
        self.problem = problem
        super().__init__(f"{file}: {problem}")


class MoneyRangeError(DsoError):
    """Money amounts too large to be summed exactly in integer cents."""


class UnsafePathError(DsoError):
    """A name that would place output outside its folder (``..``, separators)."""


class ValidationFailed(DsoError):
    """Raised by :func:`dso_analytics.validation.load_dso` when input has problems.

    Parameters
    ----------
    report : ValidationReport
        The full report; ``str(error)`` lists every problem line.
    """

    def __init__(self, report: object) -> None:
        self.report = report
        super().__init__(str(report))
