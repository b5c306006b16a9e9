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
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from dso_analytics.metrics.scenarios import (
    TARGET,
    ScenarioComparison,
    ScenarioSpec,
    compare_scenarios,
    sensitivity_grid,
)
from dso_analytics.words import plural

if TYPE_CHECKING:
    from dso_analytics.metrics.result import DsoMetrics

SLIDER_COUNTER = "Counter-offer (sliders)"

_LABELS = {
    "scenario": "Scenario",
    "term_months": "Months modelled",
    "total_cost": "Total cost (months modelled)",
    "cost_per_workstation_month": "Cost per workstation-month",
    "savings_vs_current": "Savings vs current terms (same months)",
    "savings_vs_current_pv": "Savings vs current, present value",
    "onboarding": "Onboarding of new locations (months modelled)",
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


def _money(v: Any, currency: str) -> str:
    from dso_analytics.reporting.notebook import fmt_money

    return fmt_money(v, currency, cents=True)


def interpret_scenarios(cmp: ScenarioComparison, currency: str = "USD") -> str:
    """Plain-English reading of the comparison (every figure from ``cmp.table``)."""
    e = cmp.estate
    t = cmp.table.set_index("scenario")
    ok = t[t["status"] == "ok"]
    window = f"the next {e.term_months} months from {e.term_start.date().isoformat()}"
    if ok.empty:
        return f"No scenario could be evaluated over {window}."
    parts = []
    names = list(ok.index)
    cur = names[0] if names and names[0] == cmp.scenarios[0].name else None
    if cur is not None:
        r = ok.loc[cur]
        parts.append(
            f"Over {window}, renewing the current terms costs {_money(r['total_cost'], currency)} "
            f"({_money(r['cost_per_workstation_month'], currency)} per workstation-month)."
        )
        others = ok.drop(index=cur)
        if len(others):
            best = _per_month(others).idxmax()
            b = others.loc[best]
            verb = "saves" if b["savings_vs_current"] > 0 else "costs"
            own = int(b["term_months"])
            span = (
                "over the term" if own == e.term_months
                else f"over its {own}-month term against current terms renewed for the "
                     "same months"
            )  # fmt: skip
            parts.append(
                f"The alternative that saves most per month, {best}, {verb} "
                f"{_money(abs(b['savings_vs_current']), currency)} {span} "
                f"({_money(abs(b['savings_vs_current_pv']), currency)} in present value) and "
                f"reaches a clause score of {float(b['clause_score']):.0%}."
            )
    failed = t[t["status"] != "ok"]
    if len(failed):
        parts.append(f"{plural(len(failed), 'scenario')} could not be evaluated: "
                     + "; ".join(f"{n} ({r})" for n, r in failed["reason"].items()) + ".")  # fmt: skip
    return " ".join(parts)


def show_side_by_side(cmp: ScenarioComparison, currency: str = "USD") -> None:
    """Display the side-by-side table and its plain-English reading."""
    from dso_analytics.reporting import notebook as rn

    money = [v for k, v in _LABELS.items() if k not in ("scenario", "term_months", "clause_score",
                                                         "break_even", "reason")]  # fmt: skip
    rn.show_table(side_by_side(cmp), money=money, pct=[_LABELS["clause_score"]],
                  currency=currency)  # fmt: skip
    rn.say(interpret_scenarios(cmp, currency))


def show_cumulative_cost(cmp: ScenarioComparison, currency: str = "USD") -> None:
    """Display the cumulative cost of every scenario, month by month (over its own months)."""
    from dso_analytics.reporting import notebook as rn
    from dso_analytics.reporting.scenario_charts import plot_cumulative_cost

    rn.show_figure(plot_cumulative_cost(cmp.monthly, currency))


def show_tornados(cmp: ScenarioComparison, currency: str = "USD") -> None:
    """Display one tornado per evaluated scenario (what moves its term cost)."""
    from dso_analytics.reporting import notebook as rn
    from dso_analytics.reporting.scenario_charts import plot_tornado

    if cmp.tornado.empty:
        rn.say("No scenario could be evaluated: no tornado.")
        return
    for name in cmp.tornado["scenario"].drop_duplicates():
        rn.show_figure(plot_tornado(cmp.tornado, name, currency))


def show_clause_scores(cmp: ScenarioComparison) -> None:
    """Display the clause score (M4 on the amended terms) each scenario would reach."""
    from dso_analytics.reporting import notebook as rn
    from dso_analytics.reporting.scenario_charts import plot_scenario_clause_scores

    rn.show_figure(plot_scenario_clause_scores(cmp.table))


def show_savings_grid(cmp: ScenarioComparison, currency: str = "USD") -> None:
    """Display the savings grid of the best alternative (:func:`best_alternative`)."""
    from dso_analytics.reporting import notebook as rn
    from dso_analytics.reporting.scenario_charts import plot_savings_grid

    best = best_alternative(cmp)
    if best is None:
        rn.say("No alternative to current terms could be evaluated: no savings grid.")
        return
    grid = savings_grid(cmp, best)
    rn.show_figure(plot_savings_grid(grid, best, currency))
    rn.say(interpret_grid(grid, best, currency))


def show_notes(cmp: ScenarioComparison) -> None:
    """Display the comparison's notes (problems of the scenarios file, unpriceable onboarding)."""
    from dso_analytics.reporting import notebook as rn

    if not cmp.notes:
        rn.say("No problem with the scenarios.")
    for note in cmp.notes:
        rn.say(note)


def show_scenarios(cmp: ScenarioComparison, currency: str = "USD", tornado: bool = True) -> None:
    """Display the M8 section: table, reading, cumulative cost, tornado, clause scores,
    savings grid and notes (the renewal-leverage report's section)."""
    from dso_analytics.reporting import notebook as rn

    show_side_by_side(cmp, currency)
    show_cumulative_cost(cmp, currency)
    if tornado:
        show_tornados(cmp, currency)
    show_clause_scores(cmp)
    if best_alternative(cmp) is not None:
        show_savings_grid(cmp, currency)
    for note in cmp.notes:
        rn.say(note)


def load_scenarios(
    dso_dir: str,
    *,
    prepared: str | None = None,
    as_of: str | None = None,
    standard: str | None = None,
    scenarios_file: str | None = None,
    term_months: int | None = None,
    use_cache: bool = True,
    **overrides: Any,
) -> tuple[Any, Any, ScenarioComparison, list[ScenarioSpec]]:
    """Load a DSO and compare its scenarios (the negotiation_scenarios notebook).

    Parameters
    ----------
    dso_dir : str
        The DSO folder.
    prepared : str, optional
        What ``dso-analytics scenarios --notebook`` already validated and compared
        (:func:`~dso_analytics.reporting.notebook.write_prepared`): the kernel then
        neither validates nor recomputes, and shows the figures the CLI printed.
    as_of, standard : str, optional
        As the other reports (``None``: the resolved value).
    scenarios_file : str, optional
        A scenarios file instead of the DSO's own.
    term_months : int, optional
        Months modelled for every scenario (``None``: each scenario's own term).
    use_cache : bool
    **overrides
        ``target_onboarding_cap``, ``target_onboarding_sla_business_days``,
        ``benchmark_workstation_monthly`` (``None``: the resolved value).

    Returns
    -------
    (DsoDataset, DsoMetrics, ScenarioComparison, list of ScenarioSpec)
        The file's problems are in the comparison's notes.  From ``prepared``
        the specs are empty (the sliders then move a copy of the target's terms).
    """
    if prepared:
        from dso_analytics.reporting.notebook import read_prepared

        data = read_prepared(prepared)
        if data.get("scenarios") is not None and data.get("metrics") is not None:
            return data.get("dataset"), data["metrics"], data["scenarios"], []
    from dso_analytics.ingest.scenarios import dso_scenarios
    from dso_analytics.metrics import compute_metrics
    from dso_analytics.standards import resolve_params
    from dso_analytics.validation import load_dso

    given = {k: v for k, v in {"as_of": as_of, **overrides}.items() if v is not None}
    params = resolve_params(dso_dir, standard=standard, overrides=given)
    ds = load_dso(dso_dir, params=params, use_cache=use_cache)
    m = compute_metrics(ds, params)
    cmp, found = dso_scenarios(ds, m, scenarios_file, term_months)
    return ds, m, cmp, found.specs


def show_sliders(
    ds: Any,
    m: Any,
    cmp: ScenarioComparison,
    specs: list[ScenarioSpec],
    term_months: int | None,
    interactive: bool,
) -> None:
    """The slider panel when ``interactive`` (JupyterLab), else one sentence (rendered report)."""
    from dso_analytics.reporting import notebook as rn

    if not interactive:
        rn.say("Open this notebook in JupyterLab (make lab) to move the planning assumptions "
               "and the counter-offer's rate and onboarding cap with sliders.")  # fmt: skip
        return
    from IPython.display import display

    display(slider_panel(ds, m, cmp, specs, term_months))


def best_alternative(cmp: ScenarioComparison) -> str | None:
    """The evaluated scenario (other than current terms) with the largest savings per
    month modelled (its savings over its term / its months)."""
    t = cmp.table[(cmp.table["status"] == "ok")].iloc[1:]
    if t.empty or cmp.table["status"].iloc[0] != "ok":
        return None
    return str(t.loc[_per_month(t).idxmax(), "scenario"])


def _per_month(t: pd.DataFrame) -> pd.Series:
    """Savings per month modelled: scenarios with terms of different lengths ranked fairly."""
    return t["savings_vs_current"].astype(float) / t["term_months"].astype(float)


def savings_grid(cmp: ScenarioComparison, scenario: str) -> pd.DataFrame:
    """:func:`~dso_analytics.metrics.scenarios.sensitivity_grid` of current terms and of
    ``scenario`` on the same 1,715 combinations, over the scenario's months;
    ``savings`` = current - scenario."""
    sc = cmp.scenario(scenario)
    cur = sensitivity_grid(cmp.estate, cmp.scenarios[0], months=sc.term_length(cmp.estate))
    alt = sensitivity_grid(cmp.estate, sc)
    out = alt.drop(columns=["total_cost", "present_value"]).copy()
    out["current_cost"] = cur["total_cost"].to_numpy()
    out["scenario_cost"] = alt["total_cost"].to_numpy()
    out["savings"] = (cur["total_cost"] - alt["total_cost"]).round(2).to_numpy()
    return out


def interpret_grid(grid: pd.DataFrame, scenario: str, currency: str = "USD") -> str:
    """One sentence on the savings over the whole grid."""
    s = grid["savings"]
    share = float((s > 0).mean())
    return (
        f"Across all {len(grid):,} combinations of acquisitions (0-6 a year), workstation "
        f"growth (-5% to +10% a year), uplift (-2 to +4 points) and add-on run-rate (x0.5 to "
        f"x1.5), {scenario} saves between {_money(s.min(), currency)} and "
        f"{_money(s.max(), currency)} over its term versus current terms, and saves money in "
        f"{share:.0%} of them."
    )


def report_comparison(
    dso_dir: str,
    prepared: str | None = None,
    *,
    metrics: Any = None,
    as_of: str | None = None,
    standard: str | None = None,
) -> ScenarioComparison:
    """The comparison the renewal-leverage report shows.

    From the pipeline's hand-off when it carries one (the same object the
    workbook's Scenarios sheet was written from, and the figures
    ``dso-analytics scenarios`` prints: one figure everywhere), else computed
    from the DSO folder (the notebook run by hand): with ``metrics`` on its
    parameters and metrics, else resolving ``as_of`` / ``standard``.
    """
    if prepared:
        from dso_analytics.reporting.notebook import read_prepared

        cmp = read_prepared(prepared).get("scenarios")
        if cmp is not None:
            return cmp
    if metrics is not None:
        from dso_analytics.ingest.scenarios import dso_scenarios
        from dso_analytics.validation import load_dso

        ds = load_dso(dso_dir, params=metrics.params)
        return dso_scenarios(ds, metrics)[0]
    return load_scenarios(dso_dir, as_of=as_of, standard=standard)[2]


def show_negotiation_scenarios(m: DsoMetrics, dso_dir: str | Path, prepared: str | None) -> None:
    """The renewal report's "Negotiation scenarios" section (M8).

    Always the two built-in scenarios, plus the DSO's scenarios file when it has
    one: the comparison the pipeline handed off (the workbook's Scenarios sheet
    and ``dso-analytics scenarios`` show the same figures); run by hand, computed
    on ``m``'s parameters.  Table, reading, cumulative cost, tornados, clause
    scores, savings grid and notes (:func:`show_scenarios`).
    """
    show_scenarios(report_comparison(str(dso_dir), prepared, metrics=m), m.currency)
