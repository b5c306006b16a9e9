"""M7 portfolio roll-up: the same headline figures for every DSO, side by side.

This is the one roll-up: the CLI, the portfolio notebook/HTML and the
portfolio workbook all read :func:`compute_portfolio` and
:func:`portfolio_totals`; every figure is a DSO's own ``kpis`` value (so a DSO
shows the same number in its report and in the portfolio).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from dso_analytics.metrics.headline import HEADLINE_MONEY
from dso_analytics.metrics.result import DsoMetrics

PORTFOLIO_COLUMNS = (
    "dso", "display_name", "currency", "as_of", *HEADLINE_MONEY, "clause_score",
    "nearest_notice_deadline", "nearest_notice_agreement", "leverage_score", "top_ask",
    "top_ask_impact_12m", "top_ask_recovery_all_time", "unclassified_lines",
)  # fmt: skip


def _num(v: object) -> float:
    return np.nan if v is None else float(v)  # type: ignore[arg-type]


def compute_portfolio(results: Sequence[DsoMetrics]) -> pd.DataFrame:
    """M7: one row per DSO with its headline figures (input order kept).

    Parameters
    ----------
    results : sequence of DsoMetrics

    Returns
    -------
    DataFrame
        :data:`PORTFOLIO_COLUMNS`; unknown figures are NaN / NaT.  The money
        columns are the DSO's ``kpis`` (see :data:`headline.HEADLINE`);
        ``top_ask`` is its rank-1 ask.
    """
    rows = []
    for m in results:
        k = m.kpis
        top = m.asks.sort_values("rank").iloc[0] if len(m.asks) else None
        row: dict[str, Any] = {
            "dso": m.dso,
            "display_name": m.display_name,
            "currency": m.currency,
            "as_of": m.as_of,
            **{c: _num(k.get(c)) for c in HEADLINE_MONEY},
            "clause_score": _num(k.get("clause_score")),
            "nearest_notice_deadline": k.get("nearest_notice_deadline"),
            "nearest_notice_agreement": k.get("nearest_notice_agreement"),
            "leverage_score": _num(k.get("leverage_score")),
            "top_ask": None if top is None else top["ask"],
            "top_ask_impact_12m": np.nan if top is None else float(top["impact_12m"]),
            "top_ask_recovery_all_time": np.nan if top is None else float(top["recovery_all_time"]),
            "unclassified_lines": k.get("unclassified_lines"),
        }
        rows.append(row)
    out = pd.DataFrame(rows, columns=list(PORTFOLIO_COLUMNS))
    for c in ("as_of", "nearest_notice_deadline"):
        out[c] = pd.to_datetime(out[c])
    for c in ("dso", "display_name", "currency", "nearest_notice_agreement", "top_ask"):
        out[c] = out[c].astype("str")
    for c in (*HEADLINE_MONEY, "clause_score", "leverage_score", "top_ask_impact_12m",
              "top_ask_recovery_all_time"):  # fmt: skip
        out[c] = out[c].astype("float64")
    return out


def portfolio_totals(roll: pd.DataFrame) -> dict[str, float | None]:
    """Portfolio totals of the headline money figures: the sum of the DSOs' figures.

    Summed in exact cents; a total is ``None`` (unknown) when any DSO's figure
    is unknown, and when the DSOs do not share one currency.

    Parameters
    ----------
    roll : DataFrame
        From :func:`compute_portfolio`.

    Returns
    -------
    dict
        One entry per :data:`headline.HEADLINE_MONEY` key.
    """
    one_currency = roll["currency"].nunique() <= 1
    out: dict[str, float | None] = {}
    for c in HEADLINE_MONEY:
        v = roll[c].to_numpy(float)
        ok = one_currency and not np.isnan(v).any()
        out[c] = round(int(np.rint(v * 100).sum()) / 100, 2) if ok else None
    return out
