"""Money bounds and exact integer-cent conversion (no IO, numpy/pandas only).

Money is summed in ``int64`` cents.  Two guards keep those sums from ever
wrapping around:

* validation refuses any money cell whose absolute value is over the
  per-line bound (:data:`MAX_LINE_AMOUNT`, $100,000,000 by default;
  ``max_line_amount`` in the standard file);
* :func:`to_cents` refuses (:class:`~dso_analytics.errors.MoneyRangeError`)
  amounts whose cents are not exact in ``float64`` and any set of amounts whose
  worst-case sum would not fit in ``int64`` -- so every sum of a subset of the
  returned cents is exact.

No numpy overflow warning is ever emitted: out-of-range values are found
before they are multiplied or cast.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dso_analytics.errors import MoneyRangeError

#: Default per-line bound of a money cell (absolute value, in the DSO's currency).
MAX_LINE_AMOUNT = 100_000_000.0
#: Largest amount whose cents are exact in float64 (2**53 cents ~ 90 trillion).
EXACT_AMOUNT_LIMIT = 2**53 / 100.0
_INT64_MAX = 2**63 - 1


def within_exact_range(amount: pd.Series | np.ndarray) -> np.ndarray:
    """Boolean mask: finite amounts whose cents are exact in ``float64``.

    Parameters
    ----------
    amount : pandas.Series or numpy.ndarray
        Amounts (float).

    Returns
    -------
    numpy.ndarray of bool
        ``False`` for NaN, infinite and too-large values.
    """
    a = np.asarray(pd.to_numeric(pd.Series(amount), errors="coerce"), dtype="float64")
    with np.errstate(invalid="ignore"):
        return np.isfinite(a) & (np.abs(a) < EXACT_AMOUNT_LIMIT)


def round_to_cents(amount: pd.Series) -> pd.Series:
    """Round amounts to the cent; values too large for exact cents are kept as they are.

    Parameters
    ----------
    amount : pandas.Series
        ``float64`` amounts.

    Returns
    -------
    pandas.Series
        Same index; out-of-range values untouched (validation reports them).
    """
    ok = within_exact_range(amount)
    if ok.all():
        return amount.round(2)
    out = amount.copy()
    out[ok] = amount[ok].round(2)
    return out


def to_cents(amount: pd.Series | np.ndarray) -> np.ndarray:
    """Money (float, rounded to the cent) -> exact ``int64`` cents; missing -> 0.

    Parameters
    ----------
    amount : pandas.Series or numpy.ndarray
        Amounts.

    Returns
    -------
    numpy.ndarray of int64
        Cents; any sum of a subset of them fits in ``int64``.

    Raises
    ------
    MoneyRangeError
        An amount is infinite or too large for exact cents, or the amounts are
        so large that their sum could overflow (validation's per-line bound
        makes this impossible for validated data).

    Examples
    --------
    >>> to_cents(pd.Series([1.5, None, -2.25])).tolist()
    [150, 0, -225]
    """
    a = np.asarray(pd.to_numeric(pd.Series(amount), errors="coerce"), dtype="float64")
    a = np.where(np.isnan(a), 0.0, a)
    if len(a) == 0:
        return np.zeros(0, dtype=np.int64)
    ok = within_exact_range(a)
    if not ok.all():
        raise MoneyRangeError(
            f"an amount ({_shown(a[~ok][0])}) is too large to be summed exactly in cents"
        )
    cents = np.rint(a * 100.0).astype(np.int64)
    worst = int(np.abs(cents).max()) * len(cents)
    if worst > _INT64_MAX:
        raise MoneyRangeError(
            f"{len(cents):,} amounts of up to {_shown(np.abs(a).max())} could overflow "
            "their sum in cents"
        )
    return cents


def sum_cents(amount: pd.Series | np.ndarray) -> int:
    """Exact sum of amounts in cents (see :func:`to_cents` for the checks).

    Parameters
    ----------
    amount : pandas.Series or numpy.ndarray
        Amounts.

    Returns
    -------
    int
    """
    return int(to_cents(amount).sum())


def _shown(v: float) -> str:
    return f"{v:,.2f}" if abs(v) < 1e21 else f"{v:.3g}"
