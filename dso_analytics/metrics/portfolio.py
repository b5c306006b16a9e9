"""M7 portfolio roll-up: the same headline figures for every DSO, side by side."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from dso_analytics.metrics.result import DsoMetrics

PORTFOLIO_COLUMNS = (
    "dso", "display_name", "currency", "as_of", "spend_t12m", "addon_t12m", "credits_to_claim",
    "onboarding_contractual_overspend", "onboarding_target_overspend", "clause_score",
    "nearest_notice_deadline", "nearest_notice_agreement", "leverage_score", "top_ask",
    "top_ask_impact_12m", "asks_impact_12m", "unclassified_lines",
)  # fmt: skip


def compute_portfolio(results: Sequence[DsoMetrics]) -> pd.DataFrame:
    """M7: one row per DSO with its headline figures (input order kept).

    Parameters
    ----------
    results : sequence of DsoMetrics

    Returns
    -------
    DataFrame
        :data:`PORTFOLIO_COLUMNS`; unknown figures are NaN / NaT.
    """
    rows = []
    for m in results:
        k = m.kpis
        top = m.asks.iloc[0] if len(m.asks) else None
        rows.append(
            {
                "dso": m.dso,
                "display_name": m.display_name,
                "currency": m.currency,
                "as_of": m.as_of,
                "spend_t12m": k["spend_t12m"],
                "addon_t12m": k["addon_t12m"],
                "credits_to_claim": np.nan
                if k["credits_to_claim"] is None
                else k["credits_to_claim"],
                "onboarding_contractual_overspend": np.nan
                if k["onboarding_contractual_overspend"] is None
                else k["onboarding_contractual_overspend"],
                "onboarding_target_overspend": k["onboarding_target_overspend"],
                "clause_score": np.nan if k["clause_score"] is None else k["clause_score"],
                "nearest_notice_deadline": k["nearest_notice_deadline"],
                "nearest_notice_agreement": k["nearest_notice_agreement"],
                "leverage_score": k["leverage_score"],
                "top_ask": None if top is None else top["ask"],
                "top_ask_impact_12m": np.nan if top is None else float(top["impact_12m"]),
                "asks_impact_12m": round(float(m.asks["impact_12m"].sum()), 2),
                "unclassified_lines": k["unclassified_lines"],
            }
        )
    out = pd.DataFrame(rows, columns=list(PORTFOLIO_COLUMNS))
    for c in ("as_of", "nearest_notice_deadline"):
        out[c] = pd.to_datetime(out[c])
    for c in ("dso", "display_name", "currency", "nearest_notice_agreement", "top_ask"):
        out[c] = out[c].astype("str")
    return out
