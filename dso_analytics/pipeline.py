"""Render renewal-leverage reports for one DSO or a batch (``dso-analytics report``).

Per DSO (:func:`render_one`, a top-level picklable function so it can run in
a worker process or on a Dask worker):

1. validate once (:func:`dso_analytics.validation.load_dso`); a DSO that fails
   is reported and skipped, never rendered;
2. compute its metrics and store them in a private temporary folder
   (:func:`dso_analytics.reporting.notebook.write_prepared`), so the notebook
   kernel neither imports Great Expectations nor recomputes anything;
3. execute ``notebooks/renewal_leverage.ipynb`` with papermill's Python API
   (``kernel_name="python3"``, per-cell timeout, one retry when the kernel fails
   to start, an overall timeout);
4. export the HTML (:func:`dso_analytics.reporting.html.export_html`) and write
   the workbook in the same process, into a staging folder, then rename into
   ``OUT/<slug>/`` only when everything succeeded.

A failure leaves ``OUT/<slug>/renewal-leverage.failed.ipynb`` (when a notebook
ran) and no finished-looking HTML or xlsx.  DSOs run in parallel worker
processes; one failing never stops the others.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dso_analytics import schema
from dso_analytics.errors import DsoError, UnsafePathError, ValidationFailed, printable

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
DSO_NOTEBOOK = "renewal_leverage.ipynb"
PORTFOLIO_NOTEBOOK = "portfolio_overview.ipynb"
DSO_STEM = "renewal-leverage"
PORTFOLIO_STEM = "portfolio-overview"
PORTFOLIO_SLUG = "portfolio"
KERNEL_NAME = "python3"
START_TIMEOUT = 60


@dataclass
class DsoJob:
    """Everything :func:`render_one` needs (plain, picklable values only)."""

    dso_dir: str
    out_dir: str
    overrides: dict[str, Any] = field(default_factory=dict)
    standard: str | None = None
    cell_timeout: int = 600
    timeout: int = 1800
    use_cache: bool = True
    keep_prepared: bool = False  # keep the prepared metrics for the portfolio run
    #: also publish the prepared metrics here as soon as they exist (local batch with the
    #: overview: the overview can start before this DSO's notebook has finished)
    publish_prepared: str | None = None
    progress: bool = True


@dataclass
class DsoResult:
    """The outcome of one DSO (or of the portfolio overview, ``dso="portfolio"``)."""

    dso: str
    ok: bool
    elapsed: float = 0.0
    stage: str = ""
    error: str | None = None
    html: str | None = None
    xlsx: str | None = None
    ipynb: str | None = None
    failed_notebook: str | None = None
    prepared: str | None = None

    def line(self) -> str:
        """One line for the progress display / failure summary."""
        if self.ok:
            return printable(f"{self.dso}: done in {self.elapsed:.1f}s -> {self.html}")
        where = f" ({self.stage})" if self.stage else ""
        extra = f" [notebook kept: {self.failed_notebook}]" if self.failed_notebook else ""
        return printable(f"{self.dso}: FAILED{where}: {self.error}{extra}")


@dataclass
class BatchResult:
    """Per-DSO results of :func:`render_reports` (plus the portfolio overview, if any)."""

    results: list[DsoResult]
    portfolio: DsoResult | None = None

    @property
    def ok(self) -> bool:
        """True when every DSO (and the portfolio overview) rendered."""
        return all(r.ok for r in self.results) and (self.portfolio is None or self.portfolio.ok)

    @property
    def failed(self) -> list[DsoResult]:
        """The results that failed."""
        out = [r for r in self.results if not r.ok]
        if self.portfolio is not None and not self.portfolio.ok:
            out.append(self.portfolio)
        return out


# ---------------------------------------------------------------------------
# Paths
# ---------------------------------------------------------------------------
def output_folder(out_dir: str | Path, slug: str) -> Path:
    """Return ``out_dir/slug`` resolved, after checking the slug and containment.

    Raises
    ------
    UnsafePathError
        When ``slug`` is not a slug or the folder would leave ``out_dir``.
    """
    if not schema.is_slug(slug):
        raise UnsafePathError(f"{slug!r} is not a valid DSO name (a-z, 0-9, - and _)")
    root = Path(out_dir).resolve()
    target = (root / slug).resolve()
    if not target.is_relative_to(root) or target == root:
        raise UnsafePathError(f"{slug!r} would write outside {root}")
    return target


def _final_paths(folder: Path, stem: str) -> dict[str, Path]:
    return {
        "html": folder / f"{stem}.html",
        "xlsx": folder / f"{stem}.xlsx",
        "ipynb": folder / f"{stem}.ipynb",
        "failed": folder / f"{stem}.failed.ipynb",
    }


# ---------------------------------------------------------------------------
# Timeouts and notebook execution
# ---------------------------------------------------------------------------
class OverallTimeout(Exception):
    """The overall per-DSO timeout expired."""


@contextlib.contextmanager
def _deadline(seconds: int) -> Iterator[None]:
    """Raise :class:`OverallTimeout` after ``seconds`` (main thread of a process only)."""
    import threading

    usable = (
        seconds and seconds > 0 and hasattr(signal, "SIGALRM")
        and threading.current_thread() is threading.main_thread()
    )  # fmt: skip
    if not usable:
        yield
        return

    def _raise(signum: int, frame: object) -> None:
        raise OverallTimeout(f"overall timeout of {seconds}s expired")

    old = signal.signal(signal.SIGALRM, _raise)
    signal.alarm(int(seconds))
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _is_kernel_start_failure(exc: BaseException) -> bool:
    name = type(exc).__name__
    text = str(exc).lower()
    if name in ("PapermillExecutionError", "CellTimeoutError", "OverallTimeout"):
        return False
    return (
        name in ("ZMQError", "DeadKernelError")
        or "kernel didn't respond" in text
        or "address already in use" in text
        or ("kernel" in text and ("start" in text or "died" in text))
        or isinstance(exc, TimeoutError)
    )


#: What a report kernel imports while it starts (``IPKernelApp.exec_lines``), so a
#: kernel started early (:func:`start_kernel`) has done its imports by the time
#: the notebook runs.  The notebook's own import cell still runs (a no-op then).
KERNEL_PRELOAD = (
    "import dso_analytics.reporting.charts, dso_analytics.reporting.notebook as _rn; "
    "_rn.preload(); del _rn"
)


def _move_into_place(folder: Path, finals: Mapping[str, Path], staged: Mapping[str, Path]) -> None:
    """Publish the staged outputs as one unit (:func:`dso_analytics.runguard.publish_files`):
    a staging folder unique to this call, swapped in whole, so a reader sees the previous set
    or this one, never a mix; a stale ``failed`` notebook goes with the previous set."""
    from dso_analytics.runguard import publish_files

    files = {finals[k].name: staged[k] for k in staged}  # ipynb, xlsx, html (and the brief pdf)
    publish_files(folder, files, [p.name for p in finals.values()])


def _keep_failed(folder: Path, finals: Mapping[str, Path], executed: Path, res: DsoResult) -> None:
    """After a failure: the folder's outputs become only the executed notebook (if any),
    kept as ``*.failed.ipynb`` for debugging, swapped in as one unit.  Never raises."""
    from dso_analytics.runguard import publish_files

    try:
        kept = executed.is_file()
    except (OSError, ValueError):
        kept = False
    with contextlib.suppress(OSError, DsoError):
        files = {finals["failed"].name: executed} if kept else {}
        publish_files(folder, files, [p.name for p in finals.values()])
        if kept:
            res.failed_notebook = str(finals["failed"])


def _external_plotlyjs() -> None:
    """Report kernels started from now on leave plotly.js out of the notebook (the HTML adds it)."""
    from dso_analytics.reporting.notebook import PLOTLYJS_ENV

    os.environ[PLOTLYJS_ENV] = "external"


def start_kernel() -> Any | None:
    """Start a ``python3`` kernel now, without waiting for it (None when it cannot start).

    The pipeline starts the kernel before validating and computing, so the
    kernel's start-up and imports (:data:`KERNEL_PRELOAD`) overlap with that
    work; :func:`execute_notebook` then runs the notebook on it and shuts it down.
    """
    _external_plotlyjs()
    try:
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        km = AsyncKernelManager(kernel_name=KERNEL_NAME)
        run_sync(km.start_kernel)(
            extra_arguments=[
                f"--IPKernelApp.exec_lines={KERNEL_PRELOAD}",
                # the local-only TCP transport warning is noise in an analyst's terminal
                "--IPKernelApp.log_level=ERROR",
            ]
        )
    except Exception:  # noqa: BLE001 - papermill then starts its own kernel
        return None
    return km


def stop_kernel(km: Any | None) -> None:
    """Shut down a kernel from :func:`start_kernel` (immediately; never raises)."""
    if km is None:
        return
    with contextlib.suppress(Exception):
        from jupyter_core.utils import run_sync

        if run_sync(km.is_alive)():
            run_sync(km.shutdown_kernel)(now=True)


def execute_notebook(
    template: Path,
    output: Path,
    parameters: Mapping[str, Any],
    cell_timeout: int,
    km: Any | None = None,
) -> Any:
    """Execute ``template`` with papermill into ``output``; retry once if the kernel fails to start.

    Parameters
    ----------
    template, output : Path
        The notebook and where the executed copy is written (once, at the end,
        also when a cell fails: not after every cell).
    parameters : mapping
        Papermill parameters.
    cell_timeout : int
        Seconds per cell.
    km : AsyncKernelManager, optional
        A kernel already started (:func:`start_kernel`); it is shut down here.
        When it fails, the retry starts a fresh kernel.

    Returns
    -------
    NotebookNode
        The executed notebook.

    Raises
    ------
    papermill.PapermillExecutionError
        When a cell fails (``output`` holds the failed notebook).
    """
    import papermill as pm

    _external_plotlyjs()
    try:
        for attempt in (1, 2):
            extra = {"km": km} if km is not None else {}
            try:
                return pm.execute_notebook(
                    str(template),
                    str(output),
                    parameters=dict(parameters),
                    kernel_name=KERNEL_NAME,
                    execution_timeout=cell_timeout,
                    start_timeout=START_TIMEOUT,
                    progress_bar=False,
                    log_output=False,
                    report_mode=False,
                    request_save_on_cell_execute=False,
                    **extra,
                )
            except Exception as exc:  # noqa: BLE001 - classified below
                if attempt == 1 and _is_kernel_start_failure(exc):
                    stop_kernel(km)
                    km = None
                    time.sleep(1.0)
                    continue
                raise
        raise AssertionError("unreachable")
    finally:
        stop_kernel(km)


def _error_line(exc: BaseException) -> str:
    name = type(exc).__name__
    if name == "PapermillExecutionError":
        ename = getattr(exc, "ename", "error")
        evalue = str(getattr(exc, "evalue", "")).strip().splitlines()
        cell = getattr(exc, "exec_count", None)
        where = f"cell {cell}: " if cell is not None else ""
        return f"{where}{ename}: {evalue[0] if evalue else ''}".strip()
    if isinstance(exc, ValidationFailed):
        report = exc.report
        errors = list(getattr(report, "errors", []) or [])
        lines = [ln for ln in str(exc).splitlines() if ln.strip()]
        n = len(errors) or len(lines)
        first = str(errors[0]) if errors else (lines[-1] if lines else "validation failed")
        return f"validation failed ({n} problem(s)); first: {first}"
    text = str(exc).strip().splitlines()
    return f"{name}: {text[0] if text else ''}" if not isinstance(exc, DsoError) else text[0]


def _params_dict(params: Any, standard: str | None) -> dict[str, Any]:
    return {
        "as_of": None if params.as_of is None else f"{params.as_of:%Y-%m-%d}",
        "target_onboarding_cap": float(params.target_onboarding_cap),
        "target_onboarding_sla_business_days": int(params.target_onboarding_sla_business_days),
        "benchmark_workstation_monthly": [float(x) for x in params.benchmark_workstation_monthly],
        "standard": standard,
    }


def _validation_summary(ds: Any) -> dict[str, Any]:
    problems = list(getattr(ds, "read_problems", []) or [])
    warnings = [p for p in problems if getattr(p, "severity", "error") == "warning"]
    return {"ok": True, "errors": 0, "warnings": len(warnings)}


def _say(progress: bool, text: str) -> None:
    if progress:
        print(printable(text), file=sys.stderr, flush=True)


def _publish(prepared: Path, folder: Path) -> None:
    """Copy a prepared file into ``folder`` atomically (the batch polls for it)."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{prepared.name}.part"
    shutil.copyfile(prepared, tmp)
    os.replace(tmp, folder / prepared.name)


# ---------------------------------------------------------------------------
# One DSO
# ---------------------------------------------------------------------------
def render_one(job: DsoJob) -> DsoResult:
    """Validate, compute and render one DSO; never raises for a DSO's own problems.

    Parameters
    ----------
    job : DsoJob

    Returns
    -------
    DsoResult
        ``ok=False`` with a one-line ``error`` when anything failed.
    """
    t0 = time.monotonic()
    dso_dir = Path(job.dso_dir)
    slug = dso_dir.resolve().name
    res = DsoResult(dso=slug, ok=False)
    try:
        folder = output_folder(job.out_dir, slug)
    except DsoError as exc:
        res.stage, res.error = "output path", str(exc)
        return res
    from dso_analytics.reporting.brief import BRIEF_NAME

    finals = {**_final_paths(folder, DSO_STEM), "pdf": folder / BRIEF_NAME}
    work = Path(tempfile.mkdtemp(prefix=f"dso-report-{slug}-"))
    _say(job.progress, f"{slug}: started")
    executed = work / f"{DSO_STEM}.ipynb"
    km = None
    try:
        with _deadline(job.timeout):
            # the kernel starts (and imports) while the parent validates and computes
            km = start_kernel()
            res.stage = "validation"
            from dso_analytics.standards import read_standard
            from dso_analytics.validation import load_dso

            params = read_standard(job.standard, dso_dir=dso_dir).with_overrides(**job.overrides)
            ds = load_dso(dso_dir, params=params, use_cache=job.use_cache)
            summary = _validation_summary(ds)
            res.stage = "metrics"
            from dso_analytics.metrics import compute_metrics
            from dso_analytics.reporting.notebook import write_prepared

            m = compute_metrics(ds, params)
            prepared = write_prepared(work, metrics=m, validation=summary)
            if job.publish_prepared:
                _publish(prepared, Path(job.publish_prepared))
            res.stage = "notebook"
            nb = execute_notebook(
                NOTEBOOKS_DIR / DSO_NOTEBOOK,
                executed,
                {"dso_dir": str(dso_dir.resolve()), "prepared": str(prepared),
                 **_params_dict(params, job.standard)},
                job.cell_timeout,
                km=km,
            )  # fmt: skip
            km = None  # shut down by execute_notebook
            res.stage = "html"
            from dso_analytics.reporting.excel import write_dso_workbook
            from dso_analytics.reporting.html import export_html

            staged_html = export_html(
                nb, work / f"{DSO_STEM}.html", title=f"Renewal leverage: {m.display_name}"
            )
            res.stage = "workbook"
            from dso_analytics.ingest.scenarios import dso_scenarios

            staged_xlsx = write_dso_workbook(
                m, work / f"{DSO_STEM}.xlsx", validation_summary=summary, sources=ds.sources,
                scenarios=dso_scenarios(ds, m)[0],
            )  # fmt: skip
            staged = {"ipynb": executed, "xlsx": staged_xlsx, "html": staged_html}
            res.stage = "brief"
            from dso_analytics.reporting.brief import brief_available, write_brief

            if brief_available():  # needs Debian's chromium; without it: no stale brief
                staged["pdf"] = write_brief(m, work / BRIEF_NAME)
            else:
                finals["pdf"].unlink(missing_ok=True)
        res.stage = "publish"
        _move_into_place(folder, finals, staged)
        res.ok, res.stage = True, ""
        res.html, res.xlsx, res.ipynb = (str(finals[k]) for k in ("html", "xlsx", "ipynb"))
        if job.keep_prepared:
            res.prepared = str(prepared)
    except BaseException as exc:  # noqa: BLE001 - one DSO never stops the batch
        if isinstance(exc, KeyboardInterrupt):
            raise
        res.error = _error_line(exc)
        if not isinstance(exc, DsoError | OverallTimeout) and res.stage != "notebook":
            res.error += " | " + traceback.format_exc(limit=3).strip().splitlines()[-1]
        _keep_failed(folder, finals, executed, res)
    finally:
        stop_kernel(km)
        if not (res.ok and job.keep_prepared):
            shutil.rmtree(work, ignore_errors=True)
        res.elapsed = time.monotonic() - t0
    return res


def render_portfolio(
    prepared: Mapping[str, str],
    out_dir: str,
    *,
    portfolio_dir: str,
    params: Mapping[str, Any],
    cell_timeout: int = 600,
    timeout: int = 1800,
) -> DsoResult:
    """Render ``OUT/portfolio/portfolio-overview.{html,xlsx,ipynb}`` from prepared DSO metrics.

    Parameters
    ----------
    prepared : mapping
        ``{slug: prepared file}`` of the DSOs that rendered.
    out_dir : str
        The output folder.
    portfolio_dir : str
        The portfolio folder (passed to the notebook for reference).
    params : mapping
        JSON-like notebook parameters (as_of, target_onboarding_cap, ...).
    """
    t0 = time.monotonic()
    res = DsoResult(dso=PORTFOLIO_SLUG, ok=False)
    folder = output_folder(out_dir, PORTFOLIO_SLUG)
    finals = _final_paths(folder, PORTFOLIO_STEM)
    work = Path(tempfile.mkdtemp(prefix="dso-report-portfolio-"))
    executed = work / f"{PORTFOLIO_STEM}.ipynb"
    km = None
    try:
        with _deadline(timeout):
            # the kernel starts while the workbook is written
            km = start_kernel()
            from dso_analytics.reporting.excel import write_portfolio_workbook
            from dso_analytics.reporting.html import export_html
            from dso_analytics.reporting.notebook import read_prepared

            results = [read_prepared(p)["metrics"] for p in prepared.values()]
            res.stage = "workbook"
            try:
                from dso_analytics.metrics import compute_portfolio

                roll = compute_portfolio(results)
            except ImportError:
                roll = None
            xlsx = write_portfolio_workbook(results, roll, work / f"{PORTFOLIO_STEM}.xlsx")
            res.stage = "notebook"
            nb = execute_notebook(
                NOTEBOOKS_DIR / PORTFOLIO_NOTEBOOK,
                executed,
                {"portfolio_dir": portfolio_dir, "prepared": dict(prepared), **params},
                cell_timeout,
                km=km,
            )
            km = None  # shut down by execute_notebook
            res.stage = "html"
            html = export_html(nb, work / f"{PORTFOLIO_STEM}.html", title="Portfolio overview")
        _move_into_place(folder, finals, {"ipynb": executed, "xlsx": xlsx, "html": html})
        res.ok, res.stage = True, ""
        res.html, res.xlsx, res.ipynb = (str(finals[k]) for k in ("html", "xlsx", "ipynb"))
    except Exception as exc:  # noqa: BLE001
        res.error = _error_line(exc)
        _keep_failed(folder, finals, executed, res)
    finally:
        stop_kernel(km)
        shutil.rmtree(work, ignore_errors=True)
        res.elapsed = time.monotonic() - t0
    return res


# ---------------------------------------------------------------------------
# Batch
# ---------------------------------------------------------------------------
def _input_bytes(dso_dir: str | Path) -> int:
    """Total size of the files in a DSO folder (a proxy for its report's run time)."""
    total = 0
    with contextlib.suppress(OSError):
        for f in Path(dso_dir).rglob("*"):
            with contextlib.suppress(OSError):
                if f.is_file():
                    total += f.stat().st_size
    return total


def _longest_first(job_list: Sequence[DsoJob]) -> list[DsoJob]:
    """The jobs, biggest input first (stable), so no big DSO starts last on a busy pool."""
    size = {j.dso_dir: _input_bytes(j.dso_dir) for j in job_list}
    return sorted(job_list, key=lambda j: -size[j.dso_dir])


def _pool(jobs: int) -> Any:
    """Worker processes that die with this one; a worker that dies fails only its job
    (:class:`dso_analytics.runguard.HealingPool`: the pool is rebuilt and the jobs that
    were running beside it run again, alone)."""
    import multiprocessing as mp

    from dso_analytics.runguard import HealingPool

    return HealingPool(max(1, jobs), mp_context=mp.get_context("spawn"))


def render_reports(
    dso_dirs: Sequence[str | Path],
    out_dir: str | Path,
    portfolio: bool = False,
    overrides: Mapping[str, Any] | None = None,
    standard: str | None = None,
    jobs: int = 1,
    scheduler: str | None = None,
    cell_timeout: int = 600,
    timeout: int = 1800,
    use_cache: bool = True,
    progress: bool = True,
) -> BatchResult:
    """Render the reports of several DSOs and optionally the overview, one run per folder.

    Takes the output folder's lock (:class:`dso_analytics.runguard.OutputLock`: a
    second run into the same ``out_dir`` is refused naming the run that holds it),
    removes staging folders left by killed runs, then renders (see
    :func:`_render_batch` for every parameter).

    Parameters
    ----------
    dso_dirs, out_dir, portfolio, overrides, standard, jobs, scheduler, cell_timeout, timeout,
    use_cache, progress
        As for :func:`_render_batch`.

    Returns
    -------
    BatchResult

    Raises
    ------
    DsoError
        ``out_dir`` is a file or cannot be created, or another run holds it (exit code 2).
    """
    from dso_analytics.runguard import (
        OutputLock,
        new_run_id,
        prepare_output_dir,
        remove_stale_staging,
    )

    out = prepare_output_dir(out_dir)
    with OutputLock(out, new_run_id()):
        remove_stale_staging(out)
        return _render_batch(
            dso_dirs, out_dir, portfolio=portfolio, overrides=overrides, standard=standard,
            jobs=jobs, scheduler=scheduler, cell_timeout=cell_timeout, timeout=timeout,
            use_cache=use_cache, progress=progress,
        )  # fmt: skip


def _render_batch(
    dso_dirs: Sequence[str | Path],
    out_dir: str | Path,
    portfolio: bool = False,
    overrides: Mapping[str, Any] | None = None,
    standard: str | None = None,
    jobs: int = 1,
    scheduler: str | None = None,
    cell_timeout: int = 600,
    timeout: int = 1800,
    use_cache: bool = True,
    progress: bool = True,
) -> BatchResult:
    """Render the reports of several DSOs (in parallel processes) and optionally the overview.

    Parameters
    ----------
    dso_dirs : sequence of path
        DSO folders.
    out_dir : path
        Output folder; each DSO writes ``OUT/<slug>/renewal-leverage.{html,xlsx,ipynb}``.
    portfolio : bool
        Also write ``OUT/portfolio/portfolio-overview.{html,xlsx}`` from the DSOs that rendered.
    overrides : mapping, optional
        Parameter overrides (``as_of``, ``target_onboarding_cap``, ...).
    standard : str, optional
        A standard YAML file.
    jobs : int
        Parallel worker processes.
    scheduler : str, optional
        A Dask scheduler address (``tcp://HOST:PORT``): run the jobs on that
        cluster (:class:`dso_analytics.distributed.DaskExecutor`) instead of
        the local process pool; ``jobs`` is then ignored.
    cell_timeout, timeout : int
        Seconds per notebook cell / per DSO overall.
    use_cache : bool
        Use the validated snapshot cache.
    progress : bool
        Print one line per DSO start and finish (stderr).

    Returns
    -------
    BatchResult
        ``.ok`` is False when any DSO (or the overview) failed; failures are
        printed one line each.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    overrides = dict(overrides or {})
    dirs = [Path(d) for d in dso_dirs]
    slugs = [d.resolve().name for d in dirs]
    if PORTFOLIO_SLUG in slugs and portfolio:
        raise DsoError(f"a DSO folder may not be named {PORTFOLIO_SLUG!r} (reserved for --all)")
    # local pool with the overview: every DSO publishes its metrics into ``shared`` as soon as
    # they are computed, so the overview runs alongside the last DSO notebooks, not after them
    shared = Path(tempfile.mkdtemp(prefix="dso-batch-")) if portfolio and not scheduler else None
    job_list = [
        DsoJob(
            dso_dir=str(d), out_dir=str(out), overrides=overrides, standard=standard,
            cell_timeout=cell_timeout, timeout=timeout, use_cache=use_cache,
            keep_prepared=portfolio and shared is None, progress=progress,
            publish_prepared=str(shared / f"{i:04d}") if shared is not None else None,
        )
        for i, d in enumerate(dirs)
    ]  # fmt: skip
    t0 = time.monotonic()
    results: dict[str, DsoResult] = {}
    port: DsoResult | None = None
    if scheduler:
        from dso_analytics.distributed import DaskExecutor

        executor: Any = DaskExecutor(scheduler)
    else:
        executor = _pool(min(max(1, jobs), max(1, len(job_list))))
    port_kwargs: dict[str, Any] = {}
    if portfolio:
        from dso_analytics.standards import read_standard

        params = read_standard(standard).with_overrides(**overrides)
        base = Path(dirs[0]).resolve().parent if dirs else out
        port_kwargs = {"portfolio_dir": str(base), "params": _params_dict(params, standard),
                       "cell_timeout": cell_timeout, "timeout": timeout}  # fmt: skip

    from dso_analytics.reporting.notebook import PREPARED_FILE

    def published() -> dict[str, str] | None:
        """{slug: published metrics} once every DSO has published or failed, else None."""
        ready = {}
        for j in job_list:
            r = results.get(j.dso_dir)
            f = Path(str(j.publish_prepared)) / PREPARED_FILE
            if r is not None and not r.ok:
                continue
            if not f.is_file():
                return None
            ready[Path(j.dso_dir).resolve().name] = str(f)
        return ready or None

    early: Any = None
    early_set: dict[str, str] = {}
    try:
        with executor as pool:
            # longest first (LPT): the biggest input folders start first
            futures = {pool.submit(render_one, j): j for j in _longest_first(job_list)}
            pending = set(futures)
            while pending:
                polling = shared is not None and early is None
                done, pending = wait(pending, timeout=0.2 if polling else None,
                                     return_when=FIRST_COMPLETED)  # fmt: skip
                for fut in done:
                    job = futures[fut]
                    try:
                        r = fut.result()
                    except Exception as exc:  # noqa: BLE001 - a crashed worker
                        r = DsoResult(dso=Path(job.dso_dir).resolve().name, ok=False,
                                      stage="worker", error=_error_line(exc))  # fmt: skip
                    results[job.dso_dir] = r
                    _say(progress, f"[{len(results)}/{len(job_list)}] {r.line()}")
                if shared is not None and early is None and (ready := published()):
                    _say(progress, "portfolio: started")
                    early, early_set = pool.submit(render_portfolio, ready, str(out),
                                                   **port_kwargs), ready  # fmt: skip
            if portfolio:
                ok = [r for j in job_list if (r := results[j.dso_dir]).ok]
                if shared is not None:
                    prepared = {
                        r.dso: str(Path(str(j.publish_prepared)) / PREPARED_FILE)
                        for j in job_list
                        if (r := results[j.dso_dir]).ok
                    }
                else:
                    prepared = {r.dso: r.prepared for r in ok if r.prepared}
                if early is not None:
                    try:
                        port = early.result()
                    except Exception as exc:  # noqa: BLE001
                        port = DsoResult(PORTFOLIO_SLUG, ok=False, stage="worker",
                                         error=_error_line(exc))  # fmt: skip
                    if early_set != prepared:
                        port = None  # a DSO failed after its metrics: render the overview again
                if port is None and prepared:
                    if early is None:
                        _say(progress, "portfolio: started")
                    try:
                        port = pool.submit(render_portfolio, prepared, str(out),
                                           **port_kwargs).result()  # fmt: skip
                    except Exception as exc:  # noqa: BLE001
                        port = DsoResult(PORTFOLIO_SLUG, ok=False, stage="worker",
                                         error=_error_line(exc))  # fmt: skip
                if port is not None:
                    _say(progress, port.line())
                else:
                    port = DsoResult(PORTFOLIO_SLUG, ok=False, stage="portfolio",
                                     error="no DSO rendered; overview not written")  # fmt: skip
                for r in ok:
                    if r.prepared:
                        shutil.rmtree(Path(r.prepared).parent, ignore_errors=True)
                        r.prepared = None
    finally:
        if shared is not None:
            shutil.rmtree(shared, ignore_errors=True)
    batch = BatchResult([results[j.dso_dir] for j in job_list], port)
    failed = batch.failed
    n = len(batch.results)
    said = progress and n == 1 and port is None  # one DSO: its failure was just said, once
    if failed and not said:
        print(f"{len(failed)} report(s) failed:", file=sys.stderr)
        for r in failed:
            print(f"  {r.line()}", file=sys.stderr)
    if progress or failed:
        done = sum(r.ok for r in batch.results)
        print(
            printable(f"rendered {done} of {n} DSO(s) into {out} in {time.monotonic() - t0:.1f}s"),
            file=sys.stderr,
        )
    return batch
