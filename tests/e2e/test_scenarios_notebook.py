"""The negotiation scenarios notebook, rendered by ``dso-analytics scenarios --notebook``.

Executed with papermill on a sample DSO: its table, charts and sentences show the
figures of the Python model (the CLI's JSON of the same run), and one total is
worked by hand.  Static: no widget in the rendered notebook.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest

from dso_analytics.cli import main
from dso_analytics.reporting.notebook import fmt_money
from tests.support.paths import SAMPLE

DSO = "summit-dental-partners"


def plotly_traces(html_text: str) -> list[list[dict]]:
    """The traces of every ``Plotly.newPlot`` call of an HTML fragment."""
    dec = json.JSONDecoder()
    return [dec.raw_decode(html_text, m.end())[0]
            for m in re.finditer(r'Plotly\.newPlot\(\s*"[^"]+",\s*', html_text)]  # fmt: skip


def values(v: object) -> np.ndarray:
    """A plotly array (a list, or plotly's typed ``{"dtype", "bdata"}``) as numbers."""
    if isinstance(v, dict):
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
    return np.asarray(v, dtype=float)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, nbformat.NotebookNode, str, str]:
    root = tmp_path_factory.mktemp("scenarios-nb")
    dso = root / DSO
    shutil.copytree(SAMPLE / DSO, dso)
    out = root / "scenarios.ipynb"
    import contextlib
    import io

    so, se = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(so), contextlib.redirect_stderr(se):
        code = main(["scenarios", str(dso), "--format", "json", "--notebook", str(out)])
    assert code == 0, se.getvalue()
    html = (root / "scenarios.html").read_text(encoding="utf-8")
    return json.loads(so.getvalue()), nbformat.read(out, as_version=4), se.getvalue(), html


@pytest.fixture(scope="module")
def html_path(run, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scenarios-html") / "scenarios.html"
    path.write_text(run[3], encoding="utf-8")
    return path


def test_offline_html_renders_every_chart_in_chromium(html_path, tmp_path):
    """Debian's Chromium, network off: cumulative cost, 3 tornados, clause scores and the
    savings grid all draw, no console or page error."""
    from dso_analytics.reporting.browser import check_in_browser

    shot = tmp_path / "scenarios.png"
    res = check_in_browser(html_path, screenshot=shot)
    assert res.title == "Negotiation scenarios: Summit Dental Partners"
    assert res.figures == 6 and res.rendered == 6
    assert res.errors == [] and res.blocked == []
    assert shot.stat().st_size > 50_000


def _outputs(nb: nbformat.NotebookNode, call: str) -> list[dict]:
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(call)]
    return [o for o in cell.outputs if o.output_type != "stream"]


def test_executed_without_error_and_static(run):
    data, nb, err, html = run
    assert "wrote" in err and "Traceback" not in err
    for c in nb.cells:
        if c.cell_type == "code":
            assert all(o.output_type != "error" for o in c.outputs)
            for o in c.outputs:
                assert "application/vnd.jupyter.widget-view+json" not in o.get("data", {})
    (say,) = _outputs(nb, "sv.show_sliders")
    assert "JupyterLab" in say["data"]["text/plain"]
    # the offline HTML carries the same table
    assert "Keystone counter-offer" in html and "Months modelled" in html


def test_table_and_sentences_equal_the_model(run):
    data, nb, _, _ = run
    rows = {r["scenario"]: r for r in data["scenarios"]}
    assert list(rows) == ["current terms renewed", "DSO-grade target", "Keystone counter-offer"]
    (table, sentence) = _outputs(nb, "sv.show_side_by_side")
    cells = table["data"]["text/html"]
    for r in rows.values():
        for key in ("total_cost", "cost_per_workstation_month", "savings_vs_current",
                    "savings_vs_current_pv", "onboarding"):  # fmt: skip
            assert fmt_money(r[key], "USD", cents=True) in cells, (r["scenario"], key)
    cur = rows["current terms renewed"]
    text = sentence["data"]["text/plain"]
    assert (
        f"renewing the current terms costs {fmt_money(cur['total_cost'], 'USD', cents=True)}"
        in text
    )
    # hand-worked: the DSO-grade target on summit's 388 workstations (39 locations) for 12
    # months, 3 acquisitions a year of 9 workstations each (the scenarios file): sum W =
    # 12 x 388 + 9 x 3/12 x (1 + ... + 12) = 4,656 + 175.5 = 4,831.5 workstation-months; its
    # rate is today's base fee per workstation + 10%, capped at the band's high 200.00; no
    # add-ons; onboarding capped at the 5,000 target x 3 acquisitions
    tgt = rows["DSO-grade target"]
    assert tgt["workstation_months"] == 4831.5
    assert tgt["total_cost"] == 200 * 4831.5 + 5000 * 3 == 981300.00
    assert "$981,300.00" in cells


def test_charts_equal_the_model(run):
    data, nb, _, _ = run
    rows = {r["scenario"]: r for r in data["scenarios"]}
    (fig,) = _outputs(nb, "sv.show_cumulative_cost")
    (traces,) = plotly_traces(fig["data"]["text/html"])
    got = {t["name"]: values(t["y"]) for t in traces}
    assert list(got) == list(rows)
    for name, y in got.items():
        assert len(y) == rows[name]["term_months"]
        assert round(float(y[-1]), 2) == pytest.approx(rows[name]["total_cost"], abs=0.005)
    tornados = _outputs(nb, "sv.show_tornados")
    assert len(tornados) == 3
    by = {(t["scenario"], t["driver"]): t for t in data["tornado"]}
    (bars,) = plotly_traces(tornados[2]["data"]["text/html"])
    low, high = bars  # differences from the base cost, one bar per driver
    want = sorted((t for t in data["tornado"] if t["scenario"] == "Keystone counter-offer"),
                  key=lambda t: t["swing"])  # fmt: skip
    base = want[0]["base_cost"]
    assert base == rows["Keystone counter-offer"]["total_cost"]
    np.testing.assert_allclose(values(low["x"]) + base, [t["cost_low"] for t in want], atol=0.005)
    np.testing.assert_allclose(values(high["x"]) + base, [t["cost_high"] for t in want], atol=0.005)
    (clause,) = _outputs(nb, "sv.show_clause_scores")
    ((bar,),) = plotly_traces(clause["data"]["text/html"])
    scores = dict(zip(bar["y"], values(bar["x"]), strict=True))  # percent
    for name, r in rows.items():
        assert scores[name] == pytest.approx(r["clause_score"] * 100, abs=0.01)
    assert by[("Keystone counter-offer", "acquisitions_per_year")]["swing"] > 0
