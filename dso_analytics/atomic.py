"""Write a file so that readers see the old one or the new one, never a half-written one.

One rule for every file the toolkit writes in place (workbooks, HTML, calendars,
letters, logs, drafts, imported billing files): write to a temporary file beside the
target, give it the permissions of any file the user creates (``0o666`` minus the
umask: ``tempfile.mkstemp`` alone leaves ``0o600``, which a colleague on a shared drive
cannot open), then rename it over the target in one step. On failure the temporary file
is removed and the target is untouched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def umask() -> int:
    """Return the process umask (read without changing it for longer than an instant)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def replacing(final: str | Path, *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; publish it as ``final`` when the block succeeds.

    Parameters
    ----------
    final : str or Path
        The file to write (its folder is created).
    overwrite : bool, default True
        ``False``: publish with a hard link, which fails with :class:`FileExistsError`
        if ``final`` exists (no check-then-write race).

    Yields
    ------
    Path
        The temporary file to write (it exists, empty); same folder, so the rename is atomic.

    Raises
    ------
    FileExistsError
        ``overwrite=False`` and ``final`` exists.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{final.stem}.", suffix=f"{final.suffix}.tmp",
                                dir=final.parent)  # fmt: skip
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~umask())
        if overwrite:
            os.replace(tmp, final)
        else:
            try:
                os.link(tmp, final)  # fails if final exists: no check-then-write race
            except FileExistsError:
                raise
            except OSError:  # a file system without hard links: check, then rename
                if final.exists():
                    raise FileExistsError(final) from None
                os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
