"""The governing agreement of a billing line (metrics.md "Governing agreement").

1. The line's own ``agreement_id``, when given.
2. Else a ``location``-scope agreement that lists the line's location and is in
   force on the invoice_date.
3. Else the ``organization``-scope agreement in force on the invoice_date (it
   covers organization-level lines, and every location when its location_ids
   is blank; when it lists locations it covers those and organization-level lines).

"In force on d": ``start_date <= d`` and (auto_renew, or ``d < start_date +
term_months``); an agreement whose term is blank is treated as open-ended.
When several candidates of the same scope are in force, the one that started
last wins (then the first in the agreements file).

Everything is computed on the unique (location, date) pairs, then mapped back.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dso_analytics.metrics._util import add_months, as_bool, as_text, factorize, split_ids


def agreement_windows(agreements: pd.DataFrame) -> pd.DataFrame:
    """One row per agreement with its in-force window.

    Returns
    -------
    DataFrame
        ``agreement_id``, ``scope``, ``start`` (datetime64), ``end`` (exclusive,
        NaT = open-ended: auto-renewing or term unknown), ``order`` (file
        position), ``locs`` (list of listed location_ids).
    """
    ag = agreements.reset_index(drop=True)
    start = pd.to_datetime(ag["start_date"]).reset_index(drop=True)
    end = add_months(start, ag["term_months"])
    end[as_bool(ag["auto_renew"], default=False)] = pd.NaT
    return pd.DataFrame(
        {
            "agreement_id": as_text(ag["agreement_id"]).to_numpy(dtype=object),
            "scope": as_text(ag["scope"]).fillna("").to_numpy(dtype=object),
            "start": start.to_numpy(),
            "end": end.to_numpy(),
            "order": np.arange(len(ag)),
            "locs": split_ids(ag["location_ids"]).to_numpy(dtype=object)
            if "location_ids" in ag
            else [[] for _ in range(len(ag))],
        }
    )


def _pick(cand: pd.DataFrame) -> pd.Series:
    """key -> agreement_id of the candidate that started last (then file order)."""
    cand = cand[(cand["start"] <= cand["d"]) & (cand["end"].isna() | (cand["d"] < cand["end"]))]
    cand = cand.sort_values(["key", "start", "order"], ascending=[True, False, True])
    cand = cand.drop_duplicates("key")
    return pd.Series(cand["agreement_id"].to_numpy(dtype=object), index=cand["key"].to_numpy())


def governing_agreement(
    location_id: pd.Series, date: pd.Series, agreements: pd.DataFrame, as_series: bool = False
) -> np.ndarray | pd.Series:
    """Resolve the governing agreement of (location, date) pairs by the rule.

    Parameters
    ----------
    location_id : Series of str
        Missing for organization-level lines.
    date : Series of datetime64
    agreements : DataFrame
        The agreements table (typed).

    Returns
    -------
    ndarray of object
        The agreement_id, or ``None`` where no agreement governs (a ``str``
        Series with ``<NA>`` instead when ``as_series``: faster for many rows).
    """
    n = len(location_id)
    out = np.full(n, None, dtype=object)
    if n == 0 or agreements is None or len(agreements) == 0:
        return pd.Series(pd.array(out, dtype="str")) if as_series else out
    loc = as_text(pd.Series(location_id).reset_index(drop=True))
    d = pd.to_datetime(pd.Series(date).reset_index(drop=True))
    win = agreement_windows(agreements)
    loc_codes, loc_uniq = factorize(loc)
    dd = d.to_numpy(dtype="datetime64[D]")
    valid = ~np.isnat(dd)
    day = np.where(valid, dd.astype(np.int64), 0)
    # in-force status only changes at window boundaries: segment the dates by them,
    # so the work is per (location, segment), not per (location, day)
    bounds = pd.concat([win["start"], win["end"]]).dropna()
    bp = np.unique(bounds.to_numpy(dtype="datetime64[D]").astype(np.int64))
    seg = np.searchsorted(bp, day, side="right").astype(np.int64)
    combo = (loc_codes.astype(np.int64) + 1) * (len(bp) + 2) + seg
    combo[~valid] = -1
    key_codes, key_uniq = pd.factorize(combo)
    first = np.empty(len(key_uniq), dtype=np.int64)
    first[key_codes[::-1]] = np.arange(n - 1, -1, -1)
    keys = pd.DataFrame({"key": np.arange(len(key_uniq)), "combo": key_uniq, "first": first})
    keys = keys[keys["combo"] >= 0]
    lc = keys["combo"].to_numpy() // (len(bp) + 2) - 1
    uniq_loc = np.append(np.asarray(loc_uniq, dtype=object), None)  # -1 -> None
    keys["loc"] = uniq_loc[np.where(lc >= 0, lc, len(uniq_loc) - 1)]
    keys["d"] = pd.to_datetime(dd[keys["first"].to_numpy()])

    # 2. location-scope agreements listing the location
    locw = win[win["scope"] == "location"].explode("locs").rename(columns={"locs": "loc"})
    locw = locw[locw["loc"].notna()]
    chosen = pd.Series(dtype=object)
    if len(locw):
        cand = keys[keys["loc"].notna()].merge(locw, on="loc", how="inner")
        chosen = _pick(cand)
    # 3. organization-scope agreements
    orgw = win[win["scope"] == "organization"]
    org_chosen = pd.Series(dtype=object)
    if len(orgw):
        cand = keys.merge(orgw.drop(columns=["scope"]), how="cross")
        listed = cand["locs"].map(len) > 0
        pair = cand["agreement_id"].astype(str) + "\x00" + cand["loc"].astype(str)
        members = {
            f"{a}\x00{x}"
            for a, ls in zip(orgw["agreement_id"], orgw["locs"], strict=True)
            for x in ls
        }
        covered = ~listed | cand["loc"].isna() | pair.isin(members)
        org_chosen = _pick(cand[covered.to_numpy()])
    res = np.full(len(key_uniq), None, dtype=object)
    if len(org_chosen):
        res[org_chosen.index.to_numpy(dtype=np.int64)] = org_chosen.to_numpy()
    if len(chosen):
        res[chosen.index.to_numpy(dtype=np.int64)] = chosen.to_numpy()
    if as_series:
        return pd.Series(pd.array(res, dtype="str")).take(key_codes).reset_index(drop=True)
    return res[key_codes]
