"""Vectorised cell parsers: raw spreadsheet/CSV cells -> typed columns.

Every ``parse_*`` function takes a :class:`pandas.Series` of raw cells (text
from CSV files; ``str``, ``float``, ``int``, ``bool``, ``datetime`` or
:class:`ExcelError` cells from workbooks) and returns a pair
``(values, invalid)``:

``values``
    the typed column (dtype as in :mod:`dso_analytics.schema`), missing where
    the cell is blank *or* could not be parsed;
``invalid``
    a ``str`` Series, aligned on the same index, holding the original text of
    every present-but-unparseable cell and missing elsewhere.

A value is never silently coerced: ``"12,34"`` is not a number, ``"N/A"`` is
not a blank date, an Excel error cell (``#REF!``) is invalid, not blank.
The parsers never raise on any cell value (a fuzz test checks this).

The common path is vectorised (pandas string/regex methods, ``to_numeric``,
``to_datetime`` with explicit formats); a Python loop only runs over the few
cells the vectorised path could not classify (exotic cell types).
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = [
    "EXCEL_ERROR_CODES",
    "ExcelError",
    "cell_text",
    "is_blank",
    "parse_bool",
    "parse_code",
    "parse_column",
    "parse_date",
    "parse_integer",
    "parse_money",
    "parse_number",
    "parse_text",
]

#: The error values an Excel cell can hold.
EXCEL_ERROR_CODES: tuple[str, ...] = (
    "#NULL!",
    "#DIV/0!",
    "#VALUE!",
    "#REF!",
    "#NAME?",
    "#NUM!",
    "#N/A",
    "#GETTING_DATA",
    "#SPILL!",
    "#CALC!",
)

_ERROR_SET = (*EXCEL_ERROR_CODES, "#ERROR")

#: Excel day 0 in the 1900 and 1904 date systems (1900 includes the Lotus leap-year bug).
EXCEL_ORIGIN_1900 = pd.Timestamp("1899-12-30")
EXCEL_ORIGIN_1904 = pd.Timestamp("1904-01-01")
#: Largest serial Excel accepts (9999-12-31).
MAX_EXCEL_SERIAL = 2958465
# datetime64[ns] bounds (inclusive years that always fit)
_MIN_YEAR, _MAX_YEAR = 1678, 2261


class ExcelError(str):
    """A workbook cell holding an Excel error (``#REF!``, ``#N/A``...).

    A ``str`` subclass so that it survives any text handling as visible text,
    never as a blank.  :mod:`dso_analytics.ingest.workbook` puts these in the
    raw cells; every parser turns them into invalid values.
    """

    __slots__ = ()

    def __reduce__(self):  # keep the type through pickling (worker processes)
        return (ExcelError, (str(self),))


# ---------------------------------------------------------------------------
# Cell classification
# ---------------------------------------------------------------------------
_NUM_TYPES = (float, int, np.float64, np.float32, np.int64, np.int32)
_DATE_TYPES = (_dt.datetime, _dt.date, pd.Timestamp)


class _Cells:
    """A raw Series split by cell kind (each part keeps the original index)."""

    def __init__(self, s: pd.Series) -> None:
        self.index = s.index
        self.errors = pd.Series([], dtype=object)
        self.nums = pd.Series([], dtype="float64")
        self.num_invalid = pd.Series([], dtype="str")
        self.bools = pd.Series([], dtype="boolean")
        self.dates = pd.Series([], dtype=object)
        self.other = pd.Series([], dtype=object)
        if self._typed(s):
            return
        obj = s.astype(object)
        if self._fast(obj):
            return
        self._mixed(obj)

    def _typed(self, s: pd.Series) -> bool:
        """A column of one pandas dtype (text, numbers, booleans or datetimes): split
        without looking at cells.  Returns False for an object column."""
        empty_s = pd.Series([], dtype="str")
        if isinstance(s.dtype, pd.StringDtype):
            text = s.astype("str")
            self.text = text[text.notna()]
            return True
        if s.dtype.kind in "fiu":
            vals = s.astype("float64")
            fin = np.isfinite(vals.to_numpy())
            self.nums = vals[fin]
            self.num_invalid = vals[~fin & vals.notna().to_numpy()].astype("str")
            self.text = empty_s
            return True
        if s.dtype.kind == "b":
            self.bools = s.astype("boolean")
            self.text = empty_s
            return True
        if s.dtype.kind == "M":
            self.dates = s[s.notna()]
            self.text = empty_s
            return True
        return False

    def _mixed(self, obj: pd.Series) -> None:
        """An object column of mixed cells: split by each cell's Python type."""
        kinds = obj.map(type)
        is_str = kinds.isin([str]).to_numpy()
        is_err = kinds.isin([ExcelError]).to_numpy()
        is_float = kinds.isin([float]).to_numpy()
        is_int = kinds.isin([int]).to_numpy()
        is_bool = kinds.isin([bool]).to_numpy()
        is_date = kinds.isin([_dt.datetime, _dt.date, pd.Timestamp]).to_numpy()
        is_none = obj.isna().to_numpy() & ~(is_float | is_str)
        known = is_str | is_err | is_float | is_int | is_bool | is_date | is_none
        self.text = obj[is_str].astype("str")
        self.errors = obj[is_err]
        self.bools = obj[is_bool].astype("boolean")
        self.dates = obj[is_date]
        nums = obj[is_float]
        ints = obj[is_int]
        rest = obj[~known]
        huge: dict = {}
        if len(ints):
            try:
                ints_f = ints.astype("float64")
            except (OverflowError, ValueError, TypeError):
                ints_f = pd.Series([_to_float(v) for v in ints], index=ints.index, dtype="float64")
                huge = {i: str(v) for i, v in ints[ints_f.isna()].items()}
                ints_f = ints_f.dropna()
            nums = pd.concat([nums.astype("float64"), ints_f]) if len(nums) else ints_f
        nums = nums.astype("float64")
        if len(rest):
            nums = self._exotic(rest, nums)
        arr = nums.to_numpy(dtype="float64", na_value=np.nan)
        fin = np.isfinite(arr)
        inf = ~fin & ~np.isnan(arr)
        self.num_invalid = pd.Series(
            [cell_text(v) for v in nums[inf]], index=nums.index[inf], dtype="str"
        )
        if huge:
            self.num_invalid = pd.concat([self.num_invalid, pd.Series(huge, dtype="str")])
        self.nums = nums[fin]

    def _exotic(self, rest: pd.Series, nums: pd.Series) -> pd.Series:
        """Exotic cell types (numpy scalars, Decimal, time, timedelta...): the few cells
        the type test could not classify.  Returns ``nums`` with their numbers added."""
        extra_nums, extra_dates, extra_bools, extra_text, other = {}, {}, {}, {}, {}
        for i, v in rest.items():
            if isinstance(v, bool | np.bool_):
                extra_bools[i] = bool(v)
            elif isinstance(v, (*_DATE_TYPES, np.datetime64)):
                extra_dates[i] = v
            elif isinstance(v, int | float | np.integer | np.floating):
                extra_nums[i] = _to_float(v)
            elif isinstance(v, str):
                extra_text[i] = str(v)
            else:
                other[i] = v
        if extra_nums:
            nums = pd.concat([nums, pd.Series(extra_nums, dtype="float64")])
        if extra_dates:
            self.dates = pd.concat([self.dates, pd.Series(extra_dates, dtype=object)])
        if extra_bools:
            self.bools = pd.concat([self.bools, pd.Series(extra_bools, dtype="boolean")])
        if extra_text:
            self.text = pd.concat([self.text, pd.Series(extra_text, dtype="str")])
        self.other = pd.Series(other, dtype=object)
        return nums

    def _fast(self, obj: pd.Series) -> bool:
        """Homogeneous columns (all text, all numbers or all dates, plus blanks): no
        per-cell type test.  Returns False when the column needs the general path."""
        arr = obj.to_numpy()
        present = ~(np.equal(arr, "") | pd.isna(arr))
        sub = arr[present]
        kind = pd.api.types.infer_dtype(sub, skipna=False)
        if kind == "empty":
            self.text = pd.Series([], dtype="str")
            return True
        if kind == "string":
            # ExcelError is a str subclass: look for error codes before trusting the kind
            if pd.Series(sub, dtype=object).isin(_ERROR_SET).any():
                return False
            self.text = obj[present].astype("str")
            return True
        if kind in ("floating", "integer", "mixed-integer-float"):
            try:
                vals = sub.astype("float64")
            except (OverflowError, ValueError, TypeError):
                return False
            fin = np.isfinite(vals)
            idx = obj.index[present]
            self.nums = pd.Series(vals[fin], index=idx[fin])
            self.num_invalid = pd.Series(
                [cell_text(v) for v in vals[~fin]], index=idx[~fin], dtype="str"
            )
            self.text = pd.Series([], dtype="str")
            return True
        if kind in ("date", "datetime"):
            self.dates = obj[present]
            self.text = pd.Series([], dtype="str")
            return True
        return False

    def invalid_base(self) -> pd.Series:
        """Invalid text of error cells and unclassifiable cells (always invalid)."""
        parts = [self.errors.astype("str"), self.num_invalid]
        if len(self.other):
            parts.append(
                pd.Series([cell_text(v) for v in self.other], index=self.other.index, dtype="str")
            )
        parts = [p for p in parts if len(p)]
        return pd.concat(parts).astype("str") if parts else pd.Series([], dtype="str")


def _to_float(v: object) -> float:
    try:
        return float(v)  # type: ignore[arg-type]
    except (OverflowError, ValueError, TypeError):
        return math.nan


def cell_text(v: object) -> str:
    """Return the text a person would read in a cell (for messages and text columns).

    >>> cell_text(1001.0)
    '1001'
    >>> cell_text(_dt.date(2025, 3, 31))
    '2025-03-31'
    """
    if v is None:
        return ""
    if isinstance(v, bool | np.bool_):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float | np.floating):
        f = float(v)
        if math.isfinite(f) and f.is_integer() and abs(f) < 1e15:
            return str(int(f))
        return repr(f)
    if isinstance(v, _dt.datetime):
        return v.date().isoformat() if v.time() == _dt.time() else v.isoformat(sep=" ")
    if isinstance(v, _dt.date):
        return v.isoformat()
    return str(v)


def _blank_text(text: pd.Series) -> pd.Series:
    """Boolean mask of blank text cells (empty or whitespace only, NBSP included)."""
    return text.str.strip().fillna("") == ""


def is_blank(s: pd.Series) -> pd.Series:
    """Return a boolean mask of blank cells (missing, empty or whitespace-only text).

    Parameters
    ----------
    s : pandas.Series
        Raw cells.

    Returns
    -------
    pandas.Series of bool
    """
    if s.dtype.kind in "fiubM":
        return s.isna()
    out = s.isna().to_numpy().copy()
    c = _Cells(s)
    if len(c.text):
        out[s.index.get_indexer(c.text.index)] = _blank_text(c.text).to_numpy()
    return pd.Series(out, index=s.index)


def _finish(index: pd.Index, values: pd.Series, invalid_parts: Sequence[pd.Series], dtype: str):
    """Align partial results on ``index``."""
    vals = values.reindex(index) if len(values) else pd.Series(index=index, dtype=dtype)
    vals = vals.astype(dtype)
    parts = [p for p in invalid_parts if len(p)]
    inv = pd.Series(index=index, dtype="str")
    if parts:
        allinv = pd.concat(parts).astype("str")
        inv.loc[allinv.index] = allinv
    return vals, inv


def _text_invalid(text: pd.Series, ok: pd.Series) -> pd.Series:
    """Original text of non-blank text cells that did not parse."""
    bad = ~ok.to_numpy() & ~_blank_text(text).to_numpy()
    return text[bad]


# ---------------------------------------------------------------------------
# Numbers and money
# ---------------------------------------------------------------------------
_NUM = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d*)?|\d+(?:\.\d*)?|\.\d+)"
_WS_RE = r"[\s\u00a0\u2007\u202f]+"


def _parse_decimal_text(text: pd.Series, currency: bool, percent: bool):
    """Parse decimal text; return (float values, ok mask)."""
    t = text.str.replace(_WS_RE, "", regex=True)
    t = t.str.replace("\u2212", "-", regex=False)  # Unicode minus
    if currency:
        t = t.str.replace(r"(?i)usd|\$", "", regex=True)
    if percent:
        t = t.str.replace(r"%$", "", regex=True)
    plain = t.str.fullmatch(rf"[-+]?{_NUM}").fillna(False)
    paren = t.str.fullmatch(rf"\({_NUM}\)").fillna(False)
    trail = t.str.fullmatch(rf"{_NUM}-").fillna(False)
    ok = (plain | paren | trail).astype(bool)
    digits = t.str.replace(r"[(),+\-]", "", regex=True).where(ok, "")
    vals = pd.to_numeric(digits.where(ok), errors="coerce").astype("float64")
    neg = (paren | trail | t.str.startswith("-").fillna(False)).astype(bool)
    vals = vals.where(~neg.to_numpy(), -vals)
    ok = ok & vals.notna() & np.isfinite(vals.fillna(0.0))
    return vals.where(ok), ok


def _parse_decimal(s: pd.Series, currency: bool, percent: bool):
    c = _Cells(s)
    parts_v = [c.nums]
    inv = [c.invalid_base()]
    if len(c.text):
        vals, ok = _parse_decimal_text(c.text, currency, percent)
        parts_v.append(vals[ok])
        inv.append(_text_invalid(c.text, ok))
    for other in (c.bools, c.dates):
        if len(other):
            inv.append(pd.Series([cell_text(v) for v in other], index=other.index, dtype="str"))
    parts_v = [p for p in parts_v if len(p)]
    values = pd.concat(parts_v) if parts_v else pd.Series([], dtype="float64")
    return _finish(s.index, values.astype("float64"), inv, "float64")


def parse_money(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse money cells to ``float64``.

    Accepts numbers and text such as ``$1,234.56``, ``1234.56``, ``(1,234.56)``
    (negative), ``-1,234.56``, ``$-12``, ``1,234.56-`` (trailing minus),
    ``USD 12``, with spaces or non-breaking spaces anywhere.  Thousands
    separators must be well placed (``1,23`` is invalid); other currencies are
    invalid, not converted.

    Parameters
    ----------
    s : pandas.Series
        Raw cells.

    Returns
    -------
    values : pandas.Series
        ``float64``; NaN where blank or invalid.
    invalid : pandas.Series
        ``str``; the original text where invalid, missing elsewhere.

    Examples
    --------
    >>> v, bad = parse_money(pd.Series(["$1,234.56", "(10)", "12-", "abc", ""]))
    >>> v.tolist()[:3], bad.tolist()[3]
    ([1234.56, -10.0, -12.0], 'abc')
    """
    return _parse_decimal(s, currency=True, percent=False)


def parse_number(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse plain numbers to ``float64`` (``1,234.5``, ``(2)``, ``3%`` -> 3.0).

    A trailing ``%`` is allowed and dropped (the number is kept as written:
    ``3%`` is 3.0, as in ``annual_uplift_pct``).  See :func:`parse_money` for
    the return values.
    """
    return _parse_decimal(s, currency=False, percent=True)


def parse_integer(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse whole numbers to nullable ``Int64`` (``12``, ``12.0``, ``1,200``).

    A number with a fraction (``2.5``) is invalid, never rounded.
    """
    vals, inv = parse_number(s)
    v = vals.to_numpy()
    ok = np.isfinite(v) & (np.floor(np.nan_to_num(v)) == v) & (np.abs(np.nan_to_num(v)) < 2**53)
    bad = vals.notna().to_numpy() & ~ok
    if bad.any():
        inv = inv.copy()
        inv[bad] = [cell_text(x) for x in s[bad]]
    out = pd.array(np.where(ok, np.nan_to_num(v), 0).astype("int64"), dtype="Int64")
    out[~ok] = pd.NA
    return pd.Series(out, index=s.index), inv


# ---------------------------------------------------------------------------
# Booleans
# ---------------------------------------------------------------------------
_TRUE = ("yes", "y", "true", "1", "1.0", "t", "x")
_FALSE = ("no", "n", "false", "0", "0.0", "f")
_BOOL_MAP = {**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}


def parse_bool(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse booleans to nullable ``boolean``: yes/no, y/n, true/false, t/f, 1/0, x.

    Any case, surrounding spaces ignored; numeric cells 1/0 and Excel TRUE/FALSE
    cells are accepted.  ``x`` (a tick mark) means true.
    """
    c = _Cells(s)
    parts = [c.bools]
    inv = [c.invalid_base()]
    if len(c.text):
        key = c.text.str.strip().str.lower()
        mapped = key.map(_BOOL_MAP)
        ok = mapped.notna()
        parts.append(mapped[ok].astype("boolean"))
        inv.append(_text_invalid(c.text, ok))
    if len(c.nums):
        one, zero = c.nums == 1.0, c.nums == 0.0
        ok = one | zero
        parts.append(one[ok].astype("boolean"))
        inv.append(c.nums[~ok].map(cell_text).astype("str"))
    if len(c.dates):
        inv.append(c.dates.map(cell_text).astype("str"))
    parts = [p for p in parts if len(p)]
    values = pd.concat(parts) if parts else pd.Series([], dtype="boolean")
    return _finish(s.index, values.astype("boolean"), inv, "boolean")


# ---------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------
_TIME_SUFFIX = (
    r"(?:[T\s]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AaPp][Mm])?(?:Z|[+-]\d{2}:?\d{2})?)$"
)
_ISO_RE = r"\d{4}-\d{1,2}-\d{1,2}"
_US_RE = r"\d{1,2}/\d{1,2}/\d{4}"
_US_DASH_RE = r"\d{1,2}-\d{1,2}-\d{4}"
_SERIAL_RE = r"\d{1,7}(?:\.\d+)?"


def _to_ns(ts: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Keep timestamps that fit datetime64[ns]; return (values_ns, ok)."""
    ok = ts.notna()
    if ok.any():
        years = ts.dt.year
        ok = ok & (years >= _MIN_YEAR) & (years <= _MAX_YEAR)
    vals = ts.where(ok).dt.normalize().astype("datetime64[ns]")
    return vals, ok.astype(bool)


def _serial_to_dates(nums: pd.Series, date1904: bool) -> tuple[pd.Series, pd.Series]:
    ok = (nums >= (0 if date1904 else 1)) & (nums <= MAX_EXCEL_SERIAL)
    origin = EXCEL_ORIGIN_1904 if date1904 else EXCEL_ORIGIN_1900
    days = np.floor(nums.where(ok, 0).to_numpy())
    ts = pd.Series(origin + pd.to_timedelta(days, unit="D"), index=nums.index)
    vals, ok2 = _to_ns(ts.where(ok.to_numpy()))
    return vals, ok2


def _strptime(text: pd.Series, fmt: str) -> pd.Series:
    if fmt == "ISO8601":
        return pd.to_datetime(text, format="ISO8601", errors="coerce")
    return pd.to_datetime(text, format=fmt, errors="coerce")


def _text_dates(
    cells: pd.Series, date1904: bool, formats: Sequence[str] | None
) -> tuple[pd.Series, pd.Series]:
    """Dates written as text: serial numbers, ISO, US (or the given ``formats``).

    Returns the dates (NaT where not parsed) and the mask of the cells parsed.
    """
    text = cells.str.strip()
    done = pd.Series(False, index=text.index)
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    serial = text.str.fullmatch(_SERIAL_RE).fillna(False).astype(bool)
    if serial.any():
        nums = pd.to_numeric(text[serial], errors="coerce").astype("float64")
        vals, ok = _serial_to_dates(nums, date1904)
        result[vals.index[ok]] = vals[ok]
        done[vals.index[ok]] = True
    date_part = text.str.replace(_TIME_SUFFIX, "", regex=True)
    patterns: list[tuple[str, str, str]] = [(_ISO_RE, "%Y-%m-%d", "iso")]
    if formats is None:
        patterns += [(_US_RE, "%m/%d/%Y", "us"), (_US_DASH_RE, "%m-%d-%Y", "us")]
    for rx, fmt, _ in patterns:
        m = (~done & date_part.str.fullmatch(rx).fillna(False)).astype(bool)
        if m.any():
            vals, ok = _to_ns(_strptime(date_part[m], fmt))
            result[vals.index[ok]] = vals[ok]
            done[vals.index[ok]] = True
    for fmt in formats or ():
        m = ~done
        if m.any():
            vals, ok = _to_ns(_strptime(text[m], fmt))
            result[vals.index[ok]] = vals[ok]
            done[vals.index[ok]] = True
    return result, done


def parse_date(
    s: pd.Series, date1904: bool = False, formats: Sequence[str] | None = None
) -> tuple[pd.Series, pd.Series]:
    """Parse dates to ``datetime64[ns]`` (midnight, tz-naive).

    Accepted: real date cells from workbooks; ISO text (``2025-03-31``,
    optionally with a time); US text (``03/31/2025``, ``3-31-2025``); Excel
    serial numbers as numbers or numeric text (``45747``) in the 1900 date
    system, or the 1904 system when the workbook uses it.  A time of day is
    dropped (the date is kept).  Two-digit years, day-first text and anything
    else are invalid unless given in ``formats``.

    Parameters
    ----------
    s : pandas.Series
        Raw cells.
    date1904 : bool
        The workbook uses the 1904 date system (serial numbers count from
        1904-01-01).  Real date cells are already converted by the reader.
    formats : sequence of str, optional
        ``strftime`` formats to try on text, replacing the US formats (ISO and
        serials are always accepted).  Provider profiles pass their own
        format here (e.g. ``"%d/%m/%Y"``).

    Returns
    -------
    values : pandas.Series
        ``datetime64[ns]``; NaT where blank or invalid.
    invalid : pandas.Series
        ``str``; the original text where invalid.
    """
    c = _Cells(s)
    parts = []
    inv = [c.invalid_base()]
    if len(c.dates):
        try:
            ts = pd.to_datetime(c.dates, errors="coerce")
            if getattr(ts.dt, "tz", None) is not None:
                ts = ts.dt.tz_localize(None)
        except (ValueError, TypeError, OverflowError):
            ts = pd.Series(
                [pd.Timestamp(v) if _fits(v) else pd.NaT for v in c.dates],
                index=c.dates.index,
                dtype="datetime64[ns]",
            )
        vals, ok = _to_ns(ts)
        parts.append(vals[ok])
        inv.append(c.dates[~ok.to_numpy()].map(cell_text).astype("str"))
    if len(c.nums):
        vals, ok = _serial_to_dates(c.nums, date1904)
        parts.append(vals[ok])
        inv.append(c.nums[~ok.to_numpy()].map(cell_text).astype("str"))
    if len(c.text):
        result, done = _text_dates(c.text, date1904, formats)
        parts.append(result[done])
        inv.append(_text_invalid(c.text, done))
    if len(c.bools):
        inv.append(c.bools.map(cell_text).astype("str"))
    parts = [p for p in parts if len(p)]
    values = pd.concat(parts) if parts else pd.Series([], dtype="datetime64[ns]")
    return _finish(s.index, values.astype("datetime64[ns]"), inv, "datetime64[ns]")


def _fits(v: object) -> bool:
    try:
        ts = pd.Timestamp(v)  # type: ignore[arg-type]
    except (ValueError, TypeError, OverflowError):
        return False
    return _MIN_YEAR <= ts.year <= _MAX_YEAR


# ---------------------------------------------------------------------------
# Text and codes
# ---------------------------------------------------------------------------
def parse_text(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse text cells to ``str``: trimmed, blank -> missing.

    Numbers become the text a person sees (``1001.0`` -> ``"1001"``), date
    cells ISO text, Excel TRUE/FALSE cells ``"TRUE"``/``"FALSE"``.  Only Excel
    error cells are invalid.
    """
    c = _Cells(s)
    parts = []
    if len(c.text):
        t = c.text.str.strip()
        parts.append(t[t != ""])
    if len(c.nums):
        v = c.nums.to_numpy()
        integral = (np.floor(v) == v) & (np.abs(v) < 1e15)
        as_int = pd.Series(np.where(integral, v, 0).astype("int64"), index=c.nums.index)
        txt = as_int.astype("str").where(integral, c.nums.map(repr).astype("str"))
        parts.append(txt)
    for other in (c.dates, c.bools):
        if len(other):
            parts.append(other.map(cell_text).astype("str"))
    parts = [p.astype("str") for p in parts if len(p)]
    values = pd.concat(parts) if parts else pd.Series([], dtype="str")
    return _finish(s.index, values, [c.invalid_base()], "str")


def parse_code(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse a code: text lower-cased, trimmed, runs of spaces/hyphens -> ``_``.

    ``" Add-On "`` -> ``"add_on"``.  The vocabulary is checked by validation,
    not here.
    """
    vals, inv = parse_text(s)
    vals = vals.str.lower().str.replace(r"[\s\-]+", "_", regex=True)
    return vals.astype("str"), inv


_PARSERS = {
    "text": parse_text,
    "code": parse_code,
    "money": parse_money,
    "number": parse_number,
    "integer": parse_integer,
    "bool": parse_bool,
}


def parse_column(
    s: pd.Series, kind: str, date1904: bool = False, date_formats: Sequence[str] | None = None
) -> tuple[pd.Series, pd.Series]:
    """Parse ``s`` as a column of ``kind`` (a :class:`dso_analytics.schema.Column` kind).

    Parameters
    ----------
    s : pandas.Series
        Raw cells.
    kind : str
        ``text``, ``code``, ``money``, ``number``, ``integer``, ``date`` or ``bool``.
    date1904 : bool
        Workbook date system, for ``date`` columns.
    date_formats : sequence of str, optional
        Extra date formats (see :func:`parse_date`).

    Returns
    -------
    (values, invalid) : tuple of pandas.Series
    """
    if kind != "date" and kind not in _PARSERS:
        raise ValueError(f"unknown column kind {kind!r}")
    deduped = _parse_unique(s, kind, date1904, date_formats)
    if deduped is not None:
        return deduped
    return _parse_all(s, kind, date1904, date_formats)


def _parse_all(
    s: pd.Series, kind: str, date1904: bool, date_formats: Sequence[str] | None
) -> tuple[pd.Series, pd.Series]:
    if kind == "date":
        return parse_date(s, date1904=date1904, formats=date_formats)
    return _PARSERS[kind](s)


#: Columns at least this long are parsed once per distinct cell when cells repeat.
_DEDUPE_MIN = 256


def _parse_unique(
    s: pd.Series, kind: str, date1904: bool, date_formats: Sequence[str] | None
) -> tuple[pd.Series, pd.Series] | None:
    """Parse each distinct cell once and map the results back (codes, dates, amounts
    repeat across billing lines).  None when not worth it or when hashing could merge
    cells that parse differently (``True == 1.0``, an Excel error and its text)."""
    if len(s) < _DEDUPE_MIN or s.dtype != object:
        return None
    arr = s.to_numpy()
    head = arr[:_DEDUPE_MIN]
    if len(pd.unique(head[~pd.isna(head)])) * 2 > len(head):  # mostly distinct: skip
        return None
    codes, uniq = pd.factorize(arr, use_na_sentinel=True)
    k = len(uniq)
    if k * 2 > len(s):
        return None
    zero_or_one = False
    for v in uniq:
        t = type(v)
        if t is bool or t is np.bool_ or isinstance(v, ExcelError):
            return None
        if t is str and v in _ERROR_SET:
            return None
        if t is int and abs(v) >= 2**53:
            return None
        zero_or_one = zero_or_one or (t is not str and v in (0, 1))
    if zero_or_one and any(type(v) is bool or type(v) is np.bool_ for v in arr):
        return None  # a TRUE/FALSE cell hashed into 1/0 (its representative is the number)
    cells = pd.Series([*uniq, None], dtype=object)
    vals, inv = _parse_all(cells, kind, date1904, date_formats)
    take = np.where(codes < 0, k, codes)
    values = pd.Series(vals.array.take(take), index=s.index)
    invalid = pd.Series(inv.array.take(take), index=s.index)
    return values, invalid
