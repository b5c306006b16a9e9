"""The sample portfolio batch (every DSO + the overview) on 1 versus 2 worker processes.

Each run is a fresh process with an empty snapshot cache, calling
:func:`dso_analytics.pipeline.render_reports` with ``jobs=1`` and ``jobs=2``.
The per-DSO times of the 1-worker run give the best a 2-worker schedule can do
(longest job first on 2 workers, the overview being one more job: the pipeline
submits it as soon as every DSO's metrics exist, so it runs alongside the last
DSO notebooks): that bound is printed next to the measured speedup.

Run alone: ``python benchmarks/bench_batch.py [--tiny]``.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DATA_DIR, ROOT, fmt_s, run_case  # noqa: E402

PORTFOLIO = ROOT / "data" / "sample"


def case_batch(timer: Any, portfolio: str, out_dir: str, jobs: int,
               dsos: list[str] | None = None) -> dict:  # fmt: skip
    """``render_reports`` over the portfolio (and its overview) with ``jobs`` workers."""
    from dso_analytics.ingest import list_dso_dirs
    from dso_analytics.pipeline import render_reports

    dirs = list_dso_dirs(portfolio)
    if dsos:
        dirs = [d for d in dirs if d.name in dsos]
    cpu0 = cpu_seconds()
    with timer:
        batch = render_reports(dirs, out_dir, portfolio=True, jobs=jobs, progress=False)
    cpu = cpu_seconds() - cpu0
    if not batch.ok:
        raise RuntimeError("; ".join(r.line() for r in batch.failed))
    return {
        "per_dso": {r.dso: r.elapsed for r in batch.results},
        "portfolio": batch.portfolio.elapsed if batch.portfolio else None,
        "cpu_seconds": cpu,
        "cores": usable_cores(),
    }


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of every descendant it has reaped.

    The pool's worker processes (``spawn``: children of this process) are reaped
    when :func:`render_reports` closes its runner, and each worker reaps its
    Jupyter kernels and Chromium, so after the call this counts the whole batch.
    """
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def usable_cores() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def cpu_bound(one: dict, two: dict) -> float | None:
    """The largest speedup the machine allows: the 1-worker time over the least time
    the 2-worker run's CPU work can take on the usable cores (CPU seconds / cores).

    A run cannot finish before its CPU work divided by the cores, so no schedule
    of the 2-worker run's work beats this ratio on this machine.
    """
    cpu, cores = two["info"].get("cpu_seconds"), two["info"].get("cores")
    if not cpu or not cores:
        return None
    return one["seconds"] / (cpu / cores)


def lpt_makespan(times: list[float], workers: int) -> float:
    """Makespan of longest-processing-time-first scheduling of ``times`` on ``workers``."""
    loads = [0.0] * workers
    for t in sorted(times, reverse=True):
        i = loads.index(min(loads))
        loads[i] += t
    return max(loads)


def ideal_speedup(info: dict, workers: int = 2) -> float | None:
    """Best 2-worker speedup given the 1-worker run's per-DSO and overview times.

    The overview is scheduled as one more job (LPT over every job); this
    ignores that it can only start once every DSO's metrics exist, and that
    each worker pays its own imports (Great Expectations when the snapshot
    cache is empty), so the real bound is somewhat lower.
    """
    per = list((info.get("per_dso") or {}).values())
    port = info.get("portfolio") or 0.0
    if not per:
        return None
    jobs = per + ([port] if port else [])
    return sum(jobs) / lpt_makespan(jobs, workers)


def run(results: dict, data_dir: Path, log: Any = None, profile: bool = True,
        tiny: bool = False) -> None:  # fmt: skip
    """Run the batch cases into ``results``."""
    dsos = ["coastal-family-dental"] if tiny else None  # tiny: the smallest DSO + the overview
    print(f"batch: {PORTFOLIO} ({'1 DSO' if tiny else 'every DSO'})", flush=True)
    work = Path(tempfile.mkdtemp(prefix="bench-batch-", dir=data_dir))
    try:
        for jobs in (1, 2):
            key = f"batch_{jobs}"
            env = {"DSO_ANALYTICS_CACHE": str(work / f"cache-{jobs}")}
            res = run_case(f"render_reports --jobs {jobs}", "bench_batch:case_batch",
                           {"portfolio": str(PORTFOLIO), "out_dir": str(work / f"out-{jobs}"),
                            "jobs": jobs, "dsos": dsos}, env=env, log=log)  # fmt: skip
            state = f"{fmt_s(res.seconds)} s" if res.ok else f"FAILED: {res.error}"
            print(f"  {res.name}: {state}", flush=True)
            results[key] = res.to_dict()
        one, two = results["batch_1"], results["batch_2"]
        if one["ok"] and two["ok"]:
            results["batch_speedup"] = one["seconds"] / two["seconds"]
            results["batch_ideal_speedup"] = ideal_speedup(one["info"])
            results["batch_cpu_bound"] = cpu_bound(one, two)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def markdown(results: dict, target: float, head: str, row: Any, profile_block: Any) -> list[str]:
    """The BENCHMARKS.md section."""
    out = ["## 4. Batch: the sample portfolio on 1 and 2 workers", "",
           "`render_reports(every sample DSO, portfolio=True, jobs=N)`: every DSO's report plus "
           "the portfolio overview, each run in a fresh process with an empty snapshot cache.",
           "", head]  # fmt: skip
    out.append(row("1 worker (baseline)", results.get("batch_1")))
    out.append(row("2 workers", results.get("batch_2")))
    sp = results.get("batch_speedup")
    if sp is not None:
        out += ["", f"Speedup: **{sp:.2f}x** (target >= {target}x)."]
        one = results["batch_1"]["info"]
        two = results["batch_2"]["info"]
        out += ["", "| DSO | 1 worker (s) | 2 workers (s) |", "|---|---:|---:|"]
        for dso, t in one.get("per_dso", {}).items():
            out.append(f"| {dso} | {t:.1f} | {two.get('per_dso', {}).get(dso, float('nan')):.1f} |")
        if one.get("portfolio") is not None:
            out.append(f"| portfolio overview (once every DSO's metrics exist) | {one['portfolio']:.1f} "
                       f"| {two.get('portfolio') or float('nan'):.1f} |")  # fmt: skip
        ideal = results.get("batch_ideal_speedup")
        if ideal is not None:
            out += ["", f"Best possible with 2 workers for these jobs (longest first, the "
                    f"overview as one more job, using the 1-worker times; duplicated per-worker "
                    f"imports ignored): **{ideal:.2f}x**."]  # fmt: skip
        out += cpu_lines(results)
    out.append("")
    return out


def cpu_lines(results: dict) -> list[str]:
    """The measured CPU bound of the speedup, as markdown lines (none when not measured)."""
    one, two = results["batch_1"], results["batch_2"]
    bound = results.get("batch_cpu_bound")
    cpu1, cpu2 = one["info"].get("cpu_seconds"), two["info"].get("cpu_seconds")
    cores = two["info"].get("cores")
    if bound is None or not cpu1 or not cpu2:
        return []
    return ["", f"CPU time of the whole batch (parent, workers, kernels, Chromium; "
            f"`getrusage`): 1 worker **{cpu1:.1f} s** in {one['seconds']:.1f} s, so it kept "
            f"**{cpu1 / one['seconds']:.2f} of {cores} cores** busy on average; 2 workers "
            f"{cpu2:.1f} s. On {cores} cores the 2-worker run cannot take less than "
            f"{cpu2:.1f} / {cores} = {cpu2 / cores:.1f} s, so no scheduling can give more "
            f"than **{bound:.2f}x** on this machine (measured in this run)."]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run the batch benchmark alone and print the results as JSON."""
    tiny = "--tiny" in (argv if argv is not None else sys.argv[1:])
    results: dict = {}
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    run(results, DATA_DIR, tiny=tiny)
    print(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
