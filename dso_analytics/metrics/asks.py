"""M6 negotiation asks: a list of small, named ask rules.

Each rule is a function ``rule(ctx, rows) -> list of rows`` that looks at one
kind of evidence and proposes asks (``rows`` are the asks of the rules before
it, so a rule can refer to them).  :func:`compute_asks` runs :data:`ASK_RULES`
in order and splits the result:

- **asks**: rows with dollars, ranked by dollars at stake
  (``impact_12m + recovery_all_time``);
- **terms to fix**: rows with no dollars of their own (a clause to add, a
  deadline to act on);
- **credits**: every billing line behind a credit claim, with its source file
  and row and the amount claimed from it;
- **findings**: contractual breaches with their evidence.

Windows: ``impact_12m`` is the saving over the **next 12 months** (the T12M
run-rate, escalated by the agreement's ``annual_uplift_pct``);
``recovery_all_time`` is a one-off recovery of money billed **all-time to
as-of**.  No column mixes the two.

Every ask has a stable ``ask_key`` = ``<rule>:<agreement_id>`` (plus
``:<service>`` for per-service rules; ``consolidate:<dso>`` for the one
consolidation ask): the same data gives the same keys on every run.
No dollar is counted by two asks (see docs/metrics.md), so every ask has
``in_total = True``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dso_analytics import schema
from dso_analytics.metrics import result as R
from dso_analytics.metrics._util import as_float, as_text, from_cents, round_money, t12m_start
from dso_analytics.standards import Params
from dso_analytics.words import plural

BILLED_DESPITE_INCLUDED = "billed_despite_included"
CONTRACTUAL_ADD_ON = "contractual_add_on"
OVERAGE = "overage"
CLAIM_RULES = ("claim_included", "claim_above_cap")


@dataclass
class AskContext:
    """Everything the ask rules read (built once by :func:`compute_asks`)."""

    dso: str
    leverage: pd.DataFrame  # indexed by agreement_id
    lines: pd.DataFrame
    onboarding: pd.DataFrame
    pipeline: pd.DataFrame
    scorecard: pd.DataFrame  # indexed by agreement_id
    renewals: pd.DataFrame  # indexed by agreement_id
    locations: pd.DataFrame
    as_of: pd.Timestamp
    params: Params
    uplift_pct: dict[str, float]
    services_known: bool = True
    agreements: pd.DataFrame = field(default_factory=pd.DataFrame)  # indexed by agreement_id
    credit_frames: list[pd.DataFrame] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def cents(self) -> np.ndarray:
        """Line amounts in exact cents."""
        return self.lines["amount_cents"].to_numpy(np.int64)

    def kind_is(self, kind: str) -> np.ndarray:
        """Lines of one add-on kind."""
        return (self.lines["addon_kind"] == kind).to_numpy(bool, na_value=False)

    def check(self, agreement: str, name: str) -> str | None:
        """A scorecard check of an agreement (``None`` when not scored)."""
        if agreement not in self.scorecard.index:
            return None
        return str(self.scorecard.at[agreement, name])

    def uplift(self, agreement: str) -> float:
        """The agreement's annual uplift in percent (0 when blank or unknown)."""
        return float(self.uplift_pct.get(agreement, 0.0))

    def factor(self, agreement: str) -> float:
        """Next-12-month escalation factor ``1 + annual_uplift_pct / 100``."""
        return 1.0 + self.uplift(agreement) / 100.0

    def uplift_text(self, agreement: str) -> str:
        """`` x 1.03 (3% annual uplift)`` or an empty string."""
        u = self.uplift(agreement)
        return f" x {1 + u / 100:.4g} ({u:g}% annual uplift)" if u else ""


def _true(v: object) -> bool:
    """``True`` only for a known true value (NA -> False)."""
    return bool(pd.notna(v) and v)


def _row(
    rule: str,
    target: str,
    ask: str,
    clause: str,
    agreement_id: str,
    evidence: str,
    *,
    impact: float = 0.0,
    recovery: float = 0.0,
    basis: str = "",
    low: float = np.nan,
    high: float = np.nan,
) -> dict[str, Any]:
    return {
        "ask_key": f"{rule}:{target}",
        "rule": rule,
        "ask": ask,
        "clause": clause,
        "agreement_id": agreement_id,
        "evidence": evidence,
        "basis": basis,
        "impact_12m": round_money(impact),
        "impact_12m_low": round_money(low),
        "impact_12m_high": round_money(high),
        "recovery_all_time": round_money(recovery),
    }


def _evidence(lines: pd.DataFrame, pos: np.ndarray, max_sources: int = 3) -> str:
    """``N lines at LOC-1, LOC-2; e.g. file row 4, ...`` for the lines at ``pos``."""
    n = len(pos)
    locs = sorted(lines["location_id"].take(pos).fillna("(organization)").unique())
    src = lines[["source_file", "source_row"]].take(pos[:max_sources])
    where = ", ".join(
        f"{f} row {r}"
        for f, r in zip(src["source_file"].fillna("?"), src["source_row"], strict=False)
    )
    loc_txt = ", ".join(locs[:5]) + (f" +{len(locs) - 5} more" if len(locs) > 5 else "")
    return f"{plural(n, 'line')} at {loc_txt}" + (f"; e.g. {where}" if where else "")


def _groups(ctx: AskContext, mask: np.ndarray, by_service: bool) -> list[tuple[tuple, np.ndarray]]:
    """Positions of the selected lines, grouped by agreement (and service)."""
    pos = np.flatnonzero(mask)
    if not len(pos):
        return []
    keys = {"a": ctx.lines[schema.GOVERNING_AGREEMENT].take(pos).fillna("(none)").to_numpy(object)}
    if by_service:
        keys["s"] = ctx.lines[schema.SERVICE_RESOLVED].take(pos).fillna("").to_numpy(object)
    k = pd.DataFrame({**keys, "_pos": pos})
    cols = list(keys)
    out = []
    for g, grp in k.groupby(cols, sort=True):
        out.append((g if isinstance(g, tuple) else (g,), grp["_pos"].to_numpy()))
    return out


# ---------------------------------------------------------------------------
# Ask rules (in the order they run)
# ---------------------------------------------------------------------------
def rule_addon_into_base(ctx: AskContext, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Move a contractual add-on service into the base fee (T12M run-rate, escalated)."""
    out = []
    mask = ctx.kind_is(CONTRACTUAL_ADD_ON) & ctx.lines["in_t12m"].to_numpy(bool)
    for (a, s), p in _groups(ctx, mask, by_service=True):
        t12m = from_cents(int(ctx.cents[p].sum()))
        basis = f"T12M add-on spend {t12m:,.2f}{ctx.uplift_text(a)}"
        out.append(_row("addon_into_base", f"{a}:{s}", f"Move {s} into the base fee",
                        f"base_{s}", a, _evidence(ctx.lines, p), impact=t12m * ctx.factor(a),
                        basis=basis))  # fmt: skip
    return out


def rule_overage(ctx: AskContext, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Usage over a plan limit on an included service: leverage for an unlimited plan."""
    out = []
    mask = ctx.kind_is(OVERAGE) & ctx.lines["in_t12m"].to_numpy(bool)
    for (a, s), p in _groups(ctx, mask, by_service=True):
        t12m = from_cents(int(ctx.cents[p].sum()))
        out.append(_row("overage", f"{a}:{s}", f"Unlimited {s} in the base fee (no overage charges)",
                        f"base_{s}", a, _evidence(ctx.lines, p), impact=t12m * ctx.factor(a),
                        basis=f"T12M overage billed {t12m:,.2f}{ctx.uplift_text(a)}"))  # fmt: skip
    return out


def rule_claim_included(ctx: AskContext, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Claim a credit for services billed although the agreement includes them (all-time)."""
    out = []
    for (a,), p in _groups(ctx, ctx.kind_is(BILLED_DESPITE_INCLUDED), by_service=False):
        net = int(ctx.cents[p].sum())
        if net <= 0:  # credits already issued cover it
            continue
        svcs = ", ".join(sorted(ctx.lines[schema.SERVICE_RESOLVED].take(p).dropna().unique()))
        key = f"claim_included:{a}"
        ctx.credit_frames.append(_credit_frame(ctx.lines, p, key, a, BILLED_DESPITE_INCLUDED,
                                               ctx.cents[p]))  # fmt: skip
        out.append(_row("claim_included", a, f"Claim credits for services the agreement includes ({svcs})",
                        "services: coverage=included", a, _evidence(ctx.lines, p),
                        recovery=from_cents(net),
                        basis=f"{plural(len(p), 'line')} billed all-time to as-of, net of credits issued"))  # fmt: skip
    return out


def _credit_frame(
    lines: pd.DataFrame,
    pos: np.ndarray,
    key: str | np.ndarray,
    agreement: str | np.ndarray,
    kind: str,
    claim: np.ndarray,
) -> pd.DataFrame:
    """The credit rows of the lines at ``pos`` (vectorised), claiming ``claim`` cents each."""

    def col(c: str) -> pd.Series:  # one column at a time: never a take of the wide frame
        return lines[c].take(pos).reset_index(drop=True)

    return pd.DataFrame(
        {
            "ask_key": key,
            "agreement_id": agreement,
            "location_id": col("location_id"),
            "kind": kind,
            "service": col(schema.SERVICE_RESOLVED),
            **{c: col(c) for c in ("source_file", "source_sheet", "source_row", "invoice_number",
                                   "invoice_date", "description", "amount")},
            "claim": from_cents(np.asarray(claim, dtype=np.int64)),
        }
    )  # fmt: skip


def rule_claim_above_cap(ctx: AskContext, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Claim onboarding billed above the agreement's own allowance (cap, or 0 when included).

    Each onboarding line carries the part of the excess it caused: lines are
    taken in date order and a line claims what it adds above the allowance, so
    the claims of a location add up to ``billed - allowance`` exactly.
    """
    ob = ctx.onboarding
    over = ob[(ob["contractual_overspend"].fillna(0) > 0).to_numpy(bool)]
    if over.empty:
        return []
    lines = ctx.lines
    ob_pos = np.flatnonzero(
        (lines[schema.SERVICE_RESOLVED] == schema.ONBOARDING_SERVICE).to_numpy(bool, na_value=False)
    )  # the onboarding lines only (a few), not every line per location
    ob_loc = lines["location_id"].take(ob_pos).to_numpy(object)
    ob_date = lines["invoice_date"].take(ob_pos).to_numpy()
    out = []
    acc: list[tuple[np.ndarray, np.ndarray, str, str]] = []  # one credit frame at the end
    for a, grp in over.groupby(over["governing_agreement_id"].astype(str), sort=True):
        key = f"claim_above_cap:{a}"
        parts = []
        for r in grp.itertuples(index=False):
            cap_c = int(round(float(r.contractual_allowance) * 100))
            sel = np.flatnonzero(ob_loc == r.location_id)
            order = ob_pos[sel[np.argsort(ob_date[sel], kind="stable")]]
            cum = np.cumsum(ctx.cents[order])
            excess = np.maximum(0, cum - cap_c)
            claim = np.diff(np.concatenate([[0], excess]))
            acc.append((order, claim, key, a))
            terms = "included" if cap_c == 0 else f"cap {r.contractual_allowance:,.2f}"
            parts.append(f"{r.location_id} billed {r.billed:,.2f} vs {terms}")
            ctx.findings.append({
                "finding_key": f"onboarding_above_contract:{r.location_id}",
                "kind": "onboarding billed above contract", "agreement_id": a,
                "location_id": r.location_id,
                "finding": f"Onboarding billed {r.contractual_overspend:,.2f} above the contract",
                "evidence": f"billed {r.billed:,.2f} vs {terms}; "
                            + ", ".join(f"{lines.at[i, 'source_file']} row {lines.at[i, 'source_row']}"
                                        for i in order[:5]),
            })  # fmt: skip
        total = float(grp["contractual_overspend"].sum())
        out.append(_row("claim_above_cap", a, "Claim onboarding billed above the contractual allowance",
                        "onboarding_cost_ceiling", a, "; ".join(parts), recovery=total,
                        basis="sum over locations of billed - contractual allowance, all-time to as-of"))  # fmt: skip
    if acc:
        pos = np.concatenate([o for o, _, _, _ in acc])
        claim = np.concatenate([c for _, c, _, _ in acc])
        keys = np.concatenate([np.full(len(o), k, dtype=object) for o, _, k, _ in acc])
        ags = np.concatenate([np.full(len(o), g, dtype=object) for o, _, _, g in acc])
        ctx.credit_frames.append(
            _credit_frame(lines, pos, keys, ags, "billed_above_contract", claim)
        )
    return out


def rule_onboarding_cap(ctx: AskContext, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Cap onboarding at the target: pipeline saving within 12 months, else the T12M run-rate."""
    out = []
    horizon = ctx.as_of + pd.DateOffset(months=12)
    t12_start = t12m_start(ctx.as_of)
    cap = ctx.params.target_onboarding_cap
    pipe, ob = ctx.pipeline, ctx.onboarding
    for a in ctx.leverage.index:
        if ctx.check(a, "onboarding_cost_ceiling") in (None, "pass"):
            continue
        p = pipe[(pipe["governing_agreement_id"] == a).to_numpy(bool)
                 & (pipe["join_date"] <= horizon).to_numpy(bool)]  # fmt: skip
        o = ob[(ob["governing_agreement_id"] == a).to_numpy(bool)]
        if not (len(o) or len(p)):
            continue
        saving = float(np.nansum(p["expected_saving"])) if len(p) else 0.0
        hist = f"target overspend {o['target_overspend'].sum():,.2f} all-time to as-of"
        if saving > 0:
            impact = saving
            ev = f"{plural(len(p), 'planned location')} within 12 months: " + ", ".join(
                p["location_id"].astype(str)
            )
            basis = "expected cost under current terms - target cap, per planned location"
        else:
            recent = o[
                ((o["join_date"] > t12_start) & (o["join_date"] <= ctx.as_of)).to_numpy(bool)
            ]
            impact = float(recent["target_overspend"].sum())
            ev = f"{plural(len(o), 'onboarding')}, {hist}"
            basis = f"T12M run-rate: target overspend of {plural(len(recent), 'location')} joined in the T12M"
        out.append(_row("onboarding_cap", a, f"Cap onboarding at {cap:,.0f} per location",
                        "onboarding_cost_ceiling", a, ev, impact=impact, basis=basis))  # fmt: skip
    return out


def rule_onboarding_sla(ctx: AskContext, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Breaches of the agreement's own onboarding SLA: findings, and a remedy to enforce."""
    ob = ctx.onboarding
    own = (ob["sla_source"] == "contract").to_numpy(bool, na_value=False)
    hit = ob[own & ob["sla_breached"].fillna(False).to_numpy(bool)]
    out = []
    for a, grp in hit.groupby(hit["governing_agreement_id"].astype(str), sort=True):
        ev = []
        for r in grp.itertuples(index=False):
            if pd.isna(r.business_days):
                took = f"not live at {ctx.as_of.date()} (joined {r.join_date.date()})"
            else:
                took = (f"{int(r.business_days)} business days from {r.join_date.date()} "
                        f"to go-live {r.go_live_date.date()}")  # fmt: skip
            text = f"{r.location_id}: {took} vs contractual SLA {int(r.sla_business_days)}"
            ev.append(text)
            ctx.findings.append({
                "finding_key": f"onboarding_sla:{r.location_id}", "kind": "onboarding SLA breached",
                "agreement_id": a, "location_id": r.location_id,
                "finding": "Onboarding took longer than the agreement's SLA", "evidence": text,
            })  # fmt: skip
        out.append(_row("onboarding_sla", a,
                        f"Enforce the onboarding SLA: service credit for {len(grp)} breach(es)",
                        "onboarding_sla", a, "; ".join(ev),
                        basis="the agreement data names no remedy amount"))  # fmt: skip
    return out


def rule_monthly_reporting(ctx: AskContext, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Automatic monthly reporting: a term to fix (its billed dollars are counted by the add-on asks)."""
    out = []
    rep_pos = np.flatnonzero(
        (ctx.lines[schema.SERVICE_RESOLVED] == "organizational_reporting").to_numpy(
            bool, na_value=False
        )
        & ctx.lines["in_t12m"].to_numpy(bool)
    )
    rep_gov = ctx.lines[schema.GOVERNING_AGREEMENT].take(rep_pos).to_numpy(object)
    for a in ctx.leverage.index:
        if ctx.check(a, "automatic_monthly_reporting") != "fail":
            continue
        p = rep_pos[rep_gov == a]
        ev = "no automatic reporting clause"
        if len(p):
            ev = (f"{_evidence(ctx.lines, p)}; T12M reporting spend "
                  f"{from_cents(int(ctx.cents[p].sum())):,.2f} is counted in the add-on/credit asks")  # fmt: skip
        out.append(_row("monthly_reporting", a, "Automatic monthly organizational reporting",
                        "automatic_monthly_reporting", a, ev))  # fmt: skip
    return out


def rule_volume_pricing(ctx: AskContext, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Volume pricing for an organization agreement whose locations grew.

    impact = (effective price x uplift factor - band price) x workstations now x 12,
    at the band's midpoint; the low / high figures use the band's high / low end.
    """
    out = []
    low, high = ctx.params.benchmark_workstation_monthly
    mid = (low + high) / 2.0
    src = ctx.params.benchmark_provenance()
    for a, r in ctx.leverage.iterrows():
        eff, g = r["effective_workstation_monthly"], r["growth"]
        if r["scope"] != "organization" or pd.isna(g) or g <= 0 or pd.isna(eff):
            continue
        ws = float(r["workstations_now"])
        nxt = float(eff) * ctx.factor(a)

        def at(price: float, nxt: float = nxt, ws: float = ws) -> float:
            return max(0.0, (nxt - price) * ws * 12)

        if at(mid) <= 0:
            continue
        basis = (f"({eff:,.2f}/workstation/month{ctx.uplift_text(a)} - band mid {mid:,.2f}) x "
                 f"{ws:,.0f} workstations x 12; band {low:,.2f}-{high:,.2f} ({src}); "
                 f"sensitivity: at band high {at(high):,.2f}, mid {at(mid):,.2f}, "
                 f"band low {at(low):,.2f}")  # fmt: skip
        since = (
            pd.Timestamp(r["baseline_date"]).date() if "baseline_date" in r.index else "the start"
        )
        out.append(_row("volume_pricing", a,
                        "Volume pricing: locations grew since the terms were set", "pricing", a,
                        f"{r['locations_at_start']} locations on {since} -> "
                        f"{r['locations_now']} now; {eff:.2f}/workstation/month",
                        impact=at(mid), low=at(high), high=at(low), basis=basis))  # fmt: skip
    return out


def rule_consolidate(ctx: AskContext, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One ask per DSO: fold the per-location agreements into the organizational one."""
    lev, ren = ctx.leverage, ctx.renewals
    live = [a for a in lev.index[(lev["scope"] == "location").to_numpy(bool)]
            if not (a in ren.index and ren.at[a, "status"] == "expired")]  # fmt: skip
    if not live:
        return []
    org = lev[(lev["scope"] == "organization").to_numpy(bool)]
    org = org[[not (a in ren.index and ren.at[a, "status"] == "expired") for a in org.index]]
    org_eff = org["effective_workstation_monthly"].dropna()
    org_id = str(org_eff.idxmin()) if len(org_eff) else None
    org_src = "billed"
    if org_id is None and len(ctx.agreements):
        # not billed per workstation in the T12M: its contract rate, when per workstation
        ag = ctx.agreements.reindex(org.index)
        per_ws = ag[(ag["pricing_basis"] == "per_workstation").to_numpy(bool, na_value=False)]
        rates = pd.to_numeric(per_ws["monthly_rate"], errors="coerce").dropna()
        if len(rates):
            org_id, org_src = str(rates.idxmin()), "contract"
            org_eff = pd.Series({org_id: float(rates.min())})
    org_next = float(org_eff.min()) * ctx.factor(org_id) if org_id else np.nan
    impact, parts, dated = 0.0, [], []
    for a in live:
        e, ws = lev.at[a, "effective_workstation_monthly"], float(lev.at[a, "workstations_now"])
        prem = (
            max(0.0, (float(e) * ctx.factor(a) - org_next) * ws * 12)
            if pd.notna(e) and org_id
            else 0.0
        )
        impact += prem
        parts.append(f"{a} ({'unknown' if pd.isna(e) else f'{e:,.2f}'}/ws/month x {ws:,.0f} ws)")
        if a in ren.index:
            nd = (
                ren.at[a, "next_notice_deadline"]
                if _true(ren.at[a, "notice_window_missed"])
                else ren.at[a, "notice_deadline"]
            )
            if pd.notna(nd):
                dated.append(f"{a} {pd.Timestamp(nd).date()}")
    ev = f"{plural(len(live), 'per-location agreement')}: " + ", ".join(parts)
    if dated:
        ev += "; notice dates to align: " + ", ".join(dated)
    basis = (f"sum of (location rate x its uplift - {org_src} organization rate "
             f"{float(org_eff.min()):,.2f}{ctx.uplift_text(org_id)} of {org_id}) x workstations x 12"
             if org_id else "no organization rate known")  # fmt: skip
    return [_row("consolidate", ctx.dso,
                 "Consolidate the per-location agreements into one organizational agreement",
                 "all_location_coverage", org_id or "(DSO)", ev, impact=impact, basis=basis)]  # fmt: skip


def rule_change_of_ownership(ctx: AskContext, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A change-of-ownership exit where locations were acquired (risk, no dollars)."""
    acq = ctx.onboarding[(ctx.onboarding["join_type"] == "acquisition").to_numpy(bool)]
    out = []
    for a in ctx.leverage.index:
        n = int((acq["governing_agreement_id"] == a).sum())
        if n and ctx.check(a, "change_of_ownership_exit") == "fail":
            out.append(_row("change_of_ownership", a, "Change-of-ownership exit clause",
                            "change_of_ownership_exit", a,
                            f"{plural(n, 'acquired location')} under this agreement"))  # fmt: skip
    return out


def rule_notice_deadline(ctx: AskContext, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A notice deadline (or, without auto-renewal, the expiry) missed or within the last
    alert window: act before it passes.  A term to fix; its evidence names the dollars at stake.
    """
    last = max(ctx.params.alert_windows_days) if ctx.params.alert_windows_days else 90
    out = []
    for a, r in ctx.renewals.iterrows():
        d = r["days_to_notice_deadline"]
        expiry = r.get("expiry", pd.NaT)
        if pd.isna(d) and pd.notna(r.get("days_to_expiry", pd.NA)):
            d = r["days_to_expiry"]  # does not auto-renew: the expiry is the deadline
        if pd.isna(d) or r["status"] == "expired" or d > last:
            continue
        at_stake = sum(x["impact_12m"] for x in rows if x["agreement_id"] == a)
        stake = f"asks worth {at_stake:,.2f} (next 12 months) on this agreement depend on it"
        fee = ctx.leverage.at[a, "base_fee_next_12m"] if a in ctx.leverage.index else np.nan
        if pd.notna(fee):
            stake += (f"; renewing unchanged costs {fee:,.2f} in base fees over the next 12 "
                      f"months (T12M monthly run-rate x 12{ctx.uplift_text(a)})")  # fmt: skip
        if pd.notna(expiry):
            day = pd.Timestamp(expiry).date()
            out.append(_row("expiry", a, f"Negotiate before the agreement expires ({day})",
                            "expiry", a,
                            f"does not auto-renew; expires {day}, {plural(int(d), 'day')} left; {stake}"))  # fmt: skip
            continue
        missed = _true(r["notice_window_missed"])
        when = r["next_notice_deadline"] if missed else r["notice_deadline"]
        txt = "missed; next" if missed else "due"
        out.append(_row("notice_deadline", a,
                        f"Act before the notice deadline ({txt} {pd.Timestamp(when).date() if pd.notna(when) else 'n/a'})",
                        "notice", a,
                        f"current term ends {pd.Timestamp(r['current_term_end']).date()}, "
                        f"{plural(int(d), 'day')} to the notice deadline; {stake}"))  # fmt: skip
    return out


AskRule = Callable[[AskContext, list[dict[str, Any]]], list[dict[str, Any]]]

#: the ask rules, in the order they run
ASK_RULES: tuple[AskRule, ...] = (
    rule_addon_into_base,
    rule_overage,
    rule_claim_included,
    rule_claim_above_cap,
    rule_onboarding_cap,
    rule_onboarding_sla,
    rule_monthly_reporting,
    rule_volume_pricing,
    rule_consolidate,
    rule_change_of_ownership,
    rule_notice_deadline,
)


@dataclass
class AskSet:
    """What :func:`compute_asks` returns."""

    asks: pd.DataFrame
    terms_to_fix: pd.DataFrame
    credits: pd.DataFrame
    findings: pd.DataFrame


def compute_asks(
    leverage: pd.DataFrame,
    lines: pd.DataFrame,
    onboarding: pd.DataFrame,
    pipeline: pd.DataFrame,
    scorecard: pd.DataFrame,
    renewals: pd.DataFrame,
    locations: pd.DataFrame,
    agreements: pd.DataFrame,
    as_of: pd.Timestamp,
    params: Params,
    dso: str = "dso",
    services_known: bool = True,
) -> AskSet:
    """Run :data:`ASK_RULES` and split asks with dollars from terms to fix.

    Parameters
    ----------
    leverage : DataFrame
        M6 per agreement.
    lines : DataFrame
        Enriched lines (with ``amount_cents``).
    onboarding, pipeline, scorecard, renewals : DataFrame
        M3, M4, M5 results.
    locations, agreements : DataFrame
        Typed tables (agreements give ``annual_uplift_pct``).
    as_of : Timestamp
    params : Params
    dso : str
        The DSO id (key of the one consolidation ask).
    services_known : bool
        ``False`` when the services sheet is missing.

    Returns
    -------
    AskSet
        ``asks`` (:data:`result.ASK_COLUMNS`, ranked), ``terms_to_fix``
        (:data:`result.TERMS_COLUMNS`), ``credits`` (:data:`result.CREDIT_COLUMNS`),
        ``findings`` (:data:`result.FINDING_COLUMNS`).
    """
    ids = as_text(agreements["agreement_id"]).to_numpy(object)
    up = as_float(agreements["annual_uplift_pct"]) if "annual_uplift_pct" in agreements else []
    uplift = {str(a): float(u) for a, u in zip(ids, up, strict=False) if not np.isnan(u)}
    ctx = AskContext(
        dso=dso,
        leverage=leverage.set_index("agreement_id"),
        lines=lines.reset_index(drop=True),
        onboarding=onboarding,
        pipeline=pipeline,
        scorecard=scorecard.set_index("agreement_id"),
        renewals=renewals.set_index("agreement_id"),
        locations=locations,
        as_of=as_of,
        params=params,
        uplift_pct=uplift,
        services_known=services_known,
        agreements=agreements.assign(_id=ids).drop_duplicates("_id").set_index("_id"),
    )
    rows: list[dict[str, Any]] = []
    for rule in ASK_RULES:
        rows.extend(rule(ctx, rows))
    df = pd.DataFrame(rows, columns=[*R.ASK_COLUMNS[1:], "rule"])
    # an expired agreement is not renegotiated: only its claims remain
    gone = set(ctx.renewals.index[(ctx.renewals["status"] == "expired").to_numpy(bool)])
    keep = ~df["agreement_id"].isin(gone) | df["rule"].isin(CLAIM_RULES)
    df = df[keep.to_numpy(bool)]
    money = (df["impact_12m"].fillna(0) > 0) | (df["recovery_all_time"].fillna(0) > 0)
    asks = df[money.to_numpy(bool)].copy()
    asks["in_total"] = True
    stake = asks["impact_12m"].fillna(0) + asks["recovery_all_time"].fillna(0)
    asks = asks.iloc[np.argsort(-stake.to_numpy(float), kind="stable")].reset_index(drop=True)
    asks.insert(0, "rank", np.arange(1, len(asks) + 1, dtype=np.int64))
    for c in ("ask_key", "ask", "clause", "agreement_id", "evidence", "basis"):
        asks[c] = asks[c].astype("str")
    for c in ("impact_12m", "impact_12m_low", "impact_12m_high", "recovery_all_time"):
        asks[c] = asks[c].astype(float)
    terms = df[~money.to_numpy(bool)].reset_index(drop=True)
    terms = terms[list(R.TERMS_COLUMNS)].astype("str")
    parts = [f for f in ctx.credit_frames if len(f)]
    credits = (
        pd.concat(parts, ignore_index=True)[list(R.CREDIT_COLUMNS)]
        if parts
        else pd.DataFrame(columns=list(R.CREDIT_COLUMNS))
    )
    for c in ("ask_key", "agreement_id", "location_id", "kind", "service", "source_file",
              "source_sheet", "invoice_number", "description"):  # fmt: skip
        credits[c] = credits[c].astype("str")
    credits["source_row"] = credits["source_row"].astype("Int64")
    credits["invoice_date"] = pd.to_datetime(credits["invoice_date"])
    for c in ("amount", "claim"):
        credits[c] = credits[c].astype(float)
    findings = pd.DataFrame(ctx.findings, columns=list(R.FINDING_COLUMNS)).astype("str")
    return AskSet(asks[list(R.ASK_COLUMNS)], terms, credits, findings)
