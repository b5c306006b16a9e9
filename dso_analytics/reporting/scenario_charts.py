"""Plotly figures of the M8 scenario comparison (cumulative cost, tornado, clause scores).

Like :mod:`dso_analytics.reporting.charts`: frames in (from
:func:`dso_analytics.metrics.scenarios.compare_scenarios`), a figure out,
every text from the data (scenario names come from the DSO's file) escaped.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dso_analytics.reporting.charts import _base, _empty, _money_axis, esc

_PALETTE = ("#7f7f7f", "#2e8b57", "#1f77b4", "#d62728", "#9467bd", "#ff7f0e", "#8c564b")


def plot_cumulative_cost(
    monthly: pd.DataFrame, currency: str = "USD", title: str = "Cumulative cost, month by month"
) -> go.Figure:
    """One line per scenario: the cumulative cost month by month.

    Parameters
    ----------
    monthly : DataFrame
        ``ScenarioComparison.monthly`` (``scenario``, ``month_start``, ``cumulative``).

    Returns
    -------
    plotly.graph_objects.Figure
        One scatter trace per scenario, named after it (escaped).
    """
    fig = _base(title)
    if monthly.empty:
        return _empty(fig, "No scenario could be evaluated")
    for i, (name, g) in enumerate(monthly.groupby("scenario", sort=False)):
        fig.add_trace(
            go.Scatter(
                x=pd.to_datetime(g["month_start"]), y=g["cumulative"].to_numpy(float),
                mode="lines+markers", name=esc(name),
                line=dict(color=_PALETTE[i % len(_PALETTE)], width=3 if i < 2 else 2,
                          dash="dot" if i == 0 else "solid"),
                hovertemplate="%{x|%Y-%m}: %{y:,.2f}<extra>" + esc(name) + "</extra>",
            )
        )  # fmt: skip
    _money_axis(fig, currency)
    fig.update_layout(legend=dict(orientation="h", y=-0.2))
    return fig


def plot_tornado(
    tornado: pd.DataFrame, scenario: str, currency: str = "USD", title: str | None = None
) -> go.Figure:
    """Tornado of one scenario's term cost: each driver's low and high as bars around
    the cost as it is, largest swing on top.

    Parameters
    ----------
    tornado : DataFrame
        ``ScenarioComparison.tornado``.
    scenario : str
        Which scenario to draw.

    Returns
    -------
    plotly.graph_objects.Figure
        Two bar traces, ``"low"`` and ``"high"``, as differences from the base cost.
    """
    fig = _base(title or f"What moves the term cost: {scenario}")
    t = tornado[tornado["scenario"] == scenario] if not tornado.empty else tornado
    if t.empty:
        return _empty(fig, "No sensitivity for this scenario")
    t = t.sort_values("swing", ascending=True)
    base = float(t["base_cost"].iloc[0])
    labels = [
        f"{esc(lab)} ({lo:g} / {hi:g})"
        for lab, lo, hi in zip(t["label"], t["low_value"], t["high_value"], strict=True)
    ]
    for key, name, color in (("cost_low", "low", "#1f77b4"), ("cost_high", "high", "#d62728")):
        fig.add_trace(
            go.Bar(
                y=labels, x=t[key].to_numpy(float) - base, base=base, orientation="h",
                name=name, marker_color=color,
                hovertemplate="%{y}<br>term cost %{x:,.2f}<extra>" + name + "</extra>",
            )
        )  # fmt: skip
    fig.add_vline(x=base, line_dash="dot", line_color="#555")
    fig.update_layout(barmode="overlay", height=max(300, 120 + 45 * len(labels)),
                      margin=dict(l=280))  # fmt: skip
    _money_axis(fig, currency, axis="x")
    return fig


def plot_scenario_clause_scores(
    table: pd.DataFrame, title: str = "Clause score each scenario would reach (M4)"
) -> go.Figure:
    """Horizontal bars of each evaluated scenario's clause score (0-100%)."""
    fig = _base(title)
    ok = table[table["status"] == "ok"] if not table.empty else table
    ok = ok[ok["clause_score"].notna()] if not ok.empty else ok
    if ok.empty:
        return _empty(fig, "No clause score")
    fig.add_trace(
        go.Bar(
            y=[esc(n) for n in ok["scenario"]], x=ok["clause_score"].astype(float) * 100,
            orientation="h", marker_color="#2e8b57", name="clause score",
            texttemplate="%{x:.0f}%", textposition="auto",
            hovertemplate="%{y}: %{x:.0f}%<extra></extra>",
        )
    )  # fmt: skip
    fig.update_xaxes(range=[0, 100], ticksuffix="%")
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_layout(height=max(240, 110 + 40 * len(ok)), margin=dict(l=220))
    return fig


def plot_savings_grid(
    grid: pd.DataFrame, scenario: str, currency: str = "USD", title: str | None = None
) -> go.Figure:
    """Heatmap of a scenario's savings versus current terms over acquisitions per year
    (x) and workstation growth (y), at the agreements' own uplift and add-on run-rate.

    Parameters
    ----------
    grid : DataFrame
        From :func:`dso_analytics.reporting.scenario_view.savings_grid`.
    """
    fig = _base(title or f"Savings of {scenario} versus current terms (same months)")
    g = grid[(grid["uplift_points"] == 0) & (grid["addon_factor"] == 1.0)]
    if g.empty:
        return _empty(fig, "No grid")
    pivot = g.pivot_table(index="workstation_growth_pct", columns="acquisitions_per_year",
                          values="savings", aggfunc="first")  # fmt: skip
    fig.add_trace(
        go.Heatmap(
            z=pivot.to_numpy(float), x=[f"{x:g}" for x in pivot.columns],
            y=[f"{y:g}%" for y in pivot.index], colorscale="RdYlGn", zmid=0,
            hovertemplate="acquisitions %{x}/yr, growth %{y}: %{z:,.2f}<extra></extra>",
            colorbar=dict(title=esc(currency)),
        )
    )  # fmt: skip
    fig.update_xaxes(title_text="acquisitions per year", type="category")
    fig.update_yaxes(title_text="workstation growth per year", type="category")
    return fig
