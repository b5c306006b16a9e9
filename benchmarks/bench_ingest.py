"""Ingest benchmark: ``read_dso`` versus ``pandas.read_excel`` defaults, same files, same run.

The baseline reads every ``.xlsx``/``.csv`` file of the DSO folder the naive
way (``pandas.read_excel(path, sheet_name=None)`` with its default engine,
openpyxl; ``pandas.read_csv`` for CSV files), without any typing or checks.
``read_dso`` reads the same folder with every check, the parsing of every
typed column, provenance, alias mapping and duplicate detection.

Usage::

    python benchmarks/bench_ingest.py                      # generate 150 x 60 (~125k lines)
    python benchmarks/bench_ingest.py --dso PATH           # an existing DSO folder
    python benchmarks/bench_ingest.py --locations 20 --months 12   # quick
    python benchmarks/bench_ingest.py --repeat 3           # best of 3 for each side

The DSO is generated with ``dso_analytics.sample.write_scaled_dso`` into
``bench-data/ingest/`` (reused when present; ``$DSO_BENCH_DATA`` overrides the
folder).  Prints one JSON line with both times and the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("DSO_BENCH_DATA", ROOT / "bench-data"))


def dso_folder(locations: int, months: int) -> Path:
    """Return (generating once) a scaled DSO of ``locations`` x ``months``."""
    from dso_analytics.sample import write_scaled_dso

    parent = DATA_DIR / "ingest"
    d = parent / f"scaled-{locations}x{months}"
    if not (d / "billing").is_dir():
        d = write_scaled_dso(parent, locations, months, force=True)
    return d


def spreadsheet_files(dso: Path) -> list[Path]:
    """Every table file of the DSO folder (what ``read_dso`` reads)."""
    files = [p for p in sorted(dso.rglob("*")) if p.suffix.lower() in (".xlsx", ".csv")]
    return [p for p in files if not p.name.startswith((".", "~$"))]


def read_baseline(dso: Path) -> int:
    """Read every file with pandas defaults; return the number of rows read."""
    import warnings

    import pandas as pd

    warnings.simplefilter("ignore")  # pandas 3 announces its future default engine per file
    rows = 0
    for p in spreadsheet_files(dso):
        if p.suffix.lower() == ".csv":
            rows += len(pd.read_csv(p))
        else:
            rows += sum(len(df) for df in pd.read_excel(p, sheet_name=None).values())
    return rows


def read_ours(dso: Path) -> int:
    """``read_dso``; return the number of billing lines."""
    from dso_analytics.ingest import read_dso

    ds = read_dso(dso)
    bad = [p for p in ds.read_problems if p.severity == "error"]
    if bad:
        raise SystemExit(f"read_dso reported problems: {bad[:3]}")
    return len(ds.billing)


def best_of(fn, dso: Path, repeat: int) -> tuple[float, int]:
    """Best wall time of ``repeat`` runs of ``fn(dso)``."""
    best, n = float("inf"), 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        n = fn(dso)
        best = min(best, time.perf_counter() - t0)
    return best, n


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dso", type=Path, help="an existing DSO folder (default: generate one)")
    ap.add_argument("--locations", type=int, default=150)
    ap.add_argument("--months", type=int, default=60)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args(argv)
    dso = args.dso or dso_folder(args.locations, args.months)
    # import both stacks before timing (imports are not what is compared)
    import openpyxl  # noqa: F401
    import pandas  # noqa: F401

    import dso_analytics.ingest  # noqa: F401

    ours_s, lines = best_of(read_ours, dso, args.repeat)
    base_s, rows = best_of(read_baseline, dso, args.repeat)
    result = {
        "dso": str(dso),
        "files": len(spreadsheet_files(dso)),
        "billing_lines": lines,
        "baseline_rows": rows,
        "baseline_seconds": round(base_s, 3),
        "read_dso_seconds": round(ours_s, 3),
        "speedup": round(base_s / ours_s, 2),
        "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
