"""M8 in the notebooks: the side-by-side table, the slider recomputation, the figures."""

from __future__ import annotations

import pytest

from dso_analytics.metrics import compute_metrics
from dso_analytics.metrics.scenarios import CURRENT, TARGET, ScenarioSpec, compare_scenarios
from dso_analytics.reporting.scenario_charts import (
    plot_cumulative_cost,
    plot_scenario_clause_scores,
    plot_tornado,
)
from dso_analytics.reporting.scenario_view import (
    SLIDER_COUNTER,
    counter_spec,
    recompute,
    side_by_side,
    slider_panel,
)
from tests.support.metrics_factory import params
from tests.support.scenario_factory import AS_OF, scenario_ds


@pytest.fixture(scope="module")
def dm():
    ds = scenario_ds()
    return ds, compute_metrics(ds, params(AS_OF))


def test_side_by_side_labels(dm):
    ds, m = dm
    t = side_by_side(compare_scenarios(ds, m)).set_index("Scenario")
    assert t.loc[CURRENT, "Total cost (months modelled)"] == 30879.68  # hand-worked (unit test)
    assert t.loc[CURRENT, "Months modelled"] == 12
    assert "Not evaluated because" not in t.columns


def test_sliders_recompute_the_counter_offer(dm):
    ds, m = dm
    cmp = compare_scenarios(ds, m)
    counter = counter_spec(cmp, [])
    assert counter.name == SLIDER_COUNTER and counter.terms["monthly_rate"] == 106.96
    res = recompute(ds, m, [], counter, {"monthly_rate": 100.0, "onboarding_cap": 4000.0})
    row = res.table.set_index("scenario").loc[SLIDER_COUNTER]
    # DSO-grade terms at 100.00 per workstation: 100 x 232 + one onboarding capped at 4,000
    assert row["total_cost"] == 27200.00
    assert row["savings_vs_current"] == round(30879.68 - 27200.00, 2)
    # a file scenario is the one the sliders move; assumptions move every scenario
    spec = ScenarioSpec("Counter", "AG-1", terms={"base_fee_increase_pct": 5.0})
    cmp = compare_scenarios(ds, m, [spec])
    assert counter_spec(cmp, [spec]) is spec
    res = recompute(ds, m, [spec], spec, {"monthly_rate": 90.0, "acquisitions_per_year": 0.0})
    assert res.table.set_index("scenario").loc["Counter", "total_cost"] == round(
        90 * 232 + 10 * 232 + 6000, 2
    )


def test_slider_panel_builds(dm):
    ds, m = dm
    cmp = compare_scenarios(ds, m)
    panel = slider_panel(ds, m, cmp, [])
    s = panel.sliders
    assert s["monthly_rate"].value == 106.96 and s["onboarding_cap"].value == 5000.0
    assert s["acquisitions_per_year"].value == 0.0
    s["monthly_rate"].value = 120.0  # observed: recomputes without error


def test_figures_escape_names(dm):
    ds, m = dm
    spec = ScenarioSpec("<b>Counter</b>", "AG-1", terms={"base_fee_increase_pct": 5.0})
    cmp = compare_scenarios(ds, m, [spec])
    fig = plot_cumulative_cost(cmp.monthly)
    assert [t.name for t in fig.data] == [CURRENT, TARGET, "&lt;b&gt;Counter&lt;/b&gt;"]
    assert fig.data[0].y[-1] == pytest.approx(30879.68)
    tor = plot_tornado(cmp.tornado, CURRENT)
    assert [t.name for t in tor.data] == ["low", "high"]
    assert tor.data[0].y[-1].startswith("acquisitions per year")  # largest swing on top
    cs = plot_scenario_clause_scores(cmp.table)
    assert list(cs.data[0].x) == pytest.approx([5.26, 100.0, 5.26])  # 1 / 19, shown to 0.01%


def test_interpretation_from_the_table(dm):
    from dso_analytics.reporting.scenario_view import interpret_scenarios

    ds, m = dm
    bad = ScenarioSpec("Bad", "AG-1", terms={"onboarding_terms": "capped"})
    text = interpret_scenarios(compare_scenarios(ds, m, [bad]))
    assert text.startswith(
        "Over the next 12 months from 2027-01-01, renewing the current terms costs $30,879.68 "
        "($133.10 per workstation-month). The alternative that saves most per month, "
        "DSO-grade target, saves $1,064.96 over the term"
    )
    assert "reaches a clause score of 100%." in text
    assert text.endswith("1 scenario could not be evaluated: Bad (AG-1: onboarding_terms is "
                         "capped but onboarding_cap is blank).")  # fmt: skip


def test_savings_grid(dm):
    from dso_analytics.reporting.scenario_charts import plot_savings_grid
    from dso_analytics.reporting.scenario_view import (
        best_alternative,
        interpret_grid,
        savings_grid,
    )

    ds, m = dm
    cmp = compare_scenarios(ds, m)
    assert best_alternative(cmp) == TARGET
    g = savings_grid(cmp, TARGET)
    assert len(g) == 1715
    at = g[(g.acquisitions_per_year == 0) & (g.workstation_growth_pct == 0)
           & (g.uplift_points == 0) & (g.addon_factor == 1)]  # fmt: skip
    assert at["savings"].item() == 1064.96  # the hand-worked savings of the target
    fig = plot_savings_grid(g, TARGET)
    assert fig.data[0].z.shape == (7, 7)
    assert interpret_grid(g, TARGET).startswith("Across all 1,715 combinations")


def test_report_comparison_reads_the_handoff_without_validating(dm, tmp_path, monkeypatch):
    """The report kernel shows the comparison the pipeline handed off (the workbook's
    object): it never loads nor validates the DSO again."""
    from dso_analytics import validation
    from dso_analytics.reporting.notebook import write_prepared
    from dso_analytics.reporting.scenario_view import report_comparison

    ds, m = dm
    cmp = compare_scenarios(ds, m)
    handoff = write_prepared(tmp_path, metrics=m, scenarios=cmp)

    def refuse(*a, **k):
        raise AssertionError("the report kernel re-validated the DSO")

    monkeypatch.setattr(validation, "load_dso", refuse)
    got = report_comparison(str(tmp_path), str(handoff), metrics=m)
    assert got.table.equals(cmp.table)
