"""Runners: where the pipeline's jobs run.  A runner knows nothing about stages.

The pipeline (:func:`dso_analytics.pipeline.render_reports`) submits top-level
functions with picklable arguments and waits on standard
:class:`concurrent.futures.Future` objects; anything that implements
:class:`Runner` can carry them:

* :class:`LocalRunner`: a pool of worker processes on this machine (``--jobs N``);
* :class:`dso_analytics.distributed.DaskRunner`: the workers of a Dask cluster
  (``--scheduler tcp://HOST:PORT``).

A worker that dies surfaces as the future's exception.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Callable
from concurrent.futures import Future
from types import TracebackType
from typing import ParamSpec, Protocol, TypeVar, runtime_checkable

T = TypeVar("T")
P = ParamSpec("P")


@runtime_checkable
class Runner(Protocol):
    """What the pipeline needs from a place to run jobs."""

    #: how many jobs run at the same time (the pipeline sizes nothing else on it)
    workers: int

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Run ``fn(*args, **kwargs)`` on a worker; ``fn`` is a top-level function."""
        ...

    def close(self, cancel: bool = False) -> None:
        """Release the workers (cancelling what has not started when ``cancel``)."""
        ...

    def __enter__(self) -> Runner: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def _noop() -> None:
    return None


class LocalRunner:
    """A pool of ``jobs`` worker processes (``spawn``: no state inherited from the parent).

    The pool is a :class:`dso_analytics.runguard.HealingPool`: workers die with this
    process, and a worker that dies fails only its own job (the pool is rebuilt and the
    jobs that were running beside it run again, alone).

    Parameters
    ----------
    jobs : int
        Worker processes.
    warm_up : callable, optional
        Run once in each worker as it starts (e.g. start a report kernel ahead of
        the first job); the workers start as soon as the runner is entered.
    """

    def __init__(self, jobs: int = 1, warm_up: Callable[[], None] | None = None) -> None:
        from dso_analytics.runguard import HealingPool

        self.workers = max(1, int(jobs))
        self._pool = HealingPool(
            self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=warm_up
        )

    def __enter__(self) -> LocalRunner:
        # start every worker now (the pool starts them lazily): their start-up and
        # warm-up overlap with what the parent does before the first job
        for _ in range(self.workers):
            self._pool.submit(_noop)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(cancel=exc_type is not None)

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Run ``fn(*args, **kwargs)`` in a worker process."""
        return self._pool.submit(fn, *args, **kwargs)

    def close(self, cancel: bool = False) -> None:
        """Wait for the running jobs and stop the workers."""
        with contextlib.suppress(Exception):
            self._pool.shutdown(wait=True, cancel_futures=cancel)
