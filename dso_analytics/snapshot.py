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

SNAPSHOT_FORMAT = 1
_META = "meta.json"
_REPORT = "validation.json"


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
    files = []
    for p in sorted(dso_dir.rglob("*")):
        rel = p.relative_to(dso_dir)
        if any(part.startswith((".", "~$")) for part in rel.parts):
            continue
        if rel.as_posix() in _NOT_DATASET:
            continue
        if p.is_file():
            files.append(p)
    return files


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
        h.update(f"\n{rel}\0{p.stat().st_size}\0{_file_sha256(p)}".encode())
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
    """
    p = Path(path)
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


def find_snapshot(dso_dir: str | Path, key: str) -> Path | None:
    """Return the snapshot folder for ``dso_dir`` and ``key`` if it exists."""
    d = snapshot_dir(Path(dso_dir).resolve().name, key)
    return d if (d / _META).is_file() and (d / _REPORT).is_file() else None
