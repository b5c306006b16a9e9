"""Run the pipeline's jobs on a Dask distributed cluster (``report --scheduler``).

``dso-analytics report --all PORTFOLIO --scheduler tcp://HOST:PORT`` hands every
DSO's render job, and the portfolio overview, to the scheduler instead of the
local process pool: :class:`DaskRunner` implements the
:class:`~dso_analytics.runner.Runner` protocol, and the pipeline runs the same
batch loop on it as on the local pool.  It knows nothing about the pipeline's
stages: jobs are top-level functions with picklable arguments (paths are made
absolute by the pipeline, prepared metrics travel inside the job).

Each worker needs the package installed (same version), the ``python3``
Jupyter kernel, read access to the DSO folders and write access to ``--out``
at the same paths as the client (e.g. a shared file system); see
``docs/scale-out.md``.  Validation and metrics run in the client process.

Dask is optional: without it, :func:`connect` raises a
:class:`~dso_analytics.errors.DsoError` asking to install
``dso-analytics[dask]``.  Nothing here imports Dask at module import time.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
from collections.abc import Callable
from typing import Any, TypeVar

from dso_analytics.errors import DsoError

__all__ = ["DaskRunner", "connect"]

T = TypeVar("T")

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


class DaskRunner:
    """A :class:`~dso_analytics.runner.Runner` on a Dask cluster.

    ``submit`` returns a standard :class:`concurrent.futures.Future`; a worker that
    dies (or a lost task) surfaces as that future's exception.

    Parameters
    ----------
    scheduler_address : str, optional
        ``tcp://HOST:PORT`` of a running ``dask scheduler``.
    client : distributed.Client, optional
        An existing client (then not closed by :meth:`close`).
    """

    def __init__(self, scheduler_address: str | None = None, client: Any = None) -> None:
        if client is None and not scheduler_address:
            raise DsoError("a Dask scheduler address is required (tcp://HOST:PORT)")
        self._own = client is None
        self.client = client if client is not None else connect(str(scheduler_address))
        self._pending: set[Any] = set()
        try:
            threads = dict(self.client.nthreads())
        except Exception:  # noqa: BLE001 - only used for sizing
            threads = {}
        self.workers = max(1, sum(threads.values()))

    def __enter__(self) -> DaskRunner:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.close(cancel=exc_type is not None)

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> cf.Future[T]:
        """Submit ``fn(*args, **kwargs)`` to the cluster; return a concurrent.futures Future."""
        dfut = self.client.submit(fn, *args, pure=False, **kwargs)
        out: cf.Future[T] = cf.Future()
        out.set_running_or_notify_cancel()
        self._pending.add(dfut)

        def _done(f: Any) -> None:  # runs on a client thread when the task finishes
            self._pending.discard(f)
            try:
                out.set_result(f.result())
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                out.set_exception(exc)

        dfut.add_done_callback(_done)
        return out

    def close(self, cancel: bool = False) -> None:
        """Cancel what is still pending when asked, then close the client if we opened it."""
        if cancel and self._pending:
            with contextlib.suppress(Exception):
                self.client.cancel(list(self._pending))
        if self._own:
            with contextlib.suppress(Exception):
                self.client.close()
