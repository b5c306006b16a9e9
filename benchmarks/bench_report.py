"""One DSO's full report: ``dso_analytics.pipeline`` versus the naive pipeline.

- **ours**: :func:`dso_analytics.pipeline.render_reports` on one DSO, as ``dso-analytics
  report DSO_DIR`` runs it (``stages.prepare`` validates once and computes the metrics in
  the parent while a worker process starts and boots its kernel with the report's
  imports (:func:`dso_analytics.stages.warm_up`); ``stages.render`` executes the thin
  notebook with papermill's Python API, exports HTML with the offline template and
  writes the workbook in that worker).  Measured cold (empty snapshot cache) and warm (second
  run, a new process, the validated snapshot on disk).
- **naive**: the ``papermill`` CLI on a notebook variant generated in a temp
  folder that runs Great Expectations validation
  (``validation.validate_dso``), ``read_dso``, ``compute_metrics``, the
  workbook and the one-page brief (Chromium) inside the kernel, then the
  ``jupyter nbconvert --to html`` CLI: the same outputs as ours.

Run alone: ``python benchmarks/bench_report.py [--tiny]`` (prints the results).
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DATA_DIR, ROOT, fmt_s, run_case  # noqa: E402

#: The sample DSO used (the largest of the committed sample portfolio).
REPORT_DSO = "summit-dental-partners"
TINY_DSO = "coastal-family-dental"

NAIVE_LOAD_CELL = """\
from dso_analytics.reporting import charts
from dso_analytics.reporting import notebook as rn
from dso_analytics.ingest import read_dso
from dso_analytics.metrics import compute_metrics
from dso_analytics.reporting.excel import write_dso_workbook
from dso_analytics.validation import validate_dso

from dso_analytics.standards import resolve_params

params = resolve_params(
    dso_dir,
    standard=standard,
    overrides=dict(
        as_of=as_of,
        target_onboarding_cap=target_onboarding_cap,
        target_onboarding_sla_business_days=target_onboarding_sla_business_days,
        benchmark_workstation_monthly=benchmark_workstation_monthly,
    ),
)
report = validate_dso(dso_dir, params=params, use_cache=False)  # Great Expectations, in the kernel
assert report.ok, report.to_text()
ds = read_dso(dso_dir)
m = compute_metrics(ds, params)
write_dso_workbook(
    m, workbook, validation_summary={"ok": True, "errors": 0, "warnings": 0}, sources=ds.sources
)
from pathlib import Path
from dso_analytics.reporting.brief import write_brief

write_brief(m, Path(workbook).with_name("renewal-brief.pdf"))  # the one-page brief, as ours
"""


def write_naive_notebook(dest: str | Path) -> Path:
    """Write the naive variant of the shipped ``renewal_leverage.ipynb`` into ``dest``.

    The parameters cell gains ``workbook``; the loading cell is replaced by
    :data:`NAIVE_LOAD_CELL`; the report sections are unchanged.
    """
    import nbformat

    from dso_analytics.stages import DSO_REPORT

    nb = nbformat.read(DSO_REPORT.path(), as_version=4)
    nb = copy.deepcopy(nb)
    replaced = False
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            cell.source += (
                '\nworkbook: str = "naive.xlsx"  # where the notebook writes the workbook'
            )
        elif "load_metrics" in cell.source and not replaced:
            cell.source = NAIVE_LOAD_CELL
            replaced = True
    if not replaced:
        raise RuntimeError(f"{DSO_REPORT.notebook}: no cell calling load_metrics to replace")
    out = Path(dest) / "naive_renewal_leverage.ipynb"
    nbformat.write(nb, out)
    return out


# ---------------------------------------------------------------------------
# Cases (fresh processes)
# ---------------------------------------------------------------------------
def case_ours(timer: Any, dso_dir: str, out_dir: str) -> dict:
    """``render_reports`` on one DSO, as ``report DSO_DIR`` (cache folder from the environment)."""
    from dso_analytics.pipeline import render_reports

    with timer:
        res = render_reports([dso_dir], out_dir, jobs=1, progress=False).results[0]
    if not res.ok:
        raise RuntimeError(res.line())
    return {"html_bytes": Path(res.html).stat().st_size, "xlsx": res.xlsx}


def case_naive(timer: Any, dso_dir: str, out_dir: str) -> dict:
    """papermill CLI, then ``jupyter nbconvert --to html`` CLI, on the naive notebook."""
    bindir = Path(sys.executable).parent
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="naive-report-"))
    try:
        nb = write_naive_notebook(work)
        executed = out / "renewal-leverage.ipynb"
        xlsx = out / "renewal-leverage.xlsx"
        pm = [str(bindir / "papermill"), str(nb), str(executed), "-k", "python3",
              "-p", "dso_dir", str(Path(dso_dir).resolve()), "-p", "workbook", str(xlsx)]  # fmt: skip
        conv = [str(bindir / "jupyter"), "nbconvert", "--to", "html", str(executed),
                "--output-dir", str(out)]  # fmt: skip
        with timer:
            subprocess.run(pm, check=True, capture_output=True, cwd=work)
            subprocess.run(conv, check=True, capture_output=True, cwd=work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    html = out / "renewal-leverage.html"
    if not (out / "renewal-brief.pdf").is_file():
        raise RuntimeError("the naive pipeline wrote no renewal-brief.pdf")
    return {"html_bytes": html.stat().st_size, "xlsx": str(xlsx)}


# ---------------------------------------------------------------------------
def run(results: dict, data_dir: Path, log: Any = None, profile: bool = True,
        tiny: bool = False) -> None:  # fmt: skip
    """Run the report cases into ``results``."""
    dso = ROOT / "data" / "sample" / (TINY_DSO if tiny else REPORT_DSO)
    print(f"report: {dso.name}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="bench-report-", dir=data_dir))
    try:
        cache = work / "cache"
        env = {"DSO_ANALYTICS_CACHE": str(cache)}
        kw = {"dso_dir": str(dso)}
        cases = [
            ("report_naive", "naive: papermill CLI + nbconvert CLI, GE in the kernel",
             "bench_report:case_naive", work / "naive"),
            ("report_ours", "ours: report DSO_DIR, empty snapshot cache",
             "bench_report:case_ours", work / "ours-cold"),
            ("report_ours_warm", "ours: report DSO_DIR, second run (snapshot cached)",
             "bench_report:case_ours", work / "ours-warm"),
        ]  # fmt: skip
        for key, name, target, out in cases:
            res = run_case(name, target, {**kw, "out_dir": str(out)}, env=env, log=log)
            state = f"{fmt_s(res.seconds)} s" if res.ok else f"FAILED: {res.error}"
            print(f"  {name}: {state}", flush=True)
            results[key] = res.to_dict()
        results["report_dso"] = dso.name
        naive, ours = results["report_naive"], results["report_ours"]
        if naive["ok"] and ours["ok"]:
            results["report_ratio"] = ours["seconds"] / naive["seconds"]
            if results["report_ours_warm"]["ok"]:
                results["report_ratio_warm"] = (
                    results["report_ours_warm"]["seconds"] / naive["seconds"]
                )
            if profile and (tiny or results["report_ratio"] > 0.5):
                shutil.rmtree(cache, ignore_errors=True)
                prof = run_case("ours (profiled)", "bench_report:case_ours",
                                {**kw, "out_dir": str(work / "ours-prof")}, env=env,
                                profile=True, log=log)  # fmt: skip
                results["report_profile"] = prof.profile
    finally:
        shutil.rmtree(work, ignore_errors=True)


def markdown(results: dict, target: float, head: str, row: Any, profile_block: Any) -> list[str]:
    """The BENCHMARKS.md section."""
    out = ["## 3. One DSO's report", "",
           f"DSO `{results.get('report_dso', REPORT_DSO)}` of the sample portfolio: validation, "
           "metrics, executed notebook, HTML, workbook and the one-page brief (PDF printed by "
           "Chromium): the same outputs in both. Naive: `papermill` CLI on a notebook "
           "variant (generated in a temp folder) that runs Great Expectations validation "
           "(`validation.validate_dso`), `read_dso`, `compute_metrics`, the workbook and the "
           "brief inside the kernel, then `jupyter nbconvert --to html` CLI. Ours: "
           "`dso_analytics.pipeline.render_reports` on that one DSO, as `report DSO_DIR` "
           "(validation and metrics once in the parent while a worker process boots its "
           "kernel, preloads plotly and imports the render code; thin notebook through "
           "papermill's Python API, saved once, with the workbook and the brief written "
           "meanwhile on threads of that worker; then the offline HTML export).",
           "", head]  # fmt: skip
    out.append(row("naive pipeline (baseline)", results.get("report_naive")))
    out.append(row("ours, empty snapshot cache", results.get("report_ours")))
    out.append(row("ours, second run (snapshot cached)", results.get("report_ours_warm")))
    rr = results.get("report_ratio")
    if rr is not None:
        warm = results.get("report_ratio_warm")
        out += ["", f"Ours / naive: **{rr:.2f}x** cold"
                + (f", **{warm:.2f}x** with the snapshot cached" if warm is not None else "")
                + f" (target <= {target}x)."]  # fmt: skip
    out.append("")
    out += profile_block("cProfile of render_reports on one DSO, cold (top entries; the "
                         "worker and the kernel are separate processes)", results.get("report_profile"))  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the report benchmark alone and print the results as JSON."""
    tiny = "--tiny" in (argv if argv is not None else sys.argv[1:])
    results: dict = {}
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    run(results, DATA_DIR, tiny=tiny, profile=False)
    print(json.dumps({k: v for k, v in results.items() if "profile" not in k}, indent=1,
                     default=str))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
