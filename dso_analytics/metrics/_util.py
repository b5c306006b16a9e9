"""Shared vectorised helpers of the metrics package (no IO)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.holiday import USFederalHolidayCalendar

from dso_analytics.money import to_cents as _money_to_cents

NONE_KEY = "(none)"
ORG_KEY = "(organization)"


def to_cents(amount: pd.Series | np.ndarray) -> np.ndarray:
    """Money (float, cents-rounded) -> exact ``int64`` cents; missing -> 0.

    Refuses amounts whose sums could wrap (see :func:`dso_analytics.money.to_cents`).
    """
    return _money_to_cents(amount)


def from_cents(cents: int | np.integer | np.ndarray | pd.Series) -> float | np.ndarray | pd.Series:
    """Exact cents -> float amount rounded to the cent."""
    if isinstance(cents, pd.Series):
        return (cents.astype("float64") / 100.0).round(2)
    if isinstance(cents, np.ndarray):
        return np.round(cents.astype("float64") / 100.0, 2)
    return round(int(cents) / 100.0, 2)


def round_money(x: float | np.ndarray) -> float | np.ndarray:
    """Round money half-up to the cent (151.235 -> 151.24); NaN stays NaN.

    The float's shortest decimal text is rounded (``Decimal(repr(x))``), so a
    value typed as 151.235 rounds up although its binary value is 151.2349999...
    """

    def one(v: float) -> float:
        if v != v:  # NaN
            return v
        return float(Decimal(repr(float(v))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))

    if isinstance(x, np.ndarray):
        return np.array([one(v) for v in x.astype(float).ravel()], dtype=float).reshape(x.shape)
    return one(float(x))


#: factorized text columns, by arrow array, while :func:`reuse_codes` is active
_CODES: ContextVar[dict[int, tuple[Any, np.ndarray, Any]] | None] = ContextVar(
    "dso_metrics_codes", default=None
)


@contextmanager
def reuse_codes() -> Iterator[None]:
    """Within the block, :func:`factorize` remembers the codes of each text column.

    The lines of one DSO are grouped by the same columns (location, governing
    agreement) in several metrics: each is factorized once.  The memo holds the
    arrow arrays it keys on (immutable, so a key cannot go stale) and is dropped
    when the block ends.
    """
    token = _CODES.set({})
    try:
        yield
    finally:
        _CODES.reset(token)


def factorize(s: pd.Series) -> tuple[np.ndarray, Any]:
    """``pandas.factorize(s)`` (missing -> -1), memoised inside :func:`reuse_codes`.

    The returned codes may be shared: callers must not modify them in place.
    """
    memo = _CODES.get()
    arrow = None
    if memo is not None and isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow":
        arrow = s.array.__arrow_array__()
        hit = memo.get(id(arrow))
        if hit is not None and hit[0] is arrow:
            return hit[1], hit[2]
    codes, uniques = pd.factorize(s)
    if arrow is not None and memo is not None:
        memo[id(arrow)] = (arrow, codes, uniques)
    return codes, uniques


def one_chunk(s: pd.Series) -> pd.Series:
    """A pyarrow-backed ``str`` column as one contiguous chunk (same values and dtype).

    Columns read from Parquet or concatenated from many files are chunked; every
    ``take`` (filter, reorder, group) of a chunked array concatenates the chunks
    again first, so combining them once makes each later take much cheaper.
    """
    if not (isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow"):
        return s
    arrow = s.array.__arrow_array__()
    if getattr(arrow, "num_chunks", 1) <= 1:
        return s
    return pd.Series(pd.array(arrow.combine_chunks(), dtype=s.dtype), index=s.index, name=s.name)


def as_float(s: pd.Series) -> np.ndarray:
    """Numeric column (any nullable dtype) -> float64 array with NaN for missing."""
    return pd.to_numeric(s, errors="coerce").astype("float64").to_numpy(na_value=np.nan)


def as_bool(s: pd.Series, default: bool = False) -> np.ndarray:
    """Nullable boolean column -> bool array (missing -> ``default``)."""
    return s.astype("boolean").fillna(default).to_numpy(dtype=bool)


def as_text(s: pd.Series) -> pd.Series:
    """Text column -> ``str`` dtype, trimmed, blank -> missing."""
    s = s.astype("str")
    t = s.str.strip()
    blank = (t == "").to_numpy(bool, na_value=False)
    if blank.any():
        return t.where(~blank)
    if s.dtype.storage == "pyarrow" and t.array.__arrow_array__().equals(s.array.__arrow_array__()):
        return s  # already clean: keep the same array (its codes can be reused)
    return t


def as_dates(s: pd.Series | np.ndarray) -> np.ndarray:
    """Dates -> ``datetime64[D]`` array (NaT kept)."""
    return pd.to_datetime(pd.Series(s)).to_numpy(dtype="datetime64[D]")


def add_months(dates: pd.Series | np.ndarray, months: pd.Series | np.ndarray) -> pd.Series:
    """Add whole calendar months like ``pandas.DateOffset(months=n)``, vectorised.

    The day is clamped to the end of the target month (Jan 31 + 1 month =
    Feb 28/29).  Missing dates or months give NaT.

    Parameters
    ----------
    dates : array-like of datetime64
    months : array-like of numbers

    Returns
    -------
    Series of datetime64[ns]
    """
    d = pd.DatetimeIndex(pd.to_datetime(pd.Series(dates)))
    m = np.asarray(pd.to_numeric(pd.Series(months), errors="coerce"), dtype="float64")
    ok = ~(np.asarray(d.isna()) | np.isnan(m))
    y = np.where(ok, np.nan_to_num(d.year.to_numpy(dtype="float64", na_value=1970)), 1970)
    mo = np.where(ok, np.nan_to_num(d.month.to_numpy(dtype="float64", na_value=1)), 1)
    day = np.where(ok, np.nan_to_num(d.day.to_numpy(dtype="float64", na_value=1)), 1)
    total = (y.astype(np.int64) - 1970) * 12 + (mo.astype(np.int64) - 1)
    total = total + np.where(ok, np.nan_to_num(m), 0).astype(np.int64)
    start = total.astype("datetime64[M]").astype("datetime64[D]")
    nxt = (total + 1).astype("datetime64[M]").astype("datetime64[D]")
    dim = (nxt - start).astype(np.int64)
    res = start + (np.minimum(day.astype(np.int64), dim) - 1).astype("timedelta64[D]")
    out = pd.Series(res.astype("datetime64[ns]"))
    out[~ok] = pd.NaT
    return out


@lru_cache(maxsize=64)
def _holidays(first_year: int, last_year: int) -> np.ndarray:
    cal = USFederalHolidayCalendar()
    h = cal.holidays(start=f"{first_year}-01-01", end=f"{last_year}-12-31")
    return h.to_numpy(dtype="datetime64[D]")


def business_days(start: pd.Series | np.ndarray, end: pd.Series | np.ndarray) -> pd.Series:
    """Business days from ``start`` (inclusive) to ``end`` (exclusive).

    ``numpy.busday_count`` over weekdays, excluding US federal holidays
    (``USFederalHolidayCalendar``, observed dates).  Missing dates give ``<NA>``.

    Returns
    -------
    Series of Int64
    """
    s = as_dates(start)
    e = as_dates(end)
    ok = ~(np.isnat(s) | np.isnat(e))
    out = pd.Series(pd.array([pd.NA] * len(s), dtype="Int64"))
    if ok.any():
        years = pd.DatetimeIndex(np.concatenate([s[ok], e[ok]])).year
        hol = _holidays(int(years.min()) - 1, int(years.max()) + 1)
        out[ok] = np.busday_count(s[ok], e[ok], holidays=hol)
    return out


def add_business_days(start: pd.Series | np.ndarray, days: int | np.ndarray) -> np.ndarray:
    """The date ``days`` business days after ``start`` (the inverse of :func:`business_days`).

    ``start`` is first rolled forward to a business day (same calendar as
    :func:`business_days`), so ``days=0`` gives the next business day on or after it.

    Returns
    -------
    ndarray of datetime64[D]
    """
    s = as_dates(start)
    years = pd.DatetimeIndex(s).year
    hol = _holidays(int(years.min()) - 1, int(years.max()) + 2)
    return np.busday_offset(s, days, roll="forward", holidays=hol)


def t12m_start(as_of: pd.Timestamp) -> pd.Timestamp:
    """Exclusive start of the trailing-twelve-months window ending at ``as_of``.

    T12M is ``(t12m_start(as_of), as_of]``.  When ``as_of`` is the last day of
    its month, the window starts after the last day of the same month a year
    earlier, so that a month-end window always holds exactly twelve month ends;
    otherwise it starts after ``as_of - 12 months`` (``pandas.DateOffset``).

    Parameters
    ----------
    as_of : Timestamp

    Returns
    -------
    Timestamp
        The day just before the window's first day.

    Examples
    --------
    >>> t12m_start(pd.Timestamp("2025-02-28")).date()  # not 2024-02-28
    datetime.date(2024, 2, 29)
    >>> t12m_start(pd.Timestamp("2024-02-29")).date()
    datetime.date(2023, 2, 28)
    >>> t12m_start(pd.Timestamp("2025-06-15")).date()
    datetime.date(2024, 6, 15)
    """
    as_of = pd.Timestamp(as_of).normalize()
    if as_of.is_month_end:
        return (as_of - pd.DateOffset(months=12)) + pd.offsets.MonthEnd(0)
    return as_of - pd.DateOffset(months=12)


def t12m_mask(dates: pd.Series, as_of: pd.Timestamp) -> np.ndarray:
    """``invoice_date`` in ``(t12m_start(as_of), as_of]`` (see :func:`t12m_start`)."""
    start = t12m_start(as_of)
    d = pd.to_datetime(dates)
    return ((d > start) & (d <= as_of)).to_numpy(dtype=bool, na_value=False)


def split_ids(text: pd.Series) -> pd.Series:
    """``"LOC-1; LOC-2"`` -> lists of trimmed ids (blank -> empty list)."""
    t = text.astype("str").fillna("")
    return t.map(lambda v: [x.strip() for x in v.split(";") if x.strip()])


def group_sums(
    keys: list[pd.Series], fills: list[str], values: list[np.ndarray]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Exact integer sums of ``values`` grouped by ``keys`` (factorize + bincount).

    Parameters
    ----------
    keys : list of Series
        Group keys (missing -> the matching ``fills`` label).
    fills : list of str
        Label for a missing key.
    values : list of int64 arrays
        Cents to sum.

    Returns
    -------
    labels : list of object arrays
        One array per key, one entry per group present, sorted by label.
    sums : list of int64 arrays
        One array per value.
    """
    combo = np.zeros(len(keys[0]), dtype=np.int64)
    uniques = []
    for k in keys:
        codes, uniq = factorize(k) if isinstance(k, pd.Series) else pd.factorize(k)
        u = np.append(np.asarray(uniq, dtype=object), None)
        codes = np.where(codes < 0, len(u) - 1, codes)
        combo = combo * len(u) + codes
        uniques.append(u)
    gcodes, gu = pd.factorize(combo)
    m = len(gu)
    counts = np.bincount(gcodes, minlength=m)
    sums = [np.rint(np.bincount(gcodes, weights=v, minlength=m)).astype(np.int64) for v in values]
    labels = []
    rest = np.asarray(gu, dtype=np.int64)
    for u, fill in zip(reversed(uniques), reversed(fills), strict=True):
        idx = rest % len(u)
        rest = rest // len(u)
        lab = u[idx]
        lab[idx == len(u) - 1] = fill
        labels.insert(0, lab)
    keep = counts > 0
    labels = [lab[keep] for lab in labels]
    sums = [s[keep] for s in sums]
    order = np.lexsort([lab.astype(str) for lab in reversed(labels)])
    return [lab[order] for lab in labels], [s[order] for s in sums]
