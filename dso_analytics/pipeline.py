"""Render renewal-leverage reports for one DSO or a batch (``dso-analytics report``).

One batch loop (:func:`render_reports`) for every runner:

1. in this process, for each DSO (largest input first): resolve its parameters
   (:func:`dso_analytics.standards.resolve_params`) and :func:`~dso_analytics.stages.prepare`
   it (validation or the validated snapshot, then the metrics).  Great Expectations
   is therefore imported at most once per batch, here; a DSO that fails is
   reported and skipped, never rendered;
2. hand each prepared DSO to the runner as a :class:`RenderJob` (worker side:
   :func:`run_render` -> :func:`~dso_analytics.stages.render`): notebook, HTML and
   workbook, moved into ``OUT/<slug>/`` only when all of them exist;
3. with ``--all``, as soon as every DSO is prepared, hand the portfolio overview
   to the runner too (:class:`PortfolioJob`), so it runs alongside the last DSO
   reports; if a DSO then fails to render, the overview is rendered again without it.

The runner (:mod:`dso_analytics.runner`) is a local process pool or a Dask
cluster (:class:`dso_analytics.distributed.DaskRunner`); it knows nothing about
stages.  A report is published as ``OUT/<slug>/<slug>-renewal-leverage-<as-of>.*``
with fixed-name aliases (``renewal-leverage.html`` ...; :mod:`dso_analytics.report_names`).
A failure leaves ``OUT/<slug>/renewal-leverage.failed.ipynb`` (when a notebook ran)
and the previous reports as they were; one DSO failing never stops the others.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dso_analytics import schema
from dso_analytics.errors import DsoError, UnsafePathError, printable
from dso_analytics.stages import (
    DSO_REPORT,
    PORTFOLIO_REPORT,
    Prepared,
    Stage,
    StageFailed,
    clear_outputs,
    error_line,
    prepare,
    render,
    render_portfolio,
)
from dso_analytics.words import plural

if TYPE_CHECKING:
    from dso_analytics.runner import Runner
    from dso_analytics.stages import Artifacts

PORTFOLIO_SLUG = "portfolio"


@dataclass
class DsoResult:
    """The outcome of one DSO (or of the portfolio overview, ``dso="portfolio"``)."""

    dso: str
    ok: bool
    elapsed: float = 0.0
    stage: Stage | None = None  # where it failed (None when ok)
    error: str | None = None
    html: str | None = None
    xlsx: str | None = None
    ipynb: str | None = None
    failed_notebook: str | None = None
    warnings: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One line for the progress display / failure summary."""
        if self.ok:
            return printable(f"{self.dso}: done in {self.elapsed:.1f}s -> {self.html}")
        where = f" ({self.stage})" if self.stage else ""
        extra = f" [notebook kept: {self.failed_notebook}]" if self.failed_notebook else ""
        return printable(f"{self.dso}: FAILED{where}: {self.error}{extra}")

    def finished(self, artifacts: Artifacts) -> DsoResult:
        """Mark as rendered into ``artifacts``."""
        self.ok, self.stage, self.error = True, None, None
        self.html, self.xlsx, self.ipynb = (str(p) for p in (artifacts.html, artifacts.xlsx,
                                                             artifacts.ipynb))  # fmt: skip
        return self

    def failed(self, exc: BaseException) -> DsoResult:
        """Mark as failed by ``exc`` (a :class:`StageFailed` names its stage)."""
        self.ok = False
        if isinstance(exc, StageFailed):
            self.stage, self.error = exc.stage, exc.error
            self.failed_notebook = None if exc.failed_notebook is None else str(exc.failed_notebook)
        else:  # a crashed worker or a lost task
            self.stage, self.error = Stage.WORKER, error_line(exc)
        return self


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
# Jobs (what a runner carries: top-level functions of picklable dataclasses)
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RenderJob:
    """Render one prepared DSO into ``out`` (its own output folder, absolute)."""

    prepared: Prepared
    out: Path
    cell_timeout: int = 600
    timeout: int = 1800
    #: more jobs follow than there are workers: the worker starts its next kernel now
    warm_next: bool = False


@dataclass(frozen=True)
class PortfolioJob:
    """Render the portfolio overview of ``prepared`` into ``out`` (absolute)."""

    prepared: tuple[Prepared, ...]
    out: Path
    portfolio_dir: Path
    cell_timeout: int = 600
    timeout: int = 1800


def run_render(job: RenderJob) -> DsoResult:
    """Worker side of a :class:`RenderJob`; never raises for a DSO's own problems."""
    t0 = time.monotonic()
    res = DsoResult(dso=job.prepared.dso, ok=False, warnings=list(job.prepared.warnings))
    try:
        res.finished(render(job.prepared, DSO_REPORT, job.out, cell_timeout=job.cell_timeout,
                            timeout=job.timeout, warm_next=job.warm_next))  # fmt: skip
    except StageFailed as exc:
        res.failed(exc)
    res.elapsed = time.monotonic() - t0
    return res


def run_portfolio(job: PortfolioJob) -> DsoResult:
    """Worker side of a :class:`PortfolioJob`; never raises for the overview's own problems."""
    t0 = time.monotonic()
    res = DsoResult(dso=PORTFOLIO_SLUG, ok=False)
    try:
        res.finished(
            render_portfolio(
                job.prepared,
                PORTFOLIO_REPORT,
                job.out,
                portfolio_dir=job.portfolio_dir,
                cell_timeout=job.cell_timeout,
                timeout=job.timeout,
            )  # fmt: skip
        )
    except StageFailed as exc:
        res.failed(exc)
    res.elapsed = time.monotonic() - t0
    return res


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


def _input_bytes(dso_dir: Path) -> int:
    """Total size of the files in a DSO folder (a proxy for its report's run time)."""
    total = 0
    with contextlib.suppress(OSError):
        for f in dso_dir.rglob("*"):
            with contextlib.suppress(OSError):
                if f.is_file():
                    total += f.stat().st_size
    return total


def _longest_first(dirs: Sequence[Path]) -> list[Path]:
    """The DSO folders, biggest input first (stable), so no big DSO starts last."""
    size = {d: _input_bytes(d) for d in dirs}
    return sorted(dirs, key=lambda d: -size[d])


def _say(progress: bool, text: str) -> None:
    if progress:
        print(printable(text), file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# The batch
# ---------------------------------------------------------------------------
@dataclass
class _Batch:
    """The state of one :func:`render_reports` call."""

    out: Path
    standard: str | None
    overrides: Mapping[str, Any]
    use_cache: bool
    cell_timeout: int
    timeout: int
    progress: bool
    total: int
    results: dict[Path, DsoResult] = field(default_factory=dict)
    prepared: dict[Path, Prepared] = field(default_factory=dict)
    running: dict[Future[DsoResult], tuple[Path, float]] = field(default_factory=dict)

    def prepare_one(self, dso_dir: Path) -> RenderJob | None:
        """Resolve, validate and compute one DSO here; its render job, or None if it failed."""
        from dso_analytics.standards import resolve_params

        t0 = time.monotonic()
        slug = dso_dir.resolve().name
        res = DsoResult(dso=slug, ok=False)
        _say(self.progress, f"{slug}: started")
        try:
            folder = output_folder(self.out, slug)
        except DsoError as exc:
            res.stage, res.error = Stage.OUTPUT_PATH, str(exc)
            return self.finish(dso_dir, res)
        try:
            try:
                params = resolve_params(dso_dir, standard=self.standard, overrides=self.overrides)
            except DsoError as exc:
                raise StageFailed(Stage.VALIDATION, error_line(exc)) from exc
            prepared = prepare(dso_dir, params, use_cache=self.use_cache)
        except StageFailed as exc:
            clear_outputs(folder, DSO_REPORT)  # a stale failed notebook goes; reports stay
            res.elapsed = time.monotonic() - t0
            return self.finish(dso_dir, res.failed(exc))
        for note in prepared.warnings:
            print(printable(f"warning: {slug}: {note}"), file=sys.stderr, flush=True)
        self.prepared[dso_dir] = prepared
        return RenderJob(prepared, folder, self.cell_timeout, self.timeout)

    def finish(self, dso_dir: Path, res: DsoResult) -> None:
        self.results[dso_dir] = res
        _say(self.progress, f"[{len(self.results)}/{self.total}] {res.line()}")

    def collect(self, block: bool) -> None:
        """Record the renders that finished (all of them when ``block``)."""
        while self.running:
            done, _ = wait(self.running, timeout=None if block else 0, return_when=FIRST_COMPLETED)
            if not done:
                return
            for fut in done:
                dso_dir, spent = self.running.pop(fut)
                res = _result(fut, DsoResult(dso=dso_dir.resolve().name, ok=False))
                res.elapsed += spent
                self.finish(dso_dir, res)

    def rendered(self, order: Sequence[Path]) -> tuple[Prepared, ...]:
        """The prepared DSOs that rendered (or are still rendering), in the given order."""
        return tuple(
            p for d in order
            if (p := self.prepared.get(d)) is not None and (d not in self.results or
                                                            self.results[d].ok)
        )  # fmt: skip


def _result(fut: Future[DsoResult], fallback: DsoResult) -> DsoResult:
    try:
        return fut.result()
    except Exception as exc:  # noqa: BLE001 - a crashed worker or a lost task
        return fallback.failed(exc)


def _default_runner(jobs: int, scheduler: str | None, n: int) -> Runner:
    if scheduler:
        from dso_analytics.distributed import DaskRunner

        return DaskRunner(scheduler)
    from dso_analytics.runner import LocalRunner
    from dso_analytics.stages import warm_up

    return LocalRunner(min(max(1, jobs), max(1, n)), warm_up=warm_up)


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
    runner: Runner | None = None,
) -> BatchResult:
    """Render the reports of several DSOs and optionally the overview, one run per folder.

    Takes the output folder's lock (:class:`dso_analytics.runguard.OutputLock`: a
    second run into the same ``out_dir`` is refused naming the run that holds it),
    removes staging folders left by killed runs, then renders (see
    :func:`_render_batch` for every parameter).

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
            use_cache=use_cache, progress=progress, runner=runner,
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
    runner: Runner | None = None,
) -> BatchResult:
    """Render the reports of several DSOs and optionally the portfolio overview.

    Parameters
    ----------
    dso_dirs : sequence of path
        DSO folders.
    out_dir : path
        Output folder; each DSO writes ``OUT/<slug>/<slug>-renewal-leverage-<as-of>.*``
        and its aliases ``renewal-leverage.{html,xlsx,ipynb}``, ``renewal-brief.pdf``.
    portfolio : bool
        Also write ``OUT/portfolio/portfolio-overview-<as-of>.*`` (aliases
        ``portfolio-overview.{html,xlsx,ipynb}``) from the
        DSOs that rendered.
    overrides : mapping, optional
        Explicit parameter values (``as_of``, ``target_onboarding_cap``, ...), applied
        over the standard file and each DSO's own standard.
    standard : str, optional
        A standard YAML file used instead of the built-in one.
    jobs : int
        Worker processes of the local runner.
    scheduler : str, optional
        A Dask scheduler address (``tcp://HOST:PORT``): render on that cluster
        (:class:`dso_analytics.distributed.DaskRunner`); ``jobs`` is then ignored.
    cell_timeout, timeout : int
        Seconds per notebook cell / per report overall.
    use_cache : bool
        Use the validated snapshot cache.
    progress : bool
        Print one line per DSO start and finish (stderr).
    runner : Runner, optional
        Where the render jobs run (default: from ``jobs`` / ``scheduler``); it is
        entered and closed here.

    Returns
    -------
    BatchResult
        ``.ok`` is False when any DSO (or the overview) failed; failures are
        printed one line each.
    """
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    dirs = [Path(d).resolve() for d in dso_dirs]
    if portfolio and PORTFOLIO_SLUG in [d.name for d in dirs]:
        raise DsoError(f"a DSO folder may not be named {PORTFOLIO_SLUG!r} (reserved for --all)")
    from dso_analytics.standards import check_overrides

    batch = _Batch(out, standard, check_overrides(overrides or {}), use_cache, cell_timeout,
                   timeout, progress, len(dirs))  # fmt: skip
    order = _longest_first(dirs)
    t0 = time.monotonic()
    port: DsoResult | None = None
    with runner if runner is not None else _default_runner(jobs, scheduler, len(dirs)) as run:
        # each worker starts with a warm kernel; the first (jobs - workers) renders
        # start one more kernel each, for the jobs after them (the overview included)
        spare = len(order) + (1 if portfolio else 0) - max(1, run.workers)
        for d in order:
            t_prep = time.monotonic()
            job = batch.prepare_one(d)
            if job is not None:
                job = replace(job, warm_next=spare > 0)
                spare -= 1
                batch.running[run.submit(run_render, job)] = (d, time.monotonic() - t_prep)
            batch.collect(block=False)
        early: Future[DsoResult] | None = None
        early_set = batch.rendered(dirs)
        if portfolio and early_set:
            _say(progress, "portfolio: started")
            early = run.submit(run_portfolio, _portfolio_job(batch, early_set, dirs))
        batch.collect(block=True)
        if portfolio:
            port = _overview(run, batch, dirs, early, early_set)
    shown = Path(out_dir)
    return _summarise(BatchResult([batch.results[d] for d in dirs], port), shown, t0, progress)


def _portfolio_job(
    batch: _Batch, prepared: tuple[Prepared, ...], dirs: Sequence[Path]
) -> PortfolioJob:
    base = dirs[0].parent if dirs else batch.out
    return PortfolioJob(prepared, output_folder(batch.out, PORTFOLIO_SLUG), base,
                        batch.cell_timeout, batch.timeout)  # fmt: skip


def _overview(
    run: Runner,
    batch: _Batch,
    dirs: Sequence[Path],
    early: Future[DsoResult] | None,
    early_set: tuple[Prepared, ...],
) -> DsoResult:
    """The overview's result: the early render when its DSOs all rendered, else a new one."""
    final_set = batch.rendered(dirs)
    fallback = DsoResult(PORTFOLIO_SLUG, ok=False)
    port = _result(early, fallback) if early is not None else None
    if final_set and (port is None or final_set != early_set):
        # a DSO failed after its metrics were ready: render the overview again without it
        if early is None:
            _say(batch.progress, "portfolio: started")
        port = _result(run.submit(run_portfolio, _portfolio_job(batch, final_set, dirs)),
                       DsoResult(PORTFOLIO_SLUG, ok=False))  # fmt: skip
    if not final_set:
        clear_outputs(output_folder(batch.out, PORTFOLIO_SLUG), PORTFOLIO_REPORT)
        return DsoResult(PORTFOLIO_SLUG, ok=False, stage=Stage.PORTFOLIO,
                         error="no DSO rendered; overview not written")  # fmt: skip
    assert port is not None
    _say(batch.progress, port.line())
    return port


def _summarise(batch: BatchResult, out: Path, t0: float, progress: bool) -> BatchResult:
    failed = batch.failed
    # one DSO: its failure was just said, once
    said = progress and len(batch.results) == 1 and batch.portfolio is None
    if failed and not said:
        print(f"{plural(len(failed), 'report')} failed:", file=sys.stderr)
        for r in failed:
            print(f"  {r.line()}", file=sys.stderr)
    if progress or failed:
        done = sum(r.ok for r in batch.results)
        print(
            printable(f"rendered {done} of {plural(len(batch.results), 'DSO')} into {out} in "
                      f"{time.monotonic() - t0:.1f}s"),
            file=sys.stderr,
        )  # fmt: skip
    return batch
