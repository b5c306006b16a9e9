"""The headline figures: one list, one label (with its window) per figure.

Every output that shows headline figures (HTML KPI cards, the workbook KPI
sheet, the metrics JSON ``headline``, the terminal table and the portfolio
views) reads them from :func:`headline`, so a figure has one value and one
label everywhere.
"""

from __future__ import annotations

from typing import Any

from dso_analytics.metrics.result import DsoMetrics

T12M = "T12M"
ALL_TIME = "all-time to as-of"
NEXT_12M = "next 12 months"

#: (kpi key, label with its window, kind, window) in display order
HEADLINE: tuple[tuple[str, str, str, str | None], ...] = (
    ("spend_t12m", "Spend (T12M)", "money", T12M),
    ("spend_all_time", "Spend (all-time to as-of)", "money", ALL_TIME),
    ("addon_t12m", "Add-on charges (T12M)", "money", T12M),
    ("credits_to_claim", "Credits to claim (all-time to as-of)", "money", ALL_TIME),
    ("onboarding_contractual_overspend",
     "Onboarding billed above contract (all-time to as-of)", "money", ALL_TIME),
    ("onboarding_target_overspend",
     "Onboarding overspend vs target cap (all-time to as-of)", "money", ALL_TIME),
    ("asks_impact_12m", "Negotiation asks (next 12 months)", "money", NEXT_12M),
    ("leverage_score", "Leverage score (0-100)", "number", None),
    ("clause_score", "Clause score", "pct", None),
    ("nearest_notice_deadline", "Nearest notice deadline", "date", None),
)  # fmt: skip

#: the money figures of :data:`HEADLINE` (summed in the portfolio totals)
HEADLINE_MONEY: tuple[str, ...] = tuple(k for k, _, kind, _ in HEADLINE if kind == "money")

LABELS: dict[str, str] = {k: label for k, label, _, _ in HEADLINE}


def headline(m: DsoMetrics) -> list[dict[str, Any]]:
    """The headline figures of one DSO, in display order.

    Parameters
    ----------
    m : DsoMetrics

    Returns
    -------
    list of dict
        ``key``, ``label`` (with its window), ``kind`` (money / number / pct /
        date), ``window`` (``T12M``, ``all-time to as-of``, ``next 12 months`` or
        ``None``) and ``value`` (``None`` when unknown).
    """
    return [
        {"key": k, "label": label, "kind": kind, "window": win, "value": m.kpis.get(k)}
        for k, label, kind, win in HEADLINE
    ]
