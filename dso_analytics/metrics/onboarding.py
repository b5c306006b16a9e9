"""M3 onboarding overspend and the pipeline projection."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dso_analytics import schema
from dso_analytics.metrics import result as R
from dso_analytics.metrics._util import as_float, as_text, business_days, from_cents, to_cents
from dso_analytics.metrics.governing import governing_agreement
from dso_analytics.standards import Params

ONBOARDED_JOIN_TYPES = ("acquisition", "de_novo")


def _terms(agreements: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
    ag = agreements.assign(_id=as_text(agreements["agreement_id"]))
    ag = ag.drop_duplicates("_id").set_index("_id")
    idx = pd.Index(ids.astype(object))
    pos = ag.index.get_indexer(idx)
    ok = pos >= 0
    p = np.maximum(pos, 0)

    def take(c: str, kind: str) -> np.ndarray:
        if c not in ag or len(ag) == 0:
            return np.full(
                len(ids), np.nan if kind == "f" else None, dtype=object if kind != "f" else float
            )
        v = (
            as_float(ag[c])[p]
            if kind == "f"
            else as_text(ag[c]).to_numpy(dtype=object, na_value=None)[p]
        )
        if kind == "f":
            return np.where(ok, v, np.nan)
        return np.where(ok, v, None)

    return pd.DataFrame(
        {
            "onboarding_terms": take("onboarding_terms", "t"),
            "onboarding_cap": take("onboarding_cap", "f"),
            "sla": take("onboarding_sla_business_days", "f"),
        }
    )


def _sla(
    join: pd.Series, go: pd.Series, terms: pd.DataFrame, as_of: pd.Timestamp, params: Params
) -> tuple[pd.Series, np.ndarray, np.ndarray, pd.arrays.BooleanArray]:
    """Onboarding SLA per location: business days to go-live, the SLA (the contract's,
    else the target), its source and whether it was breached (NA: not live, not late yet)."""
    bdays = business_days(join, go)
    sla = terms["sla"].to_numpy(float)
    sla_source = np.where(np.isnan(sla), "target", "contract")
    sla = np.where(np.isnan(sla), float(params.target_onboarding_sla_business_days), sla)
    bd = bdays.to_numpy(dtype=float, na_value=np.nan)
    breached = pd.array(np.where(np.isnan(bd), False, bd > sla), dtype="boolean")
    # still not live: already breached once the business days to as-of exceed the SLA
    so_far = business_days(join, pd.Series(as_of, index=join.index)).to_numpy(
        dtype=float, na_value=np.nan
    )
    late = np.isnan(bd) & ~np.isnan(so_far) & (so_far > sla)
    breached[np.isnan(bd) & ~late] = pd.NA
    breached[late] = True

    return bdays, sla, sla_source, breached


def _pipeline(
    loc: pd.DataFrame, agreements: pd.DataFrame, onboarding: pd.DataFrame,
    billed_c: np.ndarray, cap: float,
) -> pd.DataFrame:  # fmt: skip
    """The expected onboarding cost of each ``planned`` location, under the current
    terms and under the target cap (:data:`result.PIPELINE_COLUMNS`)."""
    status = as_text(loc["status"])
    plan = loc[(status == "planned").to_numpy(bool)].reset_index(drop=True)
    plid = as_text(plan["location_id"])
    pjoin = pd.to_datetime(plan["join_date"])
    pgov = governing_agreement(plid, pjoin, agreements)
    pterms = _terms(agreements, pgov)
    past = onboarding[(onboarding["status"] != "planned").to_numpy(bool) & (billed_c != 0)]
    mean_past = float(past["billed"].mean()) if len(past) else np.nan
    pt = pterms["onboarding_terms"].to_numpy(dtype=object)
    pcap = pterms["onboarding_cap"].to_numpy(float)
    current = np.where(pt == "included", 0.0, np.where(pt == "capped", pcap, mean_past)).astype(
        float
    )
    basis = np.where(
        pt == "included",
        "included in the agreement",
        np.where(
            pt == "capped",
            "contractual cap",
            f"mean of {len(past)} past onboardings" if len(past) else "unknown: no past onboarding",
        ),
    )
    tgt = np.where(np.isnan(current), cap, np.minimum(current, cap))
    pipeline = pd.DataFrame(
        {
            "location_id": plid,
            "location_name": as_text(plan["location_name"]) if "location_name" in plan else pd.NA,
            "join_date": pjoin,
            "governing_agreement_id": pd.array(pgov, dtype="str"),
            "onboarding_terms": pd.array(pt, dtype="str"),
            "expected_cost_current": np.round(current, 2),
            "expected_cost_target": np.round(tgt, 2),
            "expected_saving": np.round(current - tgt, 2),
            "basis": pd.array(basis, dtype="str"),
        }
    )[list(R.PIPELINE_COLUMNS)]
    return pipeline


def compute_onboarding(
    locations: pd.DataFrame,
    agreements: pd.DataFrame,
    lines: pd.DataFrame,
    as_of: pd.Timestamp,
    params: Params,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """M3: onboarding overspend per acquired / de novo location, and the pipeline.

    Parameters
    ----------
    locations, agreements : DataFrame
        Typed tables.
    lines : DataFrame
        Enriched lines (``location_id``, ``service_resolved``, ``amount_cents``).
    as_of : Timestamp
    params : Params
        ``target_onboarding_cap`` and ``target_onboarding_sla_business_days``.

    Returns
    -------
    onboarding : DataFrame
        :data:`result.ONBOARDING_COLUMNS`, one row per acquisition / de_novo
        location (planned ones included; their ``billed`` is usually 0).
    pipeline : DataFrame
        :data:`result.PIPELINE_COLUMNS`, one row per ``planned`` location.
    """
    loc = locations.reset_index(drop=True)
    jt = as_text(loc["join_type"])
    sel = loc[jt.isin(ONBOARDED_JOIN_TYPES).to_numpy(bool)].reset_index(drop=True)
    lid = as_text(sel["location_id"])
    join = pd.to_datetime(sel["join_date"])
    go = (
        pd.to_datetime(sel["go_live_date"])
        if "go_live_date" in sel
        else pd.Series(pd.NaT, index=sel.index)
    )
    gov = governing_agreement(lid, join, agreements)
    terms = _terms(agreements, gov)

    is_ob = (lines[schema.SERVICE_RESOLVED] == schema.ONBOARDING_SERVICE).to_numpy(
        bool, na_value=False
    )
    ob = lines.loc[is_ob, ["location_id", "amount_cents"]]
    billed_by = ob.groupby(ob["location_id"].astype("str"))["amount_cents"].sum()
    billed_c = billed_by.reindex(lid.to_numpy(dtype=object)).fillna(0).to_numpy(np.int64)
    billed = from_cents(billed_c)

    term = terms["onboarding_terms"].to_numpy(dtype=object)
    allowance = np.where(
        term == "included", 0.0, np.where(term == "capped", terms["onboarding_cap"], np.nan)
    )
    allowance = allowance.astype(float)
    allow_c = to_cents(allowance)
    contractual = np.where(
        np.isnan(allowance), np.nan, from_cents(np.maximum(0, billed_c - allow_c))
    )
    cap = float(params.target_onboarding_cap)
    target = from_cents(np.maximum(0, billed_c - int(round(cap * 100))))

    bdays, sla, sla_source, breached = _sla(join, go, terms, as_of, params)

    onboarding = pd.DataFrame(
        {
            "location_id": lid,
            "location_name": as_text(sel["location_name"]) if "location_name" in sel else pd.NA,
            "join_type": as_text(sel["join_type"]),
            "status": as_text(sel["status"]),
            "join_date": join,
            "go_live_date": go,
            "governing_agreement_id": pd.array(gov, dtype="str"),
            "onboarding_terms": pd.array(term, dtype="str"),
            "billed": billed,
            "contractual_allowance": allowance,
            "contractual_overspend": contractual,
            "target_cap": cap,
            "target_overspend": target,
            "business_days": bdays,
            "sla_business_days": pd.array(sla.astype(np.int64), dtype="Int64"),
            "sla_source": pd.array(sla_source, dtype="str"),
            "sla_breached": breached,
        }
    )[list(R.ONBOARDING_COLUMNS)]

    pipeline = _pipeline(loc, agreements, onboarding, billed_c, cap)
    return onboarding, pipeline
