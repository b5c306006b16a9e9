"""Metrics M1-M7 (see ``docs/metrics.md``): pure functions, DataFrames in and out.

:func:`compute_metrics` runs them all for one :class:`~dso_analytics.dataset.DsoDataset`
and returns a :class:`~dso_analytics.metrics.result.DsoMetrics`.  No IO, no
plotting: this package imports only numpy, pandas and the package itself.

Money is summed in exact integer cents and returned as floats rounded to the
cent.  Unknown is NaN / NaT / <NA> in frames and ``None`` in dicts.

Decisions (where the spec is silent)
------------------------------------
``docs/metrics.md`` ("Decisions ...") is the reference; in short:

- **T12M** is ``(t12m_start(as_of), as_of]`` with the month-end rule
  (:func:`~dso_analytics.metrics._util.t12m_start`), for every T12M figure.
- **Growth baseline**: locations covered when the current terms were set
  (``terms_effective_date``, else start_date), per agreement; the DSO total sums
  the agreements in force at as-of.
- **Lines after as-of** are left out of every metric (they did not exist at the
  as-of date); a note counts them.  "All-time" means up to as-of.
- **Credits** (negative lines) are summed with the charges they offset, in their
  service and add-on kind.  ``credits_to_claim`` (all-time to as-of) = per
  agreement, billed-despite-included net of credits issued (floored at 0) plus
  onboarding billed above the contractual allowance; every line behind it is in
  ``DsoMetrics.credits``.
- **Add-on lines with no governing agreement** are ``contractual_add_on`` (no
  agreement says they are included).  When the services table is missing,
  every add-on line is ``coverage_unknown`` and every add-on figure is unknown.
- **Governing agreement ties**: among agreements of the same scope in force on a
  date, the one that started last wins, then the first in the file.  An
  agreement with a blank term is treated as open-ended.
- **Onboarding**: rows include planned acquisition/de_novo locations (billed
  usually 0).  ``sla_breached`` is also True for a location not live yet whose
  business days from join_date to as-of already exceed the SLA; NA otherwise
  while go_live_date is blank.  Onboarding lines without a location are not
  attributed (counted in the notes).
- **Pipeline**: included -> 0; capped -> the cap; hourly / quote / no agreement
  -> mean billed of past (non-planned, billed != 0) onboardings, unknown without
  one; ``expected_cost_target`` = min(current, target cap) (the target cap when
  current is unknown).
- **Renewals**: renewal terms are counted in whole months from the start date
  (no day drift).  A non-renewing agreement has no notice deadline: it has an
  ``expiry`` (its term end) and ``days_to_expiry``, bucketed like a deadline
  (``expired`` once past).  A blank renewal_term_months means 12.
- **Workstations covered now**: sum of workstations of the ``active``
  locations (join_date <= as-of) that the agreement governs at as-of.
  ``effective_workstation_monthly`` = T12M managed_services / months the
  agreement was in force within the T12M (12 when throughout) / workstations now.
- **Clause checks** use the fixed 8 base services of the data contract.
  A dataset whose ``present_tables`` is empty (built by hand) counts every table present.
- **Asks**: see :mod:`dso_analytics.metrics.asks` (a list of named rules; each
  ask has a stable ``ask_key``; asks without dollars are ``terms_to_fix``; no
  two asks count the same dollar).
- **leverage_score**: see :mod:`dso_analytics.metrics.leverage` (formula and inputs);
  the asks' impacts are defined in :mod:`~dso_analytics.metrics.asks`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from dso_analytics import schema
from dso_analytics.classify import Rules, read_rules
from dso_analytics.dataset import DsoDataset
from dso_analytics.metrics._util import reuse_codes, t12m_start
from dso_analytics.metrics.asks import ASK_RULES, AskSet, compute_asks
from dso_analytics.metrics.export import (
    format_metrics_table,
    format_portfolio_table,
    metrics_to_dict,
    portfolio_to_dict,
)
from dso_analytics.metrics.governing import governing_agreement
from dso_analytics.metrics.headline import HEADLINE, headline
from dso_analytics.metrics.leverage import compute_leverage, leverage_score
from dso_analytics.metrics.onboarding import compute_onboarding
from dso_analytics.metrics.portfolio import compute_portfolio, portfolio_totals
from dso_analytics.metrics.renewals import compute_renewals
from dso_analytics.metrics.result import LINES_COLUMNS, DsoMetrics
from dso_analytics.metrics.scorecard import compute_scorecard
from dso_analytics.metrics.spend import compute_addons, compute_lines, compute_spend
from dso_analytics.standards import Params, as_of_warning, default_as_of, resolve_params
from dso_analytics.words import plural

__all__ = [
    "ASK_RULES",
    "HEADLINE",
    "DsoMetrics",
    "compute_addons",
    "compute_asks",
    "compute_leverage",
    "compute_lines",
    "compute_metrics",
    "compute_onboarding",
    "compute_portfolio",
    "compute_renewals",
    "compute_scorecard",
    "compute_spend",
    "format_metrics_table",
    "format_portfolio_table",
    "governing_agreement",
    "headline",
    "leverage_score",
    "metrics_to_dict",
    "portfolio_to_dict",
    "portfolio_totals",
]


def _present(ds: DsoDataset, table: str) -> bool:
    return not ds.present_tables or table in ds.present_tables


def _terms_sources(agreements: pd.DataFrame) -> dict[str, str | None]:
    """``agreement_id`` -> ``terms_source`` text, ``None`` when blank or absent."""
    col = agreements.get(schema.TERMS_SOURCE)
    out: dict[str, str | None] = {}
    for i, aid in enumerate(agreements["agreement_id"].astype(str)):
        value = None if col is None else col.iloc[i]
        text = "" if value is None or value is pd.NA or value != value else str(value).strip()
        out[aid] = text or None
    return out


def compute_metrics(
    ds: DsoDataset, params: Params | None = None, rules: Rules | None = None
) -> DsoMetrics:
    """Compute every metric (M1-M6) of one DSO.

    Parameters
    ----------
    ds : DsoDataset
        Typed, validated tables.
    params : Params, optional
        Default: ``resolve_params(ds.root)``.  ``params.as_of`` ``None`` means
        :func:`~dso_analytics.standards.default_as_of` (the latest invoice date, at most today).
    rules : Rules, optional
        Classification rules; default: the DSO folder's ``classification.yaml``,
        else the shipped rules.

    Returns
    -------
    DsoMetrics
        Every field filled with the documented columns.
    """
    if params is None:
        params = resolve_params(ds.root)
    if rules is None:
        rules = read_rules(dso_dir=ds.root)
    with reuse_codes():  # each text column of the lines is factorized once
        return _compute_metrics(ds, params, rules)


def _data_notes(
    ds: DsoDataset, params: Params, services_known: bool, doc_known: bool
) -> tuple[pd.Timestamp, str | None, list[str]]:
    """The as-of date, the as-of warning, and the notes on the input (as-of, missing
    sheets, lines after the as-of date), in the order the report lists them."""
    notes: list[str] = []
    billing = ds.billing
    dates = billing["invoice_date"] if len(billing) else None
    as_of = params.as_of if params.as_of is not None else default_as_of(dates)
    if params.as_of is None and (dates is None or dates.isna().all()):
        notes.append("No billing lines: as-of defaults to today.")
    as_of_note = None if params.as_of is None else as_of_warning(as_of, dates)
    if as_of_note:
        notes.append(as_of_note[0].upper() + as_of_note[1:] + ".")
    if not services_known:
        notes.append("The services sheet is missing: service clause checks and "
                     "add-on and credit figures are unknown.")  # fmt: skip
    if not doc_known:
        notes.append("The documentation sheet is missing: HIPAA documentation checks are unknown.")

    later = int((pd.to_datetime(billing["invoice_date"]) > as_of).sum()) if len(billing) else 0
    if later:
        notes.append(
            f"{plural(later, 'billing line')} dated after the as-of date {as_of.date()} "
            f"{'is' if later == 1 else 'are'} left out."
        )
    return as_of, as_of_note, notes


def _nearest_notice(renewals: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The renewal row with the nearest effective notice deadline on or after ``as_of``
    (the next one when the current window was missed); empty when there is none."""
    upcoming = renewals[renewals["status"] != "expired"].copy()
    eff = upcoming["notice_deadline"].where(~upcoming["notice_window_missed"].fillna(False).astype(bool),
                                            upcoming["next_notice_deadline"])  # fmt: skip
    upcoming["effective"] = eff
    upcoming = upcoming[upcoming["effective"].notna() & (upcoming["effective"] >= as_of)]
    return upcoming.sort_values("effective").head(1)


def _kpis(
    spend: dict[str, Any], addons: dict[str, Any], ask_set: AskSet, onboarding: pd.DataFrame,
    lev_total: dict[str, Any], nearest: pd.DataFrame, n_unclassified: int, n_ungoverned: int,
) -> dict[str, Any]:  # fmt: skip
    """The KPI header of the report (``DsoMetrics.kpis``)."""
    asks = ask_set.asks
    bdi = addons["summary"]["billed_despite_included"]
    # credits to claim: billed despite included (net, per agreement) + billed above
    # the contract's onboarding allowance; unknown while the services sheet is missing
    recovery = round(float(asks["recovery_all_time"].sum()), 2)
    credits = None if bdi["all_time"] is None else recovery
    oc = onboarding["contractual_overspend"]
    return {
        "spend_t12m": spend["total"]["t12m"],
        "spend_all_time": spend["total"]["all_time"],
        "addon_t12m": None
        if bdi["t12m"] is None
        else round(sum(v["t12m"] for v in addons["summary"].values()), 2),
        "credits_to_claim": credits,
        "asks_impact_12m": round(float(asks["impact_12m"].sum()), 2),
        "asks_recovery_all_time": recovery,
        "asks_count": int(len(asks)),
        "terms_to_fix_count": int(len(ask_set.terms_to_fix)),
        "findings_count": int(len(ask_set.findings)),
        "onboarding_contractual_overspend": None if oc.isna().all() else round(float(oc.sum()), 2),
        "onboarding_target_overspend": round(float(onboarding["target_overspend"].sum()), 2),
        "clause_score": lev_total["clause_score"],
        "nearest_notice_deadline": None
        if nearest.empty
        else pd.Timestamp(nearest["effective"].iloc[0]),
        "nearest_notice_agreement": None if nearest.empty else str(nearest["agreement_id"].iloc[0]),
        "leverage_score": lev_total["leverage_score"],
        "unclassified_lines": int(n_unclassified),
        "ungoverned_lines": int(n_ungoverned),
    }


def _compute_metrics(ds: DsoDataset, params: Params, rules: Rules) -> DsoMetrics:
    billing = ds.billing
    services_known = _present(ds, schema.SERVICES)
    doc_known = _present(ds, schema.DOCUMENTATION)
    as_of, as_of_note, notes = _data_notes(ds, params, services_known, doc_known)
    window_start = t12m_start(as_of)
    lines = compute_lines(billing, ds.agreements, ds.services, as_of, params, rules, services_known)
    spend = compute_spend(lines)
    addons = compute_addons(lines, services_known)
    onboarding, pipeline = compute_onboarding(ds.locations, ds.agreements, lines, as_of, params)
    scorecard = compute_scorecard(
        ds.agreements, ds.services, ds.documentation, params, services_known, doc_known
    )
    renewals = compute_renewals(ds.agreements, as_of, params)
    leverage, lev_total = compute_leverage(
        ds.agreements, ds.locations, lines, onboarding, pipeline, scorecard, renewals,
        as_of, window_start, params, services_known,
    )  # fmt: skip
    ask_set = compute_asks(
        leverage, lines, onboarding, pipeline, scorecard, renewals, ds.locations, ds.agreements,
        as_of, params, ds.dso, services_known,
    )  # fmt: skip
    asks = ask_set.asks

    unclassified, ungoverned = _lines_not_placed(lines, notes)
    kpis = _kpis(spend, addons, ask_set, onboarding, lev_total, _nearest_notice(renewals, as_of),
                 len(unclassified), len(ungoverned))  # fmt: skip
    return DsoMetrics(
        dso=ds.dso,
        display_name=ds.display_name or ds.dso,
        currency=ds.currency,
        as_of=as_of,
        t12m_start=window_start,
        params=params,
        lines=lines.drop(columns=["amount_cents"]),
        spend_total=spend["total"],
        spend_by_location=spend["by_location"],
        spend_by_service=spend["by_service"],
        spend_by_agreement=spend["by_agreement"],
        spend_by_month=spend["by_month"],
        addon_summary=addons["summary"],
        addon_lines=addons["lines"],
        addon_by_service=addons["by_service"],
        addon_by_location=addons["by_location"],
        addon_by_month=addons["by_month"],
        onboarding=onboarding,
        pipeline=pipeline,
        scorecard=scorecard,
        renewals=renewals,
        leverage=leverage,
        leverage_total=lev_total,
        asks=asks,
        unclassified=unclassified.reset_index(drop=True),
        ungoverned=ungoverned.reset_index(drop=True),
        kpis=kpis,
        notes=notes,
        as_of_warning=as_of_note,
        terms_to_fix=ask_set.terms_to_fix,
        credits=ask_set.credits,
        findings=ask_set.findings,
        terms_sources=_terms_sources(ds.agreements),
    )


def _lines_not_placed(lines: pd.DataFrame, notes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The billing lines no metric can place: unclassified, and without a governing agreement
    (their :data:`LINES_COLUMNS`).  ``notes`` gets a line for each kind found, and for the
    onboarding lines without a location (left out of M3)."""
    unattributed = int(
        (
            (lines[schema.SERVICE_RESOLVED] == schema.ONBOARDING_SERVICE)
            & lines["location_id"].isna()
        ).sum()
    )
    if unattributed:
        notes.append(
            f"{plural(unattributed, 'onboarding line')} "
            f"{'has no location and is' if unattributed == 1 else 'have no location and are'} "
            "not in M3."
        )
    keep = list(LINES_COLUMNS)
    is_unc = (lines[schema.SERVICE_RESOLVED] == schema.UNCLASSIFIED).to_numpy(bool, na_value=False)
    unclassified = lines.loc[is_unc, keep]
    ungoverned = lines.loc[lines[schema.GOVERNING_AGREEMENT].isna().to_numpy(bool), keep]
    if len(unclassified):
        notes.append(
            f"{plural(len(unclassified), 'billing line')} matched no classification rule "
            "(unclassified)."
        )
    if len(ungoverned):
        notes.append(
            f"{plural(len(ungoverned), 'billing line')} "
            f"{'has' if len(ungoverned) == 1 else 'have'} no governing agreement."
        )
    return unclassified, ungoverned
