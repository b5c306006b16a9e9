"""Portfolio views for the person who runs renewals across DSOs (pure, pandas only).

- :func:`compute_portfolio_calendar`: one renewal calendar across every DSO,
  sorted by the date to act on, with its bucket and the bucket's colour;
- :func:`compute_portfolio_asks`: one ranked list of the asks of every DSO,
  each counted once (asks whose dollars restate another's are left out);
- :func:`compute_provider_spend`: T12M spend per provider across DSOs (a
  provider serving several DSOs is a volume-pricing lever of its own).

Every figure is read from the DSOs' :class:`~dso_analytics.metrics.result.DsoMetrics`;
the dates are the DSOs' deadlines computed once when they were prepared
(:func:`~dso_analytics.actions.deadlines.deadlines_of`), the same as in the
calendar file and the letters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from dso_analytics.actions.deadlines import NOTICE, TERM_END, ask_keys, deadlines_of
from dso_analytics.metrics.result import DsoMetrics

# colours of the renewal buckets, by position: missed, the alert windows from
# the nearest to the farthest, expired / unknown
MISSED_COLOUR = "#b91c1c"
WINDOW_COLOURS = ("#ea580c", "#ca8a04", "#15803d")
OTHER_COLOUR = "#6b7280"

PORTFOLIO_CALENDAR_COLUMNS = (
    "dso", "display_name", "agreement_id", "provider", "act_by", "what", "days",
    "current_term_end", "window_missed", "bucket", "colour",
)  # fmt: skip
PORTFOLIO_ASK_COLUMNS = (
    "rank",
    "dso",
    "display_name",
    "dso_rank",
    "ask_key",
    "ask",
    "agreement_id",
    "impact_12m",
    "recovery_all_time",
)
PROVIDER_SPEND_COLUMNS = ("provider", "dsos", "agreements", "locations_now", "spend_t12m", "by_dso")


def bucket_colour(bucket: str, windows: Sequence[int]) -> str:
    """The colour of a renewal bucket (``missed``, ``<=30``, ``31-90``, ``>90``...).

    Parameters
    ----------
    bucket : str
        An M5 bucket label.
    windows : sequence of int
        The alert windows the labels were made from.

    Returns
    -------
    str
        A hex colour; buckets nearer in time are warmer.
    """
    from dso_analytics.metrics.renewals import bucket_labels

    if bucket == "missed":
        return MISSED_COLOUR
    labels = bucket_labels(tuple(windows))
    if bucket not in labels:
        return OTHER_COLOUR
    i = labels.index(bucket)
    # nearest window first; the farthest bucket is always the last colour
    pos = len(WINDOW_COLOURS) - 1 if i == len(labels) - 1 else min(i, len(WINDOW_COLOURS) - 2)
    return WINDOW_COLOURS[pos]


def compute_portfolio_calendar(results: Sequence[DsoMetrics]) -> pd.DataFrame:
    """One renewal calendar across DSOs, sorted by the date to act on.

    Every date is read from the DSO's deadlines, computed once when it was
    prepared (:func:`~dso_analytics.actions.deadlines.deadlines_of`: the
    events of the calendar files and the letters), never recomputed here.

    Parameters
    ----------
    results : sequence of DsoMetrics
        Prepared metrics (with their deadlines).

    Returns
    -------
    DataFrame
        :data:`PORTFOLIO_CALENDAR_COLUMNS`, one row per agreement that is not
        expired: ``act_by`` is the notice deadline to act on (the next one
        when the current window was missed), or for an agreement that does not
        renew by itself its expiry (``what`` says which); ``days`` from the
        DSO's as-of; ``bucket`` the M5 bucket and ``colour`` its colour.
    """
    rows = []
    for m in results:
        windows = tuple(m.params.alert_windows_days)
        events = {(str(e.agreement_id), str(e.kind)): e for e in deadlines_of(m).itertuples()}
        for _, r in m.renewals.iterrows():
            if r["status"] in ("expired", "unknown"):
                continue
            a = str(r["agreement_id"])
            ev, what = events.get((a, NOTICE)), "notice deadline"
            if ev is None and not bool(r["auto_renew"]):
                ev, what = events.get((a, TERM_END)), "expiry"
            if ev is None:
                continue
            rows.append({
                "dso": m.dso, "display_name": m.display_name,
                "agreement_id": a, "provider": str(r["provider"]),
                "act_by": pd.Timestamp(ev.date), "what": what, "days": int(ev.days_from_as_of),
                "current_term_end": pd.Timestamp(r["current_term_end"]),
                "window_missed": bool(ev.window_missed), "bucket": str(r["bucket"]),
                "colour": bucket_colour(str(r["bucket"]), windows),
            })  # fmt: skip
    out = pd.DataFrame(rows, columns=list(PORTFOLIO_CALENDAR_COLUMNS))
    out["act_by"] = pd.to_datetime(out["act_by"])
    out["current_term_end"] = pd.to_datetime(out["current_term_end"])
    return out.sort_values(["act_by", "dso", "agreement_id"], kind="stable").reset_index(drop=True)


def compute_portfolio_asks(results: Sequence[DsoMetrics]) -> pd.DataFrame:
    """One ranked list of asks across the portfolio, each counted once.

    The one ranking of the portfolio's asks: the portfolio overview and the
    portfolio brief both show it.

    Parameters
    ----------
    results : sequence of DsoMetrics

    Returns
    -------
    DataFrame
        :data:`PORTFOLIO_ASK_COLUMNS`: the asks with ``in_total`` True (asks
        that restate another's dollars are left out) and a positive
        next-12-month impact or one-off recovery (all-time to as-of), largest
        dollars at stake (impact + recovery, the measure each DSO ranks its own
        asks by) first; ties by ``dso``, then by the DSO's own rank
        (``dso_rank``); ``rank`` 1..n across DSOs.  ``display_name`` is the
        DSO's name (its id when it has none).  Each column's sum is the sum of
        the DSOs' ``asks_impact_12m`` / ``asks_recovery_all_time``.
    """
    parts = [_counted_asks(m) for m in results]
    cols = [c for c in PORTFOLIO_ASK_COLUMNS if c != "rank"]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
    stake = out["impact_12m"].astype(float).fillna(0.0) + out["recovery_all_time"].astype(float)
    out = out.assign(_stake=stake)
    out = out.sort_values(["_stake", "dso"], ascending=[False, True], kind="stable")
    out = out.drop(columns="_stake")
    out = out.reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1, dtype=np.int64))
    return out[list(PORTFOLIO_ASK_COLUMNS)]


def _counted_asks(m: DsoMetrics) -> pd.DataFrame:
    """A DSO's asks in its own rank order that count in its total and carry dollars."""
    a = m.asks.sort_values("rank", kind="stable")
    keep = (
        a["in_total"].astype(bool).to_numpy() if "in_total" in a.columns else np.ones(len(a), bool)
    )
    rec = (
        a["recovery_all_time"].astype(float).fillna(0.0)
        if "recovery_all_time" in a.columns
        else pd.Series(0.0, index=a.index)
    )
    money = ((a["impact_12m"].astype(float).fillna(0.0) > 0) | (rec > 0)).to_numpy(bool)
    a, rec = a[keep & money], rec[keep & money]
    return pd.DataFrame({
        "dso": m.dso, "display_name": m.display_name or m.dso,
        "dso_rank": a["rank"].astype(np.int64).to_numpy(), "ask_key": ask_keys(a).to_numpy(),
        "ask": a["ask"].astype("str").to_numpy(),
        "agreement_id": a["agreement_id"].astype("str").to_numpy(),
        "impact_12m": a["impact_12m"].astype(float).to_numpy(),
        "recovery_all_time": rec.to_numpy(float),
    })  # fmt: skip


_SPACES = re.compile(r"\s+")


def provider_key(name: str) -> str:
    """The key that matches a provider's name across DSOs (case and spaces ignored)."""
    return _SPACES.sub(" ", str(name)).strip().casefold()


def compute_provider_spend(results: Sequence[DsoMetrics]) -> pd.DataFrame:
    """T12M spend per provider across DSOs.

    Parameters
    ----------
    results : sequence of DsoMetrics

    Returns
    -------
    DataFrame
        :data:`PROVIDER_SPEND_COLUMNS`, largest spend first: ``dsos`` the
        number of DSOs the provider serves, ``agreements`` and
        ``locations_now`` summed over them, ``spend_t12m`` (T12M, summed in
        cents over its agreements' M6 ``spend_t12m``), ``by_dso`` the spend
        per DSO as text.  Providers are matched by name, ignoring case and
        spacing (the first spelling is shown).
    """
    parts = []
    for m in results:
        lev = m.leverage
        parts.append(pd.DataFrame({
            "dso": m.display_name, "provider": lev["provider"].astype("str").to_numpy(),
            "cents": np.round(lev["spend_t12m"].astype(float).fillna(0).to_numpy() * 100).astype(np.int64),
            "locations_now": lev["locations_now"].fillna(0).astype(np.int64).to_numpy(),
        }))  # fmt: skip
    if not parts:
        return pd.DataFrame(columns=list(PROVIDER_SPEND_COLUMNS))
    df = pd.concat(parts, ignore_index=True)
    df["key"] = df["provider"].map(provider_key)
    rows = []
    for _, g in df.groupby("key", sort=False):
        per = g.groupby("dso", sort=True)["cents"].sum()
        rows.append({
            "provider": g["provider"].iloc[0], "dsos": int(per.size), "agreements": len(g),
            "locations_now": int(g["locations_now"].sum()),
            "spend_t12m": int(g["cents"].sum()) / 100,
            "by_dso": "; ".join(f"{d}: {c / 100:,.2f}" for d, c in per.items()),
        })  # fmt: skip
    out = pd.DataFrame(rows, columns=list(PROVIDER_SPEND_COLUMNS))
    return out.sort_values(["spend_t12m", "provider"], ascending=[False, True]).reset_index(
        drop=True
    )
