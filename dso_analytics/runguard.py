"""Run safety for report runs: parent-death, one run per output folder, atomic publishing.

Three small, orchestration-free tools the pipeline calls:

* :func:`die_with_parent` -- a process-pool initializer: on Linux the worker asks
  the kernel (``prctl(PR_SET_PDEATHSIG)``, through :mod:`ctypes`) to be killed
  when the process that started it dies, so a ``kill -9`` of ``dso-analytics``
  never leaves workers running (and publishing).  Report kernels already exit
  when their worker goes (ipykernel polls ``JPY_PARENT_PID``).
* :class:`OutputLock` -- one run at a time per output folder (``flock`` on the
  folder itself, released by the OS even when the holder is killed); a second
  run is refused with one line naming the run that holds it.
* :func:`publish_folder` -- the outputs of one DSO are built in a staging folder
  unique to the run (:func:`staging_root`) and swapped in as one unit
  (``renameat2(RENAME_EXCHANGE)`` on Linux): a reader sees the old set or the
  new set, never a mix of two runs.  Entries the run does not own (letters, a
  calendar) are carried over into the new folder.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import datetime as _dt
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from dso_analytics.atomic import umask
from dso_analytics.errors import DsoError, printable

__all__ = [
    "OutputBusy",
    "OutputFolderError",
    "OutputLock",
    "die_with_parent",
    "new_run_id",
    "prepare_output_dir",
    "publish_files",
    "publish_folder",
    "remove_stale_staging",
    "HealingPool",
    "WorkerCrashed",
    "staging_root",
]

#: Prefix of the per-run staging folders inside an output folder.
STAGING_PREFIX = ".dso-staging-"
_PR_SET_PDEATHSIG = 1
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


# ---------------------------------------------------------------------------
# Parent death
# ---------------------------------------------------------------------------
def _libc() -> Any | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    except OSError:
        return None


def die_with_parent(main_pid: int | None = None, sig: int = signal.SIGKILL) -> bool:
    """Ask to be killed with ``sig`` when the parent process dies (Linux; no-op elsewhere).

    Use as a ``ProcessPoolExecutor`` initializer (``initargs=(os.getpid(),)``).
    When the parent or ``main_pid`` is already gone, exits at once.

    Parameters
    ----------
    main_pid : int, optional
        The process that started the pool; checked to be alive after the request.
    sig : int
        Signal delivered on the parent's death (default ``SIGKILL``: a worker
        must not go on publishing after the run was killed).

    Returns
    -------
    bool
        True when the request was made.
    """
    libc = _libc()
    if libc is None:
        return False
    parent = os.getppid()
    if libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        return False
    orphaned = os.getppid() != parent or parent == 1
    if main_pid is not None and not orphaned:
        try:
            os.kill(main_pid, 0)
        except ProcessLookupError:
            orphaned = True
        except PermissionError:
            pass
    if orphaned:
        os._exit(1)
    return True


# ---------------------------------------------------------------------------
# One run per output folder
# ---------------------------------------------------------------------------
class OutputBusy(DsoError):
    """Another run holds the output folder (exit code 2)."""

    exit_code = 2


def _holder_file(folder: Path) -> Path:
    key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:24]
    return Path(tempfile.gettempdir()) / "dso-analytics-locks" / f"{key}.json"


class OutputLock:
    """An exclusive lock on an output folder for the duration of one run.

    ``flock`` is taken on the folder itself (no lock file inside it) and is
    released by the operating system when the holder exits or is killed, so a
    lock is never stale.  Who holds it (pid, host, start time) is recorded in
    the temporary folder, for the refusal message.

    Parameters
    ----------
    folder : Path
        The output folder (must exist).
    run_id : str
        The run's id (:func:`new_run_id`).
    """

    def __init__(self, folder: Path, run_id: str) -> None:
        self.folder = Path(folder)
        self.run_id = run_id
        self._fd: int | None = None

    def acquire(self) -> OutputLock:
        """Take the lock or raise :class:`OutputBusy` naming the holder."""
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock (documented)
            return self
        fd = os.open(self.folder, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise OutputBusy(
                f"{self.folder}: another report run is writing here ({self._holder()}); "
                "wait for it to finish or give another --out"
            ) from None
        self._fd = fd
        with contextlib.suppress(OSError):
            info = _holder_file(self.folder)
            info.parent.mkdir(parents=True, exist_ok=True)
            started = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            info.write_text(
                json.dumps(
                    {
                        "pid": os.getpid(),
                        "host": socket.gethostname(),
                        "started": started,
                        "run": self.run_id,
                    }  # fmt: skip
                ),
                encoding="utf-8",
            )
        return self

    def _holder(self) -> str:
        try:
            d = json.loads(_holder_file(self.folder).read_text(encoding="utf-8"))
            return printable(
                f"run {d['run']}, pid {d['pid']} on {d['host']}, started {d['started']}"
            )
        except (OSError, ValueError, KeyError, TypeError):
            return "run unknown"

    def release(self) -> None:
        """Release the lock (idempotent)."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            _holder_file(self.folder).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            os.close(self._fd)  # closing the descriptor releases the flock
        self._fd = None

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


class OutputFolderError(DsoError):
    """The output folder cannot be used (a file, no permission): exit code 2."""

    exit_code = 2


def prepare_output_dir(out_dir: str | Path, option: str = "--out") -> Path:
    """Create the output folder, or refuse in one line (never a traceback).

    Parameters
    ----------
    out_dir : str or Path
        The folder.
    option : str
        How the user named it (for the message).

    Returns
    -------
    Path

    Raises
    ------
    OutputFolderError
        It is an existing file, or it cannot be created.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OutputFolderError(f"{option} {printable(out)}: is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputFolderError(
            f"{option} {printable(out)}: cannot be created ({e.strerror or type(e).__name__})"
        ) from None
    return out


# ---------------------------------------------------------------------------
# Staging and publishing
# ---------------------------------------------------------------------------
def new_run_id() -> str:
    """A run id unique on this machine and across hosts sharing a folder."""
    return f"{os.getpid()}-{secrets.token_hex(4)}"


def staging_root(out_dir: str | Path, run_id: str) -> Path:
    """Return (and create) the run's private staging folder inside ``out_dir``.

    On the same file system as the outputs, so a staged folder is renamed into
    place, never copied.
    """
    root = Path(out_dir) / f"{STAGING_PREFIX}{run_id}"
    root.mkdir(parents=True, exist_ok=True)
    return root


def remove_stale_staging(out_dir: str | Path, keep: str | None = None) -> None:
    """Remove staging folders left by killed runs (call while holding the folder's lock)."""
    with contextlib.suppress(OSError):
        for p in Path(out_dir).iterdir():
            if p.name.startswith(STAGING_PREFIX) and p.name != f"{STAGING_PREFIX}{keep}":
                shutil.rmtree(p, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux ``renameat2``); False when unsupported."""
    libc = _libc()
    fn = getattr(libc, "renameat2", None) if libc is not None else None
    if fn is None:
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


def publish_folder(staged: Path, final: Path, owned: Iterable[str]) -> None:
    """Make ``staged`` the content of ``final`` in one step.

    Parameters
    ----------
    staged : Path
        A complete folder of outputs (inside :func:`staging_root`).
    final : Path
        Where readers look (``OUT/<slug>``); created when missing.
    owned : iterable of str
        Names this run writes; every other entry of ``final`` (letters, a
        calendar written by other commands) is moved into the new folder first.
    """
    owned = set(owned)
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.is_symlink() or (final.exists() and not final.is_dir()):
        raise DsoError(f"{final}: exists and is not a folder; remove it")
    if final.is_dir():
        for entry in final.iterdir():
            if entry.name not in owned and not (staged / entry.name).exists():
                with contextlib.suppress(OSError):
                    os.rename(entry, staged / entry.name)
        if _exchange(staged, final):
            shutil.rmtree(staged, ignore_errors=True)  # now the previous set
            return
        old = staged.with_name(staged.name + ".old")
        os.rename(final, old)  # no exchange available: absent for an instant, never mixed
        os.rename(staged, final)
        shutil.rmtree(old, ignore_errors=True)
        return
    os.rename(staged, final)


def publish_files(
    folder: Path,
    files: Mapping[str, Path],
    owned: Iterable[str],
    links: Mapping[str, str] | None = None,
) -> None:
    """Publish ``files`` (and ``links``) as the new set of ``owned`` outputs of ``folder``,
    in one swap.

    The files are copied into a fresh staging folder next to ``folder`` (unique
    per call, so two runs never share a staging name), the links created there,
    and the folder is then swapped in with :func:`publish_folder`.  Owned names
    not in ``files`` or ``links`` disappear; other entries are kept (the dated
    reports of other as-of dates, letters written by another command).

    Parameters
    ----------
    folder : Path
        ``OUT/<slug>``.
    files : mapping of str to Path
        Final name -> finished file or folder (anywhere, e.g. a temporary work
        folder); a folder is copied whole.
    owned : iterable of str
        Every name this kind of run writes into ``folder``.
    links : mapping of str to str, optional
        Alias name -> the name it links to, relative, in the same folder
        (``renewal-leverage.html`` -> ``<dso>-renewal-leverage-<as-of>.html``);
        switched with the files, so a link never points at a missing file.
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{new_run_id()}-", dir=folder.parent))
    try:
        os.chmod(staged, 0o777 & ~umask())  # readable like any folder the user creates
        for name, src in files.items():
            if Path(src).is_dir():
                shutil.copytree(src, staged / name)
            else:
                shutil.copyfile(src, staged / name)
        for name, target in (links or {}).items():
            if Path(target).name != target:
                raise DsoError(f"{name}: an alias links to a file of its own folder, not {target}")
            os.symlink(target, staged / name)
        publish_folder(staged, folder, owned)
    finally:
        shutil.rmtree(staged, ignore_errors=True)


# ---------------------------------------------------------------------------
# A process pool that survives a worker's death
# ---------------------------------------------------------------------------
class WorkerCrashed(RuntimeError):
    """The worker process running a job died (killed, out of memory, a crashing library)."""


def _worker_init(main_pid: int, init: Any, initargs: tuple[Any, ...]) -> None:
    die_with_parent(main_pid)
    if init is not None:
        init(*initargs)


class HealingPool:
    """A ``ProcessPoolExecutor`` whose worker's death fails only the job that killed it.

    When a worker dies, Python's pool fails every job in flight and refuses new
    ones.  Here the broken pool is replaced at once, and each job that was in
    flight is run again alone, in a one-worker pool of its own: the job that
    kills its worker again fails with :class:`WorkerCrashed`; the others finish
    normally.  Workers die with this process (:func:`die_with_parent`).

    Replacement pools are started from one long-lived thread of this object
    (a parent-death signal follows the *thread* that started a process).

    Parameters
    ----------
    max_workers : int
        Worker processes.
    mp_context : multiprocessing context, optional
        E.g. ``multiprocessing.get_context("spawn")``.
    initializer : callable, optional
        Run in each worker as it starts (after the parent-death request).
    initargs : tuple
        Its arguments.
    """

    def __init__(
        self,
        max_workers: int,
        mp_context: Any = None,
        initializer: Any = None,
        initargs: tuple[Any, ...] = (),
    ) -> None:
        import queue
        import threading

        self._max = max(1, int(max_workers))
        self._ctx = mp_context
        self._init = (os.getpid(), initializer, tuple(initargs))
        self._lock = threading.RLock()
        self._pool = self._new(self._max)
        self._isolated: set[Any] = set()
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._spawner = threading.Thread(target=self._respawn_loop, daemon=True)
        self._spawner.start()
        #: how many times a broken pool was replaced (for tests and logs)
        self.rebuilds = 0

    def _new(self, workers: int) -> Any:
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor(
            max_workers=workers, mp_context=self._ctx, initializer=_worker_init,
            initargs=self._init,
        )  # fmt: skip

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Run ``fn(*args, **kwargs)`` in a worker; returns a ``Future``."""
        from concurrent.futures import Future

        outer: Future[Any] = Future()
        self._start((fn, args, kwargs, outer), alone=False)
        return outer

    def _start(self, task: tuple[Any, ...], alone: bool) -> None:
        fn, args, kwargs, outer = task
        from concurrent.futures.process import BrokenProcessPool

        with self._lock:
            pool = self._new(1) if alone else self._pool
            if alone:
                self._isolated.add(pool)
            try:
                inner = pool.submit(fn, *args, **kwargs)
            except (BrokenProcessPool, RuntimeError):
                if alone:
                    outer.set_exception(WorkerCrashed("no worker process could be started"))
                    return
                self._replace(pool)
                inner = self._pool.submit(fn, *args, **kwargs)
                pool = self._pool
        inner.add_done_callback(lambda f: self._done(task, pool, alone, f))

    def _replace(self, broken: Any) -> None:
        with self._lock:
            if broken is self._pool:
                broken.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new(self._max)
                self.rebuilds += 1

    def _done(self, task: tuple[Any, ...], pool: Any, alone: bool, f: Any) -> None:
        from concurrent.futures.process import BrokenProcessPool

        outer = task[3]
        exc = None if f.cancelled() else f.exception()
        if isinstance(exc, BrokenProcessPool):
            if alone:
                outer.set_exception(
                    WorkerCrashed("the worker process running it died (killed or crashed)")
                )
            else:
                self._replace(pool)
                self._queue.put(task)  # run it again, alone (from the long-lived thread)
        elif f.cancelled():
            outer.cancel()
        elif exc is not None:
            outer.set_exception(exc)
        else:
            outer.set_result(f.result())
        if alone:
            with self._lock:
                self._isolated.discard(pool)
            pool.shutdown(wait=False)

    def _respawn_loop(self) -> None:
        while (task := self._queue.get()) is not None:
            self._start(task, alone=True)

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        """Stop the workers (as ``ProcessPoolExecutor.shutdown``)."""
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)
        with self._lock:
            extra = list(self._isolated)
        for p in extra:
            p.shutdown(wait=wait, cancel_futures=cancel_futures)
        self._queue.put(None)
        if wait:
            self._spawner.join(timeout=5)

    def __enter__(self) -> HealingPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown(wait=True)
