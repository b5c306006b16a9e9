"""One rule for walking a DSO folder, shared by ingest and the snapshot key.

The files ingest reads and the files the snapshot key hashes must be found the
same way, or an edit could be read but not noticed (a stale snapshot served).
The rule:

* hidden entries (``.name``) and Office lock files (``~$name``) are skipped;
* a **symbolically linked folder** anywhere inside the DSO folder (``billing/``
  itself, or a sub-folder of it) is refused with one line naming it
  (:class:`~dso_analytics.errors.InputFileError`, exit code 2): put the files
  themselves in the DSO folder;
* a symbolically linked *file* is listed (ingest then refuses it when it points
  outside the DSO folder).

No heavy imports: the snapshot key is computed before anything is parsed.
"""

from __future__ import annotations

import os
from pathlib import Path

from dso_analytics.errors import InputFileError

__all__ = ["LINKED_FOLDER_PROBLEM", "is_skipped_name", "walk_files"]

#: The refusal, after the folder's relative path.
LINKED_FOLDER_PROBLEM = (
    "is a link to a folder: refused (linked folders are not read; put the files "
    "themselves in the DSO folder)"
)


def is_skipped_name(name: str) -> bool:
    """Whether a file or folder name is skipped (hidden, or an Office lock file)."""
    return name.startswith((".", "~$"))


def walk_files(root: str | Path, sub: str | None = None) -> list[Path]:
    """Every non-skipped file under ``root`` (or ``root/sub``), sorted.

    Parameters
    ----------
    root : str or Path
        The DSO folder (may itself be a link).
    sub : str, optional
        Only this sub-folder of ``root`` (e.g. ``"billing"``); missing -> ``[]``.

    Returns
    -------
    list of Path
        Files (and links to files), sorted by their path relative to ``root``.

    Raises
    ------
    InputFileError
        A linked folder was found (named by its path relative to ``root``).
    """
    base = Path(root)
    top = base / sub if sub else base
    if sub:
        if top.is_symlink() and top.is_dir():
            raise InputFileError(top.relative_to(base).as_posix(), LINKED_FOLDER_PROBLEM)
        if not top.is_dir():
            return []
    files: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        d = Path(dirpath)
        keep = []
        for name in sorted(dirnames):
            if is_skipped_name(name):
                continue
            p = d / name
            if p.is_symlink():
                raise InputFileError(p.relative_to(base).as_posix(), LINKED_FOLDER_PROBLEM)
            keep.append(name)
        dirnames[:] = keep
        for name in filenames:
            if is_skipped_name(name):
                continue
            p = d / name
            if p.is_symlink() and p.is_dir():  # os.walk lists a link to a folder here
                raise InputFileError(p.relative_to(base).as_posix(), LINKED_FOLDER_PROBLEM)
            if p.is_file() or p.is_symlink():  # a broken link is listed: its reader says so
                files.append(p)
    files.sort(key=lambda p: p.relative_to(base).as_posix())
    return files
