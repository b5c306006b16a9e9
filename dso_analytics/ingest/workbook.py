"""Read one spreadsheet file (xlsx or CSV) into a raw table, safely.

This module knows about files, not about the data contract's types: it returns
raw cell values (``str``, ``float``, ``int``, ``bool``, ``datetime`` or
:class:`~dso_analytics.ingest.parse.ExcelError`), normalised headers and the
provenance of every row.  Typing is done by :mod:`dso_analytics.ingest.dso`
with :mod:`dso_analytics.ingest.parse`.

Reading
-------
* ``.xlsx`` is read with python-calamine (``CalamineWorkbook``), about 12x
  faster than openpyxl on invoice sheets.  Calamine turns Excel error cells
  (``#REF!``, ``#N/A``...) into empty strings; they are found again in the
  sheet XML (a byte search for ``t="e"``, then a streaming parse of only the
  sheets that have one) and put back as :class:`ExcelError` cells, so they
  are reported as errors and never read as blanks.
* ``.csv`` is read with the :mod:`csv` module, every cell as text, in UTF-8
  (with or without BOM), UTF-16 with BOM, or else cp1252.  A file whose lines
  hold no comma but semicolons or tabs is read with that delimiter.

Messy layouts
-------------
* The header row need not be the first row: the first :data:`HEADER_SCAN_ROWS`
  rows are scored by a *header matcher* and the best row wins (title rows and
  merged header bands above it are ignored).  A header cell left blank by a
  vertical merge takes the merged cell's text.
* Blank rows are skipped; ``source_row`` stays the row number Excel shows.
* Footer rows whose first non-blank cell starts with ``Total``,
  ``Subtotal``, ``Sub-total`` or ``Grand total`` are taken out of the data and
  returned separately (:attr:`RawTable.footers`) so that callers can check
  them against the lines.
* With several sheets and a header matcher, the sheet whose header scores best
  is read.

Hostile files
-------------
Every check runs before any parsing, on the file's bytes and the zip
directory, and raises :class:`~dso_analytics.errors.InputFileError` with one
plain sentence naming the file:

* empty files, files larger than :data:`MAX_FILE_BYTES`;
* an ``.xlsx`` that is not a zip (another file renamed), an old ``.xls`` or an
  encrypted workbook, a zip without ``xl/workbook.xml``;
* zip bombs: more than :data:`MAX_ZIP_ENTRIES` entries, more than
  :data:`MAX_UNCOMPRESSED_BYTES` once unpacked, or an entry larger than
  :data:`RATIO_MIN_BYTES` compressed more than :data:`MAX_COMPRESSION_RATIO`
  times.  Entries are then streamed through Python's zipfile, which never
  unpacks more than the directory declares and checks each CRC;
* XML with a ``<!DOCTYPE`` or ``<!ENTITY`` declaration (billion laughs,
  external entities): no workbook part needs one, so it is refused before
  calamine sees it (defusedxml parses the few parts read in Python);
* a sheet or CSV with more than :func:`max_rows` rows (default
  :data:`MAX_ROWS`, overridable with the ``DSO_ANALYTICS_MAX_ROWS``
  environment variable).

Nothing here builds a path from a file's content or name: callers pass the
path and a display name.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import functools
import hashlib
import io
import os
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
from defusedxml import ElementTree as SafeET

from dso_analytics.errors import InputFileError
from dso_analytics.ingest.parse import ExcelError, cell_text
from dso_analytics.schema import (
    PROVENANCE,
    SOURCE_FILE,
    SOURCE_ROW,
    SOURCE_SHEET,
    TABLE_COLUMNS,
    normalise_header,
)

__all__ = [
    "HEADER_SCAN_ROWS",
    "MAX_COMPRESSION_RATIO",
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "MAX_UNCOMPRESSED_BYTES",
    "MAX_ZIP_ENTRIES",
    "RawTable",
    "Workbook",
    "contract_header_matcher",
    "max_rows",
    "open_workbook",
    "read_raw_table",
]

# ---------------------------------------------------------------------------
# Limits (documented in the README; tests override MAX_ROWS via the env var)
# ---------------------------------------------------------------------------
#: Largest input file read at all (bytes).
MAX_FILE_BYTES = 256 * 1024**2
#: Most entries an .xlsx zip may hold.
MAX_ZIP_ENTRIES = 10_000
#: Largest total unpacked size of an .xlsx (bytes).
MAX_UNCOMPRESSED_BYTES = 1024**3
#: Largest unpacked/packed ratio of one zip entry...
MAX_COMPRESSION_RATIO = 200
#: ...checked for entries that unpack to more than this (small parts compress freely).
RATIO_MIN_BYTES = 1024**2
#: Most data rows in one sheet or CSV (Excel's own limit); env DSO_ANALYTICS_MAX_ROWS.
MAX_ROWS = 1_048_576
MAX_ROWS_ENV = "DSO_ANALYTICS_MAX_ROWS"
#: Largest cell area (rows x columns from A1 to the farthest cell or the declared
#: dimension) of one sheet, checked before the sheet is loaded: 1,048,576 rows x 32 columns.
MAX_SHEET_CELLS = 32 * 1_048_576
#: Most columns in one CSV row (Excel's own limit).
MAX_CSV_COLUMNS = 16_384
#: Longest CSV field, in characters (Excel's own limit for one cell).
MAX_CSV_FIELD_CHARS = 32_767
#: Most cells in one CSV file (rows x columns as read).
MAX_CSV_CELLS = MAX_SHEET_CELLS
#: Rows searched for the header row.
HEADER_SCAN_ROWS = 30

_CHUNK = 1024**2
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_FORBIDDEN_XML = (b"<!DOCTYPE", b"<!ENTITY", b"<!doctype", b"<!entity")
_ERROR_MARKS = (b't="e"', b"t='e'")
_TOTAL_RE = re.compile(r"^\s*(?:grand\s*|sub\s*-?\s*)?totals?\b", re.IGNORECASE)

HeaderMatcher = Callable[[Sequence[str]], float]


def max_rows() -> int:
    """Return the row limit in force (:data:`MAX_ROWS` or ``$DSO_ANALYTICS_MAX_ROWS``)."""
    raw = os.environ.get(MAX_ROWS_ENV, "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    return MAX_ROWS


def contract_header_matcher(table: str) -> HeaderMatcher:
    """Return a header matcher scoring a row by the contract columns of ``table`` it names.

    Parameters
    ----------
    table : str
        One of :data:`dso_analytics.schema.TABLES`.

    Returns
    -------
    callable
        ``matcher(normalised_cells) -> float``: the number of distinct contract
        column names among the cells, plus one per required column (0 when none).
    """
    cols = TABLE_COLUMNS[table]
    names = {c.name for c in cols}
    required = {c.name for c in cols if c.required}

    def matcher(cells: Sequence[str]) -> float:
        found = names.intersection(cells)
        return float(len(found) + len(required & found))

    return matcher


# ---------------------------------------------------------------------------
# The raw table
# ---------------------------------------------------------------------------
@dataclass
class RawTable:
    """One sheet (or CSV file) as raw cells, with the provenance of every row.

    Attributes
    ----------
    file : str
        The file as shown to the user (a path relative to the DSO folder).
    sheet : str
        Sheet name; ``""`` for CSV.
    header_row : int
        1-based row number (as Excel shows it) of the header row; 0 when the
        sheet is empty.
    headers : list of str
        The data columns' names: header text normalised by
        :func:`dso_analytics.schema.normalise_header`, made unique (``_2``...);
        a blank header is named ``column_<letter>``.
    original_headers : list of str
        The header cells as written, aligned with ``headers``.
    frame : pandas.DataFrame
        One row per data row (blank and footer rows removed), one column per
        header holding raw cell values (``object`` dtype: ``str``, ``float``,
        ``int``, ``bool``, ``datetime``/``date`` or :class:`ExcelError`; a
        blank cell is ``""``; CSV cells are all ``str``).  Then ``source_file``,
        ``source_sheet`` and ``source_row`` (the Excel row number, an ``int``),
        also ``object`` dtype (one block: cheap to build and to stack).
    footers : pandas.DataFrame
        The ``Total``/``Subtotal``/``Grand total`` rows, same columns.
    date1904 : bool
        The workbook uses the 1904 date system (serial numbers count from
        1904-01-01; pass it to :func:`~dso_analytics.ingest.parse.parse_date`).
    excel_errors : int
        Number of Excel error cells in ``frame``.
    date_formats : tuple of str
        Extra date formats for typing (set by provider profiles).
    profile : str or None
        Name of the provider profile that mapped this table, if any.
    """

    file: str
    sheet: str
    header_row: int
    headers: list[str]
    original_headers: list[str]
    frame: pd.DataFrame
    footers: pd.DataFrame
    date1904: bool = False
    excel_errors: int = 0
    date_formats: tuple[str, ...] = ()
    profile: str | None = None

    @property
    def data_columns(self) -> list[str]:
        """Column names of ``frame`` without the provenance columns."""
        return [c for c in self.frame.columns if c not in PROVENANCE]


@dataclass
class _XlsxInfo:
    date1904: bool = False
    sheet_parts: dict[str, str] = field(default_factory=dict)
    error_parts: set[str] = field(default_factory=set)
    row_counts: dict[str, int] = field(default_factory=dict)
    extents: dict[str, _Extent] = field(default_factory=dict)


_DIMENSION_RE = re.compile(rb"""<dimension\s+ref=["']([A-Z]{1,3})?(\d*)(?::([A-Z]{1,3})(\d+))?""")
_WIDE_REF_RE = re.compile(rb"""\sr=["']([A-Z]{2,3})[0-9]""")
_FAR_ROW_RE = re.compile(rb"""\sr=["'][A-Z]{0,3}([0-9]{8,})["']""")


#: Bytes looked at after a reference's quote (letters, digits and the closing quote).
_REF_SPAN = 24
_SPACE = np.zeros(256, dtype=bool)
_SPACE[[9, 10, 11, 12, 13, 32]] = True  # what \s matches in a bytes pattern
_UPPER = np.zeros(256, dtype=bool)
_UPPER[65:91] = True
_DIGIT = np.zeros(256, dtype=bool)
_DIGIT[48:58] = True
_QUOTE = np.zeros(256, dtype=bool)
_QUOTE[[34, 39]] = True


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n


class _Extent:
    """Farthest column and row a sheet part reaches, found while it streams by.

    Cheap on ordinary sheets: only references with two- or three-letter columns
    (column AA and beyond) or 8-digit rows are matched; the exact farthest row is
    looked for (second pass, :func:`_far_row`) only when the sheet is wide enough
    for it to matter.
    """

    def __init__(self) -> None:
        self.max_col = 0
        self.dimension: tuple[int, int, str] | None = None
        self.far_row = 0
        self.cells = 0  # <c> elements
        self.refs = 0  # r="..." attributes (cells and rows)
        self.rows = 0  # <row> elements

    def feed(self, window: bytes, first: bool, skip: int) -> tuple[int, bool]:
        """Note one window (``skip`` bytes of the previous chunk's tail, then the chunk).

        Counts elements and references starting in the chunk (``<c ``, ``<c>``,
        ``<c/>``; `` r="``/`` r='``; ``<row``); over the whole window, the farthest
        wide column (``\\sr="AB1``), the first reference to an 8-digit row
        (``\\sr="A12345678"``) and whether an error cell (``t="e"``) is there: what
        byte counts and the regular expressions ``_WIDE_REF_RE``/``_FAR_ROW_RE`` find,
        in a few vectorised passes over the ``<`` and ``=`` of the window.

        Returns
        -------
        (rows, error) : tuple of int and bool
            ``<row`` elements starting in the chunk; an error-cell mark in the window.
        """
        n = len(window)
        pad = np.zeros(n + _REF_SPAN + 4, dtype=np.uint8)  # zeros: no letter, digit, quote
        pad[:n] = np.frombuffer(window, dtype=np.uint8)
        body = pad[:n]
        # elements: the byte after each "<"
        lt = np.flatnonzero(body == 60)
        lt = lt[lt >= skip]
        n1, n2, n3 = pad[lt + 1], pad[lt + 2], pad[lt + 3]
        cell = (n1 == 99) & ((n2 == 32) | (n2 == 62) | ((n2 == 47) & (n3 == 62)))
        row = (n1 == 114) & (n2 == 111) & (n3 == 119)
        rows = int(np.count_nonzero(row))
        self.cells += int(np.count_nonzero(cell))
        self.rows += rows
        # attributes: the bytes around each "="
        eq = np.flatnonzero(body == 61)
        before, before2, after = pad[eq - 1], pad[eq - 2], pad[eq + 1]
        quoted = _QUOTE[after]
        is_r = (before == 114) & quoted
        self.refs += int(np.count_nonzero(is_r & (before2 == 32) & (eq - 2 >= skip)))
        error = bool(
            np.any((before == 116) & quoted & (pad[eq + 2] == 101) & (pad[eq + 3] == after))
        )
        if first:
            m = _DIMENSION_RE.search(window)
            if m:
                col = m.group(3) or m.group(1) or b"A"
                row_b = m.group(4) or m.group(2) or b"1"
                ref = (col + row_b).decode("ascii")
                self.dimension = (int(row_b), _col_number(col), ref)
        refs = eq[is_r & _SPACE[before2] & (eq >= 2)] + 2  # first byte of each reference
        # only a reference with two letters (wide) or a digit 8th (8-digit row) can match
        refs = refs[_UPPER[pad[refs + 1]] | _DIGIT[pad[refs + 7]]]
        if not len(refs):
            return rows, error
        win = pad[refs[:, None] + np.arange(_REF_SPAN)]
        upper, digit = _UPPER[win], _DIGIT[win]
        letters = np.where(upper.all(axis=1), _REF_SPAN, upper.argmin(axis=1))
        at = np.arange(len(refs))
        short = np.minimum(letters, _REF_SPAN - 1)
        wide = ((letters == 2) | (letters == 3)) & digit[at, short]
        if wide.any():
            w = win[wide].astype(np.int64) - 64
            three = letters[wide] == 3
            cols = np.where(three, w[:, 0] * 676 + w[:, 1] * 26 + w[:, 2], w[:, 0] * 26 + w[:, 1])
            self.max_col = max(self.max_col, int(cols.max()))
        stop = ~digit & (np.arange(_REF_SPAN) >= letters[:, None])
        end = np.where(stop.any(axis=1), stop.argmax(axis=1), _REF_SPAN)
        endc = np.minimum(end, _REF_SPAN - 1)
        far = (letters <= 3) & (end - letters >= 8) & (end < _REF_SPAN) & _QUOTE[win[at, endc]]
        if (far | ((letters <= 3) & (end == _REF_SPAN))).any():
            m = _FAR_ROW_RE.search(window)  # rare: an 8-digit row (or a longer run of digits)
            if m:
                self.far_row = max(self.far_row, int(m.group(1)))
        return rows, error


def _far_row(zf: zipfile.ZipFile, name: str, min_digits: int) -> int:
    """Largest row number of any cell or row reference with at least ``min_digits`` digits."""
    rx = re.compile(rb"""\sr=["'][A-Z]{0,3}([0-9]{%d,})["']""" % max(min_digits, 1))
    best, tail = 0, b""
    with zf.open(name) as fh:
        while chunk := fh.read(_CHUNK):
            for m in rx.finditer(tail + chunk):
                best = max(best, int(m.group(1)))
            tail = chunk[-24:]
    return best


def _exact_extent(zf: zipfile.ZipFile, name: str) -> tuple[int, int]:
    """(farthest row, farthest column), 1-based, placing unreferenced rows/cells next."""
    max_row = max_col = row = 0
    col = 0
    with zf.open(name) as fh:
        for event, el in SafeET.iterparse(fh, events=("start", "end")):
            tag = el.tag
            if event == "start":
                if tag == f"{_NS_MAIN}row":
                    r = el.get("r")
                    row = int(r) if r and r.isdigit() else row + 1
                    col = 0
                    max_row = max(max_row, row)
                elif tag == f"{_NS_MAIN}c":
                    pos = _cell_ref(el.get("r", ""))
                    if pos is not None:
                        max_row = max(max_row, pos[0] + 1)
                        col = pos[1] + 1
                    else:
                        col += 1
                    max_col = max(max_col, col)
            elif tag == f"{_NS_MAIN}row":
                el.clear()
    return max_row, max_col


def _check_extent(zf: zipfile.ZipFile, part: str, ext: _Extent, display: str, sheet: str) -> None:
    """Refuse a sheet whose cell area would not fit (before any reader allocates it)."""

    def refuse(rows: int, cols: int, what: str) -> None:
        raise InputFileError(
            display,
            f"sheet {sheet} {what} {_col_letter(cols - 1)}{rows} ({cols:,} columns x "
            f"{rows:,} rows; limit {MAX_SHEET_CELLS:,} cells): refused",
        )

    if ext.dimension is not None:
        rows, cols, _ref = ext.dimension
        if rows * cols > MAX_SHEET_CELLS:
            refuse(rows, cols, "declares a used range up to")
    if ext.cells + ext.rows > ext.refs:
        # cells or rows without a reference: place them as a reader does (exact, slower)
        far, cols = _exact_extent(zf, part)
        if far * cols > MAX_SHEET_CELLS:
            refuse(far, cols, "has cells as far as")
        return
    cols = max(ext.max_col, 26)
    if ext.far_row:
        refuse(ext.far_row, cols, "has a cell beyond Excel's last row, at")
    if cols * MAX_ROWS <= MAX_SHEET_CELLS:
        return
    row_bound = MAX_SHEET_CELLS // cols
    far = _far_row(zf, part, len(str(row_bound)))
    if far * cols > MAX_SHEET_CELLS:
        refuse(far, cols, "has cells as far as")


def _col_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _cell_ref(ref: str) -> tuple[int, int] | None:
    m = re.fullmatch(r"([A-Z]{1,3})(\d+)", ref or "")
    if not m:
        return None
    col = 0
    for ch in m.group(1):
        col = col * 26 + (ord(ch) - 64)
    return int(m.group(2)) - 1, col - 1


# ---------------------------------------------------------------------------
# File checks
# ---------------------------------------------------------------------------
def _read_bytes(path: Path, display: str) -> bytes:
    try:
        if not path.exists():
            raise InputFileError(display, "no such file")
        if not path.is_file():
            raise InputFileError(display, "is not a regular file")
        size = path.stat().st_size
    except OSError as e:
        raise InputFileError(display, f"cannot be read ({e.strerror or e})") from None
    if size == 0:
        raise InputFileError(display, "is empty (0 bytes)")
    if size > MAX_FILE_BYTES:
        raise InputFileError(
            display,
            f"is {size / 1024**2:.0f} MB, over the {MAX_FILE_BYTES // 1024**2} MB limit",
        )
    try:
        with path.open("rb") as fh:
            data = fh.read(min(size, MAX_FILE_BYTES) + 1)  # no 256 MB buffer for a small file
    except OSError as e:
        raise InputFileError(display, f"cannot be read ({e.strerror or e})") from None
    if len(data) > MAX_FILE_BYTES:
        raise InputFileError(display, f"is over the {MAX_FILE_BYTES // 1024**2} MB limit")
    if not data:
        raise InputFileError(display, "is empty (0 bytes)")
    return data


def _open_xlsx_zip(data: bytes, display: str) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """The workbook's zip and its directory, refused when it is not an .xlsx, is
    encrypted, or looks like a zip bomb (entries, unpacked size, compression ratio)."""
    if data.startswith(_OLE_MAGIC):
        raise InputFileError(
            display,
            "is an old-format .xls workbook or a password-protected file, not an .xlsx: "
            "open it in Excel and save it as .xlsx without a password",
        )
    if not data.startswith(b"PK\x03\x04"):
        raise InputFileError(
            display, "is not an Excel .xlsx workbook (it looks like another kind of file)"
        )
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise InputFileError(display, "is not a valid .xlsx workbook (damaged zip)") from None
    if len(infos) > MAX_ZIP_ENTRIES:
        raise InputFileError(
            display,
            f"holds {len(infos)} zip entries (limit {MAX_ZIP_ENTRIES}): "
            "refused as a possible zip bomb",
        )
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise InputFileError(
            display,
            f"would unpack to {total / 1024**2:.0f} MB (limit "
            f"{MAX_UNCOMPRESSED_BYTES // 1024**2} MB): refused as a possible zip bomb",
        )
    for i in infos:
        if i.flag_bits & 0x1:
            raise InputFileError(display, "is encrypted: save it without a password")
        if i.file_size > RATIO_MIN_BYTES and i.file_size > MAX_COMPRESSION_RATIO * max(
            i.compress_size, 1
        ):
            raise InputFileError(
                display,
                f"has a part compressed {i.file_size // max(i.compress_size, 1)}:1 "
                f"(limit {MAX_COMPRESSION_RATIO}:1): refused as a possible zip bomb",
            )
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names:
        raise InputFileError(
            display, "is not an Excel .xlsx workbook (a zip file without xl/workbook.xml)"
        )
    return zf, infos


def _scan_part(
    zf: zipfile.ZipFile, i: zipfile.ZipInfo, display: str, limit: int, info: _XlsxInfo
) -> None:
    """Stream one XML part: refuse entity declarations and sheets over the row limit;
    note a sheet's rows, extent and error cells in ``info``."""
    lower = i.filename.lower()
    if not (lower.endswith(".xml") or lower.endswith(".rels")) or i.is_dir():
        return
    is_sheet = lower.startswith("xl/worksheets/")
    tail = b""
    rows = 0
    has_error = False
    extent = _Extent()
    with zf.open(i) as fh:
        first = True
        while True:
            chunk = fh.read(_CHUNK)
            if not chunk:
                break
            window = tail + chunk
            if is_sheet:
                chunk_rows, error_mark = extent.feed(window, first, len(tail))
                first = False
            if b"<!" in window and any(m in window for m in _FORBIDDEN_XML):
                raise InputFileError(
                    display,
                    f"part {i.filename} declares a DOCTYPE/ENTITY (XML entity expansion): refused",
                )
            if is_sheet:
                rows += chunk_rows
                has_error = has_error or error_mark
                if rows > limit + 1:
                    raise InputFileError(
                        display,
                        f"has a sheet with more than {limit:,} rows (the row limit)",
                    )
            tail = chunk[-16:]
    if is_sheet:
        info.row_counts[i.filename] = rows
        info.extents[i.filename] = extent
        if has_error:
            info.error_parts.add(i.filename)


def _read_sheet_parts(wb_xml: bytes, rels_xml: bytes, display: str, info: _XlsxInfo) -> None:
    """Sheet name -> its part, and the 1904 date system, from ``xl/workbook.xml``."""
    try:
        wb = SafeET.fromstring(wb_xml)
        pr = wb.find(f"{_NS_MAIN}workbookPr")
        if pr is not None:
            info.date1904 = pr.get("date1904", "0").lower() in ("1", "true")
        targets: dict[str, str] = {}
        if rels_xml:
            for rel in SafeET.fromstring(rels_xml).iter(f"{_NS_PKG_REL}Relationship"):
                t = rel.get("Target", "")
                t = t.lstrip("/") if t.startswith("/") else str(PurePosixPath("xl") / t)
                targets[rel.get("Id", "")] = t
        sheets = wb.find(f"{_NS_MAIN}sheets")
        for sh in sheets if sheets is not None else []:
            rid = sh.get(f"{_NS_REL}id", "")
            if rid in targets:
                info.sheet_parts[sh.get("name", "")] = targets[rid]
    except Exception as e:  # defusedxml / ParseError: the workbook part is broken
        raise InputFileError(display, f"is a damaged .xlsx workbook ({_first_line(e)})") from None


def _inspect_xlsx(data: bytes, display: str) -> _XlsxInfo:
    """Check an .xlsx's zip directory and XML parts; never parses a sheet."""
    zf, infos = _open_xlsx_zip(data, display)
    names = {i.filename for i in infos}
    info = _XlsxInfo()
    limit = max_rows()
    try:
        for i in infos:
            _scan_part(zf, i, display, limit, info)
        wb_xml = zf.read("xl/workbook.xml")
        rels_xml = (
            zf.read("xl/_rels/workbook.xml.rels") if "xl/_rels/workbook.xml.rels" in names else b""
        )
    except InputFileError:
        raise
    except (
        zipfile.BadZipFile,
        OSError,
        EOFError,
        ValueError,
        RuntimeError,
        NotImplementedError,
    ) as e:
        raise InputFileError(display, f"is a damaged .xlsx workbook ({_first_line(e)})") from None
    _read_sheet_parts(wb_xml, rels_xml, display, info)
    by_part = {part: name for name, part in info.sheet_parts.items()}
    try:
        for part, ext in info.extents.items():
            _check_extent(zf, part, ext, display, by_part.get(part, part))
    except InputFileError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError) as e:
        raise InputFileError(display, f"is a damaged .xlsx workbook ({_first_line(e)})") from None
    return info


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0][:120] if text else type(e).__name__


def _locate_errors(data: bytes, part: str) -> list[tuple[int, int, str]]:
    """(row0, col0, code) of every error cell of one sheet part (streaming parse)."""
    out: list[tuple[int, int, str]] = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf, zf.open(part) as fh:
        for _event, el in SafeET.iterparse(fh, events=("end",)):
            tag = el.tag
            if tag == f"{_NS_MAIN}c":
                if el.get("t") == "e":
                    pos = _cell_ref(el.get("r", ""))
                    v = el.find(f"{_NS_MAIN}v")
                    code = (v.text or "").strip() if v is not None else ""
                    if pos is not None:
                        out.append((pos[0], pos[1], code or "#ERROR"))
            elif tag == f"{_NS_MAIN}row":
                el.clear()
    return out


# ---------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------
def _decode_csv(data: bytes, display: str) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputFileError(display, "is not a readable UTF-16 text file") from None
    if b"\x00" in data[:65536]:
        raise InputFileError(display, "is not a text CSV file (it holds binary data)")
    if data.startswith(b"PK\x03\x04"):
        raise InputFileError(display, "is a zip/xlsx file named .csv: rename it .xlsx")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise InputFileError(
            display, "is not valid text in UTF-8 or Windows-1252 (cp1252) encoding"
        ) from None


def _csv_rows(data: bytes, display: str) -> list[list[str]]:
    text = _decode_csv(data, display)
    head = text[:8192].splitlines()[:5]
    delimiter = ","
    if head and not any("," in line for line in head):
        if any(";" in line for line in head):
            delimiter = ";"
        elif any("\t" in line for line in head):
            delimiter = "\t"
    _check_csv_width(data if not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
                     else text.encode("utf-8"), delimiter, display)  # fmt: skip
    limit = max_rows()
    rows: list[list[str]] = []
    old_limit = csv.field_size_limit(MAX_CSV_FIELD_CHARS)
    try:
        for rec in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            rows.append(rec)
            if len(rows) > limit + 1:
                raise InputFileError(display, f"has more than {limit:,} rows (the row limit)")
    except csv.Error as e:
        if "field limit" in str(e):
            raise InputFileError(
                display,
                f"row {len(rows) + 1} has a field longer than {MAX_CSV_FIELD_CHARS:,} "
                "characters (Excel's cell limit): refused",
            ) from None
        raise InputFileError(
            display, f"is not a readable CSV file (row {len(rows) + 1}: {e})"
        ) from None
    finally:
        csv.field_size_limit(old_limit)
    return rows


def _check_csv_width(data: bytes, delimiter: str, display: str) -> None:
    """Refuse, before parsing, a CSV with too many cells or a line with too many columns.

    Only physical lines longer than :data:`MAX_CSV_COLUMNS` bytes can hold that many
    delimiters; they are found with one vectorised pass over the bytes.
    """
    sep = delimiter.encode("ascii")
    n_sep = data.count(sep)
    if n_sep > MAX_CSV_CELLS:
        raise InputFileError(
            display, f"holds more than {MAX_CSV_CELLS:,} cells (the cell limit): refused"
        )
    if n_sep <= MAX_CSV_COLUMNS:
        return
    arr = np.frombuffer(data, dtype=np.uint8)
    ends = np.concatenate(([-1], np.flatnonzero(arr == 10), [len(arr)]))
    lengths = np.diff(ends) - 1
    for k in np.flatnonzero(lengths > MAX_CSV_COLUMNS):
        line = data[int(ends[k]) + 1 : int(ends[k + 1])]
        if line.count(sep) >= MAX_CSV_COLUMNS:
            raise InputFileError(
                display,
                f"line {int(k) + 1} has more than {MAX_CSV_COLUMNS:,} columns "
                "(Excel's column limit): refused",
            )


# ---------------------------------------------------------------------------
# Header detection and table building
# ---------------------------------------------------------------------------
#: Header texts longer than this are normalised without the cache (a header is short;
#: a long cell of untrusted text is not kept alive by it).
_HEADER_CACHE_CHARS = 256


@functools.lru_cache(maxsize=16384)
def _cached_header_text(v: str) -> str:
    return normalise_header(cell_text(v))


def _header_text(v: str) -> str:
    """normalise_header of a text cell, once per distinct short text (rows scanned for
    the header repeat across files: headers, descriptions, invoice numbers); the cache
    holds at most 16,384 texts of at most :data:`_HEADER_CACHE_CHARS` characters."""
    if len(v) > _HEADER_CACHE_CHARS:
        return normalise_header(cell_text(v))
    return _cached_header_text(v)


def _row_header_cells(row: Sequence[object]) -> list[str]:
    return [_header_text(v) if isinstance(v, str) and v.strip() else "" for v in row]


def _default_score(cells: Sequence[str]) -> float:
    return float(sum(1 for c in cells if c))


def _find_header(rows: list[list[object]], matcher: HeaderMatcher | None) -> tuple[int, float]:
    """Index of the header row among the first HEADER_SCAN_ROWS rows, and its score."""
    best, best_score = -1, 0.0
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        cells = _row_header_cells(row)
        if not any(cells):
            continue
        score = (matcher or _default_score)(cells)
        if score > best_score:
            best, best_score = i, score
    if best < 0:  # nothing scored: the first non-blank row
        for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
            if any(cell_text(v).strip() for v in row):
                return i, 0.0
    return best, best_score


def _unique_headers(cells: list[str]) -> list[str]:
    out: list[str] = []
    seen: dict[str, int] = {}
    for j, c in enumerate(cells):
        name = c or f"column_{_col_letter(j).lower()}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        out.append(name)
    return out


def _footer_mask(labels: np.ndarray) -> np.ndarray:
    """Rows whose label (first non-blank cell) reads Total/Subtotal/Grand total.

    Labels repeat (invoice numbers, dates): each distinct label is tested once.
    """
    if not len(labels):
        return np.zeros(0, dtype=bool)
    codes, uniq = pd.factorize(labels, use_na_sentinel=True)
    hit = np.fromiter(
        (isinstance(u, str) and _TOTAL_RE.match(u) is not None for u in uniq),
        dtype=bool,
        count=len(uniq),
    )
    return np.append(hit, False)[codes]


@functools.lru_cache(maxsize=256)
def _frame_columns(names: tuple[str, ...]) -> pd.Index:
    """The column index of a raw frame (an Index is immutable: files of one layout share it)."""
    return pd.Index([*names, *PROVENANCE], dtype="str")


def _build_table(
    rows: list[list[object]],
    *,
    file: str,
    sheet: str,
    matcher: HeaderMatcher | None,
    date1904: bool = False,
    merged: Sequence[tuple[tuple[int, int], tuple[int, int]]] | None = None,
    error_cols: set[int] | None = None,
    excel_errors: int = 0,
) -> RawTable:
    """Turn raw rows (row i = Excel row i + 1) into a :class:`RawTable`."""
    lens = list(map(len, rows))
    width = max(lens, default=0)
    h, _score = _find_header(rows, matcher) if rows else (-1, 0.0)
    if h < 0 or width == 0:
        empty = pd.DataFrame({SOURCE_FILE: pd.Series([], dtype="str")})
        empty[SOURCE_SHEET] = pd.Series([], dtype="str")
        empty[SOURCE_ROW] = pd.Series([], dtype="int64")
        return RawTable(file, sheet, 0, [], [], empty, empty.copy(), date1904, 0)
    header_cells = list(rows[h]) + [""] * (width - len(rows[h]))
    # a header cell left blank by a vertical merge takes the merged cell's text
    for (r0, c0), (r1, c1) in merged or ():
        if r0 < h <= r1:
            for c in range(c0, min(c1, width - 1) + 1):
                if not cell_text(header_cells[c]).strip():
                    header_cells[c] = rows[r0][c0] if c0 < len(rows[r0]) else ""
    original = [cell_text(v).strip() for v in header_cells]
    norm = [_header_text(v) if v else "" for v in original]
    body = rows[h + 1 :]
    n = len(body)
    if min(lens[h + 1 :], default=width) < width:  # some row is shorter: pad it
        body = [list(r) + [""] * (width - len(r)) for r in body]
    mat = np.empty((n, width), dtype=object)
    if n:
        mat[:] = body
        blank = np.equal(mat, "") | np.equal(mat, None)
    else:
        blank = np.zeros((0, width), dtype=bool)
    row_blank = blank.all(axis=1)
    # Footer rows: first non-blank cell reads "Total", "Subtotal", "Grand total"...
    first = np.argmax(~blank, axis=1) if n else np.zeros(0, dtype=int)
    footer = _footer_mask(mat[np.arange(n), first] if n else np.empty(0, dtype=object))
    footer &= ~row_blank
    keep = ~row_blank & ~footer
    excel_rows = np.arange(h + 2, h + 2 + n, dtype="int64")
    # drop data columns that have neither a header nor any value
    cols = [j for j in range(width) if norm[j] or not blank[:, j].all()]
    names = _unique_headers([norm[j] for j in cols])

    col_idx = np.asarray(cols, dtype=int)
    columns = _frame_columns(tuple(names))  # shared by frame and footers

    def frame_for(mask: np.ndarray) -> pd.DataFrame:
        # one object block straight from the cell matrix (provenance included): no
        # per-column conversion here; typing converts each column once over all files
        rows_idx = np.flatnonzero(mask)
        m = len(col_idx)
        block = np.empty((len(rows_idx), m + 3), dtype=object)
        if m and len(rows_idx):
            block[:, :m] = mat[np.ix_(rows_idx, col_idx)]
        block[:, m] = file
        block[:, m + 1] = sheet
        block[:, m + 2] = excel_rows[rows_idx]
        return pd.DataFrame(block, columns=columns, dtype=object, copy=False)  # block is new

    return RawTable(
        file=file,
        sheet=sheet,
        header_row=h + 1,
        headers=names,
        original_headers=[original[j] for j in cols],
        frame=frame_for(keep),
        footers=frame_for(footer),
        date1904=date1904,
        excel_errors=excel_errors,
    )


# ---------------------------------------------------------------------------
# Workbook
# ---------------------------------------------------------------------------
class Workbook:
    """An input file opened after every safety check: an .xlsx workbook or a CSV.

    Use :func:`open_workbook`.  A CSV is a workbook with one sheet named ``""``.

    Attributes
    ----------
    path : Path
    display : str
        The file as shown in messages (relative path).
    sha256 : str
        Hash of the file's bytes.
    sheet_names : list of str
    date1904 : bool
    """

    def __init__(self, path: Path, display: str) -> None:
        self.path = Path(path)
        self.display = display
        data = _read_bytes(self.path, display)
        self._data = data
        self.sha256 = hashlib.sha256(data).hexdigest()
        suffix = self.path.suffix.lower()
        self.is_csv = suffix == ".csv"
        self.date1904 = False
        self._cal = None
        if self.is_csv:
            self._csv = _csv_rows(data, display)
            self.sheet_names = [""]
            return
        if suffix != ".xlsx":
            raise InputFileError(display, "is neither an .xlsx workbook nor a .csv file")
        self._info = _inspect_xlsx(data, display)
        self.date1904 = self._info.date1904
        try:
            from python_calamine import CalamineWorkbook

            self._cal = CalamineWorkbook.from_filelike(io.BytesIO(data))
            self.sheet_names = list(self._cal.sheet_names)
        except Exception as e:  # calamine raises its own error types
            raise InputFileError(
                display, f"cannot be read as a workbook ({_first_line(e)})"
            ) from None

    def find_sheet(self, name: str) -> str | None:
        """Return the sheet called ``name`` (exact, else by normalised name), or None."""
        if name in self.sheet_names:
            return name
        key = normalise_header(name)
        for s in self.sheet_names:
            if normalise_header(s) == key:
                return s
        return None

    def _rows(self, sheet: str) -> tuple[list[list[object]], list, set[int], int]:
        if self.is_csv:
            return self._csv, [], set(), 0
        try:
            sh = self._cal.get_sheet_by_name(sheet)
            end = sh.end
            limit = max_rows()
            if end is not None and end[0] + 1 > limit + 1:
                raise InputFileError(
                    self.display, f"sheet {sheet} has more than {limit:,} rows (the row limit)"
                )
            rows = sh.to_python(skip_empty_area=False)
            merged = sh.merged_cell_ranges or []
        except InputFileError:
            raise
        except Exception as e:
            raise InputFileError(
                self.display, f"sheet {sheet} cannot be read ({_first_line(e)})"
            ) from None
        part = self._info.sheet_parts.get(sheet)
        error_cols: set[int] = set()
        n_err = 0
        if part and part in self._info.error_parts:
            try:
                located = _locate_errors(self._data, part)
            except Exception as e:
                raise InputFileError(
                    self.display, f"sheet {sheet} cannot be read ({_first_line(e)})"
                ) from None
            for r, c, code in located:
                while r >= len(rows):
                    rows.append([])
                row = rows[r]
                if c >= len(row):
                    row.extend([""] * (c + 1 - len(row)))
                row[c] = ExcelError(code)
                error_cols.add(c)
                n_err += 1
        return rows, merged, error_cols, n_err

    def sheet_header_score(self, sheet: str, matcher: HeaderMatcher) -> float:
        """Best header score of ``sheet`` under ``matcher`` (0 when nothing matches)."""
        rows, *_ = self._rows(sheet)
        return _find_header(rows, matcher)[1] if rows else 0.0

    def read_table(
        self, sheet: str | None = None, header_matcher: HeaderMatcher | None = None
    ) -> RawTable:
        """Read one sheet as a :class:`RawTable` (see :func:`read_raw_table`)."""
        if self.is_csv:
            name = ""
        elif sheet is not None:
            found = self.find_sheet(sheet)
            if found is None:
                raise InputFileError(self.display, f"has no sheet named {sheet!r}")
            name = found
        elif header_matcher is not None and len(self.sheet_names) > 1:
            scores = [self.sheet_header_score(s, header_matcher) for s in self.sheet_names]
            name = self.sheet_names[int(np.argmax(scores))]
        else:
            if not self.sheet_names:
                raise InputFileError(self.display, "has no sheets")
            name = self.sheet_names[0]
        rows, merged, error_cols, n_err = self._rows(name)
        return _build_table(
            rows,
            file=self.display,
            sheet=name,
            matcher=header_matcher,
            date1904=self.date1904,
            merged=merged,
            error_cols=error_cols,
            excel_errors=n_err,
        )

    def close(self) -> None:
        """Release the workbook."""
        if self._cal is not None:
            with contextlib.suppress(Exception):  # already closed
                self._cal.close()
            self._cal = None


def open_workbook(path: str | Path, display: str | None = None) -> Workbook:
    """Open an .xlsx or .csv file after the hostile-file checks.

    Parameters
    ----------
    path : str or Path
        The file.
    display : str, optional
        Name used in messages and ``source_file`` (default: the file name).

    Returns
    -------
    Workbook

    Raises
    ------
    InputFileError
        For an empty, oversized, corrupt, encrypted or hostile file.
    """
    p = Path(path)
    return Workbook(p, display or p.name)


def read_raw_table(
    path: str | Path,
    sheet: str | None = None,
    header_matcher: HeaderMatcher | None = None,
    *,
    display: str | None = None,
) -> RawTable:
    """Read one sheet of an .xlsx (or a .csv) as raw cells with provenance.

    This is the building block of ingest and of provider-export profiles: it
    applies every hostile-file check, finds the header row, skips blank rows,
    sets ``Total``/``Subtotal`` footer rows aside, and restores Excel error
    cells as :class:`~dso_analytics.ingest.parse.ExcelError` values.

    Parameters
    ----------
    path : str or Path
        An ``.xlsx`` or ``.csv`` file.
    sheet : str, optional
        Sheet to read (exact name, else matched by normalised name).  Default:
        with ``header_matcher`` the sheet whose best header row scores highest
        (ties: the first sheet); without it the first sheet.  Ignored for CSV.
    header_matcher : callable, optional
        ``matcher(cells) -> float`` scoring a candidate header row given its
        cells normalised by :func:`dso_analytics.schema.normalise_header`
        (blank cells are ``""``).  The best-scoring row among the first
        :data:`HEADER_SCAN_ROWS` rows is the header (ties: the earliest).
        Default: the row with the most non-blank text cells.
        :func:`contract_header_matcher` builds one for a contract table.
    display : str, optional
        Name used in messages and in ``source_file`` (default: the file name).

    Returns
    -------
    RawTable
        E.g. for a sheet with a title in row 1, headers in row 3 and a blank
        row 5, ``raw.header_row == 3`` and ``raw.frame`` looks like::

            invoice_number  amount      source_file          source_sheet  source_row
            INV-1           "$1,200"    billing/acme.xlsx    Lines         4
            INV-2           350.0       billing/acme.xlsx    Lines         6

    Raises
    ------
    InputFileError
        Hostile or unreadable file, or ``sheet`` not found.
    """
    wb = open_workbook(path, display)
    try:
        return wb.read_table(sheet, header_matcher)
    finally:
        wb.close()
