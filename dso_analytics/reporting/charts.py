"""Plotly figures of computed metrics frames.

Every ``plot_*`` function takes frames already computed by
:mod:`dso_analytics.metrics` (see :mod:`dso_analytics.metrics.result` for
their columns), never reads files, never computes a metric, and returns a
:class:`plotly.graph_objects.Figure`.

Text that comes from the data (provider names, location names, descriptions,
agreement ids) is untrusted: plotly interprets a subset of HTML in titles,
hover text, trace names and tick labels, so every such string goes through
:func:`esc` (``html.escape``) first.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

import numpy as np
import pandas as pd
import plotly.graph_objects as go

#: Check outcome -> heatmap value.
SCORE_VALUES = {"fail": 0.0, "unknown": 0.5, "pass": 1.0}
_SCORE_COLORS = [
    [0.0, "#d9534f"], [0.33, "#d9534f"],
    [0.33, "#bdbdbd"], [0.66, "#bdbdbd"],
    [0.66, "#2e8b57"], [1.0, "#2e8b57"],
]  # fmt: skip
#: Check outcome -> the mark drawn in its cell (colour is not the only cue).
_SCORE_MARKS = {"pass": "✓", "fail": "✗", "unknown": "?"}
_LAYOUT = dict(
    template="plotly_white",
    margin=dict(l=60, r=30, t=60, b=50),
    height=420,
    font=dict(family="DejaVu Sans, Arial, sans-serif", size=12),
)
ADDON_KIND_LABELS = {
    "billed_despite_included": "billed despite included (credit)",
    "contractual_add_on": "contractual add-on (leverage)",
}


def esc(value: object) -> str:
    """Return ``value`` as text safe for plotly labels (HTML-escaped; missing -> "")."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return html.escape(str(value), quote=True)


def _esc_all(values: Iterable[object]) -> list[str]:
    return [esc(v) for v in values]


def _money_axis(fig: go.Figure, currency: str = "USD", axis: str = "y") -> None:
    prefix = "$" if currency == "USD" else ""
    upd = dict(tickprefix=prefix, tickformat=",.0f", title_text=f"{esc(currency)}")
    if axis == "y":
        fig.update_yaxes(**upd)
    else:
        fig.update_xaxes(**upd)


def _empty(fig: go.Figure, message: str) -> go.Figure:
    fig.add_annotation(
        text=esc(message), showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5,
        font=dict(size=14, color="#666"),
    )  # fmt: skip
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def _base(title: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(title_text=esc(title), **_LAYOUT)
    return fig


def plot_addon_by_service_month(
    addon_by_month: pd.DataFrame, currency: str = "USD", title: str = "Add-on spend by service"
) -> go.Figure:
    """Stacked monthly bars of add-on charges, one trace per service.

    Parameters
    ----------
    addon_by_month : DataFrame
        ``month, service, addon_kind, amount`` (``ADDON_BY_MONTH_COLUMNS``), e.g.
        ``"2026-01", "cross_location_incidents", "contractual_add_on", 250.0``.
    currency : str
        Axis label.
    title : str
        Figure title (escaped).

    Returns
    -------
    plotly.graph_objects.Figure
        One bar trace per service (named by its readable label), stacked.
    """
    from dso_analytics.reporting.labels import label

    fig = _base(title)
    if addon_by_month.empty:
        return _empty(fig, "No add-on charges")
    df = addon_by_month.groupby(["month", "service"], as_index=False)["amount"].sum()
    months = sorted(df["month"].astype(str).unique())
    for service, part in df.groupby("service", sort=True):
        s = part.set_index(part["month"].astype(str))["amount"].reindex(months)
        name = esc(label(service))
        fig.add_trace(
            go.Bar(
                x=_esc_all(months), y=s.to_numpy(), name=name,
                hovertemplate="%{x}<br>" + name + ": %{y:,.2f}<extra></extra>",
            )
        )  # fmt: skip
    fig.update_layout(barmode="stack", xaxis_title_text="month", xaxis_type="category")
    _money_axis(fig, currency)
    return fig


def plot_spend_by_month(
    spend_by_month: pd.DataFrame, currency: str = "USD", title: str = "Spend by month"
) -> go.Figure:
    """Monthly spend bars.

    Parameters
    ----------
    spend_by_month : DataFrame
        ``month, amount`` (``SPEND_BY_MONTH_COLUMNS``), e.g. ``"2026-01", 2650.0``.

    Returns
    -------
    plotly.graph_objects.Figure
        One bar trace named ``"Spend"``.
    """
    fig = _base(title)
    if spend_by_month.empty:
        return _empty(fig, "No billing lines")
    fig.add_trace(
        go.Bar(
            x=_esc_all(spend_by_month["month"]), y=spend_by_month["amount"].to_numpy(),
            name="Spend", marker_color="#4c72b0",
            hovertemplate="%{x}: %{y:,.2f}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_layout(xaxis_type="category", xaxis_title_text="month")
    _money_axis(fig, currency)
    return fig


def onboarded_under_agreement(onboarding: pd.DataFrame) -> pd.DataFrame:
    """Return the onboarding rows of locations onboarded under an agreement.

    Locations that joined before any agreement (no governing agreement) were
    never onboarded by the provider under contract terms: they are left out
    of the onboarding chart and counted apart in its sentence.
    """
    if onboarding.empty or "governing_agreement_id" not in onboarding:
        return onboarding
    gov = onboarding["governing_agreement_id"].astype("object")
    keep = gov.notna() & (gov.astype(str).str.strip() != "")
    return onboarding[keep.to_numpy(bool)]


def plot_onboarding(
    onboarding: pd.DataFrame, currency: str = "USD", title: str = "Onboarding billed vs caps"
) -> go.Figure:
    """Onboarding billed per location against its contractual allowance and the target cap.

    Only locations onboarded under an agreement are drawn
    (:func:`onboarded_under_agreement`), as horizontal bars sorted by the
    amount billed (largest first); the figure grows with the number of
    locations so labels never overlap (60 locations stay readable).

    Parameters
    ----------
    onboarding : DataFrame
        ``ONBOARDING_COLUMNS``; uses ``location_id, location_name,
        governing_agreement_id, billed, contractual_allowance, target_cap``.
        An unknown allowance (hourly / quote terms) has no marker.

    Returns
    -------
    plotly.graph_objects.Figure
        Traces ``"Billed"`` (bars), ``"Contractual allowance"`` and ``"Target cap"``
        (markers).
    """
    fig = _base(title)
    df = onboarded_under_agreement(onboarding)
    if df.empty:
        return _empty(fig, "No location onboarded under an agreement")
    df = df.assign(_b=df["billed"].astype(float)).sort_values(
        ["_b", "location_id"], ascending=[False, True], kind="mergesort"
    )
    labels = [
        f"{esc(_short(n, 30))} ({esc(i)})" if esc(n) else esc(i)
        for i, n in zip(df["location_id"], df["location_name"], strict=True)
    ]
    billed = df["billed"].to_numpy(dtype=float)
    fig.add_trace(
        go.Bar(y=labels, x=billed, name="Billed", orientation="h", marker_color="#4c72b0",
               texttemplate="%{x:$,.0f}" if currency == "USD" else "%{x:,.0f}",
               textposition="inside", insidetextanchor="end",
               hovertemplate="%{y}<br>billed %{x:,.2f}<extra></extra>")
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            y=labels, x=df["contractual_allowance"].to_numpy(dtype=float),
            name="Contractual allowance", mode="markers",
            marker=dict(symbol="line-ns-open", size=18, line=dict(width=4, color="#dd8452")),
            hovertemplate="%{y}<br>contractual allowance %{x:,.2f}<extra></extra>",
        )
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            y=labels, x=df["target_cap"].to_numpy(dtype=float), name="Target cap",
            mode="markers",
            marker=dict(symbol="line-ns-open", size=18, line=dict(width=4, color="#2e8b57")),
            hovertemplate="%{y}<br>target cap %{x:,.2f}<extra></extra>",
        )
    )  # fmt: skip
    n = len(labels)
    fig.update_layout(
        height=max(260, 150 + 24 * n), margin=dict(l=260, r=30, t=60, b=50),
        legend=dict(orientation="h", x=0, y=1.0, yanchor="bottom", yref="paper"),
        title=dict(y=1.0, yanchor="top", yref="container", pad=dict(t=10)),
        bargap=0.25,
    )  # fmt: skip
    fig.update_yaxes(autorange="reversed", type="category", automargin=False)
    _money_axis(fig, currency, axis="x")
    return fig


def plot_scorecard(scorecard: pd.DataFrame, title: str = "Clause scorecard") -> go.Figure:
    """Heatmap of agreements (rows) by clause checks (columns): pass / fail / unknown.

    The figure is sized from the number of agreements and checks (1 to 60
    agreements stay readable), the checks carry readable labels
    (:func:`dso_analytics.reporting.labels.label`) on top, and a legend names
    the three colours.

    Parameters
    ----------
    scorecard : DataFrame
        ``SCORECARD_COLUMNS``: ``agreement_id, provider``, one column per check
        holding ``"pass"``, ``"fail"`` or ``"unknown"``, then ``passed, checked,
        clause_score``.

    Returns
    -------
    plotly.graph_objects.Figure
        One heatmap trace named ``"Clause checks"`` (n_agreements x n_checks
        cells) and three legend-only traces ``"pass"``, ``"fail"``, ``"unknown"``.
    """
    from dso_analytics.metrics.result import SCORECARD_CHECKS
    from dso_analytics.reporting.labels import label

    fig = _base(title)
    if scorecard.empty:
        return _empty(fig, "No agreements")
    checks = [c for c in SCORECARD_CHECKS if c in scorecard.columns]
    outcomes = scorecard[checks].astype("object").where(scorecard[checks].notna(), "unknown")
    outcomes = outcomes.astype(str)
    z = outcomes.apply(lambda col: col.map(SCORE_VALUES)).fillna(0.5).to_numpy(dtype=float)
    rows = [
        f"{esc(a)} ({esc(_short(p, 28))})" if esc(p) else esc(a)
        for a, p in zip(scorecard["agreement_id"], scorecard["provider"], strict=True)
    ]
    # duplicate labels would merge heatmap rows: number them
    seen: dict[str, int] = {}
    for i, r in enumerate(rows):
        seen[r] = seen.get(r, 0) + 1
        if seen[r] > 1:
            rows[i] = f"{r} #{seen[r]}"
    xlabels = [esc(label(c)) for c in checks]
    n = len(rows)
    cell = 34 if n <= 12 else (22 if n <= 30 else 16)
    marks = outcomes.apply(lambda col: col.map(_SCORE_MARKS)).fillna("?").to_numpy()
    fig.add_trace(
        go.Heatmap(
            z=z, x=xlabels, y=rows, text=marks, customdata=outcomes.to_numpy(),
            texttemplate="%{text}", textfont=dict(size=14 if n <= 12 else 10, color="#fff"),
            name="Clause checks",
            colorscale=_SCORE_COLORS, zmin=0, zmax=1, showscale=False,
            xgap=2, ygap=2, hovertemplate="%{y}<br>%{x}: %{customdata}<extra></extra>",
        )
    )  # fmt: skip
    for outcome, color in (("pass", "#2e8b57"), ("fail", "#d9534f"), ("unknown", "#bdbdbd")):
        fig.add_trace(
            go.Scatter(
                x=[None], y=[None], mode="markers", showlegend=True,
                name=f"{_SCORE_MARKS[outcome]} {outcome}",
                marker=dict(symbol="square", size=14, color=color),
            )
        )  # fmt: skip
    top = 230  # rotated check labels on top
    fig.update_layout(
        height=top + 80 + cell * n,
        width=None,
        margin=dict(l=260, r=140, t=top, b=70),
        legend=dict(orientation="h", x=0, xanchor="left", y=-12 / (cell * n), yanchor="top"),
        title=dict(y=0.99, yanchor="top", yref="container"),
        plot_bgcolor="#ffffff",
    )
    fig.update_xaxes(tickangle=-50, side="top", showgrid=False, automargin=False)
    fig.update_yaxes(autorange="reversed", type="category", showgrid=False)
    return fig


def plot_renewal_timeline(
    renewals: pd.DataFrame, as_of: pd.Timestamp, title: str = "Renewal timeline"
) -> go.Figure:
    """Agreement terms as horizontal bars, notice deadlines as markers, and the as-of date.

    Parameters
    ----------
    renewals : DataFrame
        ``RENEWAL_COLUMNS``; uses ``agreement_id, provider, start_date,
        current_term_end, notice_deadline, next_notice_deadline, expiry, bucket``.
    as_of : Timestamp
        Drawn as a vertical dashed line.

    Returns
    -------
    plotly.graph_objects.Figure
        Traces ``"Contract term"`` (lines), ``"Notice deadline"`` and
        ``"Next notice deadline"`` (markers; only when some window was missed) and
        ``"Expiry (does not auto-renew)"`` (markers; only for non-renewing agreements).
    """
    fig = _base(title)
    if renewals.empty:
        return _empty(fig, "No agreements")
    rows = [
        f"{esc(a)} ({esc(p)})" if esc(p) else esc(a)
        for a, p in zip(renewals["agreement_id"], renewals["provider"], strict=True)
    ]
    xs: list[object] = []
    ys: list[object] = []
    for label, start, end in zip(
        rows, renewals["start_date"], renewals["current_term_end"], strict=True
    ):
        xs += [start, end, None]
        ys += [label, label, None]
    fig.add_trace(
        go.Scatter(x=xs, y=ys, mode="lines", name="Contract term",
                   line=dict(width=14, color="#9fb8d9"), hoverinfo="skip")
    )  # fmt: skip
    colors = {"missed": "#d9534f", "<=30": "#f0ad4e", "31-90": "#f7d358", ">90": "#2e8b57"}
    buckets = renewals["bucket"].astype("str").fillna("")
    fig.add_trace(
        go.Scatter(
            x=renewals["notice_deadline"], y=rows, mode="markers", name="Notice deadline",
            marker=dict(symbol="diamond", size=14, line=dict(width=1, color="#333"),
                        color=[colors.get(b, "#888") for b in buckets]),
            text=_esc_all(buckets),
            hovertemplate="%{y}<br>notice by %{x|%Y-%m-%d} (%{text})<extra></extra>",
        )
    )  # fmt: skip
    exp = renewals["expiry"] if "expiry" in renewals else pd.Series(pd.NaT, index=renewals.index)
    if exp.notna().any():  # non-renewing agreements: an expiry, not a notice deadline
        fig.add_trace(
            go.Scatter(
                x=exp, y=rows, mode="markers", name="Expiry (does not auto-renew)",
                marker=dict(symbol="square", size=12, line=dict(width=1, color="#333"),
                            color=[colors.get(b, "#888") for b in buckets]),
                text=_esc_all(buckets),
                hovertemplate="%{y}<br>expires %{x|%Y-%m-%d} (%{text})<extra></extra>",
            )
        )  # fmt: skip
    nxt = renewals["next_notice_deadline"]
    if nxt.notna().any():
        fig.add_trace(
            go.Scatter(
                x=nxt, y=rows, mode="markers", name="Next notice deadline",
                marker=dict(symbol="diamond-open", size=14, color="#d9534f"),
                hovertemplate="%{y}<br>next notice by %{x|%Y-%m-%d}<extra></extra>",
            )
        )  # fmt: skip
    fig.add_shape(
        type="line", x0=as_of, x1=as_of, y0=0, y1=1, xref="x", yref="paper",
        line=dict(dash="dash", color="#333"),
    )  # fmt: skip
    fig.add_annotation(
        x=as_of, y=1, xref="x", yref="paper", text=f"as of {as_of:%Y-%m-%d}",
        showarrow=False, yanchor="bottom",
    )  # fmt: skip
    fig.update_layout(height=max(260, 140 + 50 * len(rows)), margin=dict(l=200))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="date")
    return fig


def plot_asks(
    asks: pd.DataFrame, currency: str = "USD", title: str = "Negotiation asks", top: int = 15
) -> go.Figure:
    """Ranked negotiation asks as horizontal bars of their 12-month dollar impact.

    Parameters
    ----------
    asks : DataFrame
        ``rank, ask, clause, agreement_id, evidence, impact_12m`` (``ASK_COLUMNS``).
        Asks whose impact is unknown or zero are not drawn (they stay in the table).
    top : int
        Draw at most this many asks (the largest, in rank order).

    Returns
    -------
    plotly.graph_objects.Figure
        One bar trace named ``"12-month impact"``.
    """
    from dso_analytics.reporting.labels import humanize

    fig = _base(title)
    rec = (
        asks["recovery_all_time"].fillna(0)
        if "recovery_all_time" in asks
        else pd.Series(0.0, index=asks.index)
    )
    known = asks[(asks["impact_12m"].fillna(0) > 0) | (rec > 0)] if not asks.empty else asks
    if known.empty:
        return _empty(fig, "No asks with a dollar impact")
    known = known.sort_values("rank")
    if len(known) > top:
        known = known.head(top)
        fig.update_layout(title_text=f"{esc(title)}: top {top} by 12-month impact")
    labels = [
        f"{int(r)}. {esc(_short(humanize(str(a))))}"
        for r, a in zip(known["rank"], known["ask"], strict=True)
    ]
    fig.add_trace(
        go.Bar(
            y=labels, x=known["impact_12m"].to_numpy(dtype=float), orientation="h",
            name="12-month impact", marker_color="#2e8b57",
            customdata=_esc_all(known["agreement_id"]),
            hovertemplate="%{y}<br>%{customdata}: %{x:,.2f} next 12 months<extra></extra>",
            texttemplate="%{x:$,.0f}", textposition="auto",
        )
    )  # fmt: skip
    krec = rec.reindex(known.index).to_numpy(dtype=float)
    if (krec > 0).any():
        fig.add_trace(
            go.Bar(
                y=labels, x=krec, orientation="h",
                name="one-off recovery (all-time to as-of)", marker_color="#d9534f",
                customdata=_esc_all(known["agreement_id"]),
                hovertemplate="%{y}<br>%{customdata}: %{x:,.2f} one-off<extra></extra>",
                texttemplate="%{x:$,.0f}", textposition="auto",
            )
        )  # fmt: skip
        fig.update_layout(barmode="stack")
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_layout(height=max(260, 120 + 40 * len(labels)), margin=dict(l=320))
    _money_axis(fig, currency, axis="x")
    return fig


def _short(text: object, width: int = 60) -> str:
    s = "" if text is None or (not isinstance(text, str) and pd.isna(text)) else str(text)
    return s if len(s) <= width else s[: width - 1] + "…"


def plot_leverage(
    leverage: pd.DataFrame, currency: str = "USD", title: str = "Price per workstation"
) -> go.Figure:
    """Effective managed-services price per workstation per month against the market band.

    Parameters
    ----------
    leverage : DataFrame
        ``LEVERAGE_COLUMNS``; uses ``agreement_id, provider,
        effective_workstation_monthly, benchmark_low, benchmark_high, baseline_date,
        locations_at_start, locations_now``.

    Returns
    -------
    plotly.graph_objects.Figure
        One bar trace named ``"Effective per workstation / month"``; the band is
        a shaded shape.
    """
    fig = _base(title)
    if leverage.empty:
        return _empty(fig, "No agreements")
    labels = [
        f"{esc(a)} ({esc(p)})" if esc(p) else esc(a)
        for a, p in zip(leverage["agreement_id"], leverage["provider"], strict=True)
    ]
    base = (
        pd.to_datetime(leverage["baseline_date"])
        if "baseline_date" in leverage
        else pd.Series(pd.NaT, index=leverage.index)
    )
    growth = [
        f"locations {esc(s)}"
        + (f" when the terms were set ({b:%Y-%m-%d})" if pd.notna(b) else "")
        + f" → {esc(n)} now"
        for s, n, b in zip(
            leverage["locations_at_start"], leverage["locations_now"], base, strict=True
        )
    ]
    values = leverage["effective_workstation_monthly"].to_numpy(dtype=float)
    # more than 8 agreements: horizontal bars, so the labels never overlap
    horizontal = len(labels) > 8
    value_axis, cat_axis = ("x", "y") if horizontal else ("y", "x")
    fmt = "$,.2f" if currency == "USD" else ",.2f"
    fig.add_trace(
        go.Bar(
            **{cat_axis: labels, value_axis: values},
            orientation="h" if horizontal else "v",
            name="Effective per workstation / month", marker_color="#4c72b0",
            customdata=growth,
            hovertemplate=f"%{{{cat_axis}}}<br>%{{{value_axis}:,.2f}}<br>%{{customdata}}<extra></extra>",
            texttemplate=f"%{{{value_axis}:{fmt}}}", textposition="outside", cliponaxis=False,
        )
    )  # fmt: skip
    low = leverage["benchmark_low"].dropna()
    high = leverage["benchmark_high"].dropna()
    top = float(np.nanmax(values, initial=0.0)) if np.isfinite(values).any() else 0.0
    if len(low) and len(high):
        lo, hi = float(low.iloc[0]), float(high.iloc[0])
        prefix = "$" if currency == "USD" else ""
        band = dict(fillcolor="#2e8b57", opacity=0.12, line_width=0)
        if horizontal:
            fig.add_vrect(x0=lo, x1=hi, **band)
        else:
            fig.add_hrect(y0=lo, y1=hi, **band)
        for v, word in ((lo, "market band low"), (hi, "market band high")):
            line = dict(
                line=dict(color="#2e8b57", width=2, dash="dash"),
                annotation_text=f"{word}: {prefix}{v:,.0f}",
                annotation_font=dict(color="#1e6b40"),
            )
            if horizontal:
                side = "top left" if word.endswith("low") else "top right"
                fig.add_vline(x=v, annotation_position=side, **line)
            else:
                fig.add_hline(y=v, annotation_position="top right", **line)
        top = max(top, hi)
    if top > 0:
        fig.update_layout({f"{value_axis}axis": dict(range=[0, top * 1.18])})
    if horizontal:
        fig.update_layout(height=max(260, 160 + 24 * len(labels)), margin=dict(l=260, t=90))
        fig.update_yaxes(type="category", autorange="reversed")
    else:
        fig.update_layout(xaxis_type="category")
    _money_axis(fig, currency, axis=value_axis)
    return fig


def plot_portfolio_comparison(
    roll: pd.DataFrame, currency: str = "USD", title: str = "Portfolio: spend and leverage"
) -> go.Figure:
    """Headline money figures of every DSO side by side (grouped bars).

    Parameters
    ----------
    roll : DataFrame
        One row per DSO with ``dso`` (and optionally ``display_name``) plus any
        of ``spend_t12m, addon_t12m, credits_to_claim, onboarding_target_overspend``.

    Returns
    -------
    plotly.graph_objects.Figure
        One bar trace per money column present.
    """
    fig = _base(title)
    if roll.empty:
        return _empty(fig, "No DSOs")
    names = _dso_labels(roll)
    cols = {
        "spend_t12m": "Spend (T12M)",
        "addon_t12m": "Add-on charges (T12M)",
        "credits_to_claim": "Credits to claim (all-time to as-of)",
        "onboarding_target_overspend": "Onboarding overspend vs target (all-time to as-of)",
    }
    for col, label in cols.items():
        if col in roll.columns:
            fig.add_trace(go.Bar(x=names, y=roll[col].to_numpy(dtype=float), name=label))
    fig.update_layout(barmode="group", xaxis_type="category")
    _money_axis(fig, currency)
    return fig


def plot_portfolio_clause_scores(
    roll: pd.DataFrame, title: str = "Portfolio: clause score"
) -> go.Figure:
    """Clause score (0-100 %) of every DSO.

    Parameters
    ----------
    roll : DataFrame
        One row per DSO with ``dso`` and ``clause_score`` (0..1).

    Returns
    -------
    plotly.graph_objects.Figure
        One bar trace named ``"Clause score"``.
    """
    fig = _base(title)
    if roll.empty or "clause_score" not in roll.columns:
        return _empty(fig, "No clause scores")
    fig.add_trace(
        go.Bar(x=_dso_labels(roll), y=roll["clause_score"].to_numpy(dtype=float),
               name="Clause score", marker_color="#8172b2",
               hovertemplate="%{x}: %{y:.0%}<extra></extra>")
    )  # fmt: skip
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    fig.update_layout(xaxis_type="category")
    return fig


def _dso_labels(roll: pd.DataFrame) -> list[str]:
    col = "display_name" if "display_name" in roll.columns else "dso"
    return _esc_all(roll[col])
