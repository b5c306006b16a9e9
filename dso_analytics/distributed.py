"""Run the per-DSO report jobs on a Dask distributed cluster (``report --scheduler``).

``dso-analytics report --all PORTFOLIO --scheduler tcp://HOST:PORT`` hands every
DSO's :func:`dso_analytics.pipeline.render_one` to the scheduler instead of the
local process pool; the portfolio overview runs on the cluster too, after the
DSOs.  Each worker needs the package installed (same version), the ``python3``
Jupyter kernel, read access to the DSO folders and write access to ``--out``
at the same paths as the client (e.g. a shared file system); see
``docs/scale-out.md``.

What crosses the network is small: a :class:`~dso_analytics.pipeline.DsoJob`
(paths and parameters) out, a :class:`~dso_analytics.pipeline.DsoResult`
back, plus the pickled metrics of each DSO that the portfolio overview needs
(those live in a worker's private temporary folder, which other machines cannot
see, so they travel as bytes).

Dask is optional: without it, :func:`connect` raises a
:class:`~dso_analytics.errors.DsoError` asking to install
``dso-analytics[dask]``.  Nothing here imports Dask at module import time.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import dataclasses
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from dso_analytics.errors import DsoError

__all__ = ["DaskExecutor", "connect", "run_on_dask"]

INSTALL_HINT = "install dso-analytics[dask] (pip install 'dso-analytics[dask]')"
CONNECT_TIMEOUT = 30


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise DsoError(
            f"--scheduler needs Dask distributed, which is not installed: {INSTALL_HINT}"
        ) from None
    return distributed


def connect(scheduler_address: str, timeout: float = CONNECT_TIMEOUT) -> Any:
    """Connect a :class:`distributed.Client` to ``scheduler_address``.

    Parameters
    ----------
    scheduler_address : str
        ``tcp://HOST:PORT`` (or any address Dask accepts).
    timeout : float
        Seconds to wait for the scheduler.

    Returns
    -------
    distributed.Client

    Raises
    ------
    DsoError
        When Dask is not installed or the scheduler cannot be reached.
    """
    distributed = _distributed()
    try:
        return distributed.Client(scheduler_address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise DsoError(f"cannot reach the Dask scheduler at {scheduler_address}: {first}") from None


# ---------------------------------------------------------------------------
# What runs on a worker (top-level functions: Dask pickles them by reference)
# ---------------------------------------------------------------------------
def _render_remote(job: Any) -> tuple[Any, bytes | None]:
    """Run ``render_one`` on a worker; ship the prepared metrics back as bytes."""
    from dso_analytics.pipeline import render_one

    res = render_one(job)
    payload = None
    if res.prepared:
        prepared = Path(res.prepared)
        try:
            payload = prepared.read_bytes()
        finally:
            shutil.rmtree(prepared.parent, ignore_errors=True)
        res.prepared = None
    return res, payload


def _portfolio_remote(payloads: Mapping[str, bytes], out_dir: str, **kwargs: Any) -> Any:
    """Write the shipped prepared metrics into a private folder, then ``render_portfolio``."""
    from dso_analytics.pipeline import render_portfolio
    from dso_analytics.reporting.notebook import PREPARED_FILE

    work = Path(tempfile.mkdtemp(prefix="dso-dask-portfolio-"))
    try:
        prepared = {}
        for i, (slug, data) in enumerate(payloads.items()):
            d = work / f"{i:04d}"
            d.mkdir()
            (d / PREPARED_FILE).write_bytes(data)
            prepared[slug] = str(d / PREPARED_FILE)
        return render_portfolio(prepared, out_dir, **kwargs)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------------------
# Client side
# ---------------------------------------------------------------------------
def _unpack(value: tuple[Any, bytes | None]) -> Any:
    """Client side of :func:`_render_remote`: store the prepared bytes in a local temp folder."""
    from dso_analytics.reporting.notebook import PREPARED_FILE

    res, payload = value
    if payload is not None:
        d = Path(tempfile.mkdtemp(prefix=f"dso-prepared-{res.dso}-"))
        (d / PREPARED_FILE).write_bytes(payload)
        res.prepared = str(d / PREPARED_FILE)
    return res


def _absolute_job(job: Any) -> Any:
    """The job with absolute paths (workers do not share the client's working directory)."""
    return dataclasses.replace(
        job, dso_dir=str(Path(job.dso_dir).resolve()), out_dir=str(Path(job.out_dir).resolve())
    )


class DaskExecutor(cf.Executor):
    """A :class:`concurrent.futures.Executor` that runs the pipeline's jobs on a Dask cluster.

    ``submit(render_one, job)`` and ``submit(render_portfolio, prepared, out_dir, ...)``
    behave as with the local process pool: the returned futures are standard
    :class:`concurrent.futures.Future` objects (``as_completed`` works), a
    ``render_one`` result's ``prepared`` is a local file, and a worker that dies
    surfaces as the future's exception.  Any other function is submitted as is.

    Parameters
    ----------
    scheduler_address : str
        ``tcp://HOST:PORT`` of a running ``dask scheduler``.
    client : distributed.Client, optional
        An existing client (then not closed by :meth:`shutdown`).
    """

    def __init__(self, scheduler_address: str | None = None, client: Any = None) -> None:
        if client is None and not scheduler_address:
            raise DsoError("a Dask scheduler address is required (tcp://HOST:PORT)")
        self._own = client is None
        self.client = client if client is not None else connect(str(scheduler_address))
        self._pending: set[Any] = set()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future:
        """Submit ``fn(*args, **kwargs)`` to the cluster; return a concurrent.futures Future."""
        from dso_analytics import pipeline

        post: Callable[[Any], Any] | None = None
        remote: Callable[..., Any] = fn
        if fn is pipeline.render_one:
            remote, post = _render_remote, _unpack
            args = (_absolute_job(args[0]), *args[1:])
        elif fn is pipeline.render_portfolio:
            prepared, out_dir, *rest = args
            payloads = {slug: Path(p).read_bytes() for slug, p in dict(prepared).items()}
            remote = _portfolio_remote
            args = (payloads, str(Path(out_dir).resolve()), *rest)
            if "portfolio_dir" in kwargs:
                kwargs["portfolio_dir"] = str(Path(kwargs["portfolio_dir"]).resolve())
        dfut = self.client.submit(remote, *args, pure=False, **kwargs)
        out: cf.Future = cf.Future()
        out.set_running_or_notify_cancel()
        self._pending.add(dfut)

        def _done(f: Any) -> None:  # runs on a client thread when the task finishes
            self._pending.discard(f)
            try:
                value = f.result()
                out.set_result(post(value) if post else value)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                out.set_exception(exc)

        dfut.add_done_callback(_done)
        return out

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Cancel what is still pending when asked, then close the client if we opened it."""
        if cancel_futures and self._pending:
            with contextlib.suppress(Exception):
                self.client.cancel(list(self._pending))
        if self._own:
            with contextlib.suppress(Exception):
                self.client.close()


def run_on_dask(
    jobs: Sequence[Any],
    scheduler_address: str | None = None,
    *,
    client: Any = None,
    progress: bool = True,
) -> list[Any]:
    """Render each DSO job on a Dask cluster; return one result per job, in job order.

    Parameters
    ----------
    jobs : sequence of DsoJob
        One per DSO (see :class:`dso_analytics.pipeline.DsoJob`).
    scheduler_address : str, optional
        ``tcp://HOST:PORT``; or pass ``client``.
    client : distributed.Client, optional
        An existing client.
    progress : bool
        Print one line per finished DSO (stderr), as the local pool does.

    Returns
    -------
    list of DsoResult
        A DSO that failed (or whose worker died) has ``ok=False`` and a one-line
        ``error``; the others are unaffected.  A result's ``prepared`` (when the
        job kept it) is a file in a local temporary folder the caller removes.

    Raises
    ------
    DsoError
        When Dask is not installed or the scheduler cannot be reached.
    """
    from dso_analytics.pipeline import DsoResult, render_one

    results: dict[int, Any] = {}
    with DaskExecutor(scheduler_address, client=client) as ex:
        futures = {ex.submit(render_one, job): i for i, job in enumerate(jobs)}
        for fut in cf.as_completed(futures):
            i = futures[fut]
            try:
                r = fut.result()
            except Exception as exc:  # noqa: BLE001 - a worker died or the task was lost
                first = (str(exc).strip().splitlines() or [""])[0]
                r = DsoResult(dso=Path(jobs[i].dso_dir).resolve().name, ok=False,
                              stage="worker", error=f"{type(exc).__name__}: {first}")  # fmt: skip
            results[i] = r
            if progress:
                print(f"[{len(results)}/{len(jobs)}] {r.line()}", file=sys.stderr, flush=True)
    return [results[i] for i in range(len(jobs))]
