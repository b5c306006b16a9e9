"""`dso-analytics report --all`: outputs per DSO, workbook figures equal the metrics JSON,
a broken DSO is skipped (non-zero exit, no finished-looking outputs), paths stay inside OUT."""

from __future__ import annotations

import json

import openpyxl
import pandas as pd
import pytest

from dso_analytics.errors import UnsafePathError
from dso_analytics.pipeline import output_folder
from tests.support.paths import SAMPLE_DSOS
from tests.support.report_factory import FORMULA, SCRIPT

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("render")]


@pytest.fixture(scope="session")
def run(rendered):
    return rendered


@pytest.fixture(scope="session")
def metrics_json(run):
    """The metrics JSON of every rendered DSO, through the CLI (what leadership is promised)."""
    import contextlib
    import io

    from dso_analytics.cli import main

    out = {}
    for name in (*SAMPLE_DSOS, "hostile-dso"):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            assert main(["metrics", str(run.portfolio / name), "--format", "json"]) == 0
        out[name] = json.loads(buf.getvalue())
    return out


def test_batch_exits_nonzero_and_names_the_broken_dso(run):
    assert run.exit_code == 1
    # the closing summary: one line per failed DSO
    summary = run.stderr.split("report(s) failed:")[1].splitlines()
    failed = [ln.strip() for ln in summary if "FAILED" in ln]
    assert len(failed) == 1 and failed[0].startswith("broken-dso: FAILED (validation)")
    assert "amount" in failed[0]


def test_every_good_dso_has_html_xlsx_and_executed_notebook(run):
    for name in (*SAMPLE_DSOS, "hostile-dso"):
        d = run.out / name
        for suffix in ("html", "xlsx", "ipynb"):
            assert (d / f"renewal-leverage.{suffix}").is_file(), (name, suffix)
        assert not (d / "renewal-leverage.failed.ipynb").exists()
        assert not [p for p in d.iterdir() if p.name.startswith(".")], "no temp files left"
    p = run.out / "portfolio"
    assert (p / "portfolio-overview.html").is_file()
    assert (p / "portfolio-overview.xlsx").is_file()


def test_broken_dso_leaves_no_finished_looking_output(run):
    d = run.out / "broken-dso"
    # the stale html/xlsx written before the run were removed; validation failed before
    # any notebook ran, so there is no failed notebook either
    assert sorted(p.name for p in d.iterdir()) == []


def test_portfolio_overview_lists_only_rendered_dsos(run):
    side = pd.read_excel(
        run.out / "portfolio" / "portfolio-overview.xlsx",
        sheet_name="DSOs side by side",
        engine="calamine",
    )
    assert sorted(side["dso"]) == sorted([*SAMPLE_DSOS, "hostile-dso"])


def _kpis(path):
    ws = openpyxl.load_workbook(path)["KPI summary"]
    return {r[0].value: r[1].value for r in ws.iter_rows(min_row=2)}


@pytest.mark.parametrize("name", SAMPLE_DSOS)
def test_workbook_figures_equal_metrics_json(run, metrics_json, name):
    d = metrics_json[name]
    path = run.out / name / "renewal-leverage.xlsx"
    k = _kpis(path)

    def same(cell, value):
        if value is None:
            assert cell == "unknown"
        else:
            assert cell == pytest.approx(round(value, 2), abs=0.005)

    same(k["Spend, trailing 12 months"], d["kpis"]["spend_t12m"])
    same(k["Spend, all time"], d["spend"]["all_time"])
    same(k["Add-on charges, trailing 12 months"], d["kpis"]["addon_t12m"])
    same(k["Credits to claim"], d["kpis"]["credits_to_claim"])
    same(
        k["Billed despite included (credits), T12M"], d["addon"]["billed_despite_included"]["t12m"]
    )
    same(k["Contractual add-ons, T12M"], d["addon"]["contractual_add_on"]["t12m"])
    same(k["Onboarding overspend vs target cap"], d["kpis"]["onboarding_target_overspend"])
    same(k["Clause score"], d["kpis"]["clause_score"])
    assert k["Unclassified lines"] == d["unclassified_lines"]
    if d["kpis"]["nearest_notice_deadline"]:
        assert f"{k['Nearest notice deadline']:%Y-%m-%d}" == d["kpis"]["nearest_notice_deadline"]

    asks = pd.read_excel(path, sheet_name="Negotiation asks", engine="calamine")
    assert len(asks) == len(d["negotiation_asks"])
    for got, want in zip(asks["impact_12m"], d["negotiation_asks"], strict=True):
        if want["impact_12m"] is None:
            assert pd.isna(got)
        else:
            assert got == pytest.approx(want["impact_12m"], abs=0.005)

    onb = pd.read_excel(path, sheet_name="Onboarding", engine="calamine")
    assert list(onb["location_id"]) == [r["location_id"] for r in d["onboarding"]]
    for col in ("billed", "contractual_allowance", "contractual_overspend", "target_overspend"):
        for got, want in zip(onb[col], (r[col] for r in d["onboarding"]), strict=True):
            assert (pd.isna(got) and want is None) or got == pytest.approx(want, abs=0.005)

    cal = pd.read_excel(path, sheet_name="Renewal calendar", engine="calamine")
    want_deadlines = {a["agreement_id"]: a["notice_deadline"] for a in d["agreements"]}
    got_deadlines = {
        a: (None if pd.isna(x) else f"{pd.Timestamp(x):%Y-%m-%d}")
        for a, x in zip(cal["agreement_id"], cal["notice_deadline"], strict=True)
    }
    assert got_deadlines == want_deadlines

    by_service = pd.read_excel(path, sheet_name="Add-ons by service", engine="calamine")
    sums = by_service.groupby("service")["t12m"].sum().round(2).to_dict()
    assert sums == pytest.approx(d["addon"]["by_service_t12m"], abs=0.005)

    lines = pd.read_excel(path, sheet_name="Add-on lines", engine="calamine")
    # each add-on detail line is traced to its source cell
    assert lines["source_file"].notna().all() and lines["source_row"].notna().all()
    assert lines.loc[lines["in_t12m"], "amount"].sum() == pytest.approx(
        d["kpis"]["addon_t12m"], abs=0.01
    )


def test_hostile_text_is_text_in_the_workbook(run):
    wb = openpyxl.load_workbook(run.out / "hostile-dso" / "renewal-leverage.xlsx")
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    hits = [c for c in cells if c.value in (SCRIPT, FORMULA)]
    assert {c.value for c in hits} == {SCRIPT, FORMULA}
    assert all(c.data_type == "s" for c in hits)


def test_output_paths_only_from_slugs(tmp_path):
    assert output_folder(tmp_path, "ok-dso") == (tmp_path / "ok-dso").resolve()
    for bad in ("..", "../x", "A", "a/b", "", ".hidden"):
        with pytest.raises(UnsafePathError):
            output_folder(tmp_path, bad)
