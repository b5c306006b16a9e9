"""Run every benchmark and write BENCHMARKS.md (``make bench``).

Cases (each in a fresh process, see ``_common.run_case``; every ratio is
against a baseline measured in the same run):

1. ingest: ``read_dso`` versus ``pandas.read_excel`` defaults (openpyxl) on the
   same files of a generated 150-location x 60-month DSO (~125,000 lines);
2. metrics: ``compute_metrics`` on 100k, 1M and 10M billing lines (scaling
   against the 100k and 1M runs);
3. one DSO's report through ``dso_analytics.pipeline`` versus the naive
   pipeline (papermill CLI + ``jupyter nbconvert`` CLI, Great Expectations
   inside the notebook): ``bench_report.py``;
4. the sample portfolio batch on 1 versus 2 workers: ``bench_batch.py``;
5. M8 scenarios: 1,000 evaluations over the 150-location DSO, vectorised versus
   a Python loop: ``bench_scenarios.py``;
6. agreement extraction: a 30-page agreement (PDF, DOCX) and the labelled
   set's precision/recall: ``bench_extract.py``.

Usage::

    python benchmarks/run_all.py                 # everything (10M lines included)
    python benchmarks/run_all.py --no-10m        # skip the 10M-line metrics case
    python benchmarks/run_all.py --only ingest,metrics
    python benchmarks/run_all.py --render-only   # rewrite BENCHMARKS.md from the last results

Generated data goes to ``bench-data/`` (git-ignored; reused when present).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    DATA_DIR,
    INGEST_LOCATIONS,
    INGEST_MONTHS,
    ROOT,
    CaseResult,
    ensure_scaled_dso,
    fmt_mb,
    fmt_s,
    machine,
    run_case,
)

METRICS_SIZES = (100_000, 1_000_000, 10_000_000)
#: bump when the metrics data generator changes (regenerates bench-data/metrics/)
METRICS_DATA_VERSION = 2
TARGETS = {
    "ingest_speedup": 12.0,
    "metrics_1m_seconds": 3.0,
    "metrics_1m_rss_mb": 2048.0,
    "metrics_10m_over_1m": 12.0,
    "report_ratio": 0.5,
    "batch_speedup": 1.6,
    "scenarios_seconds": 2.0,
    "extract_30_pages_seconds": 2.0,
}
SECTIONS = ("ingest", "metrics", "report", "batch", "scenarios", "extract")


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------
def _tile(frame: Any, idx: Any, copy: Any, suffixes: Any, columns: list[str]) -> Any:
    import pandas as pd

    out = frame.iloc[idx].reset_index(drop=True)
    suf = pd.Series(suffixes[copy], dtype="str")
    for c in columns:
        if c in out.columns:
            out[c] = out[c] + suf
    return out


def _tiled_dataset(base_dir: str, n_lines: int) -> Any:
    """Fallback generator: the scaled DSO read once and tiled into copies.

    Copy ``k`` gets its own locations (``LOC-0001-k``...) and invoice numbers,
    so a bigger input is a bigger DSO (more locations).
    """
    import numpy as np

    from dso_analytics.ingest import read_dso

    ds = read_dso(base_dir)
    b = ds.billing
    k = max(1, math.ceil(n_lines / len(b)))
    suffixes = np.array([f"-{c:03d}" for c in range(k)], dtype=object)
    idx = np.tile(np.arange(len(b)), k)[:n_lines]
    copy = np.repeat(np.arange(k), len(b))[:n_lines]
    ds.billing = _tile(b, idx, copy, suffixes, ["location_id", "invoice_number"])
    loc = ds.locations
    lidx = np.tile(np.arange(len(loc)), k)
    lcopy = np.repeat(np.arange(k), len(loc))
    ds.locations = _tile(loc, lidx, lcopy, suffixes, ["location_id", "location_name"])
    if "aliases" in ds.locations.columns:
        ds.locations["aliases"] = ds.locations["aliases"].where(
            ds.locations["aliases"].isna(), None
        )
    return ds


def prepare_metrics_data(timer: Any, base_dir: str, n_lines: int, out_dir: str) -> dict:
    """Write a DSO of ``n_lines`` billing lines as Parquet (case function; not a measurement).

    Uses ``benchmarks/bench_metrics.py``'s ``synthetic_dataset`` (the metrics
    helper's generator) when it exists, else :func:`_tiled_dataset`.
    """
    from dso_analytics import schema

    try:
        from bench_metrics import synthetic_dataset
    except ImportError:
        synthetic_dataset = None
    if synthetic_dataset is not None:
        ds, generator = synthetic_dataset(n_lines), "bench_metrics.synthetic_dataset"
    else:
        ds, generator = _tiled_dataset(base_dir, n_lines), "run_all._tiled_dataset"
    billing, locations = ds.billing, ds.locations
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tables = {
        schema.LOCATIONS: locations,
        schema.AGREEMENTS: ds.agreements,
        schema.SERVICES: ds.services,
        schema.DOCUMENTATION: ds.documentation,
        schema.BILLING: billing,
    }
    for name, frame in tables.items():
        frame.to_parquet(out / f"{name}.parquet", index=False)
    meta = {"dso": ds.dso, "display_name": ds.display_name, "currency": ds.currency,
            "present_tables": sorted(ds.present_tables), "lines": len(billing),
            "locations": len(locations), "version": METRICS_DATA_VERSION,
            "generator": generator}  # fmt: skip
    (out / "meta.json").write_text(json.dumps(meta))
    return meta


def load_metrics_data(data_dir: str | Path) -> Any:
    """Read a folder written by :func:`prepare_metrics_data` into a DsoDataset."""
    import pandas as pd

    from dso_analytics import schema
    from dso_analytics.dataset import DsoDataset

    p = Path(data_dir)
    meta = json.loads((p / "meta.json").read_text())
    frames = {t: pd.read_parquet(p / f"{t}.parquet") for t in schema.TABLES}
    return DsoDataset(dso=meta["dso"], root=p, display_name=meta["display_name"],
                      currency=meta["currency"], present_tables=set(meta["present_tables"]),
                      **frames)  # fmt: skip


def ensure_metrics_data(data_dir: Path, base_dir: Path, n: int, log: Any) -> Path:
    """Return the Parquet folder of an ``n``-line DSO, generating it once."""
    out = data_dir / "metrics" / f"lines-{n}"
    meta = out / "meta.json"
    if meta.is_file():
        with contextlib_suppress():
            if json.loads(meta.read_text()).get("version") == METRICS_DATA_VERSION:
                return out
    res = run_case(f"prepare {n}", "run_all:prepare_metrics_data",
                   {"base_dir": str(base_dir), "n_lines": n, "out_dir": str(out)},
                   log=log)  # fmt: skip
    if not res.ok:
        raise RuntimeError(f"generating {n} metrics lines failed: {res.error}")
    return out


def contextlib_suppress() -> Any:
    import contextlib

    return contextlib.suppress(OSError, ValueError)


# ---------------------------------------------------------------------------
# Cases (run in fresh processes)
# ---------------------------------------------------------------------------
def case_read_dso(timer: Any, dso_dir: str) -> dict:
    """Ours: ``read_dso`` (read + type + map every file of the DSO)."""
    from dso_analytics.ingest import read_dso

    with timer:
        ds = read_dso(dso_dir)
    return {"lines": len(ds.billing), "files": len(ds.sources)}


def case_read_excel(timer: Any, dso_dir: str) -> dict:
    """Baseline: ``pandas.read_excel`` defaults (openpyxl) on the same files, one by one."""
    import pandas as pd

    root = Path(dso_dir)
    files = sorted(p for p in root.rglob("*") if p.suffix in (".xlsx", ".csv"))
    lines = 0
    with timer:
        for p in files:
            if p.suffix == ".xlsx":
                sheets = pd.read_excel(p, sheet_name=None)  # all sheets, default engine
            else:
                sheets = {"": pd.read_csv(p)}
            if p.parent.name == "billing":
                lines += sum(len(f) for f in sheets.values())
    return {"lines": lines, "files": len(files)}


def case_metrics(timer: Any, data_dir: str) -> dict:
    """``compute_metrics`` on a prepared DSO (loading the Parquet input is not timed)."""
    import dataclasses

    from dso_analytics.classify import read_rules
    from dso_analytics.metrics import compute_metrics
    from dso_analytics.standards import read_standard

    ds = load_metrics_data(data_dir)
    meta = json.loads((Path(data_dir) / "meta.json").read_text())
    params = read_standard(None)
    rules = read_rules(None)
    # warm-up on a 1,000-line slice (lazy imports, regex compilation, holiday
    # calendars): a fixed cost per process, reported separately, not per line
    t0 = time.perf_counter()
    compute_metrics(dataclasses.replace(ds, billing=ds.billing.iloc[:1000]), params, rules)
    warm_up = time.perf_counter() - t0
    with timer:
        m = compute_metrics(ds, params, rules)
    return {"lines": len(ds.billing), "locations": len(ds.locations),
            "warm_up_seconds": warm_up, "generator": meta.get("generator"),
            "spend_all_time": m.kpis.get("spend_all_time")}  # fmt: skip


# ---------------------------------------------------------------------------
# Orchestration
# ---------------------------------------------------------------------------
def _run(results: dict, key: str, *args: Any, **kw: Any) -> CaseResult:
    t0 = time.monotonic()
    res = run_case(*args, **kw)
    state = f"{fmt_s(res.seconds)} s" if res.ok else f"FAILED: {res.error}"
    print(f"  {res.name}: {state} ({time.monotonic() - t0:.0f}s wall)", flush=True)
    results[key] = res.to_dict()
    return res


def run_ingest(results: dict, data_dir: Path, log: Any, profile: bool, tiny: bool) -> None:
    """Ingest: read_dso vs pandas.read_excel (openpyxl)."""
    locs, months = (3, 2) if tiny else (INGEST_LOCATIONS, INGEST_MONTHS)
    print(f"ingest: {locs} locations x {months} months", flush=True)
    dso = ensure_scaled_dso(data_dir, locs, months)
    kw = {"dso_dir": str(dso)}
    base = _run(results, "ingest_baseline", "pandas.read_excel (openpyxl)",
                "run_all:case_read_excel", kw, log=log)  # fmt: skip
    ours = _run(results, "ingest_ours", "read_dso", "run_all:case_read_dso", kw, log=log)
    if base.ok and ours.ok:
        results["ingest_speedup"] = base.seconds / ours.seconds
        if profile and results["ingest_speedup"] < TARGETS["ingest_speedup"]:
            # in-process read (1 worker) so the profile sees every parser call
            prof = run_case("read_dso (1 worker, profiled)", "run_all:case_read_dso", kw,
                            env={"DSO_ANALYTICS_INGEST_WORKERS": "1"}, profile=True, log=log)  # fmt: skip
            results["ingest_profile"] = prof.profile
            results["ingest_one_worker_seconds"] = prof.seconds if prof.ok else None


def run_metrics(results: dict, data_dir: Path, log: Any, sizes: list[int], profile: bool,
                tiny: bool) -> None:  # fmt: skip
    """Metrics on each size."""
    locs, months = (3, 2) if tiny else (INGEST_LOCATIONS, INGEST_MONTHS)
    base_dir = ensure_scaled_dso(data_dir, locs, months)
    results["metrics"] = {}
    for n in sizes:
        print(f"metrics: preparing {n:,} lines", flush=True)
        folder = ensure_metrics_data(data_dir, base_dir, n, log)
        res = run_case(f"compute_metrics {n:,} lines", "run_all:case_metrics",
                       {"data_dir": str(folder)}, log=log)  # fmt: skip
        state = f"{fmt_s(res.seconds)} s" if res.ok else f"FAILED: {res.error}"
        print(f"  {res.name}: {state}", flush=True)
        results["metrics"][str(n)] = res.to_dict()
    m = results["metrics"]
    one_m = m.get(str(1_000_000))
    miss = one_m is not None and (
        not one_m["ok"]
        or one_m["seconds"] > TARGETS["metrics_1m_seconds"]
        or one_m["peak_rss_mb"] > TARGETS["metrics_1m_rss_mb"]
    )
    ten = m.get(str(10_000_000))
    if one_m and ten and one_m["ok"] and ten["ok"]:
        miss = miss or ten["seconds"] / one_m["seconds"] > TARGETS["metrics_10m_over_1m"]
    if profile and (miss or tiny):
        n = 1_000_000 if one_m else sizes[-1]
        folder = data_dir / "metrics" / f"lines-{n}"
        prof = run_case(f"compute_metrics {n:,} (profiled)", "run_all:case_metrics",
                        {"data_dir": str(folder)}, profile=True, log=log)  # fmt: skip
        results["metrics_profile"] = prof.profile
        results["metrics_profile_lines"] = n


def run_report(results: dict, data_dir: Path, log: Any, profile: bool, tiny: bool) -> None:
    """One DSO's report: ours vs the naive pipeline (see bench_report.py)."""
    import bench_report

    bench_report.run(results, data_dir, log=log, profile=profile, tiny=tiny)


def run_batch(results: dict, data_dir: Path, log: Any, profile: bool, tiny: bool) -> None:
    """The sample portfolio on 1 vs 2 workers (see bench_batch.py)."""
    import bench_batch

    bench_batch.run(results, data_dir, log=log, profile=profile, tiny=tiny)


def run_scenarios(results: dict, data_dir: Path, log: Any, profile: bool, tiny: bool) -> None:
    """M8 scenarios: vectorised vs a Python loop (see bench_scenarios.py)."""
    import bench_scenarios

    bench_scenarios.run(results, data_dir, log=log, profile=profile, tiny=tiny)


def run_extract(results: dict, data_dir: Path, log: Any, profile: bool, tiny: bool) -> None:
    """Agreement extraction: a 30-page agreement and the labelled set (see bench_extract.py)."""
    import bench_extract

    bench_extract.run(results, data_dir, log=log, profile=profile, tiny=tiny)


# ---------------------------------------------------------------------------
# BENCHMARKS.md
# ---------------------------------------------------------------------------
def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "**missed**")


def _row(label: str, r: dict | None) -> str:
    if not r:
        return f"| {label} | not run | | | |"
    if not r["ok"]:
        return f"| {label} | FAILED: {r['error']} | | | |"
    load = f"{r.get('load_before', float('nan')):.1f} / {r.get('load_after', float('nan')):.1f}"
    return (f"| {label} | {fmt_s(r['seconds'])} | {fmt_mb(r['peak_rss_mb'])} | "
            f"{fmt_mb(r['tree_peak_rss_mb'])} | {fmt_s(r['wall_seconds'])} | {load} |")  # fmt: skip


HEAD = ("| case | time (s) | peak RSS, case process (MB) | peak RSS, all processes (MB) | "
        "process wall (s) | load avg before / after |\n|---|---:|---:|---:|---:|---:|")  # fmt: skip


def _profile_block(title: str, text: str | None, lines: int = 45) -> list[str]:
    if not text:
        return []
    body = "\n".join(text.splitlines()[:lines])
    return [f"<details><summary>{title}</summary>", "", "```", body, "```", "", "</details>", ""]


def render_markdown(results: dict) -> str:
    """BENCHMARKS.md from the results dict."""
    import bench_batch
    import bench_report

    mach = results.get("machine", {})
    out = ["# Benchmarks", "",
           f"Generated by `benchmarks/run_all.py` on {results.get('date', '?')} "
           f"in {results.get('total_seconds', 0) / 60:.1f} min. Every ratio is against a "
           "baseline measured in the same run; each case ran in a fresh Python process.", "",
           "Reproduce (on a fresh clone; creates `.venv`, generates data into the git-ignored "
           "`bench-data/` once and reuses it):", "", "```", "make bench",
           "# or: .venv/bin/python benchmarks/run_all.py [--no-10m] [--only ingest,metrics,report,batch,scenarios,extract]",
           "```", "", "## Machine", "",
           "| | |", "|---|---|"]  # fmt: skip
    for k, v in mach.items():
        out.append(f"| {k} | {v} |")
    out += ["", "Times are the measured block only (input loading and interpreter start "
            "excluded; see *process wall*). *Peak RSS, case process* is `ru_maxrss` of the "
            "process that ran the case; *all processes* is the largest sampled sum over it, "
            "its worker processes and Jupyter kernels (psutil, every 50 ms). *Load avg* is the "
            "machine's 1-minute load average when the case started and ended: above the core "
            "count, other work competed for the CPUs and the times are pessimistic.", ""]  # fmt: skip

    # summary
    out += ["## Summary", "", "| target | measured | verdict |", "|---|---:|---|"]
    s = results.get("ingest_speedup")
    out.append(f"| ingest: read_dso >= {TARGETS['ingest_speedup']:.0f}x pandas.read_excel "
               f"| {'n/a' if s is None else f'{s:.1f}x'} "
               f"| {_verdict(None if s is None else s >= TARGETS['ingest_speedup'])} |")  # fmt: skip
    m = results.get("metrics", {})
    one = m.get(str(1_000_000))
    ten = m.get(str(10_000_000))
    if one and one["ok"]:
        out.append(f"| metrics: 1M lines <= {TARGETS['metrics_1m_seconds']:.0f} s "
                   f"| {fmt_s(one['seconds'])} s "
                   f"| {_verdict(one['seconds'] <= TARGETS['metrics_1m_seconds'])} |")  # fmt: skip
        out.append(f"| metrics: 1M lines peak RSS <= {TARGETS['metrics_1m_rss_mb']:.0f} MB "
                   f"| {fmt_mb(one['peak_rss_mb'])} MB "
                   f"| {_verdict(one['peak_rss_mb'] <= TARGETS['metrics_1m_rss_mb'])} |")  # fmt: skip
    if one and ten and one["ok"] and ten["ok"]:
        r = ten["seconds"] / one["seconds"]
        out.append(f"| metrics: 10M time <= {TARGETS['metrics_10m_over_1m']:.0f}x the 1M time "
                   f"| {r:.1f}x | {_verdict(r <= TARGETS['metrics_10m_over_1m'])} |")  # fmt: skip
    rr = results.get("report_ratio")
    out.append(f"| one DSO report <= {TARGETS['report_ratio']}x the naive pipeline "
               f"| {'n/a' if rr is None else f'{rr:.2f}x'} "
               f"| {_verdict(None if rr is None else rr <= TARGETS['report_ratio'])} |")  # fmt: skip
    bs, cb = results.get("batch_speedup"), results.get("batch_cpu_bound")
    bound = "" if cb is None else f" (at most {cb:.2f}x on this machine: CPU bound, section 4)"
    out.append(f"| batch: 2 workers >= {TARGETS['batch_speedup']}x 1 worker "
               f"| {'n/a' if bs is None else f'{bs:.2f}x'}{bound} "
               f"| {_verdict(None if bs is None else bs >= TARGETS['batch_speedup'])} |")  # fmt: skip
    sv = results.get("scenarios_vectorised")
    if sv and sv["ok"]:
        ok = sv["seconds"] <= TARGETS["scenarios_seconds"]
        out.append(f"| scenarios: 1,000 evaluations <= {TARGETS['scenarios_seconds']:g} s "
                   f"| {fmt_s(sv['seconds'])} s ({results.get('scenarios_ratio', 0):.0f}x the "
                   f"loop) | {_verdict(ok)} |")  # fmt: skip
    ex = [r["seconds"] for r in (results.get("extract_pdf"), results.get("extract_docx"))
          if r and r["ok"]]  # fmt: skip
    if ex:
        ex_t = TARGETS["extract_30_pages_seconds"]
        out.append(f"| extract: a 30-page agreement (PDF, DOCX) <= {ex_t:g} s "
                   f"| {fmt_s(max(ex))} s | {_verdict(max(ex) <= ex_t)} |")  # fmt: skip
    lab = (results.get("extract_labelled") or {}).get("info") or {}
    if lab:
        p = min(lab[f]["precision"] for f in ("pdf", "docx", "txt"))
        r = min(lab[f]["recall"] for f in ("pdf", "docx", "txt"))
        out.append(f"| extract: labelled agreements precision >= 95%, recall >= 85% (worst "
                   f"format) | {p:.1%} / {r:.1%} | {_verdict(p >= 0.95 and r >= 0.85)} |")  # fmt: skip
    out.append("")

    # ingest
    out += ["## 1. Ingest", "",
            f"The generated DSO `scaled-{INGEST_LOCATIONS}x{INGEST_MONTHS}` "
            "(`dso_analytics.sample.write_scaled_dso`). Baseline: `pandas.read_excel(path, "
            "sheet_name=None)` with its default engine (openpyxl) on every workbook of the "
            "folder, one after the other, untyped. Ours: `read_dso` (reads, types, maps "
            "locations and checks duplicates), parallel billing reads.", "", HEAD]  # fmt: skip
    out.append(_row("pandas.read_excel (baseline)", results.get("ingest_baseline")))
    out.append(_row("read_dso", results.get("ingest_ours")))
    info = (results.get("ingest_ours") or {}).get("info") or {}
    if info:
        out += ["", f"{info.get('lines', '?'):,} billing lines from {info.get('files', '?')} files; "
                f"speedup **{s:.1f}x** (target >= {TARGETS['ingest_speedup']:.0f}x)."
                if s else ""]  # fmt: skip
    if results.get("ingest_one_worker_seconds"):
        out.append(f"With one reader process (`DSO_ANALYTICS_INGEST_WORKERS=1`) read_dso took "
                   f"{fmt_s(results['ingest_one_worker_seconds'])} s (profiled run).")  # fmt: skip
    out += [""] + _notes(results, "ingest")
    out += _profile_block("cProfile of read_dso with one reader process (top entries)",
                          results.get("ingest_profile"))  # fmt: skip

    # metrics
    out += ["## 2. Metrics", "",
            "`compute_metrics` (M1-M6, every frame of `DsoMetrics`) on a synthetic DSO of N "
            f"billing lines (generator: `{_generator(m)}`), stored as Parquet once and loaded "
            "before the timer (its memory is included in the peak RSS). Each process first "
            "runs compute_metrics on a 1,000-line slice (imports, regex compilation, holiday "
            "calendars: the fixed cost of a fresh process, shown as *warm-up*); the time is "
            "the full call after it.", "", HEAD]  # fmt: skip
    base_t = None
    for n, r in sorted(m.items(), key=lambda kv: int(kv[0])):
        out.append(_row(f"{int(n):,} lines", r))
        if r["ok"] and base_t is None:
            base_t = (int(n), r["seconds"])
    if base_t:
        out += ["", "| lines | warm-up (s) | time / smallest size's time | lines ratio |",
                "|---:|---:|---:|---:|"]  # fmt: skip
        for n, r in sorted(m.items(), key=lambda kv: int(kv[0])):
            if r["ok"]:
                wu = r["info"].get("warm_up_seconds", float("nan"))
                out.append(f"| {int(n):,} | {fmt_s(wu)} | {r['seconds'] / base_t[1]:.1f}x "
                           f"| {int(n) / base_t[0]:.0f}x |")  # fmt: skip
    out += [""] + _notes(results, "metrics")
    out += _profile_block(
        f"cProfile of compute_metrics on {results.get('metrics_profile_lines', 0):,} lines",
        results.get("metrics_profile"),
    )

    out += bench_report.markdown(results, TARGETS["report_ratio"], HEAD, _row, _profile_block)
    out += _notes(results, "report")
    out += bench_batch.markdown(results, TARGETS["batch_speedup"], HEAD, _row, _profile_block)
    out += _notes(results, "batch")
    if "scenarios_vectorised" in results:
        import bench_scenarios

        out += bench_scenarios.markdown(results, HEAD, _row)
    if any(k.startswith("extract_") for k in results):
        import bench_extract

        out += bench_extract.markdown(results, TARGETS["extract_30_pages_seconds"], HEAD, _row,
                                      _profile_block)  # fmt: skip
    return "\n".join(out).rstrip() + "\n"


#: Hand-written analysis per section, printed under its tables in BENCHMARKS.md (what bounds
#: a missed target).  Written from a full run's measurements and profiles; re-check after changes.
NOTES: dict[str, str] = {
    "ingest": (
        "**What bounds it** (one reader process; a sampling profile of read_dso, 3.3 s, "
        "lighter than the cProfile below): python-calamine's own parse "
        "(`get_sheet_by_name`, `to_python`, `from_filelike`: about 1.15 s for 153 "
        "workbooks, a third of the time) is a floor we cannot move; the safety checks "
        "before it (zip directory and ratio, DOCTYPE/ENTITY, row-limit, extent and "
        "error-cell scans, kept as they were but now a few vectorised passes over each "
        "sheet's bytes instead of regex and byte-count scans) take about 0.65 s, of which "
        "unpacking and CRC-checking every part is about 0.2 s; building the raw tables from"
        " calamine's rows about 0.45 s; typing the lines about 0.4 s (factorising the "
        "object columns 0.12 s, parsing distinct cells 0.09 s); the locations/agreements "
        "tables about 0.27 s (one parser call per kind of column, no longer per column) and"
        " mapping locations 0.09 s. With two reader processes the billing work (about 2.6 s"
        " of CPU) is split, but the master tables compete for the same 2 cores and location"
        " mapping and the duplicate check run after the readers: paired runs against the "
        "previous code gave 0.79-0.83x read_dso time, about 9.5-10x the baseline. 12x needs"
        " read_dso <= 1.51 s, about 0.6 s less CPU, and what remains outside calamine and "
        "the checks is spread over many pandas calls of a few ms. One frame per worker "
        "chunk would save about 0.1 s of CPU (frame construction and stacking checks); two "
        "larger chunks instead of four saved CPU on a quiet machine but lost under "
        "contention, so four stay."
    ),
    "metrics": (
        "**What bounds it** (profile above): pyarrow-backed `str` columns. Most own time is "
        "`pyarrow.compute.take` (fancy-indexing str columns whenever a frame of lines is "
        "filtered or reordered) and `factorize` of str columns inside `metrics/_util.py:"
        "group_sums` and `metrics/governing.py:governing_agreement`; by function, "
        "`spend.compute_lines` and `leverage.compute_asks` are the largest. To route: factorize "
        "location_id / agreement / description once in `compute_lines` and carry integer codes "
        "through the per-metric frames; select the needed columns before boolean filters. "
        "Scaling is linear or better (10M / 1M well under 10x) and memory is far under target."
    ),
    "report": (
        "**What bounds it**: both pipelines write the same outputs (notebook, HTML, workbook, "
        "one-page brief) and pay a Jupyter kernel start with its imports (pandas, plotly), the "
        "chart rendering, the HTML export and a Chromium start for the brief. Ours imports "
        "Great Expectations once, in the parent (the naive pipeline in its kernel), and "
        "overlaps the rest: while the parent validates and computes the metrics, the worker "
        "boots its kernel and imports the render code (papermill, the HTML exporter and its "
        "templates, the workbook and brief writers); while the kernel runs the notebook, the "
        "worker writes the workbook and Chromium prints the brief, on threads; jsonschema's "
        "RFC 3987 grammar (1-5 s of CPU in every process that imports jsonschema: papermill, "
        "nbconvert and Great Expectations all do) is built only when used, which a report "
        "never does, and `scipy.stats` (1-2 s, imported by Great Expectations for "
        "statistical expectations we never run) loads only on first use "
        "(`dso_analytics.lazyimports`). The cold run's critical path is the "
        "parent's validation (mostly importing `great_expectations`, see the profile), then "
        "the notebook and the HTML export; the second run reads the validated snapshot and "
        "never imports Great Expectations."
    ),
    "batch": (
        "**What bounds it**: the CPU, measured above. A run cannot end before its CPU work "
        "divided by the cores, and on this 2-core machine the 1-worker baseline already keeps "
        "most of both cores busy: the parent validates and computes DSO k+1 while the worker "
        "renders DSO k; each render runs the notebook in its kernel while the workbook is "
        "written and Chromium prints the brief on threads; the next kernel boots during the "
        "current render. A second worker can only use what is left, so the speedup is at most "
        "the CPU bound printed above (and the scheduling bound: three DSOs of unequal size, "
        "the overview waiting for every DSO). The 1.6x target assumes one worker keeps one "
        "core busy; reaching it here would mean giving up those overlaps and making the "
        "1-worker run (the default) slower, which we do not do. Great Expectations is "
        "imported once per batch, in the parent, and that is what keeps the measured speedup "
        "below the CPU bound: the parent imports it and validates the DSOs one after the other "
        "(a timeline of a quiet run: summit's validation and metrics end at 12 s, bright-smiles' "
        "at 17 s, coastal's at 22.5 s of 27 s), and no DSO renders before it is validated, so "
        "a second worker only shortens the last few seconds. Validating in two processes would "
        "import Great Expectations twice, which this design rules out. With more cores than "
        "the 1-worker run keeps busy, the CPU bound rises toward 2x."
    ),
}


def _generator(m: dict) -> str:
    for r in m.values():
        if r.get("ok") and r["info"].get("generator"):
            return r["info"]["generator"]
    return "?"


def _notes(results: dict, section: str) -> list[str]:
    if results.get("tiny"):
        return []
    notes = NOTES.get(section)
    return [notes, ""] if notes else []


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmarks and write the Markdown report."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help=f"comma-separated subset of {','.join(SECTIONS)}")
    ap.add_argument("--no-10m", action="store_true", help="skip the 10M-line metrics case")
    ap.add_argument("--metrics-sizes", help="comma-separated line counts (overrides the default)")
    ap.add_argument(
        "--tiny", action="store_true", help="tiny inputs (smoke test, not a measurement)"
    )
    ap.add_argument("--data", default=str(DATA_DIR), help="generated data folder (bench-data/)")
    ap.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"), help="Markdown output")
    ap.add_argument("--results", help="results JSON (default: DATA/results.json)")
    ap.add_argument("--no-profile", action="store_true", help="no profile runs for missed targets")
    ap.add_argument("--render-only", action="store_true", help="rewrite OUT from RESULTS only")
    args = ap.parse_args(argv)

    data_dir = Path(args.data).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    results_path = Path(args.results) if args.results else data_dir / "results.json"
    if args.render_only:
        results = json.loads(results_path.read_text())
    else:
        sections = args.only.split(",") if args.only else list(SECTIONS)
        unknown = set(sections) - set(SECTIONS)
        if unknown:
            ap.error(f"unknown section(s): {', '.join(sorted(unknown))}")
        if args.metrics_sizes:
            sizes = [int(x) for x in args.metrics_sizes.split(",")]
        elif args.tiny:
            sizes = [1_000, 3_000]
        else:
            sizes = [n for n in METRICS_SIZES if not (args.no_10m and n >= 10_000_000)]
        results: dict[str, Any] = {"machine": machine(), "tiny": args.tiny,
                                   "date": time.strftime("%Y-%m-%d %H:%M %Z")}  # fmt: skip
        t0 = time.monotonic()
        profile = not args.no_profile
        with (data_dir / "bench.log").open("a") as log:
            log.write(f"\n===== run_all {time.ctime()} {sections} =====\n")
            if "ingest" in sections:
                run_ingest(results, data_dir, log, profile, args.tiny)
            if "metrics" in sections:
                run_metrics(results, data_dir, log, sizes, profile, args.tiny)
            if "report" in sections:
                run_report(results, data_dir, log, profile, args.tiny)
            if "batch" in sections:
                run_batch(results, data_dir, log, profile, args.tiny)
            if "scenarios" in sections:
                run_scenarios(results, data_dir, log, profile, args.tiny)
            if "extract" in sections:
                run_extract(results, data_dir, log, profile, args.tiny)
        results["total_seconds"] = time.monotonic() - t0
        results_path.write_text(json.dumps(results, indent=1, default=str))
    Path(args.out).write_text(render_markdown(results), encoding="utf-8")
    print(f"wrote {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
