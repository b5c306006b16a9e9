"""The pipeline's hand-off to a report kernel carries every prepared figure.

``write_prepared`` / ``read_prepared`` (a typed ``PreparedData``) carry the
dataset, the metrics, the validation summary, the scenarios compared (M8) and
the negotiation status, so the kernel shows the objects the workbook was
written from.
"""

from __future__ import annotations

from dso_analytics.metrics import compute_metrics
from dso_analytics.metrics.scenarios import ScenarioSpec, compare_scenarios
from dso_analytics.reporting.notebook import load_metrics, read_prepared, write_prepared
from dso_analytics.reporting.scenario_view import report_comparison
from tests.support.metrics_factory import params
from tests.support.scenario_factory import AS_OF, scenario_ds

COUNTER = ScenarioSpec("Counter", "AG-1", terms={"base_fee_increase_pct": 5.0})


def test_every_prepared_figure_reaches_the_kernel(tmp_path):
    ds = scenario_ds()
    m = compute_metrics(ds, params(AS_OF))
    cmp = compare_scenarios(ds, m, [COUNTER], term_months=12)
    assert cmp.ok
    path = write_prepared(
        tmp_path, dataset=ds, metrics=m, validation={"ok": True, "errors": 0}, scenarios=cmp
    )
    data = read_prepared(path)
    assert sorted(data) == ["dataset", "metrics", "negotiation", "scenarios", "validation"]
    assert data["validation"] == {"ok": True, "errors": 0}
    # the kernel's loaders return what was handed off; the DSO folder is never read
    missing = str(tmp_path / "no-such-dso")
    assert load_metrics(missing, prepared=str(path)).kpis == m.kpis
    shown = report_comparison(missing, str(path))
    assert shown.scenarios[-1].name == "Counter"
    assert shown.table.equals(cmp.table)


def test_a_hand_off_without_scenarios_says_none(tmp_path):
    data = read_prepared(write_prepared(tmp_path))
    assert data == {"dataset": None, "metrics": None, "validation": {}, "scenarios": None,
                    "negotiation": None}  # fmt: skip


def test_the_negotiation_status_reaches_the_kernel_and_the_folder_is_not_read(tmp_path):
    from dso_analytics.actions.negotiation import NegotiationStatus, negotiation_status_of
    from dso_analytics.reporting.notebook import load_negotiation

    m = compute_metrics(scenario_ds(), params(AS_OF))
    # a status no folder could give (the folder below does not exist: "none" if read)
    unreadable = NegotiationStatus("unreadable", reason="negotiation.xlsx: is locked")
    path = write_prepared(tmp_path, metrics=m, negotiation=unreadable)
    missing = tmp_path / "no-such-dso"
    shown = load_negotiation(missing, m, prepared=str(path))
    assert (shown.state, shown.reason) == ("unreadable", "negotiation.xlsx: is locked")
    # a hand-off without a status (the scenarios notebook's) and JupyterLab (no hand-off):
    # the one function computes it from the folder
    bare = tmp_path / "bare"
    bare.mkdir()
    assert load_negotiation(missing, m, prepared=str(write_prepared(bare))).state == "none"
    assert load_negotiation(missing, m).state == negotiation_status_of(missing, m).state == "none"
