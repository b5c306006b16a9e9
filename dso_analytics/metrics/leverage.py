"""M6 renewal leverage: per-agreement figures, the leverage score and ranked asks.

leverage_score (0..100)
-----------------------
How much negotiating ammunition an agreement's own data gives the DSO.  Six
components, each clipped to 0..1, weighted, summed; an unknown input counts 0
(and is visible as NaN in its leverage column):

=====================  ======  =============================================================
component              weight  value (0..1)
=====================  ======  =============================================================
add-on share           25      min(1, addon_t12m / spend_t12m / 0.10)  (add-ons at 10% of spend = full)
credits                15      min(1, billed_despite_included_t12m / spend_t12m / 0.02)
onboarding             20      min(1, onboarding_target_overspend / target_onboarding_cap)
clause gaps            20      1 - clause_score
growth                 10      min(1, max(0, growth))  (locations doubled = full)
price                  10      min(1, max(0, effective_workstation_monthly / benchmark_high - 1) / 0.25)
=====================  ======  =============================================================

The DSO total uses the same formula on the DSO totals (clause score: mean over
agreements; growth: the per-agreement baselines and locations now, summed over
the agreements in force at as-of; see :func:`baseline_dates`).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from dso_analytics import schema
from dso_analytics.metrics import result as R
from dso_analytics.metrics._util import as_float, as_text, from_cents, group_sums, round_money
from dso_analytics.metrics.governing import agreement_windows, governing_agreement
from dso_analytics.metrics.spend import BILLED_DESPITE_INCLUDED, COVERAGE_UNKNOWN
from dso_analytics.standards import Params

WEIGHTS = {"addon": 25, "credits": 15, "onboarding": 20, "clauses": 20, "growth": 10, "price": 10}


def leverage_score(
    spend_t12m: np.ndarray,
    addon_t12m: np.ndarray,
    bdi_t12m: np.ndarray,
    target_overspend: np.ndarray,
    clause_score: np.ndarray,
    growth: np.ndarray,
    effective: np.ndarray,
    params: Params,
) -> np.ndarray:
    """The documented 0..100 leverage score (see the module docstring)."""

    def clip(x: np.ndarray) -> np.ndarray:
        return np.clip(np.nan_to_num(np.asarray(x, dtype=float), nan=0.0), 0.0, 1.0)

    spend = np.asarray(spend_t12m, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        addon = np.where(spend > 0, np.asarray(addon_t12m, float) / spend / 0.10, 0.0)
        cred = np.where(spend > 0, np.asarray(bdi_t12m, float) / spend / 0.02, 0.0)
    onb = np.asarray(target_overspend, float) / max(float(params.target_onboarding_cap), 1.0)
    gaps = 1.0 - np.asarray(clause_score, float)
    grow = np.asarray(growth, float)
    high = float(params.benchmark_workstation_monthly[1])
    price = (np.asarray(effective, float) / high - 1.0) / 0.25
    total = (
        WEIGHTS["addon"] * clip(addon)
        + WEIGHTS["credits"] * clip(cred)
        + WEIGHTS["onboarding"] * clip(onb)
        + WEIGHTS["clauses"] * clip(gaps)
        + WEIGHTS["growth"] * clip(grow)
        + WEIGHTS["price"] * clip(price)
    )
    return np.round(total, 1)


def baseline_dates(agreements: pd.DataFrame) -> pd.Series:
    """Growth baseline date per agreement: when its current terms were set.

    ``terms_effective_date`` (effective date of the latest amendment) when the
    agreements sheet gives one, else ``start_date``.

    Returns
    -------
    Series of datetime64[ns]
        One entry per agreement row, in file order (index 0..n-1).
    """
    ag = agreements.reset_index(drop=True)
    start = pd.to_datetime(ag["start_date"]).reset_index(drop=True)
    if "terms_effective_date" not in ag:
        return start
    eff = pd.to_datetime(ag["terms_effective_date"]).reset_index(drop=True)
    return eff.where(eff.notna(), start)


class _Growth(NamedTuple):
    """Locations and workstations per agreement (see :func:`_growth`)."""

    baseline: pd.Series  # date the current terms were set, per agreement
    at_start: np.ndarray  # locations covered then (NaN: a start date is blank)
    now: np.ndarray  # active locations governed at as-of
    ws_now: np.ndarray  # their workstations
    growth: np.ndarray  # now / at_start - 1
    tot_ws: float  # workstations of every active location


def _growth(
    ag: pd.DataFrame, ids: np.ndarray, scope: np.ndarray, locations: pd.DataFrame,
    as_of: pd.Timestamp,
) -> _Growth:  # fmt: skip
    """Growth since the current terms were set, per agreement.

    Baseline: the locations covered when the current terms were set (baseline
    date = terms_effective_date, else start_date).  Organization agreement:
    locations (any status, counted from join_date) it governed on that date;
    location agreement: the locations it lists.
    """
    win = agreement_windows(ag)
    loc = locations.reset_index(drop=True)
    lid = as_text(loc["location_id"])
    join = pd.to_datetime(loc["join_date"])
    status = as_text(loc["status"]).to_numpy(dtype=object)
    ws = as_float(loc["workstations"])
    baseline = baseline_dates(ag)
    at_start = np.zeros(len(ag), dtype=float)
    for i in range(len(ag)):  # per agreement (tens), vectorised over locations
        if scope[i] == "location":
            at_start[i] = len(win.at[i, "locs"])
            continue
        st = baseline.iat[i]
        if pd.isna(st):
            at_start[i] = np.nan
            continue
        g = governing_agreement(lid, pd.Series(st, index=lid.index), ag)
        at_start[i] = float(((g == ids[i]) & (join <= st).to_numpy(bool, na_value=False)).sum())
    active_now = (status == "active") & (join <= as_of).to_numpy(bool, na_value=False)
    gov_now = governing_agreement(lid, pd.Series(as_of, index=lid.index), ag)
    now = np.array([float(((gov_now == a) & active_now).sum()) for a in ids])
    ws_now = np.array([float(np.nansum(ws[(gov_now == a) & active_now])) for a in ids])
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = np.where(at_start > 0, now / at_start - 1.0, np.nan)
    return _Growth(baseline, at_start, now, ws_now, growth, float(np.nansum(ws[active_now])))


class _Spend(NamedTuple):
    """T12M spend per agreement and for the DSO (see :func:`_t12m_spend`)."""

    spend: np.ndarray
    addon: np.ndarray
    bdi: np.ndarray  # billed despite included
    ms: np.ndarray  # managed services (the base fee)
    months: np.ndarray  # distinct months with a managed_services line
    tot_spend: float
    tot_addon: float
    tot_bdi: float
    tot_ms: float


def _t12m_spend(lines: pd.DataFrame, ids: np.ndarray) -> _Spend:
    """T12M spend, add-ons, billed-despite-included, base fee and months billed, per
    governing agreement (in ``ids`` order) and in total."""
    t = lines["in_t12m"].to_numpy(bool)
    lc = lines["amount_cents"].to_numpy(np.int64)
    cents = np.where(t, lc, 0)
    is_addon = (lines["addon_kind"].notna() & (lines["addon_kind"] != COVERAGE_UNKNOWN)).to_numpy(
        bool, na_value=False
    )
    is_bdi = (lines["addon_kind"] == BILLED_DESPITE_INCLUDED).to_numpy(bool, na_value=False)
    is_ms = (lines[schema.SERVICE_RESOLVED] == schema.MANAGED_SERVICES).to_numpy(
        bool, na_value=False
    )
    # months billed: distinct months with a managed_services line in the T12M
    ms_month = np.where(is_ms & t, lines["month"].fillna("").to_numpy(object), "")
    (glab,), gs = group_sums(
        [lines[schema.GOVERNING_AGREEMENT]],
        [""],
        [cents, np.where(is_addon, cents, 0), np.where(is_bdi, cents, 0),
         np.where(is_ms, cents, 0)],
    )  # fmt: skip
    billed_months = (
        pd.DataFrame({"a": lines[schema.GOVERNING_AGREEMENT].astype(object), "m": ms_month})
        .query("m != ''")
        .groupby("a")["m"]
        .nunique()
    )
    sums = pd.DataFrame(dict(zip("cabm", gs, strict=True)), index=glab)
    sums = sums.reindex(ids).fillna(0).astype(np.int64)
    return _Spend(
        spend=from_cents(sums["c"].to_numpy()),
        addon=from_cents(sums["a"].to_numpy()),
        bdi=from_cents(sums["b"].to_numpy()),
        ms=from_cents(sums["m"].to_numpy()),
        months=billed_months.reindex(ids).fillna(0).to_numpy(float),
        tot_spend=from_cents(int(np.where(t, lc, 0).sum())),
        tot_addon=from_cents(int(np.where(is_addon & t, lc, 0).sum())),
        tot_bdi=from_cents(int(np.where(is_bdi & t, lc, 0).sum())),
        tot_ms=from_cents(int(np.where(is_ms & t, lc, 0).sum())),
    )


def _baseline_note(
    ids: np.ndarray, current: np.ndarray, baseline: pd.Series
) -> tuple[pd.Timestamp | None, str]:
    """The DSO's baseline date (when every agreement in force shares one) and its note."""
    cur_base = baseline[current].dropna()
    tot_base = pd.Timestamp(cur_base.iloc[0]) if len(cur_base) and cur_base.nunique() == 1 else None
    if not current.any():
        base_note = "no agreement in force at the as-of date"
    elif tot_base is not None:
        base_note = f"{tot_base.date()} ({', '.join(str(x) for x in ids[current])})"
    elif len(cur_base):
        base_note = (
            f"each of the {int(current.sum())} agreements in force at the date its current "
            f"terms were set, {cur_base.min().date()} to {cur_base.max().date()}"
        )
    else:
        base_note = "unknown: a start date is blank"
    return tot_base, base_note


def _dso_total(
    ids: np.ndarray, g: _Growth, sp: _Spend, onboarding: pd.DataFrame, renewals: pd.DataFrame,
    next12: np.ndarray, sc: np.ndarray, services_known: bool, params: Params,
) -> dict[str, Any]:  # fmt: skip
    """The leverage figures of the whole DSO (the keys of :data:`result.LEVERAGE_COLUMNS`)."""
    tot_spend, tot_addon, tot_bdi, tot_ms = sp.tot_spend, sp.tot_addon, sp.tot_bdi, sp.tot_ms
    at_start, now, months, ms, ws_now = g.at_start, g.now, sp.months, sp.ms, g.ws_now
    low, high = params.benchmark_workstation_monthly
    # growth: the same per-agreement baseline, summed over the agreements in
    # force at as-of (their terms are the current ones)
    r_status = renewals.set_index("agreement_id").reindex(ids)["status"].astype(object)
    current = r_status.isin(["initial_term", "renewed"]).to_numpy(bool)
    start_locs = float(at_start[current].sum()) if not np.isnan(at_start[current]).any() else np.nan
    now_locs = float(now[current].sum())
    tot_growth = now_locs / start_locs - 1.0 if start_locs and start_locs > 0 else np.nan
    tot_base, base_note = _baseline_note(ids, current, g.baseline)
    # same rule as per agreement: monthly base fee run-rate of each agreement
    # (T12M / its months billed), summed, over the workstations they cover now
    known = (months > 0) & (ws_now > 0)
    run = float(np.sum(ms[known] / months[known])) if known.any() else np.nan
    tot_eff = run / float(ws_now[known].sum()) if known.any() else np.nan
    oc = onboarding["contractual_overspend"]
    total: dict[str, Any] = {
        "baseline_date": tot_base,
        "baseline": base_note,
        "locations_at_start": None if np.isnan(start_locs) else int(start_locs),
        "locations_now": int(now_locs),
        "growth": None if np.isnan(tot_growth) else float(tot_growth),
        "spend_t12m": tot_spend,
        "addon_t12m": tot_addon if services_known else None,
        "billed_despite_included_t12m": tot_bdi if services_known else None,
        "onboarding_contractual_overspend": None if oc.isna().all() else round(float(oc.sum()), 2),
        "onboarding_target_overspend": round(float(onboarding["target_overspend"].sum()), 2),
        "workstations_now": int(g.tot_ws),
        "managed_services_t12m": tot_ms,
        "base_fee_next_12m": None
        if np.isnan(next12).all()
        else round_money(float(np.nansum(next12))),
        "effective_workstation_monthly": None if np.isnan(tot_eff) else round_money(tot_eff),
        "benchmark_low": float(low),
        "benchmark_high": float(high),
        "clause_score": None if np.all(np.isnan(sc)) else float(np.nanmean(sc)),
    }
    total["leverage_score"] = float(
        leverage_score(
            np.array([tot_spend]),
            np.array([tot_addon if services_known else np.nan]),
            np.array([tot_bdi if services_known else np.nan]),
            np.array([total["onboarding_target_overspend"]]),
            np.array([np.nan if total["clause_score"] is None else total["clause_score"]]),
            np.array([tot_growth]), np.array([tot_eff]), params,
        )[0]
    )  # fmt: skip
    return total


def compute_leverage(
    agreements: pd.DataFrame,
    locations: pd.DataFrame,
    lines: pd.DataFrame,
    onboarding: pd.DataFrame,
    pipeline: pd.DataFrame,
    scorecard: pd.DataFrame,
    renewals: pd.DataFrame,
    as_of: pd.Timestamp,
    t12m_start: pd.Timestamp,
    params: Params,
    services_known: bool = True,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """M6: leverage per agreement and the DSO total (asks: :mod:`metrics.asks`).

    Parameters
    ----------
    agreements, locations : DataFrame
        Typed tables.
    lines : DataFrame
        Enriched lines (from :func:`compute_lines`).
    onboarding, pipeline, scorecard, renewals : DataFrame
        M3, M4 and M5 results.
    as_of, t12m_start : Timestamp
    params : Params
    services_known : bool
        ``False`` when the services sheet is missing: add-on and
        billed-despite-included figures are then unknown (NaN / None), never 0.

    Returns
    -------
    leverage : DataFrame
        :data:`result.LEVERAGE_COLUMNS`.
    total : dict
        The same keys for the whole DSO.
    """
    ag = agreements.reset_index(drop=True)
    ids = as_text(ag["agreement_id"]).to_numpy(dtype=object)
    scope = as_text(ag["scope"]).to_numpy(dtype=object)
    g = _growth(ag, ids, scope, locations, as_of)
    baseline, at_start, now, ws_now, growth = g.baseline, g.at_start, g.now, g.ws_now, g.growth
    sp = _t12m_spend(lines, ids)
    spend, addon, bdi, ms, months = sp.spend, sp.addon, sp.bdi, sp.ms, sp.months

    og = onboarding.groupby(onboarding["governing_agreement_id"].astype("str"))
    ob_c = og["contractual_overspend"].sum(min_count=1).reindex(ids).to_numpy(float)
    ob_t = og["target_overspend"].sum().reindex(ids).fillna(0.0).to_numpy(float)

    # effective price: T12M base fee / months billed in the T12M / workstations now
    # (an agreement billed its contract rate every month it was billed shows that rate)
    with np.errstate(divide="ignore", invalid="ignore"):
        eff = np.where((ws_now > 0) & (months > 0), ms / months / ws_now, np.nan)
    # renewing unchanged: next 12 months of base fee = monthly run-rate x 12 x escalator
    up = as_float(ag["annual_uplift_pct"]) if "annual_uplift_pct" in ag else np.zeros(len(ids))
    with np.errstate(divide="ignore", invalid="ignore"):
        next12 = np.where(months > 0, ms / months * 12 * (1 + np.nan_to_num(up) / 100), np.nan)
    if not services_known:
        addon = np.full(len(ids), np.nan)
        bdi = np.full(len(ids), np.nan)
    low, high = params.benchmark_workstation_monthly
    vs = np.where(
        np.isnan(eff),
        "unknown",
        np.where(eff > high, "above", np.where(eff < low, "below", "within")),
    )
    sc = scorecard.set_index("agreement_id").reindex(ids)["clause_score"].to_numpy(float)
    score = leverage_score(spend, addon, bdi, ob_t, sc, growth, eff, params)
    lev = pd.DataFrame(
        {
            "agreement_id": pd.array(ids, dtype="str"),
            "provider": as_text(ag["provider"]),
            "scope": pd.array(scope, dtype="str"),
            "baseline_date": baseline.to_numpy(dtype="datetime64[ns]"),
            "locations_at_start": pd.array(
                np.where(np.isnan(at_start), 0, at_start).astype(np.int64), dtype="Int64"
            ),
            "locations_now": pd.array(now.astype(np.int64), dtype="Int64"),
            "growth": growth,
            "spend_t12m": spend,
            "addon_t12m": addon,
            "billed_despite_included_t12m": bdi,
            "onboarding_contractual_overspend": ob_c,
            "onboarding_target_overspend": ob_t,
            "workstations_now": pd.array(ws_now.astype(np.int64), dtype="Int64"),
            "managed_services_t12m": ms,
            "annual_uplift_pct": np.nan_to_num(up),
            "base_fee_next_12m": round_money(np.asarray(next12, dtype=float)),
            "effective_workstation_monthly": round_money(np.asarray(eff, dtype=float)),
            "benchmark_low": float(low),
            "benchmark_high": float(high),
            "vs_benchmark": pd.array(vs, dtype="str"),
            "clause_score": sc,
            "leverage_score": score,
        }
    )
    lev.loc[np.isnan(at_start), "locations_at_start"] = pd.NA

    total = _dso_total(ids, g, sp, onboarding, renewals, next12, sc, services_known, params)
    return lev[list(R.LEVERAGE_COLUMNS)], total
