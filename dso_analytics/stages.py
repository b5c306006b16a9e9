"""The two stages of a report, with typed hand-offs.

* :func:`prepare` ``(dso_dir, params) -> Prepared``: read, validate (or serve the
  validated snapshot) and compute the metrics of one DSO, then its negotiation
  status (the optional ``negotiation.xlsx``, read once here).  This is the only stage
  that may import Great Expectations; the batch runs it in the parent process, so
  Great Expectations is imported at most once per batch.
* :func:`render` ``(prepared, template, out) -> Artifacts``: execute the report
  notebook on the prepared metrics (the kernel neither validates nor recomputes),
  export the offline HTML, write the workbook, the calendar and the letters into a
  staging folder, then move them into ``out`` only when all of them exist.  :func:`render_portfolio` does
  the same for the portfolio overview from several :class:`Prepared`.

Both stages are plain functions on picklable dataclasses, so any runner (a local
process pool, a Dask cluster, see :mod:`dso_analytics.runner`) can carry them.
The report templates are package data (:func:`template_path`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dso_analytics.actions import CALENDAR_FILE, LETTERS_DIR
from dso_analytics.errors import DsoError, ValidationFailed
from dso_analytics.lazyimports import defer_iri_grammar
from dso_analytics.report_names import (
    DSO_STEM,
    PORTFOLIO_STEM,
    ReportNames,
    dso_report_names,
    failed_name,
    portfolio_report_names,
)
from dso_analytics.words import plural

defer_iri_grammar()  # papermill, nbconvert and Great Expectations import jsonschema

if TYPE_CHECKING:
    from jupyter_client.manager import AsyncKernelManager
    from nbformat import NotebookNode

    from dso_analytics.actions.negotiation import NegotiationStatus
    from dso_analytics.dataset import DsoDataset, SourceFile
    from dso_analytics.ingest.scenarios import ScenarioComparison
    from dso_analytics.metrics.result import DsoMetrics
    from dso_analytics.standards import Params

KERNEL_NAME = "python3"
START_TIMEOUT = 60

#: What a report kernel imports while it starts (``IPKernelApp.exec_lines``), so a
#: kernel started early (:func:`start_kernel`) has done its imports by the time
#: the notebook runs.  The notebook's own import cell still runs (a no-op then).
KERNEL_PRELOAD = (
    "import dso_analytics.reporting.charts, dso_analytics.reporting.notebook as _rn; "
    "_rn.preload(); del _rn"
)


# ---------------------------------------------------------------------------
# Hand-off types
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Template:
    """A report template shipped in the package and the stem of its outputs.

    The published names (dated files, their fixed-name aliases) come from
    :mod:`dso_analytics.report_names` (:meth:`names`).
    """

    notebook: str  # file name in ``dso_analytics/notebooks/``
    stem: str  # ``renewal-leverage`` / ``portfolio-overview`` (see :mod:`report_names`)
    brief: bool = False  # also the one-page brief (the dated ``.pdf``; needs Chromium)
    calendar: bool = False  # also the deadlines calendar :data:`CALENDAR_FILE` (.ics)
    letters: bool = False  # also the claim and notice letters in :data:`LETTERS_DIR`
    portfolio: bool = False  # the portfolio overview (its names carry no DSO)

    def path(self) -> Path:
        """The template notebook on disk (see :func:`template_path`)."""
        return template_path(self.notebook)

    def names(self, dso: str, as_of: object) -> ReportNames:
        """The published names of this report for ``dso`` at ``as_of``."""
        return portfolio_report_names(as_of) if self.portfolio else dso_report_names(dso, as_of)


DSO_REPORT = Template("renewal_leverage.ipynb", DSO_STEM, brief=True, calendar=True, letters=True)
PORTFOLIO_REPORT = Template(
    "portfolio_overview.ipynb", PORTFOLIO_STEM, brief=True, calendar=True, portfolio=True
)


def template_path(name: str) -> Path:
    """Return a notebook template shipped in the package (``importlib.resources``).

    Raises
    ------
    DsoError
        When the installed package holds no such template.
    """
    found = resources.files("dso_analytics").joinpath("notebooks", name)
    path = Path(str(found))
    if not path.is_file():
        raise DsoError(f"report template {name} is missing from the installed package")
    return path


@dataclass(frozen=True)
class ValidationSummary:
    """The validation status a report shows (cover of the workbook)."""

    ok: bool
    errors: int
    warnings: int

    def to_dict(self) -> dict[str, Any]:
        """``{"ok", "errors", "warnings"}``."""
        return {"ok": self.ok, "errors": self.errors, "warnings": self.warnings}


@dataclass(frozen=True)
class Prepared:
    """One DSO validated and computed: everything :func:`render` needs."""

    dso: str
    dso_dir: Path
    params: Params
    metrics: DsoMetrics
    validation: ValidationSummary
    sources: tuple[SourceFile, ...]
    #: M8, the DSO's scenarios compared (the workbook's live "Scenarios" sheet)
    scenarios: ScenarioComparison | None = None
    #: the DSO's negotiation log read, checked and computed once (the report's
    #: "Negotiation status" and the portfolio roll-up show it; render never reads the log)
    negotiation: NegotiationStatus | None = None

    @property
    def warnings(self) -> tuple[str, ...]:
        """Things the analyst should know before reading the figures (as-of date)."""
        return (self.metrics.as_of_warning,) if self.metrics.as_of_warning else ()


@dataclass(frozen=True)
class Artifacts:
    """The finished outputs of one report."""

    html: Path
    xlsx: Path
    ipynb: Path
    pdf: Path | None = None  # the one-page renewal brief, when Chromium is installed
    ics: Path | None = None  # the deadlines calendar the report links
    letters: tuple[Path, ...] = ()  # claim and notice letters (.docx)


class Stage(StrEnum):
    """Where a report failed: the value is the word users see in
    ``DSO: FAILED (stage): error`` (a :class:`StrEnum`, so it formats as its value)."""

    OUTPUT_PATH = "output path"  # the DSO's output folder cannot be used
    VALIDATION = "validation"  # parameters or input data (nothing is rendered)
    METRICS = "metrics"
    NOTEBOOK = "notebook"  # executing the report template
    HTML = "html"
    WORKBOOK = "workbook"
    ACTIONS = "calendar and letters"  # the deadlines calendar (.ics) and the letters (.docx)
    BRIEF = "brief"  # the one-page renewal brief (pdf)
    PUBLISH = "publish"  # moving the finished outputs into place
    PORTFOLIO = "portfolio"  # the portfolio overview has nothing to show
    WORKER = "worker"  # a crashed worker process or a lost task


class StageFailed(Exception):
    """A stage failed: ``stage`` names it, ``error`` is one line, and
    ``failed_notebook`` is the executed notebook kept for debugging (if any)."""

    def __init__(self, stage: Stage, error: str, failed_notebook: Path | None = None) -> None:
        self.stage = stage
        self.error = error
        self.failed_notebook = failed_notebook
        super().__init__(f"{stage}: {error}")


# ---------------------------------------------------------------------------
# prepare
# ---------------------------------------------------------------------------
def prepare(dso_dir: str | Path, params: Params, *, use_cache: bool = True) -> Prepared:
    """Validate one DSO folder (or serve its validated snapshot) and compute its metrics.

    Parameters
    ----------
    dso_dir : str or Path
        The DSO folder.
    params : Params
        From :func:`dso_analytics.standards.resolve_params`.
    use_cache : bool
        Use the validated snapshot cache.

    Returns
    -------
    Prepared

    Raises
    ------
    StageFailed
        ``stage`` is ``validation`` (the input has errors; nothing is rendered)
        or ``metrics``.
    """
    from dso_analytics.validation import validate_dso

    folder = Path(dso_dir)
    try:
        report = validate_dso(folder, params=params, use_cache=use_cache)
    except DsoError as exc:
        raise StageFailed(Stage.VALIDATION, error_line(exc)) from exc
    if not report.ok:
        raise StageFailed(Stage.VALIDATION, error_line(ValidationFailed(report)))
    summary = ValidationSummary(
        ok=report.ok, errors=len(report.errors), warnings=len(report.warnings)
    )
    from dso_analytics.actions.deadlines import attach_deadlines
    from dso_analytics.actions.negotiation import negotiation_status_of
    from dso_analytics.ingest.scenarios import dso_scenarios
    from dso_analytics.metrics import compute_metrics

    try:
        ds = report.dataset
        # the deadlines once, here: calendar, letters, HTML and workbook all read them
        metrics = attach_deadlines(compute_metrics(ds, params), ds.agreements, ds.locations)
        scenarios = dso_scenarios(report.dataset, metrics)[0]
    except DsoError as exc:
        raise StageFailed(Stage.METRICS, error_line(exc)) from exc
    # never raises: an unreadable log or one with errors is a state the report shows
    negotiation = negotiation_status_of(folder, metrics)
    return Prepared(
        dso=folder.resolve().name,
        dso_dir=folder.resolve(),
        params=params,
        metrics=metrics,
        validation=summary,
        sources=tuple(report.dataset.sources),
        scenarios=scenarios,
        negotiation=negotiation,
    )


# ---------------------------------------------------------------------------
# Kernels and notebook execution
# ---------------------------------------------------------------------------
class OverallTimeout(Exception):
    """The overall per-report timeout expired."""


@contextlib.contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Raise :class:`OverallTimeout` after ``seconds`` (main thread of a process only)."""
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


def _external_plotlyjs() -> None:
    """Report kernels started from now on leave plotly.js out of the notebook (the HTML adds it)."""
    from dso_analytics.reporting.notebook import PLOTLYJS_ENV

    os.environ[PLOTLYJS_ENV] = "external"


def start_kernel() -> AsyncKernelManager | None:
    """Start a ``python3`` kernel now, without waiting for it (None when it cannot start).

    The kernel's start-up and imports (:data:`KERNEL_PRELOAD`) then overlap with
    other work; :func:`execute_notebook` runs the notebook on it and shuts it down.
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


def stop_kernel(km: AsyncKernelManager | None) -> None:
    """Shut down a kernel from :func:`start_kernel` (immediately; never raises)."""
    if km is None:
        return
    with contextlib.suppress(Exception):
        from jupyter_core.utils import run_sync

        if run_sync(km.is_alive)():
            run_sync(km.shutdown_kernel)(now=True)


#: A kernel started ahead of the first render in this process (:func:`warm_up`).
_warm: list[AsyncKernelManager] = []
_finalizer: list[Any] = []


def warm_up() -> None:
    """Start one report kernel ahead of time in this (worker) process, then import.

    A runner calls it when a worker starts, so the kernel boots and imports while
    the parent validates and computes; the next :func:`render` here takes it.
    The kernel is shut down when the process exits, if no render took it.
    Meanwhile this process imports what :func:`render` uses (papermill, the HTML
    exporter with its templates, the workbook and brief writers,
    :func:`preload_render`), so none of it is paid after the DSO is prepared.
    """
    warm_kernel()
    preload_render()


def warm_kernel() -> None:
    """Start a report kernel for the next :func:`render` in this process (not waited for);
    shut down when the process exits if no render takes it."""
    km = start_kernel()
    if km is None:
        return
    _warm.append(km)
    if not _finalizer:
        import multiprocessing.util

        _finalizer.append(multiprocessing.util.Finalize(None, _stop_warm, exitpriority=10))


def preload_render() -> None:
    """Import what :func:`render` needs and set up the HTML exporter (never raises)."""
    with contextlib.suppress(Exception):
        import papermill  # noqa: F401

        import dso_analytics.reporting.brief
        import dso_analytics.reporting.excel  # noqa: F401
        from dso_analytics.reporting.html import warm_exporter
        from dso_analytics.reporting.notebook import write_prepared  # noqa: F401

        warm_exporter()


def _stop_warm() -> None:
    while _warm:
        stop_kernel(_warm.pop())


def _take_kernel() -> AsyncKernelManager | None:
    """The warm kernel if one is alive, else a freshly started one."""
    while _warm:
        km = _warm.pop()
        with contextlib.suppress(Exception):
            from jupyter_core.utils import run_sync

            if run_sync(km.is_alive)():
                return km
        stop_kernel(km)
    return start_kernel()


def execute_notebook(
    template: Path,
    output: Path,
    parameters: Mapping[str, Any],
    cell_timeout: int,
    km: AsyncKernelManager | None = None,
) -> NotebookNode:
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


def error_line(exc: BaseException) -> str:
    """One line describing ``exc`` for the progress display and the failure summary."""
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
        return f"validation failed ({plural(n, 'problem')}); first: {first}"
    text = str(exc).strip().splitlines()
    return f"{name}: {text[0] if text else ''}" if not isinstance(exc, DsoError) else text[0]


# ---------------------------------------------------------------------------
# Publishing outputs
# ---------------------------------------------------------------------------


def _final_paths(folder: Path, template: Template, names: ReportNames) -> dict[str, Path]:
    """Every name a report of ``template`` owns in ``folder``: kind (``html``, ``xlsx``,
    ``ipynb``, ``pdf``) -> its dated file, ``failed`` -> the notebook a failed run leaves,
    ``ics`` / ``letters`` -> the calendar and the letters folder (fixed names)."""
    finals = {k: folder / n for k, n in names.dated.items() if k != "pdf" or template.brief}
    finals["failed"] = folder / names.failed
    if template.calendar:
        finals["ics"] = folder / CALENDAR_FILE
    if template.letters:
        finals["letters"] = folder / LETTERS_DIR
    return finals


def _move_into_place(
    folder: Path, template: Template, names: ReportNames, staged: Mapping[str, Path]
) -> Artifacts:
    """Publish the staged outputs as one unit (:func:`dso_analytics.runguard.publish_files`):
    the dated files, the fixed-name aliases linked to them, the calendar and the letters, in
    a staging folder unique to this call, swapped in whole, so a reader sees the previous set
    or this one, never a mix.  The dated files of other as-of dates stay; a stale ``failed``
    notebook goes."""
    from dso_analytics.runguard import publish_files

    finals = _final_paths(folder, template, names)
    # ipynb, xlsx, html (and the brief pdf, the calendar, the letters folder)
    files = {finals[k].name: staged[k] for k in staged}
    links = names.links([k for k in staged if k in names.dated])
    owned = {*names.owned(), *(p.name for p in finals.values())}
    publish_files(folder, files, owned, links=links)
    pdf = finals["pdf"] if "pdf" in staged else None
    ics = finals["ics"] if "ics" in staged else None
    letters: tuple[Path, ...] = ()
    if "letters" in staged:
        letters = tuple(finals["letters"] / p.name for p in sorted(staged["letters"].iterdir()))
    return Artifacts(html=finals["html"], xlsx=finals["xlsx"], ipynb=finals["ipynb"], pdf=pdf,
                     ics=ics, letters=letters)  # fmt: skip


def _keep_failed(folder: Path, template: Template, executed: Path) -> Path | None:
    """After a failure: the executed notebook (if any) is kept as ``<stem>.failed.ipynb``
    for debugging; the previous dated files, their aliases, the calendar and the letters
    stay as they were.  Never raises."""
    from dso_analytics.runguard import publish_files

    failed = folder / failed_name(template.stem)
    try:
        kept = executed.is_file()
    except (OSError, ValueError):
        kept = False
    with contextlib.suppress(OSError, DsoError):
        publish_files(folder, {failed.name: executed} if kept else {}, [failed.name])
        if kept:
            return failed
    return None


def clear_outputs(out: Path, template: Template) -> None:
    """A DSO that failed before rendering: remove a stale ``<stem>.failed.ipynb`` of an
    earlier run; its previous reports (dated files and aliases) stay as they were."""
    _keep_failed(out, template, out / "\0none")


@contextlib.contextmanager
def _staging(out: Path, template: Template, prefix: str) -> Iterator[tuple[Path, dict[str, Stage]]]:
    """A private work folder; on failure the executed notebook is kept in ``out`` as
    ``<stem>.failed.ipynb`` (the previous outputs stay) and :class:`StageFailed` raised."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    state: dict[str, Stage] = {"stage": Stage.NOTEBOOK}
    executed = work / f"{template.stem}.ipynb"
    try:
        yield work, state
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        kept = _keep_failed(out, template, executed)
        raise StageFailed(state["stage"], error_line(exc), kept) from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------------------
# render
# ---------------------------------------------------------------------------
def _write_actions(m: DsoMetrics, work: Path, template: Template) -> dict[str, Path]:
    """Write the calendar and the letters of one DSO into the staging folder ``work``."""
    if not (template.calendar or template.letters):
        return {}
    from dso_analytics.actions.render import write_report_actions

    written = write_report_actions(
        m, work, calendar_file=CALENDAR_FILE if template.calendar else None,
        letters_dir=LETTERS_DIR if template.letters else None,
    )  # fmt: skip
    staged: dict[str, Path] = {}
    if written["ics"] is not None:
        staged["ics"] = written["ics"]
    if written["letters"]:
        staged["letters"] = work / LETTERS_DIR
    return staged


def render(
    prepared: Prepared,
    template: Template,
    out: str | Path,
    *,
    cell_timeout: int = 600,
    timeout: int = 1800,
    warm_next: bool = False,
) -> Artifacts:
    """Render one DSO's report from its prepared metrics into the folder ``out``.

    Parameters
    ----------
    prepared : Prepared
        From :func:`prepare`.
    template : Template
        Usually :data:`DSO_REPORT`.
    out : str or Path
        The DSO's output folder; gets the dated ``<dso>-renewal-leverage-<as-of>.html|
        .xlsx|.ipynb|.pdf`` with their fixed-name aliases (:mod:`dso_analytics.report_names`),
        the calendar :data:`CALENDAR_FILE` and the letters in :data:`LETTERS_DIR` (as the
        template says), published as one set.
    cell_timeout, timeout : int
        Seconds per notebook cell / for the whole report.
    warm_next : bool
        Another report will render in this process: start its kernel now
        (:func:`warm_kernel`), so it boots while this one renders.

    Returns
    -------
    Artifacts

    Raises
    ------
    StageFailed
        With the stage (:class:`Stage`: ``notebook``, ``html``, ``workbook``,
        ``calendar and letters``, ``brief``, ``publish``) and one
        line; the previous dated files and their aliases stay as they were, the
        executed notebook is kept as ``<stem>.failed.ipynb``.
    """
    from dso_analytics.reporting.notebook import write_prepared
    from dso_analytics.standards import notebook_parameters

    out = Path(out)
    m = prepared.metrics
    km = None
    side: list[_OnThread] = []
    with _staging(out, template, f"dso-report-{prepared.dso}-") as (work, state):
        try:
            with deadline(timeout):
                km = _take_kernel()
                if warm_next:
                    warm_kernel()
                # the brief and the workbook need only the metrics: written on threads while
                # the kernel runs the notebook; a failure is raised in the order the stages
                # are named (notebook, html, workbook, actions, brief), as when run in turn
                brief = _OnThread(Stage.BRIEF, _write_brief, template, m, work)
                book = _OnThread(Stage.WORKBOOK, _write_dso_workbook, prepared, template, work)
                side += [brief, book]
                handoff = write_prepared(
                    work,
                    metrics=m,
                    validation=prepared.validation.to_dict(),
                    scenarios=prepared.scenarios,
                    negotiation=prepared.negotiation,
                )
                parameters = {
                    "dso_dir": str(prepared.dso_dir),
                    "prepared": str(handoff),
                    **notebook_parameters(prepared.params),
                }
                nb = execute_notebook(
                    template.path(), work / f"{template.stem}.ipynb", parameters, cell_timeout,
                    km=km,
                )  # fmt: skip
                km = None  # shut down by execute_notebook
                state["stage"] = Stage.HTML
                from dso_analytics.reporting.html import export_html

                html = export_html(
                    nb,
                    work / f"{template.stem}.html",
                    title=f"Renewal leverage: {m.display_name}",
                )
                staged = {"ipynb": work / f"{template.stem}.ipynb", "html": html,
                          "xlsx": book.result(state)}  # fmt: skip
                state["stage"] = Stage.ACTIONS
                staged.update(_write_actions(m, work, template))
                if (pdf := brief.result(state)) is not None:
                    staged["pdf"] = pdf
            state["stage"] = Stage.PUBLISH
            return _move_into_place(out, template, template.names(prepared.dso, m.as_of), staged)
        finally:
            stop_kernel(km)
            for job in side:
                job.join()  # before the staging folder is removed


def _write_dso_workbook(prepared: Prepared, template: Template, work: Path) -> Path:
    from dso_analytics.reporting.excel import write_dso_workbook

    return write_dso_workbook(
        prepared.metrics,
        work / f"{template.stem}.xlsx",
        validation_summary=prepared.validation,
        sources=prepared.sources,
        scenarios=prepared.scenarios,
    )


def _write_brief(
    template: Template, metrics: DsoMetrics | list[DsoMetrics], work: Path
) -> Path | None:
    """The one-page brief of one DSO (a list of metrics: the portfolio's), or None."""
    from dso_analytics.reporting.brief import (
        BRIEF_NAME,
        brief_available,
        write_brief,
        write_portfolio_brief,
    )

    if not (template.brief and brief_available()):  # needs Debian's chromium
        return None
    if isinstance(metrics, list):
        return write_portfolio_brief(metrics, work / BRIEF_NAME)
    return write_brief(metrics, work / BRIEF_NAME)


class _OnThread:
    """``fn(*args)`` run on a thread (a stage that overlaps the kernel's notebook run)."""

    def __init__(self, stage: Stage, fn: Callable[..., Any], *args: Any) -> None:
        self.stage = stage
        self._fn, self._args = fn, args
        self._value: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"dso-{stage}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._fn(*self._args)
        except BaseException as exc:  # noqa: BLE001 - re-raised by result()
            self._error = exc

    def join(self) -> None:
        """Wait for the thread (Chromium has its own timeout)."""
        self._thread.join()

    def result(self, state: dict[str, Stage]) -> Any:
        """The value; re-raises the thread's failure, ``state["stage"]`` naming this stage."""
        state["stage"] = self.stage
        self.join()
        if self._error is not None:
            raise self._error
        return self._value


def portfolio_as_of(prepared: Sequence[Prepared]) -> object:
    """The portfolio overview's as-of date (in its file names): the latest of its DSOs'."""
    import datetime as dt

    dates = [p.metrics.as_of for p in prepared if p.metrics.as_of is not None]
    return max(dates) if dates else dt.date.today()


def render_portfolio(
    prepared: Sequence[Prepared],
    template: Template,
    out: str | Path,
    *,
    portfolio_dir: str | Path,
    cell_timeout: int = 600,
    timeout: int = 1800,
) -> Artifacts:
    """Render the portfolio overview of the prepared DSOs into the folder ``out``.

    Parameters
    ----------
    prepared : sequence of Prepared
        The DSOs that rendered.
    template : Template
        Usually :data:`PORTFOLIO_REPORT`.
    out : str or Path
        The overview's output folder (``OUT/portfolio``).
    portfolio_dir : str or Path
        The portfolio folder (recorded in the notebook's parameters).
    cell_timeout, timeout : int
        Seconds per notebook cell / overall.

    Returns
    -------
    Artifacts

    Raises
    ------
    StageFailed
        As for :func:`render`.
    """
    from dso_analytics.reporting.notebook import write_prepared
    from dso_analytics.standards import notebook_parameters

    out = Path(out)
    km = None
    side: list[_OnThread] = []
    with _staging(out, template, "dso-report-portfolio-") as (work, state):
        try:
            with deadline(timeout):
                km = _take_kernel()
                from dso_analytics.metrics import compute_portfolio
                from dso_analytics.reporting.excel import write_portfolio_workbook
                from dso_analytics.reporting.html import export_html

                results = [p.metrics for p in prepared]
                brief = _OnThread(Stage.BRIEF, _write_brief, template, results, work)
                side.append(brief)  # printed while the kernel runs the notebook
                handoff = {}
                for i, p in enumerate(prepared):
                    (work / f"{i:04d}").mkdir()
                    handoff[p.dso] = str(
                        write_prepared(
                            work / f"{i:04d}", metrics=p.metrics, negotiation=p.negotiation
                        )
                    )
                state["stage"] = Stage.WORKBOOK
                xlsx = write_portfolio_workbook(
                    results, compute_portfolio(results), work / f"{template.stem}.xlsx"
                )
                state["stage"] = Stage.NOTEBOOK
                common = notebook_parameters(prepared[0].params) if prepared else {}
                nb = execute_notebook(
                    template.path(),
                    work / f"{template.stem}.ipynb",
                    {"portfolio_dir": str(portfolio_dir), "prepared": handoff, **common},
                    cell_timeout,
                    km=km,
                )
                km = None
                state["stage"] = Stage.HTML
                html = export_html(nb, work / f"{template.stem}.html", title="Portfolio overview")
                staged = {"ipynb": work / f"{template.stem}.ipynb", "xlsx": xlsx, "html": html}
                state["stage"] = Stage.ACTIONS
                if template.calendar:
                    from dso_analytics.actions.render import write_portfolio_calendar

                    staged["ics"] = write_portfolio_calendar(results, work / CALENDAR_FILE)
                if (pdf := brief.result(state)) is not None:
                    staged["pdf"] = pdf
            state["stage"] = Stage.PUBLISH
            names = template.names("", portfolio_as_of(prepared))
            return _move_into_place(out, template, names, staged)
        finally:
            stop_kernel(km)
            for job in side:
                job.join()  # before the staging folder is removed


# ---------------------------------------------------------------------------
# The negotiation scenarios notebook (``dso-analytics scenarios --notebook``)
# ---------------------------------------------------------------------------
#: The M8 notebook: static when rendered (sliders only in JupyterLab).
SCENARIOS_NOTEBOOK = Template("negotiation_scenarios.ipynb", "negotiation-scenarios")


def render_scenarios_notebook(
    prepared: Prepared,
    out: str | Path,
    *,
    scenarios_file: str | Path | None = None,
    term_months: int | None = None,
    dataset: DsoDataset | None = None,
    cell_timeout: int = 600,
) -> tuple[Path, Path]:
    """Execute the negotiation scenarios notebook on a comparison already made.

    The kernel reads ``prepared.metrics`` and ``prepared.scenarios`` from the
    hand-off (:func:`~dso_analytics.reporting.notebook.write_prepared`): it
    neither validates nor recomputes, so the notebook shows the figures the
    caller printed.  Writes ``out`` (the executed ``.ipynb``) and the offline
    HTML next to it (same name, ``.html``).

    Parameters
    ----------
    prepared : Prepared
        Its ``scenarios`` is the comparison to show.
    out : str or Path
        The executed notebook to write (``*.ipynb``; its folder must exist).
    scenarios_file, term_months : optional
        Recorded as notebook parameters, so the notebook re-run by hand in
        JupyterLab compares the same scenarios.
    dataset : DsoDataset, optional
        The validated dataset (the sliders of a re-run need it).
    cell_timeout : int
        Seconds per cell.

    Returns
    -------
    (Path, Path)
        The executed notebook and the HTML.

    Raises
    ------
    DsoError
        When ``out`` is not an ``.ipynb`` path in an existing folder (exit 2).
    StageFailed
        When a cell fails (the executed notebook is kept as ``*.failed.ipynb``).
    """
    from dso_analytics.reporting.html import export_html
    from dso_analytics.reporting.notebook import write_prepared
    from dso_analytics.standards import notebook_parameters

    out = Path(out)
    if out.suffix.lower() != ".ipynb":
        raise DsoError(f"{out}: --notebook names the .ipynb file to write")
    if not out.parent.is_dir():
        raise DsoError(f"{out.parent}: no such folder (for {out.name})")
    html = out.with_suffix(".html")
    m = prepared.metrics
    work = Path(tempfile.mkdtemp(prefix=f"dso-scenarios-{prepared.dso}-"))
    try:
        handoff = write_prepared(work, dataset=dataset, metrics=m, scenarios=prepared.scenarios)
        parameters: dict[str, Any] = {
            "dso_dir": str(prepared.dso_dir),
            "prepared": str(handoff),
            "interactive": False,
            **notebook_parameters(prepared.params),
        }
        if scenarios_file is not None:
            parameters["scenarios_file"] = str(Path(scenarios_file).resolve())
        if term_months is not None:
            parameters["term_months"] = int(term_months)
        executed = work / out.name
        try:
            nb = execute_notebook(
                SCENARIOS_NOTEBOOK.path(), executed, parameters, cell_timeout, km=start_kernel()
            )
        except Exception as exc:  # noqa: BLE001 - one line, the failed notebook kept
            failed = None
            if executed.is_file():
                failed = out.with_name(out.stem + ".failed.ipynb")
                shutil.copyfile(executed, failed)
            raise StageFailed(Stage.NOTEBOOK, error_line(exc), failed) from exc
        try:
            staged_html = export_html(
                nb, work / html.name, title=f"Negotiation scenarios: {m.display_name}"
            )
        except Exception as exc:  # noqa: BLE001
            raise StageFailed(Stage.HTML, error_line(exc)) from exc
        for src, dst in ((executed, out), (staged_html, html)):
            tmp = dst.with_name(f".{dst.name}.tmp")
            shutil.copyfile(src, tmp)
            os.replace(tmp, dst)
        return out, html
    finally:
        shutil.rmtree(work, ignore_errors=True)
