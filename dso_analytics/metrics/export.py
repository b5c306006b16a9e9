"""The metrics JSON (metrics.md "The metrics JSON") and the terminal tables."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from dso_analytics.errors import printable
from dso_analytics.metrics.headline import HEADLINE, LABELS, headline
from dso_analytics.metrics.portfolio import portfolio_totals
from dso_analytics.metrics.result import DsoMetrics


def _v(x: Any) -> Any:
    """A JSON-ready scalar: NaN/NA -> None, dates ISO, numpy -> Python, money to cents."""
    if x is None:
        return None
    if isinstance(x, (pd.Timestamp, np.datetime64)):
        return None if pd.isna(x) else pd.Timestamp(x).date().isoformat()
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return None if math.isnan(float(x)) else round(float(x), 6)
    try:
        if pd.isna(x):
            return None
    except (TypeError, ValueError):
        pass
    return x


def _records(df: pd.DataFrame, cols: Sequence[str] | None = None) -> list[dict[str, Any]]:
    d = df if cols is None else df[list(cols)]
    return [
        {c: _v(v) for c, v in zip(d.columns, row, strict=True)} for row in d.itertuples(index=False)
    ]


def _by(df: pd.DataFrame, key: str, val: str) -> dict[str, Any]:
    return {str(k): _v(v) for k, v in zip(df[key], df[val], strict=True)}


def _agreement_records(m: DsoMetrics) -> list[dict[str, Any]]:
    """One record per agreement: its renewal dates, clause score and leverage figures."""
    sc = m.scorecard.set_index("agreement_id")
    by_agreement = m.leverage.set_index("agreement_id")

    def lev(a: str, column: str) -> Any:
        return _v(by_agreement.at[a, column]) if a in by_agreement.index else None

    agreements = []
    for r in m.renewals.itertuples(index=False):
        a = r.agreement_id
        agreements.append(
            {
                "agreement_id": a,
                "provider": _v(r.provider),
                "scope": _v(r.scope),
                "clause_score": _v(sc.at[a, "clause_score"]) if a in sc.index else None,
                "status": _v(r.status),
                "current_term_end": _v(r.current_term_end),
                "notice_deadline": _v(r.notice_deadline),
                "days_to_notice_deadline": _v(r.days_to_notice_deadline),
                "notice_window_missed": _v(r.notice_window_missed),
                "next_notice_deadline": _v(r.next_notice_deadline),
                "expiry": _v(r.expiry),
                "days_to_expiry": _v(r.days_to_expiry),
                "bucket": _v(r.bucket),
                "baseline_date": lev(a, "baseline_date"),
                "locations_at_start": lev(a, "locations_at_start"),
                "locations_now": lev(a, "locations_now"),
                "effective_workstation_monthly": lev(a, "effective_workstation_monthly"),
                "leverage_score": lev(a, "leverage_score"),
            }
        )
    return agreements


def _renewal_buckets(m: DsoMetrics) -> dict[str, list[str]]:
    """Renewal bucket -> the agreements in it (file order)."""
    buckets: dict[str, list[str]] = {}
    for a, b in zip(m.renewals["agreement_id"], m.renewals["bucket"], strict=True):
        buckets.setdefault(str(b), []).append(str(a))
    return buckets


def metrics_to_dict(m: DsoMetrics) -> dict[str, Any]:
    """The metrics JSON of one DSO (amounts as numbers, dates ISO, unknown None).

    Parameters
    ----------
    m : DsoMetrics

    Returns
    -------
    dict
        At least the keys of metrics.md "The metrics JSON", plus ``kpis``,
        spend by service / location / month, add-ons by location, the renewal
        buckets, leverage, scorecard, pipeline, params and notes.
    """
    bs = m.addon_by_service
    bst = bs.groupby("service")["t12m"].sum().round(2)
    agreements = _agreement_records(m)
    buckets = _renewal_buckets(m)
    return {
        "dso": m.dso,
        "display_name": m.display_name,
        "currency": m.currency,
        "as_of": _v(m.as_of),
        "t12m_start_exclusive": _v(m.t12m_start),
        "params": m.params.to_dict(),
        "spend": {
            "t12m": _v(m.spend_total["t12m"]),
            "all_time": _v(m.spend_total["all_time"]),
            "by_service_t12m": _by(m.spend_by_service, "key", "t12m"),
            "by_location_t12m": _by(m.spend_by_location, "key", "t12m"),
            "by_agreement_t12m": _by(m.spend_by_agreement, "key", "t12m"),
            "by_month": _by(m.spend_by_month, "month", "amount"),
        },
        "addon": {
            **{k: {p: _v(v) for p, v in d.items()} for k, d in m.addon_summary.items()},
            "by_service_t12m": {str(k): _v(v) for k, v in bst.items()},
            "by_service": _records(m.addon_by_service),
            "by_location": _records(m.addon_by_location),
        },
        "onboarding": _records(m.onboarding),
        "pipeline": _records(m.pipeline),
        "agreements": agreements,
        "scorecard": _records(m.scorecard),
        "renewal_buckets": buckets,
        "leverage": _records(m.leverage),
        "leverage_total": {k: _v(v) for k, v in m.leverage_total.items()},
        "kpis": {k: _v(v) for k, v in m.kpis.items()},
        "headline": [{**h, "value": _v(h["value"])} for h in headline(m)],
        "unclassified_lines": int(len(m.unclassified)),
        "unclassified": _records(
            m.unclassified.head(200),
            ["source_file", "source_row", "invoice_date", "description", "amount"],
        ),
        "ungoverned_lines": int(len(m.ungoverned)),
        "negotiation_asks": _records(m.asks),
        "terms_to_fix": _records(m.terms_to_fix),
        "credits_to_claim_lines": _records(m.credits),
        "findings": _records(m.findings),
        "notes": list(m.notes),
        "as_of_warning": m.as_of_warning,
    }


def _money(x: Any) -> str:
    v = _v(x)
    return "unknown" if v is None else f"{v:,.2f}"


def _terms(value: Any) -> str:
    return value if isinstance(value, str) else "no agreement"


def format_metrics_table(m: DsoMetrics) -> str:
    """A readable terminal summary of one DSO's metrics."""
    k = m.kpis
    cs = "unknown" if k["clause_score"] is None else f"{k['clause_score']:.0%}"
    out = [
        f"{m.display_name} ({m.dso}) - as of {m.as_of.date()}  [{m.currency}]",
        f"T12M = {(m.t12m_start + pd.Timedelta(days=1)).date()} .. {m.as_of.date()}",
        "",
        *[
            f"  {LABELS[key]:<54} {_money(k.get(key)):>14}"
            for key in ("spend_t12m", "spend_all_time", "addon_t12m")
        ],
        f"    billed despite included (T12M){'':<22} "
        f"{_money(m.addon_summary['billed_despite_included']['t12m']):>14}",
        f"    contractual add-ons (T12M){'':<26} "
        f"{_money(m.addon_summary['contractual_add_on']['t12m']):>14}",
        *[
            f"  {LABELS[key]:<54} {_money(k.get(key)):>14}"
            for key in (
                "credits_to_claim",
                "onboarding_contractual_overspend",
                "onboarding_target_overspend",
                "asks_impact_12m",
            )
        ],
        f"  Clause score               {cs:>14}",
        f"  Nearest notice deadline    {str(_v(k['nearest_notice_deadline']) or 'none'):>14}"
        f"   {k['nearest_notice_agreement'] or ''}",
        f"  Leverage score             {k['leverage_score']:>14.1f} / 100",
        f"  Unclassified lines         {k['unclassified_lines']:>14}",
        "  Benchmark band             "
        + "{:,.2f}-{:,.2f} per workstation per month".format(
            *m.params.benchmark_workstation_monthly
        )
        + f" ({m.params.benchmark_provenance()})",
        "",
        "Agreements",
    ]
    ren = m.renewals.merge(
        m.scorecard[["agreement_id", "clause_score"]], on="agreement_id", how="left"
    )
    for r in ren.itertuples(index=False):
        nd = _v(r.next_notice_deadline) if r.notice_window_missed is True else _v(r.notice_deadline)
        score = "n/a" if pd.isna(r.clause_score) else f"{r.clause_score:.0%}"
        # a non-renewing agreement has no notice deadline: it expires
        when = f"expires {_v(r.expiry):<10}" if pd.notna(r.expiry) else f"notice  {nd or '-':<10}"
        out.append(
            f"  {r.agreement_id:<12} {str(r.provider)[:18]:<18} {str(r.scope):<12} "
            f"term ends {_v(r.current_term_end) or 'unknown':<10}  {when} "
            f"[{r.bucket}]  clauses {score}"
        )
    if len(m.onboarding):
        out += ["", "Onboarding"]
        for r in m.onboarding.itertuples(index=False):
            bd = "-" if pd.isna(r.business_days) else str(r.business_days)
            out.append(
                f"  {r.location_id:<10} {_terms(r.onboarding_terms):<12} billed {_money(r.billed):>11}"
                f"  over contract {_money(r.contractual_overspend):>10}  over target "
                f"{_money(r.target_overspend):>10}  {bd} business days"
                + ("  SLA BREACHED" if r.sla_breached is True else "")
            )
    if len(m.asks):
        out += ["", "Negotiation asks: next-12-month impact / one-off recovery (all-time to as-of)"]
        for r in m.asks.head(10).itertuples(index=False):
            out.append(
                f"  {r.rank:>2}. {_money(r.impact_12m):>12} {_money(r.recovery_all_time):>12}"
                f"  {r.ask} [{r.agreement_id}]"
            )
    if len(m.terms_to_fix):
        out += ["", "Terms to fix (no dollars of their own)"]
        out += [f"  - {r.ask} [{r.agreement_id}]" for r in m.terms_to_fix.itertuples(index=False)]
    if m.notes:
        out += ["", "Notes"] + [f"  - {n}" for n in m.notes]
    return "\n".join(printable(line) for line in out)  # data text never forges a line


def portfolio_to_dict(roll: pd.DataFrame, results: Sequence[DsoMetrics]) -> dict[str, Any]:
    """The portfolio JSON: the roll-up rows plus each DSO's metrics JSON."""
    return {
        "portfolio": _records(roll),
        "portfolio_totals": {k: _v(v) for k, v in portfolio_totals(roll).items()},
        "labels": {k: LABELS[k] for k, *_ in HEADLINE},
        "dsos": [metrics_to_dict(m) for m in results],
    }


def format_portfolio_table(roll: pd.DataFrame) -> str:
    """A readable terminal table of the portfolio roll-up."""
    head = (
        f"{'DSO':<22} {'spend T12M':>13} {'add-ons T12M':>13} {'credits':>11} "
        f"{'onb. over tgt':>13} {'clauses':>8} {'next notice':>11} {'score':>6}"
    )
    out = [head, "-" * len(head)]
    for r in roll.itertuples(index=False):
        cs = "n/a" if pd.isna(r.clause_score) else f"{r.clause_score:.0%}"
        out.append(
            f"{str(r.dso)[:22]:<22} {_money(r.spend_t12m):>13} {_money(r.addon_t12m):>13} "
            f"{_money(r.credits_to_claim):>11} {_money(r.onboarding_target_overspend):>13} "
            f"{cs:>8} {str(_v(r.nearest_notice_deadline) or '-'):>11} {r.leverage_score:>6.1f}"
        )
    tot = portfolio_totals(roll)
    out.append("-" * len(head))
    out.append(
        f"{'Portfolio total':<22} {_money(tot['spend_t12m']):>13} {_money(tot['addon_t12m']):>13} "
        f"{_money(tot['credits_to_claim']):>11} {_money(tot['onboarding_target_overspend']):>13}"
    )
    out.append(f"  Negotiation asks (next 12 months): {_money(tot['asks_impact_12m'])}")
    for r in roll.itertuples(index=False):
        if isinstance(r.top_ask, str) and r.top_ask != "nan":
            out.append(
                f"  {r.dso}: top ask {r.top_ask} ({_money(r.top_ask_impact_12m)} next 12 months, "
                f"{_money(r.top_ask_recovery_all_time)} one-off)"
            )
    return "\n".join(printable(line) for line in out)  # data text never forges a line
