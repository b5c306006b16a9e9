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

from typing import Any

import numpy as np
import pandas as pd

from dso_analytics import schema
from dso_analytics.metrics import result as R
from dso_analytics.metrics._util import as_float, as_text, from_cents, group_sums, t12m_start
from dso_analytics.metrics.governing import agreement_windows, governing_agreement
from dso_analytics.metrics.spend import BILLED_DESPITE_INCLUDED
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


def _evidence(lines: pd.DataFrame, pos: np.ndarray, max_sources: int = 3) -> str:
    """Evidence text of the lines at positions ``pos`` (ascending) of ``lines``.

    Only the location and provenance of those rows are taken (not the wide frame).
    """
    n = len(pos)
    locs = sorted(lines["location_id"].take(pos).fillna("(organization)").unique())
    src = lines[["source_file", "source_row"]].take(pos[:max_sources])
    where = ", ".join(
        f"{f} row {r}"
        for f, r in zip(src["source_file"].fillna("?"), src["source_row"], strict=False)
    )
    loc_txt = ", ".join(locs[:5]) + (f" +{len(locs) - 5} more" if len(locs) > 5 else "")
    return f"{n} line(s) at {loc_txt}" + (f"; e.g. {where}" if where else "")


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
) -> tuple[pd.DataFrame, dict[str, Any], pd.DataFrame]:
    """M6: leverage per agreement, the DSO total and the ranked negotiation asks.

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

    Returns
    -------
    leverage : DataFrame
        :data:`result.LEVERAGE_COLUMNS`.
    total : dict
        The same keys for the whole DSO.
    asks : DataFrame
        :data:`result.ASK_COLUMNS`, largest 12-month impact first.
    """
    ag = agreements.reset_index(drop=True)
    ids = as_text(ag["agreement_id"]).to_numpy(dtype=object)
    scope = as_text(ag["scope"]).to_numpy(dtype=object)
    win = agreement_windows(ag)
    loc = locations.reset_index(drop=True)
    lid = as_text(loc["location_id"])
    join = pd.to_datetime(loc["join_date"])
    status = as_text(loc["status"]).to_numpy(dtype=object)
    ws = as_float(loc["workstations"])

    # growth baseline: the locations covered when the current terms were set
    # (baseline date = terms_effective_date, else start_date).  Organization
    # agreement: locations (any status, counted from join_date) it governed on
    # that date; location agreement: the locations it lists.
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

    t = lines["in_t12m"].to_numpy(bool)
    lc = lines["amount_cents"].to_numpy(np.int64)
    cents = np.where(t, lc, 0)
    is_addon = lines["addon_kind"].notna().to_numpy(bool)
    is_bdi = (lines["addon_kind"] == BILLED_DESPITE_INCLUDED).to_numpy(bool, na_value=False)
    is_ms = (lines[schema.SERVICE_RESOLVED] == schema.MANAGED_SERVICES).to_numpy(
        bool, na_value=False
    )
    (glab,), gs = group_sums(
        [lines[schema.GOVERNING_AGREEMENT]],
        [""],
        [cents, np.where(is_addon, cents, 0), np.where(is_bdi, cents, 0),
         np.where(is_ms, cents, 0)],
    )  # fmt: skip
    sums = pd.DataFrame(dict(zip("cabm", gs, strict=True)), index=glab)
    sums = sums.reindex(ids).fillna(0).astype(np.int64)
    spend = from_cents(sums["c"].to_numpy())
    addon = from_cents(sums["a"].to_numpy())
    bdi = from_cents(sums["b"].to_numpy())
    ms = from_cents(sums["m"].to_numpy())

    og = onboarding.groupby(onboarding["governing_agreement_id"].astype("str"))
    ob_c = og["contractual_overspend"].sum(min_count=1).reindex(ids).to_numpy(float)
    ob_t = og["target_overspend"].sum().reindex(ids).fillna(0.0).to_numpy(float)

    # effective price: T12M base fee / months in force within T12M / workstations now
    st = pd.to_datetime(win["start"])
    end = pd.to_datetime(
        renewals.set_index("agreement_id").reindex(ids)["current_term_end"]
    ).to_numpy()
    endx = np.where(
        pd.isna(end) | (pd.Series(end) > as_of).to_numpy(bool), np.datetime64(as_of), end
    )
    lo = np.maximum(st.to_numpy(dtype="datetime64[ns]"), np.datetime64(t12m_start))
    span = (as_of - t12m_start).days
    overlap = (pd.Series(endx.astype("datetime64[ns]")) - pd.Series(lo)).dt.days.to_numpy(float)
    months = np.clip(overlap / span * 12.0, 0.0, 12.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        eff = np.where((ws_now > 0) & (months > 0), ms / months / ws_now, np.nan)
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
            "effective_workstation_monthly": np.round(eff, 2),
            "benchmark_low": float(low),
            "benchmark_high": float(high),
            "vs_benchmark": pd.array(vs, dtype="str"),
            "clause_score": sc,
            "leverage_score": score,
        }
    )
    lev.loc[np.isnan(at_start), "locations_at_start"] = pd.NA

    # DSO total
    tot_spend = from_cents(int(np.where(t, lc, 0).sum()))
    tot_addon = from_cents(int(np.where(is_addon & t, lc, 0).sum()))
    tot_bdi = from_cents(int(np.where(is_bdi & t, lc, 0).sum()))
    tot_ms = from_cents(int(np.where(is_ms & t, lc, 0).sum()))
    # growth: the same per-agreement baseline, summed over the agreements in
    # force at as-of (their terms are the current ones)
    r_status = renewals.set_index("agreement_id").reindex(ids)["status"].astype(object)
    current = r_status.isin(["initial_term", "renewed"]).to_numpy(bool)
    start_locs = float(at_start[current].sum()) if not np.isnan(at_start[current]).any() else np.nan
    now_locs = float(now[current].sum())
    tot_growth = now_locs / start_locs - 1.0 if start_locs and start_locs > 0 else np.nan
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
    tot_ws = float(np.nansum(ws[active_now]))
    tot_eff = tot_ms / 12.0 / tot_ws if tot_ws > 0 else np.nan
    oc = onboarding["contractual_overspend"]
    total: dict[str, Any] = {
        "baseline_date": tot_base,
        "baseline": base_note,
        "locations_at_start": None if np.isnan(start_locs) else int(start_locs),
        "locations_now": int(now_locs),
        "growth": None if np.isnan(tot_growth) else float(tot_growth),
        "spend_t12m": tot_spend,
        "addon_t12m": tot_addon,
        "billed_despite_included_t12m": tot_bdi,
        "onboarding_contractual_overspend": None if oc.isna().all() else round(float(oc.sum()), 2),
        "onboarding_target_overspend": round(float(onboarding["target_overspend"].sum()), 2),
        "workstations_now": int(tot_ws),
        "managed_services_t12m": tot_ms,
        "effective_workstation_monthly": None if np.isnan(tot_eff) else round(float(tot_eff), 2),
        "benchmark_low": float(low),
        "benchmark_high": float(high),
        "clause_score": None if np.all(np.isnan(sc)) else float(np.nanmean(sc)),
    }
    total["leverage_score"] = float(
        leverage_score(
            np.array([tot_spend]), np.array([tot_addon]), np.array([tot_bdi]),
            np.array([total["onboarding_target_overspend"]]),
            np.array([np.nan if total["clause_score"] is None else total["clause_score"]]),
            np.array([tot_growth]), np.array([tot_eff]), params,
        )[0]
    )  # fmt: skip
    asks = compute_asks(
        lev, lines, onboarding, pipeline, scorecard, renewals, locations, as_of, params
    )
    return lev[list(R.LEVERAGE_COLUMNS)], total, asks


def compute_asks(
    leverage: pd.DataFrame,
    lines: pd.DataFrame,
    onboarding: pd.DataFrame,
    pipeline: pd.DataFrame,
    scorecard: pd.DataFrame,
    renewals: pd.DataFrame,
    locations: pd.DataFrame,
    as_of: pd.Timestamp,
    params: Params,
) -> pd.DataFrame:
    """Ranked negotiation asks with their 12-month dollar impact.

    Impacts (all 12-month figures, in the DSO's currency):

    - *move <service> into base*: the T12M contractual add-on spend on it.
    - *claim credits*: all billed-despite-included amounts (all-time, net of
      credits already issued): a one-off recovery.
    - *cap onboarding at the target*: expected saving of pipeline locations
      joining within 12 months; without a pipeline, the target overspend of
      locations that joined in the T12M.
    - *automatic monthly reporting*: T12M spend on organizational_reporting.
    - *volume pricing* (locations grew): (effective price - benchmark midpoint)
      x workstations now x 12, when positive.
    - *consolidate per-location agreements*: (effective price of the location
      agreement - that of the organizational agreement) x workstations x 12.
    - *change-of-ownership exit*: 0 (risk protection, no direct dollars).
    - *notice deadline at risk* (missed or within the last alert window): the
      sum of the other asks on that agreement - the leverage lost if the window passes.
      For an agreement that does not auto-renew, the same ask is "negotiate before
      the agreement expires" (clause ``expiry``), from its days to expiry.

    Column ``in_total`` is False for asks whose dollars restate other asks (the
    notice-deadline ask; the reporting ask when the organizational_reporting
    add-on ask exists): sum ``impact_12m`` only where ``in_total``.
    """
    rows: list[dict[str, Any]] = []
    sc = scorecard.set_index("agreement_id")
    lev = leverage.set_index("agreement_id")
    gov_col = lines[schema.GOVERNING_AGREEMENT]
    kind_col = lines["addon_kind"]
    in_t12m = lines["in_t12m"].to_numpy(bool)
    cents = lines["amount_cents"].to_numpy(np.int64)

    def keyed(mask: np.ndarray, svc: bool, fill: str | None) -> pd.DataFrame:
        # the group keys of the selected lines plus their positions in ``lines``
        # (narrow: per-group work then takes only the rows' location/provenance)
        pos = np.flatnonzero(mask)
        g = gov_col.take(pos).reset_index(drop=True)
        k = pd.DataFrame({"a": g.fillna(fill) if fill is not None else g, "_pos": pos})
        if svc:
            k["s"] = lines[schema.SERVICE_RESOLVED].take(pos).reset_index(drop=True)
        return k

    # add-on services into base
    is_ca = (kind_col == "contractual_add_on").to_numpy(bool, na_value=False) & in_t12m
    ca = keyed(is_ca, True, "(none)")
    for (a, s), grp in ca.groupby(["a", "s"]):
        p = grp["_pos"].to_numpy()
        rows.append({"ask": f"Move {s} into the base fee", "clause": f"base_{s}", "agreement_id": a,
                     "evidence": _evidence(lines, p), "impact_12m": from_cents(int(cents[p].sum()))})  # fmt: skip
    # credits
    bd = keyed((kind_col == BILLED_DESPITE_INCLUDED).to_numpy(bool, na_value=False), True, None)
    for a, grp in bd.groupby("a"):
        p = grp["_pos"].to_numpy()
        amt = from_cents(int(cents[p].sum()))
        if amt > 0:
            svcs = ", ".join(sorted(grp["s"].unique()))
            rows.append({"ask": f"Claim credits for services the agreement includes ({svcs})",
                         "clause": "services: coverage=included", "agreement_id": a,
                         "evidence": _evidence(lines, p), "impact_12m": amt})  # fmt: skip
    # onboarding cap
    horizon = as_of + pd.DateOffset(months=12)
    t12_start = t12m_start(as_of)
    for a in leverage["agreement_id"]:
        if a not in sc.index or sc.at[a, "onboarding_cost_ceiling"] == "pass":
            continue
        p = pipeline[(pipeline["governing_agreement_id"] == a).to_numpy(bool)
                     & (pipeline["join_date"] <= horizon).to_numpy(bool)]  # fmt: skip
        o = onboarding[(onboarding["governing_agreement_id"] == a).to_numpy(bool)]
        recent = o[((o["join_date"] > t12_start) & (o["join_date"] <= as_of)).to_numpy(bool)]
        saving = float(np.nansum(p["expected_saving"])) if len(p) else 0.0
        if saving > 0:
            impact, ev = (
                saving,
                f"{len(p)} planned location(s): {', '.join(p['location_id'].astype(str))}",
            )
        else:
            impact = float(recent["target_overspend"].sum())
            ev = f"{len(o)} onboarding(s), target overspend {o['target_overspend'].sum():,.2f} all-time"
        if len(o) or len(p):
            rows.append({"ask": f"Cap onboarding at {params.target_onboarding_cap:,.0f} per location",
                         "clause": "onboarding_cost_ceiling", "agreement_id": a, "evidence": ev,
                         "impact_12m": round(impact, 2)})  # fmt: skip
    # reporting
    rep = keyed(
        (lines[schema.SERVICE_RESOLVED] == "organizational_reporting").to_numpy(
            bool, na_value=False
        )
        & in_t12m,
        False,
        None,
    )
    for a in leverage["agreement_id"]:
        if a in sc.index and sc.at[a, "automatic_monthly_reporting"] == "fail":
            p = rep["_pos"].to_numpy()[(rep["a"] == a).to_numpy(bool, na_value=False)]
            rows.append({"ask": "Automatic monthly organizational reporting", "clause": "automatic_monthly_reporting",
                         "agreement_id": a, "evidence": _evidence(lines, p) if len(p) else "no automatic reporting clause",
                         "impact_12m": from_cents(int(cents[p].sum()))})  # fmt: skip
    # volume pricing
    mid = sum(params.benchmark_workstation_monthly) / 2.0
    for a, r in lev.iterrows():
        if (
            pd.notna(r["growth"])
            and r["growth"] > 0
            and pd.notna(r["effective_workstation_monthly"])
        ):
            imp = max(
                0.0, (r["effective_workstation_monthly"] - mid) * float(r["workstations_now"]) * 12
            )
            if imp <= 0:
                continue
            since = pd.Timestamp(r["baseline_date"]).date()
            rows.append({"ask": "Volume pricing: locations grew since the terms were set",
                         "clause": "pricing", "agreement_id": a,
                         "evidence": f"{r['locations_at_start']} locations on {since} -> "
                                     f"{r['locations_now']} now; "
                                     f"{r['effective_workstation_monthly']:.2f}/workstation/month",
                         "impact_12m": round(imp, 2)})  # fmt: skip
    # consolidate location agreements
    ren = renewals.set_index("agreement_id")
    org = lev[(lev["scope"] == "organization").to_numpy(bool)]
    org_eff = (
        float(org["effective_workstation_monthly"].dropna().min())
        if org["effective_workstation_monthly"].notna().any()
        else np.nan
    )
    for a, r in lev[(lev["scope"] == "location").to_numpy(bool)].iterrows():
        if a in ren.index and ren.at[a, "status"] == "expired":
            continue
        e = r["effective_workstation_monthly"]
        imp = (
            max(0.0, (e - org_eff) * float(r["workstations_now"]) * 12)
            if pd.notna(e) and pd.notna(org_eff)
            else 0.0
        )
        rows.append({"ask": "Consolidate this per-location agreement into one organizational agreement",
                     "clause": "all_location_coverage", "agreement_id": a,
                     "evidence": f"location agreement covering {r['locations_now']} active location(s)",
                     "impact_12m": round(imp, 2)})  # fmt: skip
    # change of ownership exit
    acq = onboarding[(onboarding["join_type"] == "acquisition").to_numpy(bool)]
    for a in leverage["agreement_id"]:
        n_acq = int((acq["governing_agreement_id"] == a).sum())
        if n_acq and a in sc.index and sc.at[a, "change_of_ownership_exit"] == "fail":
            rows.append({"ask": "Change-of-ownership exit clause", "clause": "change_of_ownership_exit",
                         "agreement_id": a, "evidence": f"{n_acq} acquired location(s) under this agreement",
                         "impact_12m": 0.0})  # fmt: skip
    # notice deadlines at risk
    last_window = max(params.alert_windows_days) if params.alert_windows_days else 90
    base = pd.DataFrame(rows, columns=["ask", "clause", "agreement_id", "evidence", "impact_12m"])
    for a, r in ren.iterrows():
        d = r["days_to_notice_deadline"]
        if pd.isna(d) and pd.notna(r.get("days_to_expiry", pd.NA)):
            d = r["days_to_expiry"]  # does not auto-renew: the expiry is the deadline
        if pd.isna(d) or r["status"] == "expired" or d > last_window:
            continue
        mine = base[(base["agreement_id"] == a).to_numpy(bool)]
        if (mine["clause"] == "base_organizational_reporting").any():
            # the reporting-clause ask restates that add-on's dollars
            mine = mine[(mine["clause"] != "automatic_monthly_reporting").to_numpy(bool)]
        other = float(mine["impact_12m"].sum())
        if pd.notna(r.get("expiry", pd.NaT)):
            rows.append({"ask": f"Negotiate before the agreement expires ({pd.Timestamp(r['expiry']).date()})",
                         "clause": "expiry", "agreement_id": a,
                         "evidence": f"does not auto-renew; expires {pd.Timestamp(r['expiry']).date()}, "
                                     f"{int(d)} day(s) left",
                         "impact_12m": round(other, 2), "in_total": False})  # fmt: skip
            continue
        missed_w = bool(r["notice_window_missed"])
        when = r["next_notice_deadline"] if missed_w else r["notice_deadline"]
        txt = "missed; next" if missed_w else "due"
        rows.append({"ask": f"Act before the notice deadline ({txt} {pd.Timestamp(when).date() if pd.notna(when) else 'n/a'})",
                     "clause": "notice", "agreement_id": a,
                     "evidence": f"current term ends {pd.Timestamp(r['current_term_end']).date()}, "
                                 f"{int(d)} day(s) to the notice deadline",
                     "impact_12m": round(other, 2), "in_total": False})  # fmt: skip
    asks = pd.DataFrame(
        rows, columns=["ask", "clause", "agreement_id", "evidence", "impact_12m", "in_total"]
    )
    # in_total: whether the ask's dollars are its own.  A notice-deadline ask
    # restates the agreement's other asks (the leverage at stake) and the
    # reporting ask restates the organizational_reporting add-on ask, so they
    # are left out of any total to avoid counting the same dollars twice.
    dup_reporting = (asks["clause"] == "automatic_monthly_reporting") & asks["agreement_id"].isin(
        asks.loc[asks["clause"] == "base_organizational_reporting", "agreement_id"]
    )
    asks["in_total"] = asks["in_total"].astype(object).ne(False).to_numpy(bool) & ~(
        dup_reporting.to_numpy(bool)
    )
    # an expired agreement is not renegotiated: only its credit claims remain
    gone = set(ren.index[(ren["status"] == "expired").to_numpy(bool)])
    keep = ~asks["agreement_id"].isin(gone) | (asks["clause"] == "services: coverage=included")
    asks = asks[keep.to_numpy(bool)].copy()
    asks["impact_12m"] = asks["impact_12m"].astype(float)
    asks = asks.sort_values("impact_12m", ascending=False, kind="stable").reset_index(drop=True)
    asks.insert(0, "rank", np.arange(1, len(asks) + 1, dtype=np.int64))
    for c in ("ask", "clause", "agreement_id", "evidence"):
        asks[c] = asks[c].astype("str")
    return asks[list(R.ASK_COLUMNS)]
