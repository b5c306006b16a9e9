"""M5 renewal calendar: term ends and notice deadlines that follow tacit renewals."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dso_analytics.metrics import result as R
from dso_analytics.metrics._util import add_months, as_bool, as_float, as_text
from dso_analytics.standards import Params

MISSED = "missed"
EXPIRED = "expired"
UNKNOWN = "unknown"


def bucket_labels(windows: tuple[int, ...]) -> list[str]:
    """Bucket names from the alert windows: (30, 90) -> ['<=30', '31-90', '>90']."""
    w = sorted(int(x) for x in windows)
    labels = [f"<={w[0]}"] if w else []
    labels += [f"{a + 1}-{b}" for a, b in zip(w[:-1], w[1:], strict=False)]
    labels += [f">{w[-1]}"] if w else [">0"]
    return labels


def _bucket(days: np.ndarray, windows: tuple[int, ...]) -> np.ndarray:
    w = sorted(int(x) for x in windows)
    labels = bucket_labels(tuple(w))
    out = np.full(len(days), UNKNOWN, dtype=object)
    known = ~np.isnan(days)
    out[known & (days < 0)] = MISSED
    idx = np.searchsorted(np.array(w, dtype=float), days, side="left")  # days <= w[i]
    for i, lab in enumerate(labels):
        out[known & (days >= 0) & (idx == i)] = lab
    return out


def _current_term(
    start: pd.Series, term: np.ndarray, ren: np.ndarray, renews: np.ndarray, as_of: pd.Timestamp
) -> tuple[np.ndarray, pd.Series]:
    """Tacit renewals ``k`` (smallest k >= 0 with start + term + k*ren > as_of, for the
    agreements that ``renews``; 0 for the others) and the current term end."""
    s = pd.DatetimeIndex(start)
    elapsed = (as_of.year - s.year.to_numpy(dtype=float, na_value=np.nan)) * 12 + (
        as_of.month - s.month.to_numpy(dtype=float, na_value=np.nan)
    )
    k = np.where(renews, np.maximum(0, np.floor((elapsed - term) / ren) - 1), 0)
    k = np.nan_to_num(k).astype(np.int64)
    cur = add_months(start, term + k * ren)
    for _ in range(4):  # at most a couple of steps after the estimate
        step = renews & (cur <= as_of).to_numpy(bool, na_value=False)
        if not step.any():
            break
        k = k + step.astype(np.int64)
        cur = add_months(start, term + k * ren)
    return k, cur


def _status(
    start: pd.Series, known: np.ndarray, expired: np.ndarray, k: np.ndarray, as_of: pd.Timestamp
) -> np.ndarray:
    """``unknown``, ``not_started``, ``expired``, ``renewed`` or ``initial_term``."""
    return np.where(
        ~known,
        UNKNOWN,
        np.where(
            (start > as_of).to_numpy(bool, na_value=False),
            "not_started",
            np.where(expired, EXPIRED, np.where(k > 0, "renewed", "initial_term")),
        ),
    ).astype(object)


def compute_renewals(agreements: pd.DataFrame, as_of: pd.Timestamp, params: Params) -> pd.DataFrame:
    """M5: one row per agreement with its current term and notice deadline.

    ``current_term_end``: without auto_renew the initial term end (status
    ``expired`` once it is <= as_of); with auto_renew, the initial term end
    rolled forward by ``renewal_term_months`` while it is <= as_of (each term
    end is counted in whole months from the start date, so anniversaries do
    not drift).  For an auto-renewing agreement, ``notice_deadline`` =
    current_term_end - notice_days; negative ``days_to_notice_deadline`` means
    the window was missed and ``next_notice_deadline`` is the one of the
    following term.  An agreement that does not auto-renew has no notice
    deadline (those columns are missing): it has an ``expiry`` (its initial
    term end) and ``days_to_expiry`` (the days left to negotiate a
    replacement; negative once expired).

    Parameters
    ----------
    agreements : DataFrame
        Typed agreements table.
    as_of : Timestamp
    params : Params
        ``alert_windows_days`` for the buckets.

    Returns
    -------
    DataFrame
        :data:`result.RENEWAL_COLUMNS`.  ``status``: ``not_started``,
        ``initial_term``, ``renewed`` (tacitly renewed at least once),
        ``expired`` or ``unknown`` (start or term blank).  ``bucket``: for an
        auto-renewing agreement, of its days to the notice deadline:
        ``missed`` or the alert buckets (``<=30``, ``31-90``, ``>90``); for a
        non-renewing one, of its days to expiry: the alert buckets, or
        ``expired`` once the expiry is <= as_of; ``unknown`` when the date is
        unknown.
    """
    ag = agreements.reset_index(drop=True)
    n = len(ag)
    start = pd.to_datetime(ag["start_date"]).reset_index(drop=True)
    term = as_float(ag["term_months"])
    auto = as_bool(ag["auto_renew"], default=False)
    ren = as_float(ag["renewal_term_months"]) if "renewal_term_months" in ag else np.full(n, np.nan)
    ren = np.where(np.isnan(ren) | (ren <= 0), 12.0, ren)
    notice = as_float(ag["notice_days"]) if "notice_days" in ag else np.full(n, np.nan)
    initial_end = add_months(start, term)
    windows = tuple(params.alert_windows_days)
    known = initial_end.notna().to_numpy()

    k, cur = _current_term(start, term, ren, auto & known, as_of)
    expired = ~auto & known & (initial_end <= as_of).to_numpy(bool, na_value=False)
    status = _status(start, known, expired, k, as_of)

    # notice maths only for agreements that renew by themselves: a non-renewing
    # agreement has no notice deadline, it has an expiry (its initial term end)
    nd = np.where(auto, notice, np.nan)
    deadline = cur - pd.to_timedelta(nd, unit="D")
    days = (deadline - as_of).dt.days.to_numpy(dtype=float, na_value=np.nan)
    missed = ~np.isnan(days) & (days < 0)
    nxt = add_months(start, term + (k + 1) * ren) - pd.to_timedelta(nd, unit="D")
    nxt[~(missed & auto)] = pd.NaT
    expiry = initial_end.where(~auto)
    days_exp = (expiry - as_of).dt.days.to_numpy(dtype=float, na_value=np.nan)
    # one bucket per agreement: from the notice deadline when it auto-renews,
    # from the expiry when it does not (``expired`` once the expiry is <= as_of)
    bucket = np.where(auto, _bucket(days, windows), _bucket(days_exp, windows))
    bucket[expired] = EXPIRED

    out = pd.DataFrame(
        {
            "agreement_id": as_text(ag["agreement_id"]),
            "provider": as_text(ag["provider"]),
            "scope": as_text(ag["scope"]),
            "start_date": start,
            "term_months": pd.array(ag["term_months"], dtype="Int64"),
            "initial_term_end": initial_end,
            "auto_renew": ag["auto_renew"].astype("boolean").reset_index(drop=True),
            "renewal_term_months": pd.array(ren.astype(np.int64), dtype="Int64"),
            "notice_days": pd.array(ag["notice_days"], dtype="Int64")
            if "notice_days" in ag
            else pd.array([pd.NA] * n, dtype="Int64"),
            "current_term_end": cur,
            "status": pd.array(status, dtype="str"),
            "notice_deadline": deadline,
            "days_to_notice_deadline": pd.array(
                np.where(np.isnan(days), 0, days).astype(np.int64), dtype="Int64"
            ),
            "notice_window_missed": pd.array(missed, dtype="boolean"),
            "next_notice_deadline": nxt,
            "expiry": expiry,
            "days_to_expiry": pd.array(
                np.where(np.isnan(days_exp), 0, days_exp).astype(np.int64), dtype="Int64"
            ),
            "bucket": pd.array(bucket, dtype="str"),
        }
    )
    out.loc[np.isnan(days), "days_to_notice_deadline"] = pd.NA
    out.loc[np.isnan(days), "notice_window_missed"] = pd.NA
    out.loc[np.isnan(days_exp), "days_to_expiry"] = pd.NA
    return out[list(R.RENEWAL_COLUMNS)]
