"""`dso-analytics report --all`: outputs per DSO, workbook figures equal the metrics JSON,
a broken DSO is skipped (non-zero exit, no finished-looking outputs), paths stay inside OUT."""

from __future__ import annotations

import json

import openpyxl
import pandas as pd
import pytest

from dso_analytics.errors import UnsafePathError
from dso_analytics.pipeline import output_folder
from tests.support.code_names import read_table
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
    summary = run.stderr.split("1 report failed:")[1].splitlines()
    failed = [ln.strip() for ln in summary if "FAILED" in ln]
    assert len(failed) == 1 and failed[0].startswith("broken-dso: FAILED (validation)")
    assert "amount" in failed[0]


def _dated_set(folder, prefix):
    """The one dated set of ``folder`` (``<prefix>-<as-of>.<kind>``) and its as-of date;
    every alias is a relative link to it."""
    import re

    from dso_analytics.report_names import KINDS

    dated = sorted(p.name for p in folder.iterdir() if re.fullmatch(
        rf"{re.escape(prefix)}-\d{{4}}-\d\d-\d\d\.(html|xlsx|ipynb|pdf)", p.name))  # fmt: skip
    assert len(dated) == len(KINDS), (folder, dated)
    as_of = dated[0][len(prefix) + 1 : len(prefix) + 11]
    return as_of, dated


def test_every_good_dso_has_its_dated_set_and_aliases(run):
    import os

    import pypdf

    from dso_analytics.report_names import (
        CALENDAR_FILE,
        LETTERS_DIR,
        dso_report_names,
        portfolio_report_names,
    )

    dates = []
    for name in (*SAMPLE_DSOS, "hostile-dso"):
        d = run.out / name
        as_of, dated = _dated_set(d, f"{name}-renewal-leverage")
        if name in SAMPLE_DSOS:
            assert as_of == "2026-10-31"  # the sample's latest invoice date
        dates.append(as_of)
        names = dso_report_names(name, as_of)
        assert sorted(names.dated.values()) == dated
        # the fixed names scripts and docs use: relative links to the dated files
        for kind, alias in names.alias.items():
            assert os.readlink(d / alias) == names.dated[kind], (name, alias)
            assert (d / alias).is_file()
        beside = {CALENDAR_FILE, LETTERS_DIR}  # fixed names, replaced by each run
        listed = {p.name for p in d.iterdir()} - beside
        assert listed == {*dated, *names.alias.values()}, name
        assert not (d / "renewal-leverage.failed.ipynb").exists()
        # the one-page brief (printed by Chromium, which CI installs)
        assert len(pypdf.PdfReader(d / "renewal-brief.pdf").pages) == 1, name
    p = run.out / "portfolio"
    as_of, dated = _dated_set(p, "portfolio-overview")
    assert as_of == max(dates)  # the portfolio's as-of: the latest of its DSOs'
    names = portfolio_report_names(as_of)
    for kind, alias in names.alias.items():
        assert os.readlink(p / alias) == names.dated[kind]
    assert len(pypdf.PdfReader(p / "renewal-brief.pdf").pages) == 1  # the portfolio brief


def test_broken_dso_keeps_its_previous_files_and_gets_no_report(run):
    d = run.out / "broken-dso"
    # validation failed before any notebook ran: no report, no failed notebook; what the
    # folder held before the run (here two stale files) is left as it was
    assert sorted(p.name for p in d.iterdir()) == ["renewal-leverage.html", "renewal-leverage.xlsx"]
    assert (d / "renewal-leverage.html").read_text(encoding="utf-8") == "stale"


def test_portfolio_overview_lists_only_rendered_dsos(run):
    side = read_table(run.out / "portfolio" / "portfolio-overview.xlsx", "DSOs side by side")
    # one row per rendered DSO, then the portfolio total row
    assert sorted(side["dso"][:-1]) == sorted([*SAMPLE_DSOS, "hostile-dso"])
    assert side["dso"].iloc[-1] == "Portfolio total"


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

    # every headline figure, by its label (with its window), equals the JSON
    for h in d["headline"]:
        if h["kind"] == "date":
            got = k[h["label"]]
            assert (got if got == "unknown" else f"{got:%Y-%m-%d}") == (h["value"] or "unknown")
        else:
            same(k[h["label"]], h["value"])
    same(k["Billed despite included (T12M)"], d["addon"]["billed_despite_included"]["t12m"])
    same(k["Contractual add-ons (T12M)"], d["addon"]["contractual_add_on"]["t12m"])
    assert k["Unclassified lines"] == d["unclassified_lines"]

    asks = read_table(path, "Negotiation asks")
    assert len(asks) == len(d["negotiation_asks"])
    assert list(asks["ask_key"]) == [a["ask_key"] for a in d["negotiation_asks"]]
    for col in ("impact_12m", "recovery_all_time"):
        for got, want in zip(asks[col], d["negotiation_asks"], strict=True):
            assert got == pytest.approx(want[col], abs=0.005)

    onb = read_table(path, "Onboarding")
    assert list(onb["location_id"]) == [r["location_id"] for r in d["onboarding"]]
    for col in ("billed", "contractual_allowance", "contractual_overspend", "target_overspend"):
        for got, want in zip(onb[col], (r[col] for r in d["onboarding"]), strict=True):
            assert (pd.isna(got) and want is None) or got == pytest.approx(want, abs=0.005)

    cal = read_table(path, "Renewal calendar")
    want_deadlines = {a["agreement_id"]: a["notice_deadline"] for a in d["agreements"]}
    got_deadlines = {
        a: (None if pd.isna(x) else f"{pd.Timestamp(x):%Y-%m-%d}")
        for a, x in zip(cal["agreement_id"], cal["notice_deadline"], strict=True)
    }
    assert got_deadlines == want_deadlines

    by_service = read_table(path, "Add-ons by service")
    sums = by_service.groupby("service")["t12m"].sum().round(2).to_dict()
    assert sums == pytest.approx(d["addon"]["by_service_t12m"], abs=0.005)

    lines = read_table(path, "Add-on lines")
    # each add-on detail line is traced to its source cell
    assert lines["source_file"].notna().all() and lines["source_row"].notna().all()
    # (a blank in the totals row makes calamine read the flags as 0.0 / 1.0)
    assert lines.loc[lines["in_t12m"].astype(bool), "amount"].sum() == pytest.approx(
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


def _money_text(v):
    """The report's money text, formatted here independently: $1,234.50 / -$5.00."""
    return "unknown" if v is None else f"{'-' if v < 0 else ''}${abs(v):,.2f}"


def test_one_figure_everywhere(run, metrics_json):
    """Every headline figure is identical in the metrics JSON, the DSO's HTML and workbook,
    and the portfolio workbook and HTML; the portfolio total is the sum of the DSOs'."""
    import html as html_mod

    port_xlsx = run.out / "portfolio" / "portfolio-overview.xlsx"
    side = read_table(port_xlsx, "DSOs side by side")
    side = side.set_index("dso")
    port_html = (run.out / "portfolio" / "portfolio-overview.html").read_text(encoding="utf-8")
    names = (*SAMPLE_DSOS, "hostile-dso")
    for name in names:
        d = metrics_json[name]
        text = (run.out / name / "renewal-leverage.html").read_text(encoding="utf-8")
        k = _kpis(run.out / name / "renewal-leverage.xlsx")
        for h in d["headline"]:
            label, v = h["label"], h["value"]
            if h["kind"] == "money":
                shown = _money_text(v)
                # DSO HTML: the KPI card shows this value under this label
                card = (f'<div class="dso-kpi-value">{shown}</div>'
                        f'<div class="dso-kpi-label">{html_mod.escape(label)}</div>')  # fmt: skip
                assert card in text, (name, label)
                # DSO workbook KPI sheet and portfolio workbook: the same number
                assert (k[label] == "unknown") if v is None else (k[label] == round(v, 2))
                cell = side.at[name, label]
                assert pd.isna(cell) if v is None else cell == pytest.approx(v, abs=0.001)
                # portfolio HTML: the same text in the side-by-side table
                assert f"<td>{shown}</td>" in port_html, (name, label)
            elif h["key"] == "leverage_score":
                assert f'<div class="dso-kpi-value">{v:.1f}</div>' in text
                assert k[label] == v and side.at[name, "leverage_score"] == v
    # the portfolio total row is the sum of the DSOs' figures (exact cents)
    for h in metrics_json[names[0]]["headline"]:
        if h["kind"] != "money":
            continue
        vals = [next(x["value"] for x in metrics_json[n]["headline"] if x["key"] == h["key"])
                for n in names]  # fmt: skip
        total = side.at["Portfolio total", h["label"]]
        if any(v is None for v in vals):
            assert pd.isna(total)
        else:
            assert round(total * 100) == sum(round(v * 100) for v in vals), h["label"]
            assert f"<td>{_money_text(total)}</td>" in port_html
