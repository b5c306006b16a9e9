"""Smoke tests of the benchmark scripts at tiny sizes (so they don't rot). Nothing is timed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import BENCH, ROOT


def _run_all(tmp_path: Path, *args: str) -> tuple[dict, str]:
    out = tmp_path / "BENCH.md"
    results = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH / "run_all.py"), "--tiny", "--no-profile",
         "--data", str(tmp_path / "data"), "--out", str(out), "--results", str(results), *args],
        capture_output=True, text=True, cwd=ROOT, timeout=1200,
        env={**__import__("os").environ, "DSO_ANALYTICS_CACHE": str(tmp_path / "cache")},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(results.read_text()), out.read_text()


@pytest.mark.slow
def test_ingest_and_metrics_benchmarks_run_at_tiny_size(tmp_path: Path) -> None:
    res, md = _run_all(tmp_path, "--only", "ingest,metrics")
    # write_scaled_dso(locations=3, months=2): 14 lines per location-month + 3 org lines a
    # month; 10% of 3 locations is 0 acquired in-window, so 3 * 2 * 14 + 2 * 3 = 90 lines
    assert res["ingest_ours"]["ok"] and res["ingest_baseline"]["ok"]
    assert res["ingest_ours"]["info"]["lines"] == 90
    assert res["ingest_baseline"]["info"]["lines"] == 90
    assert res["ingest_speedup"] > 0
    assert {k: v["info"]["lines"] for k, v in res["metrics"].items()} == {
        "1000": 1000,
        "3000": 3000,
    }
    for r in [res["ingest_ours"], *res["metrics"].values()]:
        assert r["peak_rss_mb"] > 10  # a Python process with pandas is tens of MB at least
    assert "## Machine" in md and "## 1. Ingest" in md and "## 2. Metrics" in md
    assert "make bench" in md


@pytest.mark.slow
@pytest.mark.xdist_group("notebooks")
def test_report_and_batch_benchmarks_run_at_tiny_size(tmp_path: Path) -> None:
    res, md = _run_all(tmp_path, "--only", "report,batch")
    for key in ("report_naive", "report_ours", "report_ours_warm", "batch_1", "batch_2"):
        assert res[key]["ok"], (key, res[key]["error"])
    assert res["report_ratio"] > 0 and res["batch_speedup"] > 0
    for key in ("batch_1", "batch_2"):  # the whole batch's CPU time was measured
        assert res[key]["info"]["cpu_seconds"] > 0 and res[key]["info"]["cores"] >= 1
    assert res["batch_cpu_bound"] > 0 and "no scheduling can give more than" in md
    assert set(res["batch_1"]["info"]["per_dso"]) == {"coastal-family-dental"}
    assert res["batch_1"]["info"]["portfolio"] > 0  # the overview rendered too
    assert "## 3. One DSO's report" in md and "## 4. Batch" in md


def test_naive_notebook_validates_inside_the_kernel(tmp_path: Path, bench_module) -> None:
    import nbformat

    write_naive_notebook = bench_module("bench_report").write_naive_notebook

    nb = nbformat.read(write_naive_notebook(tmp_path), as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert any("validate_dso(" in c for c in code)
    assert any("write_brief(" in c for c in code)  # the same outputs as ours
    assert not any("load_metrics" in c for c in code)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and "workbook" in params[0].source


def test_lpt_bound_of_the_batch(bench_module) -> None:
    bench = bench_module("bench_batch")
    ideal_speedup, lpt_makespan = bench.ideal_speedup, bench.lpt_makespan

    # jobs 5, 4, 3 on 2 workers, longest first: w1 = 5, w2 = 4 then 3 -> 7; makespan 7
    assert lpt_makespan([3.0, 5.0, 4.0], 2) == 7.0
    # the overview is one more job: serial 5 + 4 + 3 + 2 = 14; LPT on 2 workers:
    # w1 = 5, w2 = 4, then 3 -> w2 (7), then 2 -> w1 (7): makespan 7; bound 14 / 7 = 2
    info = {"per_dso": {"a": 5.0, "b": 4.0, "c": 3.0}, "portfolio": 2.0}
    assert ideal_speedup(info) == pytest.approx(14 / 7)
    # an uneven batch: 9, 2, 1 + overview 1 -> w1 = 9, w2 = 2 + 1 + 1 = 4; bound 13 / 9
    assert ideal_speedup({"per_dso": {"a": 9.0, "b": 2.0, "c": 1.0}, "portfolio": 1.0}) == (
        pytest.approx(13 / 9)
    )
    assert ideal_speedup({"per_dso": {}}) is None


def test_cpu_bound_of_the_batch(bench_module) -> None:
    cpu_bound = bench_module("bench_batch").cpu_bound
    # 1 worker took 29.6 s; the 2-worker run did 46.3 s of CPU work, which takes at
    # least 46.3 / 2 = 23.15 s on 2 cores: no 2-worker time beats 29.6 / 23.15
    one = {"seconds": 29.6, "info": {"cpu_seconds": 40.0, "cores": 2}}
    two = {"seconds": 28.0, "info": {"cpu_seconds": 46.3, "cores": 2}}
    assert cpu_bound(one, two) == pytest.approx(29.6 / 23.15)
    # on 4 cores the same work could take 11.575 s: bound 29.6 / 11.575
    assert cpu_bound(one, {"info": {"cpu_seconds": 46.3, "cores": 4}}) == pytest.approx(
        29.6 / 11.575
    )
    assert cpu_bound(one, {"info": {}}) is None  # not measured: no bound claimed


@pytest.mark.slow
def test_extract_benchmark_runs_at_tiny_size(tmp_path: Path) -> None:
    res, md = _run_all(tmp_path, "--only", "extract")
    assert res["extract_pdf"]["ok"] and res["extract_docx"]["ok"]
    assert res["extract_pdf"]["info"]["pages"] == 3 == res["extract_docx"]["info"]["pages"]
    lab = res["extract_labelled"]["info"]
    assert lab["agreements"] == 2 and lab["pdf"]["stated"] == 33
    assert "## 6. Agreement extraction" in md and "| extract: a 30-page agreement" in md
