"""M8 scenarios: 1,000 scenario evaluations over a 150-location DSO, vectorised versus a loop.

The generated DSO ``scaled-150x60`` (the ingest case's data) is read and its
metrics and scenario comparison computed outside the timer.  Then, timed:

- ours: one :func:`~dso_analytics.metrics.scenarios.project_scenario` call over
  1,000 combinations of the planning assumptions and terms (acquisitions per
  year, workstation growth, uplift, add-on run-rate), every month of the term,
  every agreement, "current terms renewed" and the "DSO-grade target";
- baseline: the same 1,000 combinations evaluated one at a time in a Python
  loop (one ``project_scenario`` call each), in a fresh process of the same run.

Both return the same term costs (checked).  Run alone:
``python benchmarks/bench_scenarios.py [--tiny]``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    DATA_DIR,
    INGEST_LOCATIONS,
    INGEST_MONTHS,
    ensure_scaled_dso,
    fmt_s,
    run_case,
)

EVALUATIONS = 1_000
TARGET_SECONDS = 2.0


def _combinations(n: int) -> dict[str, Any]:
    import numpy as np

    rng = np.random.default_rng(12)
    return {
        "acquisitions_per_year": rng.uniform(0, 8, n),
        "workstation_growth_pct": rng.uniform(-5, 10, n),
        "uplift_points": rng.uniform(-2, 4, n),
        "addon_factor": rng.uniform(0.5, 1.5, n),
    }


def case_scenarios(timer: Any, dso_dir: str, mode: str, n: int = EVALUATIONS) -> dict:
    """``n`` evaluations of the two built-in scenarios: ``vectorised`` or ``loop``."""
    import numpy as np

    from dso_analytics.metrics import compute_metrics
    from dso_analytics.metrics.scenarios import (
        CURRENT,
        TARGET,
        compare_scenarios,
        project_scenario,
    )
    from dso_analytics.standards import read_standard
    from dso_analytics.validation import load_dso

    params = read_standard(None)
    ds = load_dso(dso_dir, params=params)
    m = compute_metrics(ds, params)
    cmp = compare_scenarios(ds, m)
    e = cmp.estate
    c = _combinations(n)
    totals = {}
    with timer:
        for name in (CURRENT, TARGET):
            sc = cmp.scenario(name)
            up0, add0 = sc.vector("uplift_pct"), sc.vector("addon_rate")
            uplift = np.maximum(0.0, up0[None, :] + c["uplift_points"][:, None])
            addon = add0[None, :] * c["addon_factor"][:, None]
            if mode == "vectorised":
                proj = project_scenario(
                    e, sc, acquisitions_per_year=c["acquisitions_per_year"],
                    workstation_growth_pct=c["workstation_growth_pct"], uplift_pct=uplift,
                    addon_rate=addon,
                )  # fmt: skip
                totals[name] = proj["total"].sum(axis=1)
            else:
                out = np.empty(n)
                for k in range(n):
                    proj = project_scenario(
                        e, sc, acquisitions_per_year=c["acquisitions_per_year"][k],
                        workstation_growth_pct=c["workstation_growth_pct"][k],
                        uplift_pct=uplift[k], addon_rate=addon[k],
                    )  # fmt: skip
                    out[k] = proj["total"].sum(axis=1)[0]
                totals[name] = out
    return {
        "evaluations": n * 2,
        "locations": int(len(ds.locations)),
        "agreements": len(e.agreements),
        "months": e.months,
        "checksum": {k: round(float(v.sum()), 2) for k, v in totals.items()},
    }


def run(results: dict, data_dir: Path, log: Any = None, profile: bool = True,
        tiny: bool = False) -> None:  # fmt: skip
    """Run the two cases into ``results`` (``scenarios_ratio`` = loop / vectorised)."""
    locs, months = (3, 2) if tiny else (INGEST_LOCATIONS, INGEST_MONTHS)
    dso = ensure_scaled_dso(data_dir, locs, months)
    n = 50 if tiny else EVALUATIONS
    print(f"scenarios: {n:,} evaluations x 2 scenarios over {locs} locations", flush=True)
    for mode in ("loop", "vectorised"):
        res = run_case(f"scenarios {mode}", "bench_scenarios:case_scenarios",
                       {"dso_dir": str(dso), "mode": mode, "n": n}, log=log)  # fmt: skip
        state = f"{fmt_s(res.seconds)} s" if res.ok else f"FAILED: {res.error}"
        print(f"  {res.name}: {state}", flush=True)
        results[f"scenarios_{mode}"] = res.to_dict()
    loop, vec = results["scenarios_loop"], results["scenarios_vectorised"]
    if loop["ok"] and vec["ok"]:
        results["scenarios_ratio"] = loop["seconds"] / vec["seconds"]
        results["scenarios_same_result"] = loop["info"]["checksum"] == vec["info"]["checksum"]


def markdown(results: dict, head: str, row: Any) -> list[str]:
    """The BENCHMARKS.md section."""
    vec = results.get("scenarios_vectorised") or {}
    info = vec.get("info") or {}
    out = ["## 5. Negotiation scenarios (M8)", "",
           f"{info.get('evaluations', 2 * EVALUATIONS) // 2:,} combinations of the planning "
           "assumptions and terms (acquisitions "
           "per year, workstation growth, uplift, add-on run-rate), each evaluated for "
           "\"current terms renewed\" and the \"DSO-grade target\" over every month of the "
           f"term, on the generated DSO ({info.get('locations', '?')} locations, "
           f"{_agreements(info.get('agreements'))}, {info.get('months', '?')} months). "
           "Ours: one vectorised `project_scenario` call per scenario; baseline: one call per "
           "combination in a Python loop. Reading the DSO, its metrics and the comparison are "
           "outside the timer.", "", head]  # fmt: skip
    out.append(row("Python loop (baseline)", results.get("scenarios_loop")))
    out.append(row("vectorised", results.get("scenarios_vectorised")))
    r = results.get("scenarios_ratio")
    if r is not None:
        same = "the same" if results.get("scenarios_same_result") else "**different**"
        out += ["", f"Vectorised: {fmt_s(vec['seconds'])} s for {info.get('evaluations', 0):,} "
                f"evaluations (target <= {TARGET_SECONDS:g} s); **{r:.0f}x** faster than the "
                f"loop, with {same} term costs."]  # fmt: skip
    out.append("")
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the scenarios benchmark alone and print the results as JSON."""
    tiny = "--tiny" in (argv if argv is not None else sys.argv[1:])
    results: dict = {}
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    run(results, DATA_DIR, tiny=tiny)
    print(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())


def _agreements(n: object) -> str:
    """``"1 agreement"`` / ``"3 agreements"`` (``"? agreements"`` when unknown)."""
    from dso_analytics.words import plural

    return plural(n, "agreement") if isinstance(n, int) else "? agreements"
