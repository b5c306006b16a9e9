"""Shared benchmark helpers: run one case in a fresh process, time it, measure its peak RSS.

Every case is a function ``case(timer, **kwargs) -> dict`` in a benchmark
module.  :func:`run_case` starts a fresh Python process for it (so imports,
caches and the peak RSS are the case's own), which

- imports the module and calls the function with a :class:`Timer`; the case
  wraps the part to time in ``with timer:`` (setup such as loading the input
  stays outside; if the case never uses the timer the whole call is timed);
- reports the elapsed seconds, its own peak RSS (``resource.getrusage``,
  ``ru_maxrss``), the largest child process it waited for, the RSS when the
  timed block started, and whatever the case returned.

Meanwhile the parent samples the RSS of the whole process tree (the case
process plus worker processes and Jupyter kernels) every 50 ms with psutil
when it is installed: the "all processes" peak.

Run as a script, this file is the child side (``_common.py --child ...``).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "benchmarks"
#: Generated benchmark data (git-ignored); ``$DSO_BENCH_DATA`` overrides it.
DATA_DIR = Path(os.environ.get("DSO_BENCH_DATA", ROOT / "bench-data"))
MB = 1024 * 1024
#: The generated DSO read by the ingest, metrics and scenarios benchmarks.
INGEST_LOCATIONS, INGEST_MONTHS = 150, 60


@dataclass
class CaseResult:
    """The outcome of one benchmark case (one fresh process)."""

    name: str
    ok: bool
    seconds: float = float("nan")
    peak_rss_mb: float = float("nan")  # the case process (getrusage)
    children_peak_rss_mb: float = float("nan")  # largest waited-for descendant (getrusage)
    tree_peak_rss_mb: float = float("nan")  # sum over the process tree, sampled (psutil)
    rss_at_start_mb: float = float("nan")  # RSS of the case process when the timer started
    wall_seconds: float = float("nan")  # the whole child process, imports included
    load_before: float = float("nan")  # 1-minute load average when the case started
    load_after: float = float("nan")  # ... and when it ended (other work on the machine)
    info: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    profile: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


class Timer:
    """Times the ``with timer:`` blocks of a case (cumulative); optionally profiles them."""

    def __init__(self, profile: bool = False) -> None:
        self.seconds = 0.0
        self.used = False
        self.rss_at_start = float("nan")
        self._profile = None
        if profile:
            import cProfile

            self._profile = cProfile.Profile()
        self._t0 = 0.0

    def __enter__(self) -> Timer:
        if not self.used:
            self.rss_at_start = _current_rss_mb()
        self.used = True
        if self._profile is not None:
            self._profile.enable()
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds += time.perf_counter() - self._t0
        if self._profile is not None:
            self._profile.disable()

    def profile_text(self, top: int = 25) -> str | None:
        """Top entries by cumulative time, then by own time (``None`` when not profiling)."""
        if self._profile is None:
            return None
        import io
        import pstats

        buf = io.StringIO()
        st = pstats.Stats(self._profile, stream=buf)
        st.strip_dirs().sort_stats("cumulative").print_stats(top)
        buf.write("\n--- by own time ---\n")
        st.sort_stats("tottime").print_stats(top)
        text = buf.getvalue()
        # drop pstats' banner lines, keep the tables
        return "\n".join(ln.rstrip() for ln in text.splitlines() if ln.strip())


def _current_rss_mb() -> float:
    try:
        import psutil

        return psutil.Process().memory_info().rss / MB
    except ImportError:  # pragma: no cover - psutil is a dependency of distributed
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MB


def _maxrss_mb(who: int) -> float:
    kb = resource.getrusage(who).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / MB


def _tree_rss_mb(proc: Any) -> float:
    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except Exception:  # noqa: BLE001 - the process is gone
        return 0.0
    for p in procs:
        with contextlib.suppress(Exception):
            total += p.memory_info().rss
    return total / MB


def run_case(
    name: str,
    target: str,
    kwargs: Mapping[str, Any] | None = None,
    *,
    timeout: float = 3600,
    env: Mapping[str, str] | None = None,
    profile: bool = False,
    log: Any = None,
) -> CaseResult:
    """Run ``target`` (``"module:function"`` in benchmarks/) in a fresh Python process.

    Parameters
    ----------
    name : str
        Case name (for the table).
    target : str
        ``"bench_report:case_ours"``: a module importable from ``benchmarks/`` and a function
        ``f(timer, **kwargs) -> dict``.
    kwargs : mapping, optional
        JSON-serialisable keyword arguments.
    timeout : float
        Seconds before the child is killed (the case then fails).
    env : mapping, optional
        Extra environment variables for the child.
    profile : bool
        Run cProfile over the timed block; the top entries land in ``.profile``.
    log : file, optional
        Where the child's stdout/stderr go (default: discarded unless it fails).

    Returns
    -------
    CaseResult
    """
    fd, out_path = tempfile.mkstemp(prefix="bench-", suffix=".json")
    os.close(fd)
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        target,
        json.dumps(dict(kwargs or {})),
        out_path,
        "1" if profile else "0",
    ]
    child_env = {**os.environ, **(env or {})}
    child_env["PYTHONPATH"] = os.pathsep.join(
        [str(BENCH_DIR), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    load_before = os.getloadavg()[0]
    err_file = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed after the child exits
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=str(ROOT),
        env=child_env,
        stdout=log if log is not None else subprocess.DEVNULL,
        stderr=err_file,
    )
    tree_peak = 0.0
    try:
        import psutil

        ps = psutil.Process(proc.pid)
    except Exception:  # noqa: BLE001
        ps = None
    try:
        while proc.poll() is None:
            if ps is not None:
                tree_peak = max(tree_peak, _tree_rss_mb(ps))
            if time.perf_counter() - t0 > timeout:
                proc.kill()
                proc.wait()
                break
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    wall = time.perf_counter() - t0
    err_file.seek(0)
    stderr = err_file.read()
    err_file.close()
    if log is not None and stderr:
        log.write(stderr)
        log.flush()
    res = CaseResult(name=name, ok=False, wall_seconds=wall, load_before=load_before,
                     load_after=os.getloadavg()[0])  # fmt: skip
    res.tree_peak_rss_mb = tree_peak if ps is not None else float("nan")
    try:
        data = json.loads(Path(out_path).read_text() or "{}")
    except (OSError, ValueError):
        data = {}
    finally:
        Path(out_path).unlink(missing_ok=True)
    if proc.returncode != 0 or not data.get("ok"):
        last = stderr.strip().splitlines()[-1:] or ["no output"]
        res.error = data.get("error") or last[0]
        if wall > timeout:
            res.error = f"timed out after {timeout:.0f}s"
        return res
    res.ok = True
    res.seconds = data["seconds"]
    res.peak_rss_mb = data["peak_rss_mb"]
    res.children_peak_rss_mb = data["children_peak_rss_mb"]
    res.rss_at_start_mb = data["rss_at_start_mb"]
    res.info = data.get("info") or {}
    res.profile = data.get("profile")
    return res


def _child(target: str, kwargs_json: str, out_path: str, profile: str) -> int:
    """Child side of :func:`run_case`."""
    for p in (str(BENCH_DIR), str(ROOT)):
        if p not in sys.path:
            sys.path.insert(0, p)
    out: dict[str, Any] = {"ok": False}
    try:
        mod_name, func_name = target.split(":")
        func = getattr(importlib.import_module(mod_name), func_name)
        timer = Timer(profile=profile == "1")
        kwargs = json.loads(kwargs_json)
        if timer._profile is None:
            t0 = time.perf_counter()
            info = func(timer, **kwargs) or {}
            whole = time.perf_counter() - t0
        else:
            info = func(timer, **kwargs) or {}
            whole = timer.seconds
        out.update(
            ok=True,
            seconds=timer.seconds if timer.used else whole,
            rss_at_start_mb=timer.rss_at_start,
            peak_rss_mb=_maxrss_mb(resource.RUSAGE_SELF),
            children_peak_rss_mb=_maxrss_mb(resource.RUSAGE_CHILDREN),
            info=info,
            profile=timer.profile_text(),
        )
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        import traceback

        traceback.print_exc()
        out["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
    Path(out_path).write_text(json.dumps(out, default=str))
    return 0 if out["ok"] else 1


# ---------------------------------------------------------------------------
# Machine description and formatting
# ---------------------------------------------------------------------------
def machine() -> dict[str, str]:
    """nproc, RAM, CPU model, OS and the Python / pandas / numpy versions."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "unknown"
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:
        nproc = os.cpu_count() or 1
    import numpy
    import pandas

    versions = {"python": platform.python_version(), "pandas": pandas.__version__,
                "numpy": numpy.__version__}  # fmt: skip
    for mod in ("python_calamine", "openpyxl", "papermill", "great_expectations", "distributed"):
        with contextlib.suppress(Exception):
            from importlib.metadata import version

            versions[mod] = version(mod.replace("_", "-"))
    return {
        "nproc": str(nproc),
        "ram": ram,
        "cpu": cpu,
        "os": f"{platform.system()} {platform.release()}",
        **versions,
    }


def fmt_s(x: float) -> str:
    """Seconds for a table."""
    if x != x:  # NaN
        return "n/a"
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def fmt_mb(x: float) -> str:
    """Megabytes for a table."""
    return "n/a" if x != x or x == 0 else f"{x:,.0f}"


def ensure_scaled_dso(data_dir: Path, locations: int, months: int) -> Path:
    """Return the generated scaled DSO folder, writing it once (``write_scaled_dso``)."""
    from dso_analytics.sample import write_scaled_dso

    parent = data_dir / "ingest"
    dso = parent / f"scaled-{locations}x{months}"
    done = dso / ".complete"
    if done.is_file():
        return dso
    write_scaled_dso(parent, locations=locations, months=months, force=True)
    done.write_text("ok\n")
    return dso


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--child":
        sys.exit(_child(*sys.argv[2:]))
    print("usage: _common.py --child MODULE:FUNC KWARGS_JSON OUT_JSON PROFILE", file=sys.stderr)
    sys.exit(2)
