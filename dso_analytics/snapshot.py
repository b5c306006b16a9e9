"""Validated snapshots: ingest + validation once per set of input contents.

A snapshot is the typed tables of one DSO (Parquet) plus its validation report
(JSON), stored under a key that hashes **every file in the DSO folder** (path,
size and SHA-256 of the bytes), the package version and the parameters that
validation depends on.  Any change to any source file -- content edited, a file
added, removed or renamed -- gives a different key, so a stale snapshot is
never served.  Reading a snapshot imports neither Great Expectations nor the
spreadsheet readers: later report runs, notebook kernels and JupyterLab
sessions start in a fraction of a second.

The cache lives in ``$DSO_ANALYTICS_CACHE`` or, by default,
``$XDG_CACHE_HOME/dso-analytics`` (``~/.cache/dso-analytics``).  Deleting it is
always safe.  Only snapshots of DSOs that validated without errors are kept.

Every snapshot carries a ``manifest.json`` (written last) with the SHA-256 of
each of its files (tables, ``meta.json`` and the validation report).  Reading
checks every digest first: a snapshot with a changed, replaced or missing file
raises :class:`SnapshotCorrupt` and is never served.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from dso_analytics import __version__, schema
from dso_analytics.dataset import DsoDataset, SourceFile
from dso_analytics.errors import Problem
from dso_analytics.folders import walk_files

SNAPSHOT_FORMAT = 2
_META = "meta.json"
_REPORT = "validation.json"
_MANIFEST = "manifest.json"


class SnapshotCorrupt(Exception):
    """A snapshot file does not match the digest its manifest recorded.

    Never shown as a traceback: :func:`dso_analytics.validation.validate_dso`
    discards the snapshot and validates again from the sources (with a warning).
    """


def cache_root() -> Path:
    """Return the snapshot cache folder (not created).

    ``$DSO_ANALYTICS_CACHE`` wins; else ``$XDG_CACHE_HOME/dso-analytics``; else
    ``~/.cache/dso-analytics``.
    """
    env = os.environ.get("DSO_ANALYTICS_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "dso-analytics"


# files of a DSO folder that are not part of the validated dataset: the negotiation
# log is read and checked on its own each time (editing it must not revalidate the DSO)
_NOT_DATASET = frozenset({"negotiation.xlsx", "negotiation.csv"})


def _input_files(dso_dir: Path) -> list[Path]:
    # the same walk as ingest (dso_analytics.folders): linked folders are refused
    return [p for p in walk_files(dso_dir) if p.relative_to(dso_dir).as_posix() not in _NOT_DATASET]


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def compute_fingerprint(dso_dir: str | Path, params_key: dict[str, Any] | None = None) -> str:
    """Hash every input file of a DSO folder (plus version and parameters).

    Parameters
    ----------
    dso_dir : str or Path
        The DSO folder.
    params_key : dict, optional
        JSON-ready parameters the validation result depends on (e.g. as-of).

    Returns
    -------
    str
        Hex SHA-256 key.
    """
    root = Path(dso_dir)
    h = hashlib.sha256()
    h.update(f"dso-analytics {__version__} snapshot {SNAPSHOT_FORMAT}\n".encode())
    h.update(json.dumps(params_key or {}, sort_keys=True, default=str).encode())
    for p in _input_files(root):
        rel = p.relative_to(root).as_posix()
        try:
            h.update(f"\n{rel}\0{p.stat().st_size}\0{_file_sha256(p)}".encode())
        except OSError:  # a broken link or unreadable file: ingest reports it
            h.update(f"\n{rel}\0unreadable".encode())
    return h.hexdigest()


def snapshot_dir(dso: str, key: str) -> Path:
    """Return where the snapshot of DSO ``dso`` with key ``key`` lives."""
    name = dso if schema.is_slug(dso) else hashlib.sha256(dso.encode()).hexdigest()[:16]
    return cache_root() / name / key[:32]


def write_snapshot(ds: DsoDataset, report: dict[str, Any], key: str) -> Path:
    """Store a validated dataset and its report under ``key`` (atomically).

    Parameters
    ----------
    ds : DsoDataset
        The dataset as read.
    report : dict
        The validation report as a JSON-ready dict.
    key : str
        From :func:`compute_fingerprint`, computed *before* reading.

    Returns
    -------
    Path
        The snapshot folder.
    """
    final = snapshot_dir(ds.dso, key)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=final.parent))
    try:
        for table in schema.TABLES:
            ds.table(table).to_parquet(tmp / f"{table}.parquet", index=False)
        meta = {
            "format": SNAPSHOT_FORMAT,
            "key": key,
            "dso": ds.dso,
            "root": str(ds.root),
            "display_name": ds.display_name,
            "currency": ds.currency,
            "notes": ds.notes,
            "sources": [dataclasses.asdict(s) for s in ds.sources],
            "read_problems": [dataclasses.asdict(p) for p in ds.read_problems],
            "present_tables": sorted(ds.present_tables),
        }
        (tmp / _META).write_text(json.dumps(meta, default=str), encoding="utf-8")
        (tmp / _REPORT).write_text(json.dumps(report, default=str), encoding="utf-8")
        names = [f"{t}.parquet" for t in schema.TABLES] + [_META, _REPORT]
        manifest = {
            "format": SNAPSHOT_FORMAT,
            "key": key,
            "sha256": {n: _file_sha256(tmp / n) for n in names},
        }
        (tmp / _MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
        if final.exists():
            shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def read_snapshot_dir(path: str | Path) -> tuple[DsoDataset, dict[str, Any]]:
    """Read a snapshot folder written by :func:`write_snapshot`.

    Parameters
    ----------
    path : str or Path
        The snapshot folder.

    Returns
    -------
    (DsoDataset, dict)
        The dataset and its validation report dict.

    Raises
    ------
    SnapshotCorrupt
        A file does not match its digest (see :func:`verify_snapshot`).
    """
    p = Path(path)
    verify_snapshot(p)
    meta = json.loads((p / _META).read_text(encoding="utf-8"))
    frames = {t: pd.read_parquet(p / f"{t}.parquet") for t in schema.TABLES}
    ds = DsoDataset(
        dso=meta["dso"],
        root=Path(meta["root"]),
        display_name=meta["display_name"],
        currency=meta["currency"],
        notes=meta.get("notes", ""),
        sources=[SourceFile(**{**s, "sheets": tuple(s["sheets"])}) for s in meta["sources"]],
        read_problems=[Problem(**d) for d in meta["read_problems"]],
        present_tables=set(meta["present_tables"]),
        **frames,
    )
    report = json.loads((p / _REPORT).read_text(encoding="utf-8"))
    return ds, report


def verify_snapshot(path: str | Path) -> None:
    """Check every file of a snapshot against the digests of its manifest.

    Parameters
    ----------
    path : str or Path
        The snapshot folder.

    Raises
    ------
    SnapshotCorrupt
        The manifest is missing or unreadable, or a file is missing or differs.
    """
    p = Path(path)
    try:
        manifest = json.loads((p / _MANIFEST).read_text(encoding="utf-8"))
        digests = manifest["sha256"]
        expected = {f"{t}.parquet" for t in schema.TABLES} | {_META, _REPORT}
        if not isinstance(digests, dict) or set(digests) != expected:
            raise SnapshotCorrupt(f"{_MANIFEST} does not list the snapshot's files")
    except (OSError, ValueError, KeyError, TypeError) as e:
        if isinstance(e, SnapshotCorrupt):
            raise
        raise SnapshotCorrupt(f"{_MANIFEST} is missing or unreadable") from None
    for name, digest in sorted(digests.items()):
        try:
            actual = _file_sha256(p / name)
        except OSError:
            raise SnapshotCorrupt(f"{name} is missing or unreadable") from None
        if actual != digest:
            raise SnapshotCorrupt(f"{name} does not match its recorded digest")


def discard_snapshot(path: str | Path) -> None:
    """Remove a snapshot folder (a failed removal only costs disk space)."""
    shutil.rmtree(path, ignore_errors=True)


def find_snapshot(dso_dir: str | Path, key: str) -> Path | None:
    """Return the snapshot folder for ``dso_dir`` and ``key`` if it exists."""
    d = snapshot_dir(Path(dso_dir).resolve().name, key)
    return d if (d / _MANIFEST).is_file() or (d / _META).is_file() else None
