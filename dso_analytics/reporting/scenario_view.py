"""What the notebooks show of M8: the side-by-side table, and live sliders.

:func:`side_by_side` is the table every notebook shows (static, also in the
rendered report).  :func:`slider_panel` is for JupyterLab: sliders for the
planning assumptions and the counter-offer's rate and onboarding cap that
re-run :func:`~dso_analytics.metrics.scenarios.compare_scenarios` and redraw
the table and the cumulative-cost chart on every change.  ipywidgets and
plotly are imported only when the panel is built.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd

from dso_analytics.metrics.scenarios import (
    TARGET,
    ScenarioComparison,
    ScenarioSpec,
    compare_scenarios,
)

SLIDER_COUNTER = "Counter-offer (sliders)"

_LABELS = {
    "scenario": "Scenario",
    "total_cost": "Total cost (next term)",
    "cost_per_workstation_month": "Cost per workstation-month",
    "savings_vs_current": "Savings vs current terms (next term)",
    "savings_vs_current_pv": "Savings vs current, present value",
    "onboarding": "Onboarding of new locations (next term)",
    "clause_score": "Clause score",
    "break_even": "Break-even of a base-fee increase",
    "reason": "Not evaluated because",
}


def side_by_side(cmp: ScenarioComparison) -> pd.DataFrame:
    """The comparison table with readable column names (one row per scenario).

    Amounts stay numbers (rounded to the cent by the model); the clause score
    is a fraction 0-1.
    """
    t = cmp.table[list(_LABELS)].copy()
    if not (t["reason"].astype(str) != "").any():
        t = t.drop(columns="reason")
    return t.rename(columns=_LABELS)


def counter_spec(cmp: ScenarioComparison, specs: list[ScenarioSpec]) -> ScenarioSpec:
    """The scenario the rate and cap sliders move: the file's first evaluated scenario
    (its row for the primary agreement, else its first row), else a copy of the
    DSO-grade target's terms on the primary agreement called ``Counter-offer (sliders)``."""
    ok = [s for s in specs if s.error is None]
    if ok:
        first = ok[0].name
        rows = [s for s in ok if s.name == first]
        return next((s for s in rows if s.agreement_id == cmp.estate.primary), rows[0])
    target = cmp.scenario(TARGET)
    prim = cmp.estate.primary
    t = next((x for x in target.terms if x.agreement_id == prim), None)
    terms: dict[str, Any] = {}
    if t is not None:
        base = cmp.estate.base(prim)
        included = tuple(x for x in base.run_rate if x not in t.outside_base)
        terms = {"pricing_basis": t.pricing_basis, "monthly_rate": t.rate,
                 "onboarding_terms": "capped", "onboarding_cap": t.onboarding_cap,
                 "included_services": included}  # fmt: skip
    return ScenarioSpec(SLIDER_COUNTER, prim, terms=terms, origin="sliders")


def recompute(
    ds: Any,
    m: Any,
    specs: list[ScenarioSpec],
    counter: ScenarioSpec,
    values: dict[str, float],
    term_months: int | None = None,
) -> ScenarioComparison:
    """Re-run the comparison with slider ``values``.

    ``values`` keys: the planning assumptions (``acquisitions_per_year``,
    ``workstations_per_new_location``, ``workstation_growth_pct``,
    ``discount_rate_pct``) and ``monthly_rate`` / ``onboarding_cap`` of the
    ``counter`` scenario (its row for ``counter.agreement_id``).
    """
    terms = dict(counter.terms)
    if "monthly_rate" in values:
        terms["monthly_rate"] = float(values["monthly_rate"])
        terms.pop("base_fee_increase_pct", None)
    if "onboarding_cap" in values:
        terms["onboarding_cap"] = float(values["onboarding_cap"])
        terms["onboarding_terms"] = "capped"
    moved = replace(counter, terms=terms)
    new_specs = [moved if s is counter else s for s in specs]
    if counter not in specs:
        new_specs.append(moved)
    assumptions = {k: v for k, v in values.items() if k not in ("monthly_rate", "onboarding_cap")}
    return compare_scenarios(ds, m, new_specs, term_months=term_months, assumptions=assumptions)


def slider_panel(
    ds: Any,
    m: Any,
    cmp: ScenarioComparison,
    specs: list[ScenarioSpec],
    term_months: int | None = None,
) -> Any:
    """An ipywidgets panel: sliders that recompute the comparison live (JupyterLab).

    Returns
    -------
    ipywidgets.VBox
        ``.children``: the sliders box, then an Output with the table and the chart.
        ``panel.recompute_now()`` re-runs with the sliders' current values.
    """
    import ipywidgets as w
    from IPython.display import display

    from dso_analytics.reporting.scenario_charts import plot_cumulative_cost

    a = cmp.estate.assumptions
    counter = counter_spec(cmp, specs)
    term = next(
        (t for s in cmp.scenarios if s.name == counter.name for t in s.terms
         if t.agreement_id == counter.agreement_id),
        None,
    )  # fmt: skip
    rate0 = float(term.rate) if term is not None else float(counter.terms.get("monthly_rate", 0))
    cap0 = term.onboarding_cap if term is not None else counter.terms.get("onboarding_cap")
    cap0 = float(cap0) if cap0 is not None else float(m.params.target_onboarding_cap)
    style = {"description_width": "220px"}
    layout = w.Layout(width="560px")

    def slider(desc: str, value: float, lo: float, hi: float, step: float) -> Any:
        return w.FloatSlider(value=value, min=lo, max=max(hi, value), step=step,
                             description=desc, style=style, layout=layout,
                             continuous_update=False)  # fmt: skip

    sliders = {
        "acquisitions_per_year": slider("Acquisitions per year", a.acquisitions_per_year,
                                        0, 24, 0.5),
        "workstations_per_new_location": slider("Workstations per new location",
                                                a.workstations_per_new_location, 0, 60, 0.5),
        "workstation_growth_pct": slider("Workstation growth %/yr", a.workstation_growth_pct,
                                         -20, 30, 0.5),
        "discount_rate_pct": slider("Discount rate %/yr", a.discount_rate_pct, 0, 25, 0.5),
        "monthly_rate": slider(f"{counter.name}: rate", rate0, 0, rate0 * 2 or 500, 0.5),
        "onboarding_cap": slider(f"{counter.name}: onboarding cap", cap0, 0,
                                 cap0 * 2 or 20000, 100),
    }  # fmt: skip
    out = w.Output()

    def redraw(_: Any = None) -> None:
        values = {k: s.value for k, s in sliders.items()}
        res = recompute(ds, m, specs, counter, values, term_months)
        out.clear_output(wait=True)
        with out:
            display(side_by_side(res))
            display(plot_cumulative_cost(res.monthly, m.currency))

    for s in sliders.values():
        s.observe(redraw, names="value")
    panel = w.VBox([w.VBox(list(sliders.values())), out])
    panel.sliders = sliders  # type: ignore[attr-defined]
    panel.recompute_now = redraw  # type: ignore[attr-defined]
    redraw()
    return panel
