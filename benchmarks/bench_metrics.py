"""Benchmark compute_metrics on synthetic typed billing frames.

Usage::

    .venv/bin/python benchmarks/bench_metrics.py            # 100k and 1M lines
    .venv/bin/python benchmarks/bench_metrics.py 10000000   # add other sizes

Each size runs in a fresh subprocess so that its peak RSS is its own.  The
baseline, measured in the same process on the same frame, is a plain
``billing.groupby(["location_id", "description"])["amount"].sum()``: the ratio
says how many such passes all the metrics cost.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DESCRIPTIONS = [
    "Managed services - {m}", "Helpdesk ticket #{n}", "Multi-site outage #{n}",
    "New location setup", "HIPAA risk assessment", "After-hours support", "Dell OptiPlex 7010",
    "Microsoft 365 Business Premium", "Project: server migration", "Misc adjustment",
]  # fmt: skip


def synthetic_dataset(n_lines: int, n_locations: int = 200, seed: int = 7):  # noqa: ANN201
    """A typed DsoDataset with ``n_lines`` billing lines (few thousand unique descriptions)."""
    from tests.support.metrics_factory import agreement, location, make_ds

    rng = np.random.default_rng(seed)
    locs = [location(f"LOC-{i:04d}", "2021-01-01", workstations=8) for i in range(n_locations)]
    for i in range(0, n_locations, 10):
        locs[i].update(join_type="acquisition", join_date="2023-05-01", go_live_date="2023-06-20")
    ags = [agreement("AG-ORG", "2021-01-01")] + [
        agreement(f"AG-L{i}", "2022-01-01", scope="location", location_ids=f"LOC-{i:04d}",
                  term_months=24, auto_renew=False)
        for i in range(0, n_locations, 7)
    ]  # fmt: skip
    ds = make_ds(locations=locs, agreements=ags, services=[
        {"agreement_id": "AG-ORG", "service": "helpdesk", "coverage": "included"}])  # fmt: skip
    uniq = np.array(
        [d.format(m=m, n=n) for d in DESCRIPTIONS for m in range(12) for n in range(40)]
    )
    days = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 3 * 365, n_lines), "D")
    loc_ids = np.array([f"LOC-{i:04d}" for i in range(n_locations)], dtype=object)
    loc_col = loc_ids[rng.integers(0, n_locations, n_lines)]
    loc_col[rng.random(n_lines) < 0.05] = None
    billing = pd.DataFrame(
        {
            "invoice_number": pd.array(
                np.char.add("INV-", (np.arange(n_lines) // 50).astype(str)), dtype="str"
            ),
            "invoice_date": days,
            "location_id": pd.array(loc_col, dtype="str"),
            "agreement_id": pd.array([None] * n_lines, dtype="str"),
            "description": pd.array(uniq[rng.integers(0, len(uniq), n_lines)], dtype="str"),
            "service": pd.array([None] * n_lines, dtype="str"),
            "quantity": np.ones(n_lines),
            "unit_price": np.full(n_lines, np.nan),
            "amount": np.round(rng.normal(300, 200, n_lines), 2),
            "hours": np.full(n_lines, np.nan),
            "source_file": pd.array(["billing/big.csv"] * n_lines, dtype="str"),
            "source_sheet": pd.array([""] * n_lines, dtype="str"),
            "source_row": pd.array(np.arange(2, n_lines + 2), dtype="Int64"),
        }
    )
    ds.billing = billing
    return ds


def run_one(n: int) -> dict[str, float]:
    """Time compute_metrics and the baseline on one size (in this process)."""
    from dso_analytics.metrics import compute_metrics
    from dso_analytics.standards import Params

    ds = synthetic_dataset(n)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = time.perf_counter()
    ds.billing.groupby(["location_id", "description"])["amount"].sum()
    baseline = time.perf_counter() - t
    compute_metrics(ds, Params())  # warm-up (imports, regex compile)
    t = time.perf_counter()
    m = compute_metrics(ds, Params())
    elapsed = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"lines": n, "seconds": round(elapsed, 2), "baseline_seconds": round(baseline, 3),
            "ratio": round(elapsed / baseline, 1), "peak_rss_mb": round(peak),
            "rss_before_mb": round(rss_before), "spend_all_time": m.spend_total["all_time"]}  # fmt: skip


def main(argv: list[str]) -> int:
    """Run every size in its own subprocess and print a table."""
    if argv and argv[0] == "--one":
        print(json.dumps(run_one(int(argv[1]))))
        return 0
    sizes = [100_000, 1_000_000] + [int(a) for a in argv]
    print(f"{'lines':>10} {'metrics s':>10} {'baseline s':>11} {'ratio':>6} {'peak RSS MB':>12}")
    for n in sizes:
        out = subprocess.run([sys.executable, __file__, "--one", str(n)], capture_output=True,
                             text=True, check=True)  # fmt: skip
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{r['lines']:>10,} {r['seconds']:>10.2f} {r['baseline_seconds']:>11.3f} "
              f"{r['ratio']:>6.1f} {r['peak_rss_mb']:>12,}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
