"""M8 negotiation scenarios: the renewal deal modelled forward, month by month.

Pure and vectorised (numpy): :func:`project` evaluates any number of
combinations of the numeric inputs at once, as a ``(K, months)`` array, so the
sensitivity grid and the tornado cost a handful of array operations.  The
formulas are written down in ``docs/metrics.md`` (M8); the live Excel model
(:mod:`dso_analytics.reporting.excel_scenarios`) writes the same formulas as
Excel formulas over the same inputs.

Flow::

    cmp = compare_scenarios(ds, m, specs)     # estate + every scenario, side by side
    cmp.table, cmp.by_agreement, cmp.monthly, cmp.tornado
    sensitivity_grid(cmp.estate, cmp.scenario(CURRENT))

No IO, no plotting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dso_analytics import schema
from dso_analytics.dataset import DsoDataset
from dso_analytics.metrics._util import add_months, as_bool, as_float, as_text
from dso_analytics.metrics.governing import governing_agreement
from dso_analytics.metrics.result import DsoMetrics
from dso_analytics.metrics.scorecard import compute_scorecard
from dso_analytics.metrics.spend import addon_services
from dso_analytics.standards import Params
from dso_analytics.words import plural

CURRENT = "current terms renewed"
TARGET = "DSO-grade target"
BUILT_IN = (CURRENT, TARGET)

#: base-fee increase (percent) the DSO-grade target offers for moving the add-ons into base
TARGET_BASE_FEE_INCREASE_PCT = 10.0
#: default annual discount rate (percent) of the present values
DEFAULT_DISCOUNT_RATE_PCT = 8.0

#: scenario columns that amend the agreement's terms (data-contract.md "scenarios")
TERM_FIELDS = (
    "monthly_rate", "pricing_basis", "annual_uplift_pct", "base_fee_increase_pct",
    "term_months", "notice_days", "onboarding_terms", "onboarding_cap",
    "onboarding_sla_business_days", "reporting", "new_location_terms",
    "change_of_ownership_termination", "baa", "included_services",
)  # fmt: skip
#: planning assumptions (one set per agreement, shared by all its scenarios)
ASSUMPTION_FIELDS = (
    "acquisitions_per_year", "workstations_per_new_location", "workstation_growth_pct",
    "term_start_date", "discount_rate_pct", "onboarding_estimate",
)  # fmt: skip

#: tornado drivers: (name, label, how the low / high values are formed)
TORNADO_DRIVERS = (
    ("acquisitions_per_year", "acquisitions per year", "max(0, A - 2) / A + 2"),
    ("workstation_growth_pct", "workstation growth %/yr", "g - 5 / g + 5 points"),
    ("annual_uplift_pct", "annual uplift %", "each max(0, u - 2) / u + 2 points"),
    ("addon_run_rate", "add-on run-rate (factor)", "x 0.8 / x 1.2"),
    ("market_band", "market band cap", "DSO-grade target rate capped at benchmark low / high"),
)

TABLE_COLUMNS = (
    "scenario", "status", "term_start", "term_months", "workstation_months", "base_fee",
    "add_ons", "onboarding", "total_cost", "cost_per_workstation_month", "present_value",
    "savings_vs_current", "savings_vs_current_pv", "clause_score", "break_even_month",
    "break_even", "reason",
)  # fmt: skip
BY_AGREEMENT_COLUMNS = (
    "scenario", "agreement_id", "amended", "renewed", "pricing_basis", "rate_at_term_start",
    "annual_uplift_pct", "addon_rate_per_ws_month", "outside_base", "onboarding_terms",
    "onboarding_cost_per_location", "onboarding_sla_business_days", "term_months",
    "notice_days", "clause_score", "total_cost",
)  # fmt: skip
MONTHLY_COLUMNS = (
    "scenario", "month", "month_start", "workstations", "locations", "base_fee", "add_ons",
    "onboarding", "total", "discount_factor", "present_value", "cumulative",
)  # fmt: skip
TORNADO_COLUMNS = (
    "scenario",
    "driver",
    "label",
    "rule",
    "low_value",
    "high_value",
    "cost_low",
    "cost_high",
    "base_cost",
    "swing",
)


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------
@dataclass
class ScenarioSpec:
    """One scenario row for one agreement, as read from the scenarios file.

    Attributes
    ----------
    name : str
        Scenario name (one scenario may have rows for several agreements).
    agreement_id : str
        The agreement it replaces or amends.
    terms : dict
        Amended terms (keys of :data:`TERM_FIELDS`); absent = as the agreement.
    assumptions : dict
        Planning assumptions (keys of :data:`ASSUMPTION_FIELDS`).
    origin : str
        Where it came from (``scenarios.xlsx, sheet scenarios, row 3``).
    error : str, optional
        Why it cannot be evaluated (a validation problem of its row).
    """

    name: str
    agreement_id: str
    terms: dict[str, Any] = field(default_factory=dict)
    assumptions: dict[str, Any] = field(default_factory=dict)
    origin: str = "built-in"
    error: str | None = None


@dataclass(frozen=True)
class Assumptions:
    """Planning assumptions of the next term (one set per DSO, shared by every scenario).

    Attributes
    ----------
    acquisitions_per_year : float
        Locations acquired per year beyond the planned ones, spread evenly
        (A / 12 per month, joining at the start of each month), under the
        primary agreement.
    workstations_per_new_location : float
        Workstations of each assumed acquisition.
    workstation_growth_pct : float
        Yearly growth of the existing workstations, linear by month.
    discount_rate_pct : float
        Annual discount rate of the present values.
    onboarding_estimate : float
        Price of one hourly / quote onboarding (NaN = unknown).
    """

    acquisitions_per_year: float
    workstations_per_new_location: float
    workstation_growth_pct: float
    discount_rate_pct: float
    onboarding_estimate: float


@dataclass
class AgreementBase:
    """Facts of one modelled agreement.

    Attributes
    ----------
    agreement_id, provider, scope, status : str
    agreement, services, documentation : DataFrame
        The agreement's own rows of the typed tables (for the clause score).
    existing_workstations, existing_locations : float
        Workstations and locations it governs at the term start (non-closed
        locations that joined before it).
    planned_workstations, planned_locations : ndarray
        Workstations and number of its planned locations joining in each month.
    workstations_now : float
        Workstations of the active locations it governs at as-of (M6).
    run_rate : dict
        T12M spend per add-on service / 12 / workstations now.
    current_rate : float
        Its rate in force at the term start (its own uplift applied on each
        anniversary of its start_date), rounded to the cent.
    """

    agreement_id: str
    provider: str
    scope: str
    status: str
    agreement: pd.DataFrame
    services: pd.DataFrame
    documentation: pd.DataFrame
    existing_workstations: float
    existing_locations: float
    planned_workstations: np.ndarray
    planned_locations: np.ndarray
    workstations_now: float
    run_rate: dict[str, float]
    current_rate: float

    def term(self, name: str) -> Any:
        """The agreement's own value of a term (``None`` when blank)."""
        if name not in self.agreement:
            return None
        v = self.agreement[name].iloc[0]
        return None if pd.isna(v) else v


@dataclass
class Estate:
    """Everything the scenarios of one DSO are projected on.

    Attributes
    ----------
    agreements : list of AgreementBase
        The modelled agreements (every agreement not expired at as-of, plus
        any a scenario names), in file order.
    primary : str
        The agreement the assumed acquisitions join (see :func:`primary_agreement`).
    term_start : pandas.Timestamp
    months : int
        Months projected: the longest term of the scenarios compared (the
        horizon; every scenario is cut to its own term, see :attr:`Scenario.months`).
    month_starts : DatetimeIndex
    assumptions : Assumptions
    onboarding_mean, onboarding_mean_n
        Mean billed of past onboardings (M3) and how many.
    default_months : int
        The term a scenario models when it sets no ``term_months`` of its own:
        the term the primary agreement would renew into (or ``--term-months``).
        0 = :attr:`months`.
    """

    agreements: list[AgreementBase]
    primary: str
    term_start: pd.Timestamp
    months: int
    month_starts: pd.DatetimeIndex
    assumptions: Assumptions
    onboarding_mean: float
    onboarding_mean_n: int
    default_months: int = 0

    @property
    def term_months(self) -> int:
        """The default modelled term (:attr:`default_months`, else :attr:`months`)."""
        return self.default_months or self.months

    @property
    def ids(self) -> list[str]:
        """Agreement ids, in model order."""
        return [b.agreement_id for b in self.agreements]

    def base(self, agreement_id: str) -> AgreementBase:
        """The :class:`AgreementBase` of one agreement."""
        return self.agreements[self.ids.index(agreement_id)]

    def arrays(self) -> dict[str, np.ndarray]:
        """Static per-agreement arrays of :func:`project`."""
        return {
            "w0": np.array([b.existing_workstations for b in self.agreements], float),
            "l0": np.array([b.existing_locations for b in self.agreements], float),
            "pws": np.array([b.planned_workstations for b in self.agreements], float).reshape(
                len(self.agreements), self.months
            ),
            "pl": np.array([b.planned_locations for b in self.agreements], float).reshape(
                len(self.agreements), self.months
            ),
            "primary": np.array([b.agreement_id == self.primary for b in self.agreements], float),
        }


@dataclass
class AgreementTerms:
    """One agreement's terms in one scenario, resolved to numbers."""

    agreement_id: str
    pricing_basis: str = "per_workstation"
    rate: float = float("nan")
    uplift_pct: float = 0.0
    addon_rate: float = 0.0
    onboarding_cost: float = float("nan")
    onboarding_terms: str | None = None
    onboarding_cap: float | None = None
    sla_business_days: int | None = None
    outside_base: tuple[str, ...] = ()
    term_months: int | None = None
    notice_days: int | None = None
    clause_score: float = float("nan")
    amended: bool = False
    renewed: bool = True
    tables: tuple[pd.DataFrame, ...] = field(default=(), repr=False)


@dataclass
class Scenario:
    """One scenario: terms for every modelled agreement.

    Attributes
    ----------
    name : str
    kind : str
        ``current``, ``target`` or ``file``.
    terms : list of AgreementTerms
        One per modelled agreement, in :attr:`Estate.agreements` order.
    target_rate_before_cap : float
        DSO-grade target only: the estate's per-workstation rate raised by the
        base-fee increase, before the market-band cap.
    origins : list of str
    error : str, optional
        Why it cannot be evaluated.
    months : int
        The term it models, in months (0 = the estate's :attr:`Estate.term_months`):
        the longest ``term_months`` its file rows give, else the default term.
    """

    name: str
    kind: str
    terms: list[AgreementTerms] = field(default_factory=list)
    target_rate_before_cap: float = float("nan")
    origins: list[str] = field(default_factory=list)
    error: str | None = None
    months: int = 0

    def term_length(self, estate: Estate) -> int:
        """Months it models: :attr:`months`, else the estate's default term (never
        beyond the projected horizon)."""
        return min(self.months or estate.term_months, estate.months)

    def vector(self, name: str) -> np.ndarray:
        """One numeric term across agreements (``rate``, ``uplift_pct``...)."""
        return np.array([getattr(t, name) for t in self.terms], dtype=float)

    @property
    def basis_codes(self) -> np.ndarray:
        """0 per_workstation, 1 per_location, 2 flat."""
        codes = {"per_workstation": 0, "per_location": 1, "flat": 2}
        return np.array([codes.get(t.pricing_basis, 2) for t in self.terms], dtype=np.int64)

    @property
    def clause_score(self) -> float:
        """Mean clause score of its agreements (as the M6 DSO total)."""
        v = self.vector("clause_score")
        return float("nan") if np.all(np.isnan(v)) else float(np.nanmean(v))


# ---------------------------------------------------------------------------
# The projection (vectorised)
# ---------------------------------------------------------------------------
def project(
    estate: Estate,
    basis: np.ndarray,
    rate: Any,
    uplift_pct: Any,
    addon_rate: Any,
    onboarding_cost: Any,
    acquisitions_per_year: Any,
    workstations_per_new_location: Any,
    workstation_growth_pct: Any,
    discount_rate_pct: Any,
    *,
    by_agreement: bool = False,
) -> dict[str, np.ndarray]:
    """Month-by-month cost of the term, for K combinations of the inputs at once.

    Agreement terms (``rate``, ``uplift_pct``, ``addon_rate``,
    ``onboarding_cost``) are arrays of shape ``(A,)`` or ``(K, A)``; the
    assumptions are scalars or ``(K,)``.  For agreement ``a`` and month
    ``t = 0 .. months-1`` (docs/metrics.md M8), with ``p_a`` = 1 for the
    primary agreement, else 0:

    - ``acq(t) = A_yr * (t + 1) / 12``
    - ``W_a(t) = W0_a * (1 + g/100 * t/12) + cumsum(planned_ws_a)(t) + p_a * acq(t) * ws_new``
    - ``L_a(t) = L0_a + cumsum(planned_locs_a)(t) + p_a * acq(t)``
    - ``base_a(t) = rate_a * (1 + u_a/100) ** floor(t/12) * Q_a(t)``, ``Q`` = W, L or 1 (flat)
    - ``add_ons_a(t) = addon_rate_a * W_a(t)``
    - ``onboarding_a(t) = (planned_locs_a(t) + p_a * A_yr/12) * onboarding_cost_a``
    - ``total(t)`` = the sum over agreements; ``pv(t) = total(t) / (1 + d/100) ** (t/12)``

    Parameters
    ----------
    estate : Estate
    basis : ndarray of int, shape (A,)
        0 per_workstation, 1 per_location, 2 flat (:attr:`Scenario.basis_codes`).
    rate, uplift_pct, addon_rate, onboarding_cost : array-like
        The scenario's terms per agreement.
    acquisitions_per_year, workstations_per_new_location, workstation_growth_pct,
    discount_rate_pct : float or array-like
        Planning assumptions.
    by_agreement : bool
        Also return the ``(K, A, months)`` arrays (``*_by_agreement``).

    Returns
    -------
    dict of ndarray
        ``workstations``, ``locations``, ``base_fee``, ``add_ons``,
        ``onboarding``, ``total``, ``discount_factor``, ``present_value``, each
        of shape ``(K, months)``.
    """
    s = estate.arrays()
    h = estate.months
    t = np.arange(h, dtype=float)[None, None, :]

    def k1(x: Any) -> np.ndarray:  # (K, 1, 1)
        return np.atleast_1d(np.asarray(x, dtype=float)).reshape(-1, 1, 1)

    def ka(x: Any) -> np.ndarray:  # (K or 1, A, 1)
        v = np.asarray(x, dtype=float)
        return (v[None, :] if v.ndim == 1 else v)[:, :, None]

    prim = s["primary"][None, :, None]
    a = k1(acquisitions_per_year)
    acq = prim * a * (t + 1.0) / 12.0
    ws = (
        s["w0"][None, :, None] * (1.0 + k1(workstation_growth_pct) / 100.0 * t / 12.0)
        + np.cumsum(s["pws"], axis=1)[None]
        + acq * k1(workstations_per_new_location)
    )
    locs = s["l0"][None, :, None] + np.cumsum(s["pl"], axis=1)[None] + acq
    b = np.asarray(basis)[None, :, None]
    qty = np.where(b == 0, ws, np.where(b == 1, locs, 1.0))
    factor = (1.0 + ka(uplift_pct) / 100.0) ** np.floor(t / 12.0)
    base_fee = ka(rate) * factor * qty
    add_ons = ka(addon_rate) * ws
    onboarding = (s["pl"][None] + prim * a / 12.0) * ka(onboarding_cost)
    parts = {"workstations": ws, "locations": locs, "base_fee": base_fee,
             "add_ons": add_ons, "onboarding": onboarding}  # fmt: skip
    out = {k: v.sum(axis=1) for k, v in parts.items()}
    kmax = max(v.shape[0] for v in out.values())
    out = {k: np.broadcast_to(v, (kmax, h)) for k, v in out.items()}
    out["total"] = out["base_fee"] + out["add_ons"] + out["onboarding"]
    df = (1.0 + k1(discount_rate_pct)[:, :, 0] / 100.0) ** (-t[0] / 12.0)
    out["discount_factor"] = np.broadcast_to(df, (max(kmax, df.shape[0]), h))
    out["present_value"] = out["total"] * df
    if by_agreement:
        for k, v in parts.items():
            out[f"{k}_by_agreement"] = v
    return out


def project_scenario(
    estate: Estate, sc: Scenario, *, months: int | None = None, **overrides: Any
) -> dict[str, np.ndarray]:
    """:func:`project` of one scenario under the estate's assumptions, over its own term.

    ``months`` replaces the scenario's term (:meth:`Scenario.term_length`; at most
    the estate's horizon): the arrays keep the first ``months`` months.
    ``overrides`` replace any input of :func:`project` (arrays for a grid).
    """
    a = estate.assumptions
    kw: dict[str, Any] = {
        "rate": sc.vector("rate"),
        "uplift_pct": sc.vector("uplift_pct"),
        "addon_rate": sc.vector("addon_rate"),
        "onboarding_cost": sc.vector("onboarding_cost"),
        "acquisitions_per_year": a.acquisitions_per_year,
        "workstations_per_new_location": a.workstations_per_new_location,
        "workstation_growth_pct": a.workstation_growth_pct,
        "discount_rate_pct": a.discount_rate_pct,
    }
    by_agreement = overrides.pop("by_agreement", False)
    kw.update(overrides)
    out = project(estate, sc.basis_codes, by_agreement=by_agreement, **kw)
    n = min(months, estate.months) if months else sc.term_length(estate)
    if n < estate.months:
        out = {k: v[..., :n] for k, v in out.items()}
    return out


def term_cost(proj: dict[str, np.ndarray]) -> np.ndarray:
    """Total cost of the term per combination (``(K,)``), rounded to the cent."""
    return np.round(proj["total"].sum(axis=1), 2)


# ---------------------------------------------------------------------------
# Facts
# ---------------------------------------------------------------------------
def _whole_years(start: pd.Timestamp, end: pd.Timestamp) -> int:
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if end.day < start.day:
        months -= 1
    return max(0, months // 12)


def _num(v: Any, default: float) -> float:
    if v is None:
        return default
    try:
        f = float(v)
    except (TypeError, ValueError):
        return default
    return default if np.isnan(f) else f


def primary_agreement(m: DsoMetrics, candidates: list[str] | None = None) -> str | None:
    """The agreement assumed acquisitions join and whose renewal sets the term.

    Not expired first, then the most workstations now, then organization
    scope, then file order.
    """
    lev = m.leverage.reset_index(drop=True)
    if candidates is not None:
        lev = lev[lev["agreement_id"].isin(candidates).to_numpy(bool)].reset_index(drop=True)
    if lev.empty:
        return None
    ren = m.renewals.set_index("agreement_id").reindex(lev["agreement_id"])
    key = pd.DataFrame(
        {
            "id": lev["agreement_id"].astype(object),
            "expired": (ren["status"].astype(object) == "expired").to_numpy(),
            "ws": -lev["workstations_now"].astype("float64").fillna(0.0).to_numpy(),
            "loc": (lev["scope"].astype(object) != "organization").to_numpy(),
            "order": np.arange(len(lev)),
        }
    )
    key = key.sort_values(["expired", "ws", "loc", "order"])
    return str(key["id"].iloc[0])


def modelled_agreements(m: DsoMetrics, named: list[str] | None = None) -> list[str]:
    """Every agreement not expired at as-of, plus the ones named (file order)."""
    ren = m.renewals
    keep = set(ren.loc[(ren["status"] != "expired").to_numpy(bool), "agreement_id"].astype(str))
    keep |= set(named or ())
    return [a for a in ren["agreement_id"].astype(str) if a in keep]


def _agreement_base(
    ds: DsoDataset,
    m: DsoMetrics,
    aid: str,
    gov: np.ndarray,
    month_starts: pd.DatetimeIndex,
    months: int,
    spent: pd.Series,
) -> AgreementBase:
    ag_all = ds.agreements.reset_index(drop=True)
    ids = as_text(ag_all["agreement_id"])
    ag = ag_all[(ids == aid).to_numpy(bool, na_value=False)].head(1).reset_index(drop=True)
    status = str(m.renewals.set_index("agreement_id").loc[aid, "status"])
    loc = ds.locations.reset_index(drop=True)
    st = as_text(loc["status"]).to_numpy(dtype=object, na_value=None)
    jd = pd.to_datetime(loc["join_date"]).to_numpy(dtype="datetime64[ns]")
    ws = np.nan_to_num(as_float(loc["workstations"]))
    start = month_starts[0]
    mine = (gov == aid) & (st != "closed")
    before = mine & (jd < np.datetime64(start))
    edges = month_starts.to_numpy(dtype="datetime64[ns]")
    slot = np.searchsorted(edges, jd, side="right") - 1  # d_t <= join < d_{t+1}
    inside = mine & ~before & (slot >= 0) & (slot < months)
    pws = np.bincount(slot[inside], weights=ws[inside], minlength=months)[:months].astype(float)
    pl = np.bincount(slot[inside], minlength=months)[:months].astype(float)

    lev = m.leverage.set_index("agreement_id")
    ws_now = float(pd.to_numeric(lev.loc[aid, "workstations_now"]))
    run_rate = {
        s: (round(float(spent.get((aid, s), 0.0)), 2) / 12.0 / ws_now if ws_now > 0 else 0.0)
        for s in addon_services(m.params)
    }
    rate = float(ag["monthly_rate"].iloc[0])
    uplift = _num(ag["annual_uplift_pct"].iloc[0] if "annual_uplift_pct" in ag else None, 0.0)
    years = _whole_years(pd.Timestamp(ag["start_date"].iloc[0]), start)
    sv = ds.services
    sv = sv[(as_text(sv["agreement_id"]) == aid).to_numpy(bool, na_value=False)]
    doc = ds.documentation
    doc = doc[(as_text(doc["agreement_id"]) == aid).to_numpy(bool, na_value=False)]
    return AgreementBase(
        agreement_id=aid,
        provider=str(ag["provider"].iloc[0]),
        scope=str(ag["scope"].iloc[0]),
        status=status,
        agreement=ag,
        services=sv.reset_index(drop=True),
        documentation=doc.reset_index(drop=True),
        existing_workstations=float(ws[before].sum()),
        existing_locations=float(before.sum()),
        planned_workstations=pws,
        planned_locations=pl,
        workstations_now=ws_now,
        run_rate=run_rate,
        current_rate=round(rate * (1.0 + uplift / 100.0) ** years, 2),
    )


def build_estate(
    ds: DsoDataset,
    m: DsoMetrics,
    named: list[str] | None = None,
    assumptions: dict[str, Any] | None = None,
    term_months: int | None = None,
) -> Estate:
    """Gather the facts the scenarios are projected on (docs/metrics.md M8).

    Parameters
    ----------
    ds : DsoDataset
        The typed tables.
    m : DsoMetrics
        Its metrics (M3 onboarding, M5 renewals, M6 leverage, the lines).
    named : list of str, optional
        Agreements a scenario names (modelled even when expired).
    assumptions : dict, optional
        Planning assumptions (keys of :data:`ASSUMPTION_FIELDS`); missing ones
        take their documented default.
    term_months : int, optional
        Length of the modelled term (default: the term the primary agreement
        renews into: renewal_term_months when it auto-renews, else term_months).

    Returns
    -------
    Estate
    """
    given = {k: v for k, v in (assumptions or {}).items() if v is not None}
    as_of = m.as_of
    ids = modelled_agreements(m, named)
    primary = primary_agreement(m, ids) or (ids[0] if ids else "")
    ren = m.renewals.set_index("agreement_id")
    ag = ds.agreements.reset_index(drop=True)
    prow = ag[(as_text(ag["agreement_id"]) == primary).to_numpy(bool, na_value=False)]
    if term_months is None and primary not in ren.index:
        term_months = 12  # no agreement to renew: a year
    if term_months is None:
        auto = bool(as_bool(prow["auto_renew"], default=False)[0]) if len(prow) else True
        term_months = (
            int(ren.loc[primary, "renewal_term_months"])
            if auto or not len(prow)
            else int(prow["term_months"].iloc[0])
        )
    cur_end = ren.loc[primary, "current_term_end"] if primary in ren.index else pd.NaT
    if "term_start_date" in given:
        start = pd.Timestamp(given["term_start_date"]).normalize()
    elif pd.notna(cur_end) and cur_end > as_of:
        start = pd.Timestamp(cur_end).normalize()
    else:
        start = (as_of + pd.offsets.MonthBegin(1)).normalize()
    month_starts = pd.DatetimeIndex(
        add_months(pd.Series([start] * (term_months + 1)), np.arange(term_months + 1))
    )
    # locations belong to the agreement that governs them at as-of
    loc = ds.locations.reset_index(drop=True)
    lid = as_text(loc["location_id"])
    gov = governing_agreement(lid, pd.Series(as_of, index=lid.index), ds.agreements)
    # T12M spend by (agreement, service) of the add-on services
    lines = m.lines
    svc = set(addon_services(m.params))
    sel = lines["in_t12m"].to_numpy(bool) & lines[schema.SERVICE_RESOLVED].isin(svc).to_numpy(
        bool, na_value=False
    )
    sub = lines.loc[sel, [schema.GOVERNING_AGREEMENT, schema.SERVICE_RESOLVED, "amount"]]
    spent = sub.astype({schema.GOVERNING_AGREEMENT: object, schema.SERVICE_RESOLVED: object})
    spent = spent.groupby([schema.GOVERNING_AGREEMENT, schema.SERVICE_RESOLVED])["amount"].sum()
    bases = [_agreement_base(ds, m, a, gov, month_starts, term_months, spent) for a in ids]

    ob = m.onboarding
    past = ob[(ob["status"] != "planned").to_numpy(bool) & (ob["billed"] != 0).to_numpy(bool)]
    mean = round(float(past["billed"].mean()), 2) if len(past) else float("nan")
    if "workstations_per_new_location" in given:
        ws_new = float(given["workstations_per_new_location"])
    else:
        w = sum(b.existing_workstations for b in bases)
        n = sum(b.existing_locations for b in bases)
        ws_new = round(w / n, 1) if n > 0 else 0.0
    est = given.get("onboarding_estimate")
    a = Assumptions(
        acquisitions_per_year=_num(given.get("acquisitions_per_year"), 0.0),
        workstations_per_new_location=ws_new,
        workstation_growth_pct=_num(given.get("workstation_growth_pct"), 0.0),
        discount_rate_pct=_num(given.get("discount_rate_pct"), DEFAULT_DISCOUNT_RATE_PCT),
        onboarding_estimate=float(est) if est is not None else mean,
    )
    return Estate(bases, primary, start, int(term_months), month_starts[:term_months], a,
                  mean, len(past))  # fmt: skip


# ---------------------------------------------------------------------------
# Scenarios -> numbers
# ---------------------------------------------------------------------------
def _coverage(base: AgreementBase) -> dict[str, str]:
    sv = base.services
    if sv.empty:
        return {}
    return dict(
        zip(
            as_text(sv["service"]).to_numpy(dtype=object, na_value=""),
            as_text(sv["coverage"]).to_numpy(dtype=object, na_value=""),
            strict=True,
        )
    )


def estate_rate_per_workstation(estate: Estate) -> float:
    """The current base fee of the estate at the term start per workstation:
    sum over agreements of current_rate x (W0, L0 or 1 by basis) / sum of W0."""
    fee = 0.0
    for b in estate.agreements:
        if b.status == "expired":
            continue
        basis = b.term("pricing_basis")
        q = (
            b.existing_workstations
            if basis == "per_workstation"
            else b.existing_locations
            if basis == "per_location"
            else 1.0
        )
        fee += b.current_rate * q
    w = sum(b.existing_workstations for b in estate.agreements)
    return fee / w if w > 0 else float("nan")


def _amended_tables(
    base: AgreementBase, terms: dict[str, Any], included: set[str], all_documented: bool
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    ag = base.agreement.copy()
    for k in ("pricing_basis", "onboarding_terms", "reporting", "new_location_terms", "baa"):
        if terms.get(k) is not None:
            ag[k] = pd.array([terms[k]], dtype="str")
    for k in ("onboarding_cap", "monthly_rate", "annual_uplift_pct"):
        if terms.get(k) is not None:
            ag[k] = float(terms[k])
    for k in ("onboarding_sla_business_days", "term_months", "notice_days"):
        if terms.get(k) is not None:
            ag[k] = pd.array([int(terms[k])], dtype="Int64")
    if terms.get("change_of_ownership_termination") is not None:
        ag["change_of_ownership_termination"] = pd.array(
            [bool(terms["change_of_ownership_termination"])], dtype="boolean"
        )
    if terms.get("scope") is not None:
        ag["scope"] = pd.array([terms["scope"]], dtype="str")
    cov = _coverage(base)
    for s in included:
        cov[s] = "included"
    sv = pd.DataFrame(
        {
            "agreement_id": pd.array([base.agreement_id] * len(cov), dtype="str"),
            "service": pd.array(list(cov), dtype="str"),
            "coverage": pd.array(list(cov.values()), dtype="str"),
        }
    )
    doc = base.documentation
    if all_documented:
        doc = pd.DataFrame(
            {
                "agreement_id": pd.array([base.agreement_id] * len(schema.DELIVERABLES), "str"),
                "deliverable": pd.array(list(schema.DELIVERABLES), dtype="str"),
                "specified": pd.array([True] * len(schema.DELIVERABLES), dtype="boolean"),
            }
        )
    elif doc.empty:
        doc = pd.DataFrame(
            {
                "agreement_id": pd.array([], dtype="str"),
                "deliverable": pd.array([], dtype="str"),
                "specified": pd.array([], dtype="boolean"),
            }
        )
    return ag, sv, doc


def _resolve_agreement(
    estate: Estate,
    base: AgreementBase,
    t: dict[str, Any],
    params: Params,
    kind: str,
    known: tuple[bool, bool],
    target_rate: float = float("nan"),
) -> tuple[AgreementTerms, str | None]:
    """One agreement's terms in one scenario -> (numbers, error)."""
    out = AgreementTerms(base.agreement_id, amended=bool(t) or kind == "target")
    if kind == "target":
        t = {
            "pricing_basis": "per_workstation",
            "monthly_rate": target_rate,
            "onboarding_terms": "capped",
            "onboarding_cap": float(params.target_onboarding_cap),
            "onboarding_sla_business_days": int(params.target_onboarding_sla_business_days),
            "reporting": "monthly_automatic",
            "new_location_terms": "automatic",
            "change_of_ownership_termination": True,
            "baa": "per_location",
            "scope": "organization",
        }
        included = set(params.should_be_base) - {schema.ONBOARDING_SERVICE}
    else:
        included = set(t.get("included_services") or ())
    basis = str(t.get("pricing_basis") or base.term("pricing_basis"))
    if t.get("monthly_rate") is not None:
        rate = round(float(t["monthly_rate"]), 2)
    elif basis != base.term("pricing_basis"):
        return out, "pricing_basis changes but no monthly_rate is given for it"
    else:
        inc = _num(t.get("base_fee_increase_pct"), 0.0)
        rate = round(base.current_rate * (1.0 + inc / 100.0), 2)
    out.pricing_basis, out.rate = basis, rate
    up = t.get("annual_uplift_pct")
    out.uplift_pct = _num(up if up is not None else base.term("annual_uplift_pct"), 0.0)

    cov = _coverage(base)
    for s in included:
        cov[s] = "included"
    out.outside_base = tuple(s for s in addon_services(params) if cov.get(s) != "included")
    out.addon_rate = float(sum(base.run_rate.get(s, 0.0) for s in out.outside_base))

    ot = t.get("onboarding_terms") or base.term("onboarding_terms")
    cap = t.get("onboarding_cap")
    if cap is None and ot == base.term("onboarding_terms"):
        cap = base.term("onboarding_cap")
    out.onboarding_terms = ot
    out.onboarding_cap = None if cap is None else float(cap)
    is_primary = base.agreement_id == estate.primary
    new_locs = base.planned_locations.sum() > 0 or (
        is_primary and estate.assumptions.acquisitions_per_year > 0
    )
    if ot == "included":
        out.onboarding_cost = 0.0
    elif ot == "capped":
        if cap is None:
            return out, "onboarding_terms is capped but onboarding_cap is blank"
        out.onboarding_cost = float(cap)
    else:
        est = estate.assumptions.onboarding_estimate
        if np.isnan(est):
            if new_locs:
                return out, (
                    f"{base.agreement_id}: onboarding is {ot} and no past onboarding prices it "
                    "(give onboarding_estimate)"
                )
            est = 0.0
        out.onboarding_cost = float(est)
    sla = t.get("onboarding_sla_business_days")
    sla = base.term("onboarding_sla_business_days") if sla is None else sla
    out.sla_business_days = None if sla is None else int(sla)
    tm = t.get("term_months")
    tm = base.term("term_months") if tm is None else tm
    out.term_months = None if tm is None else int(tm)
    nd = t.get("notice_days")
    nd = base.term("notice_days") if nd is None else nd
    out.notice_days = None if nd is None else int(nd)
    out.tables = _amended_tables(base, t, included, all_documented=kind == "target")
    return out, None


def resolve_scenario(
    estate: Estate,
    name: str,
    kind: str,
    params: Params,
    specs: list[ScenarioSpec] | None = None,
    known: tuple[bool, bool] = (True, True),
) -> Scenario:
    """Resolve one scenario to numeric terms for every modelled agreement.

    ``current``: every agreement as it is (its rate uplifted to the term
    start).  ``target``: the DSO-grade standard applied to every agreement
    (see docs/metrics.md M8).  ``file``: the agreements its ``specs`` name are
    amended, the others renew as they are.  A scenario that cannot be
    evaluated gets ``error`` set (the others are unaffected).
    """
    sc = Scenario(name, kind, origins=[s.origin for s in specs or ()])
    by_id = {s.agreement_id: s for s in specs or ()}
    errors = [s.error for s in specs or () if s.error]
    unknown = [a for a in by_id if a not in estate.ids]
    if unknown:
        errors.append(f"unknown agreement {', '.join(unknown)}")
    if not estate.agreements:
        errors.append("no agreement to renew (every agreement has expired)")
    target_rate = float("nan")
    if kind == "target":
        per_ws = estate_rate_per_workstation(estate)
        high = float(params.benchmark_workstation_monthly[1])
        raised = per_ws * (1.0 + TARGET_BASE_FEE_INCREASE_PCT / 100.0)
        sc.target_rate_before_cap = raised
        target_rate = round(high if np.isnan(raised) else min(raised, high), 2)
    for b in estate.agreements:
        if errors:
            break
        spec = by_id.get(b.agreement_id)
        terms = dict(spec.terms) if spec else {}
        k = "target" if kind == "target" else "file"
        at, err = _resolve_agreement(estate, b, terms, params, k, known, target_rate)
        if b.status == "expired" and spec is None:
            # an expired agreement is not renewed unless a scenario names it
            at = AgreementTerms(b.agreement_id, pricing_basis="flat", rate=0.0,
                                onboarding_cost=0.0, renewed=False, tables=at.tables)  # fmt: skip
            err = None
        if err:
            errors.append(err if err.startswith(b.agreement_id) else f"{b.agreement_id}: {err}")
        sc.terms.append(at)
    if errors:
        sc.error = "; ".join(dict.fromkeys(errors))
        sc.terms = []
        return sc
    # M4 re-run on the amended terms, all agreements at once
    ag, sv, doc = (pd.concat([t.tables[i] for t in sc.terms], ignore_index=True) for i in range(3))
    tgt = kind == "target"
    card = compute_scorecard(ag, sv, doc, params, known[0] or tgt, known[1] or tgt)
    for t, score in zip(sc.terms, card["clause_score"].to_numpy(float), strict=True):
        t.clause_score = float(score) if t.renewed else float("nan")
        t.tables = ()
    return sc


def _break_even(cur: dict[str, np.ndarray], scen: dict[str, np.ndarray]) -> tuple[int | None, str]:
    """The month (1-based) from which the add-ons and onboarding a scenario removes
    have paid for its base-fee increase, cumulatively, for the rest of the term."""
    extra = scen["base_fee"][0] - cur["base_fee"][0]
    if not (extra > 0.005).any():
        return None, "no base-fee increase"
    avoided = (cur["add_ons"][0] + cur["onboarding"][0]) - (
        scen["add_ons"][0] + scen["onboarding"][0]
    )
    net = np.cumsum(avoided - extra)
    below = np.flatnonzero(net < -0.005)
    if len(below) == 0:
        return 1, "month 1"
    if below[-1] == len(net) - 1:
        return None, "not within the term"
    month = int(below[-1]) + 2  # from then on the cumulative stays >= 0
    return month, f"month {month}"


# ---------------------------------------------------------------------------
# Side by side
# ---------------------------------------------------------------------------
@dataclass
class ScenarioComparison:
    """Every scenario side by side.

    Attributes
    ----------
    estate : Estate
    scenarios : list of Scenario
        The two built-in ones first, then the file's in file order.
    table : DataFrame
        :data:`TABLE_COLUMNS`, one row per scenario.
    by_agreement : DataFrame
        One row per scenario and agreement: its terms and term cost.
    monthly : DataFrame
        :data:`MONTHLY_COLUMNS`, the full projection.
    tornado : DataFrame
        ``scenario``, ``driver``, ``label``, ``rule``, ``low_value``,
        ``high_value``, ``cost_low``, ``cost_high``, ``base_cost``, ``swing``
        (largest swing first within a scenario).
    notes : list of str
    """

    estate: Estate
    scenarios: list[Scenario]
    table: pd.DataFrame
    by_agreement: pd.DataFrame
    monthly: pd.DataFrame
    tornado: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every scenario could be evaluated."""
        return all(s.error is None for s in self.scenarios)

    def scenario(self, name: str) -> Scenario:
        """The scenario called ``name``."""
        return next(s for s in self.scenarios if s.name == name)


def _assumptions_of(specs: list[ScenarioSpec]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for s in specs:
        for k, v in s.assumptions.items():
            if v is not None and k not in merged:
                merged[k] = v
    return merged


def _own_term(group: list[ScenarioSpec]) -> int | None:
    """The term a file scenario models: the longest ``term_months`` of its rows."""
    terms = [int(s.terms["term_months"]) for s in group
             if s.error is None and s.terms.get("term_months") is not None]  # fmt: skip
    return max(terms) if terms else None


def compare_scenarios(
    ds: DsoDataset,
    m: DsoMetrics,
    specs: list[ScenarioSpec] | None = None,
    *,
    term_months: int | None = None,
    assumptions: dict[str, Any] | None = None,
) -> ScenarioComparison:
    """Evaluate the built-in and file scenarios side by side (M8).

    Parameters
    ----------
    ds : DsoDataset
    m : DsoMetrics
    specs : list of ScenarioSpec, optional
        From :func:`dso_analytics.ingest.scenarios.read_scenarios`.
    term_months : int, optional
        Length of the modelled term.
    assumptions : dict, optional
        Planning assumptions over the file's (the notebook's sliders).

    Returns
    -------
    ScenarioComparison
    """
    specs = list(specs or [])
    params = m.params
    known = (
        not ds.present_tables or schema.SERVICES in ds.present_tables,
        not ds.present_tables or schema.DOCUMENTATION in ds.present_tables,
    )
    known_ids = set(as_text(ds.agreements["agreement_id"]).dropna())
    given = _assumptions_of([s for s in specs if s.error is None])
    given.update({k: v for k, v in (assumptions or {}).items() if v is not None})
    named = sorted({s.agreement_id for s in specs if s.agreement_id in known_ids})
    estate = build_estate(ds, m, named, given, term_months)
    groups: dict[str, list[ScenarioSpec]] = {}
    for s in specs:
        groups.setdefault(s.name, []).append(s)
    # each scenario models its own term (--term-months: every scenario that one);
    # the projection runs over the longest, current terms included (the savings)
    default = estate.months
    own = {} if term_months is not None else {n: _own_term(g) for n, g in groups.items()}
    horizon = max([default, *(t for t in own.values() if t)])
    if horizon > default:
        estate = build_estate(ds, m, named, given, horizon)
    estate.default_months = default
    scenarios = [
        resolve_scenario(estate, CURRENT, "current", params, None, known),
        resolve_scenario(estate, TARGET, "target", params, None, known),
    ]
    for name, group in groups.items():
        sc = resolve_scenario(estate, name, "file", params, group, known)
        sc.months = own.get(name) or 0
        scenarios.append(sc)
    cur = scenarios[0]
    # current terms over the whole horizon: each scenario compares with its own months
    cur_proj = project_scenario(estate, cur, months=horizon) if cur.error is None else None
    rows, by_ag, monthly, tornado = [], [], [], []
    for sc in scenarios:
        if sc.error is not None:
            rows.append(_row(sc, estate, None, None))
            continue
        proj = project_scenario(estate, sc, by_agreement=True)
        rows.append(_row(sc, estate, proj, cur_proj))
        by_ag.extend(_agreement_rows(sc, estate, proj))
        monthly.append(_monthly(sc, estate, proj))
        tornado.extend(_tornado(estate, sc, params))
    notes = []
    if estate.onboarding_mean_n == 0 and np.isnan(estate.assumptions.onboarding_estimate):
        notes.append("No past onboarding: hourly / quote onboarding cannot be priced.")
    return ScenarioComparison(
        estate,
        scenarios,
        pd.DataFrame(rows, columns=list(TABLE_COLUMNS)),
        pd.DataFrame(by_ag, columns=list(BY_AGREEMENT_COLUMNS)),
        pd.concat(monthly, ignore_index=True)
        if monthly
        else pd.DataFrame(columns=list(MONTHLY_COLUMNS)),
        pd.DataFrame(tornado, columns=list(TORNADO_COLUMNS)),
        notes,
    )


def _row(
    sc: Scenario,
    estate: Estate,
    proj: dict[str, np.ndarray] | None,
    cur: dict[str, np.ndarray] | None,
) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(TABLE_COLUMNS)
    row.update(scenario=sc.name, status="ok" if sc.error is None else "not evaluated",
               reason=sc.error or "", term_start=estate.term_start,
               term_months=sc.term_length(estate))  # fmt: skip
    if proj is None:
        return row
    if cur is not None:  # current terms renewed over the same months as this scenario
        n = proj["total"].shape[-1]
        cur = {k: v[..., :n] for k, v in cur.items()}
    total = float(term_cost(proj)[0])
    pv = round(float(proj["present_value"].sum()), 2)
    wsm = float(proj["workstations"].sum())
    cs = sc.clause_score
    row.update(
        workstation_months=round(wsm, 2),
        base_fee=round(float(proj["base_fee"].sum()), 2),
        add_ons=round(float(proj["add_ons"].sum()), 2),
        onboarding=round(float(proj["onboarding"].sum()), 2),
        total_cost=total,
        cost_per_workstation_month=round(total / wsm, 2) if wsm > 0 else None,
        present_value=pv,
        clause_score=None if np.isnan(cs) else round(cs, 4),
    )
    if cur is not None:
        row["savings_vs_current"] = round(float(term_cost(cur)[0]) - total, 2) + 0.0
        cur_pv = round(float(cur["present_value"].sum()), 2)
        row["savings_vs_current_pv"] = round(cur_pv - pv, 2) + 0.0
        month, text = _break_even(cur, proj)
        row.update(break_even_month=month, break_even=text)
    return row


def _agreement_rows(
    sc: Scenario, estate: Estate, proj: dict[str, np.ndarray]
) -> list[dict[str, Any]]:
    rows = []
    for i, t in enumerate(sc.terms):
        cost = (proj["base_fee_by_agreement"][0, i] + proj["add_ons_by_agreement"][0, i]
                + proj["onboarding_by_agreement"][0, i]).sum()  # fmt: skip
        rows.append(
            {
                "scenario": sc.name,
                "agreement_id": t.agreement_id,
                "amended": t.amended,
                "renewed": t.renewed,
                "pricing_basis": t.pricing_basis,
                "rate_at_term_start": t.rate,
                "annual_uplift_pct": t.uplift_pct,
                "addon_rate_per_ws_month": round(t.addon_rate, 6),
                "outside_base": ";".join(t.outside_base),
                "onboarding_terms": t.onboarding_terms,
                "onboarding_cost_per_location": t.onboarding_cost,
                "onboarding_sla_business_days": t.sla_business_days,
                "term_months": t.term_months,
                "notice_days": t.notice_days,
                "clause_score": None if np.isnan(t.clause_score) else round(t.clause_score, 4),
                "total_cost": round(float(cost), 2),
            }
        )
    return rows


def _monthly(sc: Scenario, estate: Estate, proj: dict[str, np.ndarray]) -> pd.DataFrame:
    total = proj["total"][0]
    n = len(total)
    return pd.DataFrame(
        {
            "scenario": [sc.name] * n,
            "month": np.arange(1, n + 1),
            "month_start": estate.month_starts[:n],
            "workstations": proj["workstations"][0],
            "locations": proj["locations"][0],
            "base_fee": proj["base_fee"][0],
            "add_ons": proj["add_ons"][0],
            "onboarding": proj["onboarding"][0],
            "total": total,
            "discount_factor": proj["discount_factor"][0],
            "present_value": proj["present_value"][0],
            "cumulative": np.cumsum(total),
        }
    )


def sensitivity_inputs(
    estate: Estate, sc: Scenario, params: Params
) -> list[tuple[str, str, str, float, float, dict[str, Any], dict[str, Any]]]:
    """The tornado's low / high values and :func:`project` overrides (TORNADO_DRIVERS)."""
    a = estate.assumptions
    low_b, high_b = (float(x) for x in params.benchmark_workstation_monthly)
    up, addon = sc.vector("uplift_pct"), sc.vector("addon_rate")
    out = []
    for name, label, rule in TORNADO_DRIVERS:
        if name == "acquisitions_per_year":
            lo, hi = max(0.0, a.acquisitions_per_year - 2), a.acquisitions_per_year + 2
            klo, khi = {name: lo}, {name: hi}
        elif name == "workstation_growth_pct":
            lo, hi = a.workstation_growth_pct - 5, a.workstation_growth_pct + 5
            klo, khi = {name: lo}, {name: hi}
        elif name == "annual_uplift_pct":
            lo, hi = -2.0, 2.0  # points, around each agreement's own uplift
            klo = {"uplift_pct": np.maximum(0.0, up - 2)}
            khi = {"uplift_pct": up + 2}
        elif name == "addon_run_rate":
            lo, hi = 0.8, 1.2
            klo, khi = {"addon_rate": addon * 0.8}, {"addon_rate": addon * 1.2}
        else:
            lo, hi = low_b, high_b
            raised = sc.target_rate_before_cap
            if sc.kind == "target" and not np.isnan(raised):
                n = len(sc.terms)
                klo = {"rate": np.full(n, round(min(raised, low_b), 2))}
                khi = {"rate": np.full(n, round(min(raised, high_b), 2))}
            else:
                klo, khi = {}, {}
        out.append((name, label, rule, lo, hi, klo, khi))
    return out


def _tornado(estate: Estate, sc: Scenario, params: Params) -> list[dict[str, Any]]:
    drivers = sensitivity_inputs(estate, sc, params)
    a = estate.assumptions
    basev: dict[str, Any] = {
        "rate": sc.vector("rate"), "uplift_pct": sc.vector("uplift_pct"),
        "addon_rate": sc.vector("addon_rate"),
        "acquisitions_per_year": a.acquisitions_per_year,
        "workstation_growth_pct": a.workstation_growth_pct,
    }  # fmt: skip
    # one vectorised evaluation: row 0 = as is, then low / high of each driver
    cols: dict[str, list[Any]] = {k: [v] for k, v in basev.items()}
    for *_, klo, khi in drivers:
        for kw in (klo, khi):
            for k in basev:
                cols[k].append(kw.get(k, basev[k]))
    stacked = {k: np.array(v, dtype=float) for k, v in cols.items()}
    cost = term_cost(project_scenario(estate, sc, **stacked))
    rows = []
    for i, (name, label, rule, lo, hi, _, _) in enumerate(drivers):
        c_lo, c_hi = float(cost[1 + 2 * i]), float(cost[2 + 2 * i])
        rows.append(
            {
                "scenario": sc.name,
                "driver": name,
                "label": label,
                "rule": rule,
                "low_value": round(lo, 4),
                "high_value": round(hi, 4),
                "cost_low": c_lo,
                "cost_high": c_hi,
                "base_cost": float(cost[0]),
                "swing": round(abs(c_hi - c_lo), 2),
            }  # fmt: skip
        )
    rows.sort(key=lambda r: -r["swing"])
    return rows


def sensitivity_grid(
    estate: Estate,
    sc: Scenario,
    acquisitions: Any = (0, 1, 2, 3, 4, 5, 6),
    growth_pct: Any = (-5.0, -2.5, 0.0, 2.5, 5.0, 7.5, 10.0),
    uplift_points: Any = (-2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0),
    addon_factor: Any = (0.5, 0.75, 1.0, 1.25, 1.5),
    months: int | None = None,
) -> pd.DataFrame:
    """Term cost over the full grid of the drivers (default 7 x 7 x 7 x 5 = 1,715).

    One vectorised :func:`project` call over every combination.  Uplift is
    varied in points around each agreement's own uplift (floored at 0).
    ``months``: over that many months instead of the scenario's own term (to
    compare two scenarios over the same months).

    Returns
    -------
    DataFrame
        ``acquisitions_per_year``, ``workstation_growth_pct``, ``uplift_points``,
        ``addon_factor``, ``total_cost``, ``present_value``.
    """
    g = np.meshgrid(
        np.asarray(acquisitions, float),
        np.asarray(growth_pct, float),
        np.asarray(uplift_points, float),
        np.asarray(addon_factor, float),
        indexing="ij",
    )
    a, gr, up, f = (x.ravel() for x in g)
    uplift = np.maximum(0.0, sc.vector("uplift_pct")[None, :] + up[:, None])
    addon = sc.vector("addon_rate")[None, :] * f[:, None]
    proj = project_scenario(estate, sc, months=months, acquisitions_per_year=a,
                            workstation_growth_pct=gr, uplift_pct=uplift,
                            addon_rate=addon)  # fmt: skip
    return pd.DataFrame(
        {
            "acquisitions_per_year": a,
            "workstation_growth_pct": gr,
            "uplift_points": up,
            "addon_factor": f,
            "total_cost": term_cost(proj),
            "present_value": np.round(proj["present_value"].sum(axis=1), 2),
        }
    )


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------
def _jsonable(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, pd.Timestamp):
        return v.date().isoformat()
    if isinstance(v, np.bool_ | bool):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return None if np.isnan(v) else round(float(v), 6)
    return v


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    cols = list(frame.columns)
    return [
        {c: _jsonable(v) for c, v in zip(cols, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


def comparison_to_dict(cmp: ScenarioComparison, m: DsoMetrics) -> dict[str, Any]:
    """The comparison as JSON-ready data: assumptions, the side-by-side table,
    every agreement's terms per scenario, the full monthly projection and the tornado."""
    e = cmp.estate
    a = e.assumptions
    return {
        "dso": m.dso,
        "as_of": m.as_of.date().isoformat(),
        "currency": m.currency,
        "term_start": e.term_start.date().isoformat(),
        "term_months": e.term_months,
        "horizon_months": e.months,
        "primary_agreement": e.primary,
        "assumptions": {
            "acquisitions_per_year": a.acquisitions_per_year,
            "workstations_per_new_location": a.workstations_per_new_location,
            "workstation_growth_pct": a.workstation_growth_pct,
            "discount_rate_pct": a.discount_rate_pct,
            "onboarding_estimate": _jsonable(a.onboarding_estimate),
        },
        "agreements": [
            {
                "agreement_id": b.agreement_id,
                "provider": b.provider,
                "status": b.status,
                "existing_workstations": b.existing_workstations,
                "existing_locations": b.existing_locations,
                "planned_locations_in_term": float(b.planned_locations[: e.term_months].sum()),
                "current_rate_at_term_start": b.current_rate,
                "run_rate_per_workstation_month": {k: round(v, 6) for k, v in b.run_rate.items()},
            }
            for b in e.agreements
        ],
        "scenarios": _records(cmp.table),
        "by_agreement": _records(cmp.by_agreement),
        "monthly": _records(cmp.monthly),
        "tornado": _records(cmp.tornado),
        "notes": list(cmp.notes),
    }


def format_comparison_table(cmp: ScenarioComparison) -> str:
    """Plain-text side-by-side table (one row per scenario), then the assumptions."""
    head = ("scenario", "months", "total cost", "per ws-month", "savings", "savings PV",
            "clause", "break-even")  # fmt: skip

    def money(v: Any) -> str:
        return "" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:,.2f}"

    rows, failed = [head], []
    for r in cmp.table.itertuples(index=False):
        if r.status != "ok":
            failed.append(f"{r.scenario}: not evaluated: {r.reason}")
            continue
        clause = "" if r.clause_score is None else f"{r.clause_score:.0%}"
        rows.append((r.scenario, str(r.term_months), money(r.total_cost),
                     money(r.cost_per_workstation_month),
                     money(r.savings_vs_current), money(r.savings_vs_current_pv), clause,
                     r.break_even or ""))  # fmt: skip
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(head))]
    lines = []
    for row in rows:
        cells = [f"{row[0]:<{widths[0]}}"] + [f"{row[i]:>{widths[i]}}" for i in range(1, len(head))]
        lines.append("  ".join(cells).rstrip())
    lines.extend(failed)
    e, a = cmp.estate, cmp.estate.assumptions
    w = sum(b.existing_workstations for b in e.agreements)
    n = sum(b.existing_locations for b in e.agreements)
    p = sum(b.planned_locations[: e.term_months].sum() for b in e.agreements)
    lines.append(
        f"Next term: {e.term_months} months from {e.term_start.date()} "
        f"({plural(len(e.agreements), 'agreement')}, primary {e.primary}); {w:g} workstations at "
        f"{n:g} locations, {p:g} planned in the term, {a.acquisitions_per_year:g} "
        f"acquisitions/yr x {a.workstations_per_new_location:g} workstations, growth "
        f"{a.workstation_growth_pct:g}%/yr; discount {a.discount_rate_pct:g}%/yr. "
        "Savings are versus current terms renewed over the same months (a scenario "
        "with a term of its own is compared over its term)."
    )
    lines.extend(cmp.notes)
    return "\n".join(lines)
