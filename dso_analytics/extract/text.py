"""Cut an agreement's pages into units (sentences and table rows) and normalise numbers.

A *unit* is what a term cites as its evidence: one sentence of a paragraph, or
one row of a table.  Paragraphs are rebuilt from the page's lines: a PDF wraps
long paragraphs at the page width, so a line that reaches (nearly) the full
width continues on the next line, while a short line, a blank line, a
numbered heading or a table row ends it.

:func:`normalise` rewrites a sentence for matching (lower case, straight
quotes, numbers as digits): ``"ninety (90) days"`` -> ``"90 days"``,
``"three (3) years"`` -> ``"3 years"``, ``"thirty days"`` -> ``"30 days"``,
``"two and one-half percent (2.5%)"`` -> ``"2.5%"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dso_analytics.extract.document import Document


@dataclass(frozen=True)
class Unit:
    """One sentence or table row of an agreement.

    Parameters
    ----------
    text : str
        The sentence as written (whitespace collapsed): the evidence shown.
    norm : str
        :func:`normalise` of ``text``: what rules match.
    page : int
        1-based page number.
    index : int
        Position in the document (0-based, reading order).
    row : bool
        A table row (or a short line that stands alone, as PDF table rows do).
    amending : bool
        Part of an amendment (after an amendment heading, or a sentence that
        replaces or amends a section): amending units win over the original text.
    source : str
        The file the unit comes from when one agreement is read from several files
        (the agreement, then its amendments); ``""`` for a single file.
    """

    text: str
    norm: str
    page: int
    index: int
    row: bool = False
    amending: bool = False
    source: str = ""


# ---------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------
_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_WORD = r"(?:" + "|".join(sorted([*_UNITS, *_TENS, "hundred", "thousand"], key=len, reverse=True))
_WORD += r")"
_NUMWORDS = rf"\b{_WORD}(?:(?:[\s-]+|\s+and\s+){_WORD})*\b"
_FRACTION = r"(?:\s+and\s+(?:a|one)[\s-]half)?"
# "ninety (90)", "two and one-half percent (2.5%)", "ninety-nine dollars ($99.00)"
_WORDS_PAREN = re.compile(
    rf"{_NUMWORDS}{_FRACTION}\s*(?:(percent|per cent)\s*)?(?:(dollars)\s*)?"
    r"\(\s*(\$?\s*\d[\d,]*(?:\.\d+)?)\s*(%?)\s*\)",
    re.I,
)
_WORDS_UNIT = re.compile(
    rf"({_NUMWORDS})(?=[\s-]+(?:business |calendar )?(?:days?|months?|years?|hours?|minutes?|"
    r"percent|weeks?)\b)",
    re.I,
)
_SPACES = re.compile(r"\s+")


def words_to_number(text: str) -> int | None:
    """Value of an English number in words (``"one hundred twenty"`` -> 120).

    >>> words_to_number("thirty-six")
    36
    >>> words_to_number("one hundred and eighty")
    180
    """
    total, current, seen = 0, 0, False
    for w in re.split(r"[\s-]+", text.lower()):
        if w in ("and", ""):
            continue
        if w in _UNITS:
            current += _UNITS[w]
        elif w in _TENS:
            current += _TENS[w]
        elif w == "hundred":
            current = max(current, 1) * 100
        elif w == "thousand":
            total += max(current, 1) * 1000
            current = 0
        else:
            return None
        seen = True
    return total + current if seen else None


def _paren(m: re.Match[str]) -> str:
    digits = m.group(3).replace(" ", "")
    if m.group(1) or m.group(4):
        return digits.rstrip("%") + "%"
    return digits


def _unit_words(m: re.Match[str]) -> str:
    n = words_to_number(m.group(1))
    return m.group(1) if n is None else str(n)


_QUOTES = str.maketrans(
    {
        "\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'", "\u00a0": " ",
        "\u2013": "-", "\u2014": "-", "\u2011": "-", "\u2010": "-", "\ufb01": "fi",
        "\ufb02": "fl", "\u00ad": "",
    }
)  # fmt: skip


def plain(text: str) -> str:
    """Straight quotes and hyphens, collapsed whitespace (the evidence text)."""
    return _SPACES.sub(" ", text.translate(_QUOTES)).strip()


def normalise(text: str) -> str:
    """Lower-case matching text with numbers in digits.

    >>> normalise("at least ninety (90) days' notice")
    "at least 90 days' notice"
    >>> normalise("successive one-year terms of thirty-six months")
    'successive 1-year terms of 36 months'
    >>> normalise("by two and one-half percent (2.5%)")
    'by 2.5%'
    """
    s = plain(text)
    s = _WORDS_PAREN.sub(_paren, s)
    s = _WORDS_UNIT.sub(_unit_words, s)
    s = re.sub(r"(\d)\s+%", r"\1%", s)
    s = re.sub(r"(\d)\s*percent\b", r"\1%", s, flags=re.I)
    return s.lower()


# ---------------------------------------------------------------------------
# Segmentation
# ---------------------------------------------------------------------------
_HEADING_START = re.compile(
    r"^(?:\d+(?:\.\d+)*\.?\s|\(?[a-z]\)\s|(?:section|article)\s+\d|(?:ARTICLE|SCHEDULE|EXHIBIT|"
    r"APPENDIX|Schedule|Exhibit|Appendix)\b|(?:(?:FIRST|SECOND|THIRD|FOURTH|FIFTH|First|Second|"
    r"Third|Fourth|Fifth)\s+)?(?:AMENDMENT|Amendment)\s+(?:No\.|NO\.|TO|to)\b|"
    r"(?:FIRST|SECOND|THIRD|FOURTH|FIFTH)\s+AMENDMENT\b)",
)
# an amendment's heading: "FIRST AMENDMENT", "Amendment No. 2", "Second Amendment to the ..."
_AMEND_HEADING = re.compile(
    r"^(?:(?:FIRST|SECOND|THIRD|FOURTH|FIFTH|SIXTH|First|Second|Third|Fourth|Fifth|Sixth)\s+)?"
    r"(?:AMENDMENT|Amendment)(?:\s+(?:No\.?|NO\.?|Number)\s*\d+)?(?:\s+(?:TO|to)\b.*)?$"
    r"|^(?:ADDENDUM|Addendum)(?:\s+(?:No\.?|NO\.?)\s*\d+)?$"
)
_AMENDING = re.compile(
    r"\b(?:is|are)\s+(?:hereby\s+)?(?:deleted\s+(?:in\s+its\s+entirety\s+)?and\s+)?"
    r"(?:replaced|amended|restated|superseded)\b",
    re.I,
)
_ABBREV = re.compile(
    r"(?:\b(?:inc|corp|co|ltd|llc|pllc|lp|llp|no|nos|sec|secs|art|e\.g|i\.e|dr|mr|mrs|ms|st|"
    r"vs|etc|approx|u\.s|p\.c|p\.a|n\.a)|\b[a-z])\.$",
    re.I,
)
_NUMBER_ONLY = re.compile(r"\s*\(?\d+(?:\.\d+)*\)?\.")
_SPLIT = re.compile(r"[.!?][\"')\]]*\s+(?=[\"'(\[]*[A-Z0-9])")


def _paragraphs(page: str, kind: str, width: int) -> list[tuple[str, bool]]:
    """``(text, is_row)`` paragraphs of one page (``width``: the document's longest line)."""
    lines = [plain(x) for x in page.split("\n")]
    out: list[tuple[str, bool]] = []
    buf: list[str] = []

    def flush() -> None:
        if buf:
            out.append((" ".join(buf), False))
            buf.clear()

    for raw in lines:
        line = raw.strip()
        if not line:
            flush()
            continue
        if " | " in line or (line.startswith("|") and line.endswith("|")):
            flush()
            out.append((line.strip("| "), True))
            continue
        if buf and _HEADING_START.match(line):
            flush()
        buf.append(line)
        if kind == "docx":
            flush()
        elif width >= 50 and len(line) < 0.72 * width:
            # a short line ends its paragraph (PDF wraps at the page width)
            if len(buf) == 1 and not re.search(r"[.:;][\"')\]]*$", line):
                out.append((line, True))  # a table row or a heading standing alone
                buf.clear()
            else:
                flush()
    flush()
    return out


def split_sentences(paragraph: str) -> list[str]:
    """Split a paragraph into sentences (abbreviations such as ``Inc.`` do not end one).

    >>> split_sentences('Apex, Inc. (the "MSP") agrees. Fees are due. See Sec. 4.')
    ['Apex, Inc. (the "MSP") agrees.', 'Fees are due.', 'See Sec. 4.']
    """
    out: list[str] = []
    start = 0
    for m in _SPLIT.finditer(paragraph):
        end = m.start() + 1
        if _ABBREV.search(paragraph[start:end]) or _NUMBER_ONLY.fullmatch(paragraph[start:end]):
            continue
        piece = paragraph[start : m.end()].strip()
        if piece:
            out.append(piece)
        start = m.end()
    rest = paragraph[start:].strip()
    if rest:
        out.append(rest)
    return out


def segment(doc: Document, source: str = "", start: int = 0) -> list[Unit]:
    """Cut a document into units in reading order, with page numbers and amendment flags.

    Parameters
    ----------
    doc : Document
    source : str
        Recorded on every unit (the file name when an agreement spans several files).
    start : int
        Index of the first unit (units of several files follow each other).

    Returns
    -------
    list of Unit
    """
    units: list[Unit] = []
    in_amendment = False
    width = max((len(plain(x)) for p in doc.pages for x in p.split("\n")), default=0)
    for page_no, page in enumerate(doc.pages, start=1):
        for para, is_row in _paragraphs(page, doc.kind, width):
            if len(para) < 120 and _AMEND_HEADING.match(para):
                in_amendment = True
            pieces = [para] if is_row else split_sentences(para)
            for sentence in pieces:
                if len(sentence) > 2000:
                    sentence = sentence[:2000]
                amending = in_amendment or bool(_AMENDING.search(sentence))
                units.append(
                    Unit(
                        text=sentence,
                        norm=normalise(sentence),
                        page=page_no,
                        index=start + len(units),
                        row=is_row,
                        amending=amending,
                        source=source,
                    )
                )
    return units
