"""The live "Scenarios" sheet: LibreOffice recalculates it to the Python model, to the cent.

1. Write the workbook (xlsxwriter: formulas without cached values), let
   LibreOffice headless recalculate it (``--convert-to xlsx`` with a profile
   that recalculates OOXML files on load), read the values with openpyxl
   ``data_only``: every scenario's total, present value and savings equal
   :func:`compare_scenarios`.
2. Change two input cells with openpyxl (acquisitions per year; the counter
   offer's rate), recalculate again: the totals equal the Python model run
   with those inputs.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from dso_analytics.metrics import compute_metrics
from dso_analytics.metrics.scenarios import (
    CURRENT,
    ScenarioSpec,
    compare_scenarios,
    project_scenario,
    term_cost,
)
from dso_analytics.reporting.excel import write_dso_workbook
from tests.support.metrics_factory import params
from tests.support.scenario_factory import AS_OF, scenario_ds

pytestmark = pytest.mark.xdist_group("libreoffice")

_RECALC = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def recalc(src: Path, work: Path) -> Path:
    """Recalculate ``src`` with LibreOffice headless; return the recalculated copy."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice (soffice) is required: .ci/run installs libreoffice-calc"
    profile = work / "lo-profile"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(_RECALC)
    out = work / f"recalc-{src.stem}"
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [soffice, "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}",
         "--convert-to", "xlsx", "--outdir", str(out), str(src)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    result = out / src.name
    assert result.is_file()
    return result


COUNTER = ScenarioSpec(
    "Counter",
    "AG-1",
    terms={"base_fee_increase_pct": 5.0, "included_services": ("cross_location_incidents",),
           "onboarding_terms": "capped", "onboarding_cap": 7000.0},
)  # fmt: skip


def test_libreoffice_recalculation_equals_python(tmp_path):
    ds = scenario_ds()
    m = compute_metrics(ds, params(AS_OF))
    # 24 months (an uplift anniversary), acquisitions and growth: every formula term is live
    given = {"acquisitions_per_year": 3.0, "workstation_growth_pct": 4.0}
    cmp = compare_scenarios(ds, m, [COUNTER], term_months=24, assumptions=given)
    assert cmp.ok
    path = write_dso_workbook(m, tmp_path / "book.xlsx", scenarios=cmp)

    # the sheet holds formulas (ours) over input cells
    wb = openpyxl.load_workbook(path)
    ws = wb["Scenarios"]
    formulas = [c.value for row in ws.iter_rows() for c in row
                if isinstance(c.value, str) and c.value.startswith("=")]  # fmt: skip
    assert len(formulas) > 24 * 4
    assert ws["B5"].value == 3.0 and ws["B5"].fill.fgColor.rgb.endswith("FFF2CC")

    got = openpyxl.load_workbook(recalc(path, tmp_path), data_only=True)["Scenarios"]
    table = cmp.table.set_index("scenario")
    names = [got.cell(r, 1).value for r in range(12, 12 + len(table))]
    assert names == list(table.index)
    for i, name in enumerate(names):
        r = 12 + i
        for col, key in ((2, "total_cost"), (3, "present_value"), (4, "savings_vs_current"),
                         (5, "savings_vs_current_pv")):  # fmt: skip
            assert round(got.cell(r, col).value, 2) == pytest.approx(table.loc[name, key],
                                                                     abs=0.005), (name, key)  # fmt: skip

    # change two inputs: acquisitions per year -> 5, the counter offer's rate -> 150
    wb = openpyxl.load_workbook(path)
    ws = wb["Scenarios"]
    ws["B5"] = 5.0
    rate_cell = _input_cell(ws, "Counter", "AG-1")
    ws[rate_cell] = 150.0
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)
    got = openpyxl.load_workbook(recalc(edited, tmp_path), data_only=True)["Scenarios"]
    e = cmp.estate
    cur = term_cost(project_scenario(e, cmp.scenario(CURRENT), acquisitions_per_year=5.0))[0]
    counter = term_cost(project_scenario(e, cmp.scenario("Counter"), acquisitions_per_year=5.0,
                                         rate=np.array([150.0])))[0]  # fmt: skip
    assert counter != table.loc["Counter", "total_cost"]
    values = {got.cell(r, 1).value: got.cell(r, 2).value for r in range(12, 12 + len(table))}
    assert round(values[CURRENT], 2) == pytest.approx(cur, abs=0.005)
    assert round(values["Counter"], 2) == pytest.approx(counter, abs=0.005)
    assert round(got.cell(12 + names.index("Counter"), 4).value, 2) == pytest.approx(
        round(cur - counter, 2), abs=0.005
    )


def test_a_scenario_with_its_own_term_recalculates_to_python(tmp_path):
    """Counter models 24 months (its term_months), the others the default 12: the sheet's
    totals, and its savings against current terms over the same 24 months, equal Python."""
    ds = scenario_ds()
    m = compute_metrics(ds, params(AS_OF))
    own = ScenarioSpec("Counter", "AG-1", terms={**COUNTER.terms, "term_months": 24})
    cmp = compare_scenarios(ds, m, [own], assumptions={"acquisitions_per_year": 2.0})
    table = cmp.table.set_index("scenario")
    assert table["term_months"].tolist() == [12, 12, 24]
    path = write_dso_workbook(m, tmp_path / "book.xlsx", scenarios=cmp)
    keys = ((2, "total_cost"), (3, "present_value"), (4, "savings_vs_current"),
            (5, "savings_vs_current_pv"), (6, "cost_per_workstation_month"))  # fmt: skip
    # before any recalculation: the formulas' cached values are the model's figures
    cached = openpyxl.load_workbook(path, data_only=True)["Scenarios"]
    for i, name in enumerate(table.index):
        assert cached.cell(12 + i, 1).value == name
        for col, key in keys:
            assert cached.cell(12 + i, col).value == table.loc[name, key], (name, key)
    got = openpyxl.load_workbook(recalc(path, tmp_path), data_only=True)["Scenarios"]
    rows = {got.cell(r, 1).value: r for r in range(12, 12 + len(table))}
    assert list(rows) == list(table.index)
    for name, r in rows.items():
        assert got.cell(r, 9).value == table.loc[name, "term_months"]
        for col, key in ((2, "total_cost"), (3, "present_value"), (4, "savings_vs_current"),
                         (5, "savings_vs_current_pv"), (6, "cost_per_workstation_month")):  # fmt: skip
            assert round(got.cell(r, col).value, 2) == pytest.approx(table.loc[name, key],
                                                                     abs=0.005), (name, key)  # fmt: skip


def _input_cell(ws, scenario: str, agreement_id: str) -> str:
    """The 'Rate at term start' input cell of one agreement in one scenario block."""
    in_block = False
    for row in ws.iter_rows(min_col=1, max_col=3):
        a = row[0].value
        if a == f"Scenario: {scenario}":
            in_block = True
        elif in_block and a == agreement_id:
            return row[2].coordinate
    raise AssertionError(f"no input row for {scenario} / {agreement_id}")
