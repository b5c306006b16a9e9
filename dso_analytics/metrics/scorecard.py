"""M4 clause scorecard: one row per agreement, one column per check."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dso_analytics import schema
from dso_analytics.metrics import result as R
from dso_analytics.metrics._util import as_bool, as_float, as_text
from dso_analytics.standards import Params

PASS, FAIL, UNKNOWN = "pass", "fail", "unknown"
BASE_CHECK_SERVICES = tuple(
    s for s in schema.STANDARD_BASE + schema.DSO_GRADE_BASE if s != schema.ONBOARDING_SERVICE
)


def _pf(ok: np.ndarray) -> np.ndarray:
    return np.where(ok, PASS, FAIL).astype(object)


def _specified_deliverables(doc: pd.DataFrame) -> set[tuple[str, str]]:
    """``(agreement_id, deliverable)`` pairs the documentation sheet marks specified."""
    spec = doc[as_bool(doc["specified"], default=False)] if len(doc) else doc
    return (
        set(zip(as_text(spec["agreement_id"]), as_text(spec["deliverable"]), strict=True))
        if len(spec)
        else set()
    )


def _included_services(sv: pd.DataFrame) -> set[tuple[str, str]]:
    """``(agreement_id, service)`` pairs the services sheet lists as included."""
    inc = (
        sv[as_text(sv["coverage"]).to_numpy(dtype=object, na_value=None) == "included"]
        if len(sv)
        else sv
    )
    return (
        set(zip(as_text(inc["agreement_id"]), as_text(inc["service"]), strict=True))
        if len(inc)
        else set()
    )


def compute_scorecard(
    agreements: pd.DataFrame,
    services: pd.DataFrame,
    documentation: pd.DataFrame,
    params: Params,
    services_known: bool = True,
    documentation_known: bool = True,
) -> pd.DataFrame:
    """M4: pass / fail / unknown per clause check, and the clause score.

    A term left blank fails its check; a service the services sheet does not
    list counts as ``excluded``; a deliverable the documentation sheet does not
    list counts as not specified.  ``unknown`` only when the whole table a check
    needs is missing (``services_known`` / ``documentation_known`` False).

    Parameters
    ----------
    agreements, services, documentation : DataFrame
        Typed tables.
    params : Params
        ``target_onboarding_sla_business_days``, ``target_onboarding_cap``.
    services_known, documentation_known : bool
        Whether those tables were present in the input.

    Returns
    -------
    DataFrame
        :data:`result.SCORECARD_COLUMNS`; ``clause_score`` = passed / checked
        (NaN when nothing could be checked).
    """
    ag = agreements.reset_index(drop=True)
    ids = as_text(ag["agreement_id"])
    n = len(ag)

    def txt(c: str) -> np.ndarray:
        return as_text(ag[c]).to_numpy(dtype=object, na_value=None) if c in ag else np.full(n, None)

    def num(c: str) -> np.ndarray:
        return as_float(ag[c]) if c in ag else np.full(n, np.nan)

    out = pd.DataFrame({"agreement_id": ids, "provider": as_text(ag["provider"])})
    out["all_location_coverage"] = _pf(
        (txt("scope") == "organization") & (txt("new_location_terms") == "automatic")
    )
    sla = num("onboarding_sla_business_days")
    out["onboarding_sla"] = _pf(
        ~np.isnan(sla) & (sla <= params.target_onboarding_sla_business_days)
    )
    cap = num("onboarding_cap")
    terms = txt("onboarding_terms")
    out["onboarding_cost_ceiling"] = _pf(
        (terms == "included")
        | ((terms == "capped") & ~np.isnan(cap) & (cap <= params.target_onboarding_cap))
    )
    out["automatic_monthly_reporting"] = _pf(txt("reporting") == "monthly_automatic")

    have = _specified_deliverables(documentation) if documentation_known else set()
    for d in schema.DELIVERABLES:
        col = f"hipaa_{d}"
        if documentation_known:
            out[col] = _pf(np.array([(a, d) in have for a in ids], dtype=bool))
        else:
            out[col] = UNKNOWN
    incl = _included_services(services) if services_known else set()
    for s in BASE_CHECK_SERVICES:
        col = f"base_{s}"
        if services_known:
            out[col] = _pf(np.array([(a, s) in incl for a in ids], dtype=bool))
        else:
            out[col] = UNKNOWN
    cot = (
        ag["change_of_ownership_termination"].astype("boolean").fillna(False).to_numpy(bool)
        if "change_of_ownership_termination" in ag
        else np.zeros(n, bool)
    )
    out["change_of_ownership_exit"] = _pf(cot)
    out["per_location_baa"] = _pf(txt("baa") == "per_location")

    checks = out[list(R.SCORECARD_CHECKS)].to_numpy(dtype=object)
    passed = (checks == PASS).sum(axis=1)
    checked = (checks != UNKNOWN).sum(axis=1)
    for c in R.SCORECARD_CHECKS:
        out[c] = out[c].astype("str")
    out["passed"] = passed.astype(np.int64)
    out["checked"] = checked.astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["clause_score"] = np.where(checked > 0, passed / np.maximum(checked, 1), np.nan)
    return out[list(R.SCORECARD_COLUMNS)]
