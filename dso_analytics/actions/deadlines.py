"""Per-agreement facts every action output shows: deadlines, dollars at stake, credits.

Pure functions on computed metrics (pandas and numpy only): the calendar, the
notice letters and the claim letters all read their figures from here, so a
deadline or a dollar amount is the same in each of them.

Decisions
---------
- **The notice deadline shown** is the effective one at as-of: the current
  term's ``notice_deadline`` (M5), or, when that window was missed, the
  ``next_notice_deadline``.  If even that is before as-of (a notice period
  longer than a renewal term), the following terms are tried until one is not
  in the past: a missed window never produces an event in the past.
- **The term end shown** is the current term end (M5) when it is after as-of.
  A non-renewing agreement past its notice date keeps its term end and has no
  notice deadline; an expired agreement has neither.
- **Dollars at stake** on an agreement: its T12M spend (M6), the 12-month
  impact of its negotiation asks counted once (``in_total`` asks only) and
  its credits to claim (all-time to as-of, see :func:`credit_lines`).
- **Notice method**: the agreement's ``notice_method`` column when the
  agreements table has one and the cell is filled, else
  :data:`NOTICE_METHOD_FALLBACK`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dso_analytics.metrics._util import add_months
from dso_analytics.metrics.governing import governing_agreement
from dso_analytics.metrics.result import DsoMetrics

NOTICE_METHOD_FALLBACK = "as the agreement specifies"
NOTICE = "notice_deadline"
TERM_END = "term_end"
BILLED_DESPITE_INCLUDED = "billed_despite_included"

DEADLINE_COLUMNS = (
    "dso", "display_name", "agreement_id", "provider", "scope", "kind", "date",
    "term_end", "auto_renew", "notice_days", "notice_method", "window_missed",
    "missed_deadline", "renews_to", "days_from_as_of", "locations", "spend_t12m",
    "asks_12m", "credits_to_claim", "as_of",
)  # fmt: skip


def ask_keys(asks: pd.DataFrame) -> pd.Series:
    """The stable key of each negotiation ask (the one accessor the log relies on).

    Parameters
    ----------
    asks : DataFrame
        ``DsoMetrics.asks``.

    Returns
    -------
    Series of str
        The metrics' ``ask_key`` column when it exists; until then
        ``"<agreement_id>/<clause>"`` (one ask per clause and agreement).
    """
    if "ask_key" in asks.columns:
        return asks["ask_key"].astype("str")
    return (asks["agreement_id"].astype("str") + "/" + asks["clause"].astype("str")).astype("str")


def credit_lines(m: DsoMetrics) -> pd.DataFrame:
    """The invoice lines behind "credits to claim" (``m.credits``).

    Parameters
    ----------
    m : DsoMetrics

    Returns
    -------
    DataFrame
        The rows of ``m.credits`` that claim money: every billed-despite-included
        line (credits already issued included, as negative amounts) and every
        onboarding line billed above the contractual allowance, all-time to
        as-of, with ``amount`` = the amount claimed from the line,
        ``governing_agreement_id``, ``service_resolved`` and a ``provider``
        column from the governing agreement.  Their sum is
        ``m.kpis["credits_to_claim"]``.
    """
    c = m.credits
    keep = (c["kind"] == BILLED_DESPITE_INCLUDED).to_numpy(bool, na_value=False) | (
        c["claim"].fillna(0) != 0
    ).to_numpy(bool)
    out = c[keep].rename(
        columns={"agreement_id": "governing_agreement_id", "service": "service_resolved"}
    )
    out = out.assign(billed=out["amount"], amount=out["claim"]).drop(columns=["claim"])
    prov = m.renewals.set_index("agreement_id")["provider"]
    out["provider"] = out["governing_agreement_id"].map(prov).fillna("(unknown provider)")
    return out.reset_index(drop=True)


def _cents_sum(values: pd.Series) -> float:
    return round(int(np.round(values.to_numpy(float) * 100).sum()) / 100, 2)


def credits_by_agreement(m: DsoMetrics) -> dict[str, float]:
    """Credits to claim per agreement (net of credits issued, floored at 0).

    Parameters
    ----------
    m : DsoMetrics

    Returns
    -------
    dict
        ``agreement_id -> amount``; agreements without such lines are absent.
    """
    lines = credit_lines(m)
    out: dict[str, float] = {}
    for a, grp in lines.groupby(lines["governing_agreement_id"].astype("str"), sort=True):
        out[str(a)] = max(0.0, _cents_sum(grp["amount"]))
    return out


def agreement_locations(
    agreements: pd.DataFrame, locations: pd.DataFrame, as_of: pd.Timestamp
) -> dict[str, list[str]]:
    """Active locations each agreement governs at as-of (``"LOC-001 Name"`` texts).

    Parameters
    ----------
    agreements, locations : DataFrame
        Typed tables of the DSO.
    as_of : Timestamp

    Returns
    -------
    dict
        ``agreement_id -> list of "location_id location_name"`` (sorted by id);
        the same set M6 counts as ``locations_now``.
    """
    loc = locations.reset_index(drop=True)
    if loc.empty or agreements.empty:
        return {}
    lid = loc["location_id"].astype("str")
    active = (loc["status"].astype("str") == "active").to_numpy(bool) & (
        pd.to_datetime(loc["join_date"]) <= as_of
    ).to_numpy(bool, na_value=False)
    gov = governing_agreement(lid, pd.Series(as_of, index=lid.index), agreements)
    names = loc["location_name"].astype("str").fillna("")
    out: dict[str, list[str]] = {}
    for i in np.flatnonzero(active & pd.notna(gov)):
        out.setdefault(str(gov[i]), []).append(f"{lid.iat[i]} {names.iat[i]}".strip())
    return {k: sorted(v) for k, v in out.items()}


def notice_methods(agreements: pd.DataFrame) -> dict[str, str]:
    """The notice method of each agreement, or :data:`NOTICE_METHOD_FALLBACK`.

    Parameters
    ----------
    agreements : DataFrame
        Typed agreements; the ``notice_method`` column is optional.

    Returns
    -------
    dict
        ``agreement_id -> method text``.
    """
    ids = agreements["agreement_id"].astype("str").tolist()
    if "notice_method" not in agreements.columns:
        return dict.fromkeys(ids, NOTICE_METHOD_FALLBACK)
    out: dict[str, str] = {}
    for a, v in zip(ids, agreements["notice_method"].tolist(), strict=True):
        text = "" if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else str(v)
        out[a] = text.strip() or NOTICE_METHOD_FALLBACK
    return out


def _months_between(a: pd.Timestamp, b: pd.Timestamp) -> int:
    return (b.year - a.year) * 12 + (b.month - a.month)


def effective_notice_deadline(r: pd.Series, as_of: pd.Timestamp) -> tuple[Any, Any, Any]:
    """The first notice deadline not before as-of of one M5 row.

    Parameters
    ----------
    r : Series
        One row of ``DsoMetrics.renewals``.
    as_of : Timestamp

    Returns
    -------
    (deadline, term_end, missed)
        ``deadline``: the notice deadline to act on (NaT when there is none
        left: expired, or a non-renewing agreement past its notice date);
        ``term_end``: the end of the term that deadline belongs to;
        ``missed``: the current term's deadline when its window was missed
        (else NaT).
    """
    if r["status"] in ("expired", "unknown") or pd.isna(r["notice_deadline"]):
        return pd.NaT, pd.NaT, pd.NaT
    cur = pd.Timestamp(r["current_term_end"])
    deadline = pd.Timestamp(r["notice_deadline"])
    if deadline >= as_of:
        return deadline, cur, pd.NaT
    if not bool(r["auto_renew"]):
        return pd.NaT, pd.NaT, deadline
    notice = pd.Timedelta(days=int(r["notice_days"]) if pd.notna(r["notice_days"]) else 0)
    ren = int(r["renewal_term_months"]) if pd.notna(r["renewal_term_months"]) else 12
    start = pd.Timestamp(r["start_date"])
    n = _months_between(start, cur)
    nxt = r["next_notice_deadline"]
    end = pd.Timestamp(add_months(pd.Series([start]), pd.Series([n + ren])).iloc[0])
    cand = pd.Timestamp(nxt) if pd.notna(nxt) else end - notice
    k = 1
    while cand < as_of and k < 1200:  # notice longer than a renewal term: roll on
        k += 1
        end = pd.Timestamp(add_months(pd.Series([start]), pd.Series([n + k * ren])).iloc[0])
        cand = end - notice
    return cand, end, deadline


def compute_deadlines(
    m: DsoMetrics,
    agreements: pd.DataFrame,
    locations: pd.DataFrame,
) -> pd.DataFrame:
    """Upcoming notice deadlines and term ends of one DSO, never before as-of.

    Parameters
    ----------
    m : DsoMetrics
        Computed metrics (M5 renewals, M6 leverage and asks, M2 lines).
    agreements, locations : DataFrame
        The DSO's typed tables (locations listed per agreement; the optional
        ``notice_method`` column).

    Returns
    -------
    DataFrame
        :data:`DEADLINE_COLUMNS`, sorted by date then agreement.  ``kind`` is
        ``notice_deadline`` or ``term_end``; ``date`` is the event's day
        (>= as-of); ``term_end`` the end of the term the event belongs to;
        ``window_missed`` / ``missed_deadline`` tell that the current term's
        window closed (``date`` is then the next term's deadline);
        ``renews_to`` the end of the term an automatic renewal runs to;
        ``locations`` the ``;``-separated active locations governed at as-of;
        ``spend_t12m`` (T12M), ``asks_12m`` (12-month impact, counted once)
        and ``credits_to_claim`` (all-time to as-of) per agreement.
    """
    as_of = pd.Timestamp(m.as_of)
    locs = agreement_locations(agreements, locations, as_of)
    methods = notice_methods(agreements) if len(agreements) else {}
    credits = credits_by_agreement(m)
    lev = m.leverage.set_index("agreement_id")
    asks = m.asks[m.asks["in_total"].astype(bool).to_numpy()]
    asks_by = asks.groupby(asks["agreement_id"].astype("str"))["impact_12m"].apply(_cents_sum)
    rows: list[dict[str, Any]] = []
    for _, r in m.renewals.iterrows():
        a = str(r["agreement_id"])
        if r["status"] in ("expired", "unknown"):
            continue
        common = {
            "dso": m.dso,
            "display_name": m.display_name,
            "agreement_id": a,
            "provider": str(r["provider"]),
            "scope": str(r["scope"]),
            "auto_renew": bool(r["auto_renew"]) if pd.notna(r["auto_renew"]) else False,
            "notice_days": int(r["notice_days"]) if pd.notna(r["notice_days"]) else None,
            "notice_method": methods.get(a, NOTICE_METHOD_FALLBACK),
            "locations": "; ".join(locs.get(a, [])),
            "spend_t12m": float(lev.at[a, "spend_t12m"]) if a in lev.index else 0.0,
            "asks_12m": float(asks_by.get(a, 0.0)),
            "credits_to_claim": credits.get(a, 0.0),
            "as_of": as_of,
        }
        deadline, term_end, missed = effective_notice_deadline(r, as_of)
        cur = pd.Timestamp(r["current_term_end"])
        renew_months = int(r["renewal_term_months"]) if pd.notna(r["renewal_term_months"]) else 12
        renews_to = (
            pd.Timestamp(add_months(pd.Series([cur]), pd.Series([renew_months])).iloc[0])
            if common["auto_renew"]
            else pd.NaT
        )
        if pd.notna(deadline):
            rows.append({**common, "kind": NOTICE, "date": deadline, "term_end": term_end,
                         "window_missed": pd.notna(missed), "missed_deadline": missed,
                         "renews_to": renews_to if pd.notna(missed) else pd.NaT})  # fmt: skip
        if pd.notna(cur) and cur >= as_of:
            rows.append({**common, "kind": TERM_END, "date": cur, "term_end": cur,
                         "window_missed": pd.notna(missed), "missed_deadline": missed,
                         "renews_to": renews_to})  # fmt: skip
    out = pd.DataFrame(rows, columns=list(DEADLINE_COLUMNS))
    for c in ("date", "term_end", "missed_deadline", "renews_to", "as_of"):
        out[c] = pd.to_datetime(out[c])
    out["days_from_as_of"] = (out["date"] - as_of).dt.days.astype("int64")
    out = out.sort_values(["date", "agreement_id", "kind"], kind="stable").reset_index(drop=True)
    return out[list(DEADLINE_COLUMNS)]


def attach_deadlines(
    m: DsoMetrics, agreements: pd.DataFrame, locations: pd.DataFrame
) -> DsoMetrics:
    """Return ``m`` with its deadlines computed once (``DsoMetrics.deadlines``).

    Called where a DSO is prepared (:func:`dso_analytics.stages.prepare`, the
    CLI's action commands, a notebook run outside the pipeline); every output
    then reads :func:`deadlines_of`, never computes its own.

    Parameters
    ----------
    m : DsoMetrics
    agreements, locations : DataFrame
        The DSO's typed tables (see :func:`compute_deadlines`).

    Returns
    -------
    DsoMetrics
        A shallow copy of ``m`` with ``deadlines`` set.
    """
    import dataclasses

    return dataclasses.replace(m, deadlines=compute_deadlines(m, agreements, locations))


def deadlines_of(m: DsoMetrics) -> pd.DataFrame:
    """The deadlines computed when ``m`` was prepared (:func:`attach_deadlines`).

    Parameters
    ----------
    m : DsoMetrics

    Returns
    -------
    DataFrame
        :data:`DEADLINE_COLUMNS`.

    Raises
    ------
    ValueError
        ``m`` was not prepared with its deadlines (a programming error).
    """
    if m.deadlines is None:
        raise ValueError(f"{m.dso}: deadlines were not computed (attach_deadlines)")
    return m.deadlines


def describe(row: pd.Series, currency: str = "USD") -> list[tuple[str, str]]:
    """The labelled facts of one deadline, in reading order (calendar, letters).

    Parameters
    ----------
    row : Series
        One row of :func:`compute_deadlines`.
    currency : str
        Shown with money.

    Returns
    -------
    list of (label, text)
    """

    def money(v: float) -> str:
        return f"{currency} {v:,.2f}"

    def day(v: Any) -> str:
        return pd.Timestamp(v).date().isoformat() if pd.notna(v) else "n/a"

    as_of = day(row["as_of"])
    nd = row["notice_days"]
    facts = [
        ("DSO", str(row["display_name"])),
        ("Agreement", f"{row['agreement_id']} ({row['scope']} scope)"),
        ("Provider", str(row["provider"])),
        ("Locations", str(row["locations"]) or "none active at as-of"),
        ("Term end", day(row["term_end"])),
        ("Notice period", f"{int(nd)} days before the term end" if nd is not None and pd.notna(nd) else "not stated"),
        ("Notice method", str(row["notice_method"])),
    ]  # fmt: skip
    if row["kind"] == NOTICE:
        facts.append(("Notice must be received by", day(row["date"])))
    if bool(row["window_missed"]):
        facts.append(
            ("Missed window", f"the notice deadline {day(row['missed_deadline'])} has passed; "
             f"the agreement renews to {day(row['renews_to'])}")
        )  # fmt: skip
    elif row["kind"] == TERM_END and pd.notna(row["renews_to"]):
        facts.append(("Without notice", f"renews automatically to {day(row['renews_to'])}"))
    facts += [
        ("Spend on this agreement (T12M)", money(row["spend_t12m"])),
        ("Negotiation asks (12-month impact, counted once)", money(row["asks_12m"])),
        (f"Credits to claim (all-time to {as_of})", money(row["credits_to_claim"])),
        ("Figures as of", as_of),
    ]
    return facts


__all__ = [
    "DEADLINE_COLUMNS",
    "NOTICE_METHOD_FALLBACK",
    "agreement_locations",
    "ask_keys",
    "attach_deadlines",
    "compute_deadlines",
    "credit_lines",
    "credits_by_agreement",
    "deadlines_of",
    "describe",
    "effective_notice_deadline",
    "notice_methods",
]
