"""Metric frames of any size (1 to 60 agreements / locations) for chart-shape tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dso_analytics.metrics.result import SCORECARD_CHECKS

OUTCOMES = ("pass", "fail", "unknown")


def scorecard(n: int) -> pd.DataFrame:
    """``n`` agreements, every check filled (pass / fail / unknown cycling)."""
    rows = []
    for i in range(n):
        row = {"agreement_id": f"AG-{i + 1:02d}", "provider": f"Provider {i % 5}"}
        for j, c in enumerate(SCORECARD_CHECKS):
            row[c] = OUTCOMES[(i + j) % 3]
        row.update(passed=6, checked=13, clause_score=6 / 13)
        rows.append(row)
    return pd.DataFrame(rows)


def onboarding(n: int, founding: int = 3) -> pd.DataFrame:
    """``n`` locations onboarded under AG-01 plus ``founding`` that joined before it."""
    rows = []
    for i in range(n + founding):
        under = i >= founding
        rows.append(
            {
                "location_id": f"LOC-{i + 1:03d}",
                "location_name": f"Smile Studio Number {i + 1}",
                "governing_agreement_id": "AG-01" if under else pd.NA,
                "billed": float(5000 + 137 * i) if under else 0.0,
                "contractual_allowance": 7500.0 if under and i % 4 else float("nan"),
                "target_cap": 6000.0,
            }
        )
    return pd.DataFrame(rows)


def leverage(n: int) -> pd.DataFrame:
    """``n`` agreements with a price per workstation and the market band 100-200."""
    return pd.DataFrame(
        {
            "agreement_id": [f"AG-{i + 1:02d}" for i in range(n)],
            "provider": [f"Provider {i % 5}" for i in range(n)],
            "effective_workstation_monthly": [120.0 + 7 * i for i in range(n)],
            "benchmark_low": 100.0,
            "benchmark_high": 200.0,
            "baseline_date": pd.Timestamp("2024-01-01"),
            "locations_at_start": 3,
            "locations_now": 5,
        }
    )


def write_page(path: Path, sizes: tuple[int, ...]) -> Path:
    """One offline HTML page: scorecard, onboarding and price chart for every size."""
    from dso_analytics.reporting import charts
    from dso_analytics.reporting.html import plotlyjs_head

    parts = []
    for n in sizes:
        for fig in (
            charts.plot_scorecard(scorecard(n)),
            charts.plot_onboarding(onboarding(n)),
            charts.plot_leverage(leverage(n)),
        ):
            parts.append(fig.to_html(full_html=False, include_plotlyjs=False))
    path.write_text(
        "<!doctype html><html><head><meta charset='utf-8'>"
        + plotlyjs_head()
        + "</head><body style='max-width:1180px'>"
        + "\n".join(parts)
        + "</body></html>",
        encoding="utf-8",
    )
    return path
