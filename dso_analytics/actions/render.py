"""Orchestration of the action outputs for the CLI: load, compute, write.

The CLI's ``calendar``, ``letters`` and ``log`` commands call these; each loads a
DSO through the validated snapshot (:func:`dso_analytics.validation.load_dso`),
computes its metrics once and hands them to the writers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from dso_analytics.actions.deadlines import NOTICE, attach_deadlines, deadlines_of
from dso_analytics.dataset import DsoDataset
from dso_analytics.errors import UnsafePathError
from dso_analytics.metrics.result import DsoMetrics
from dso_analytics.words import plural


@dataclass
class Loaded:
    """One DSO's dataset and metrics."""

    ds: DsoDataset
    m: DsoMetrics


def load(dso_dir: Path, params: Any, use_cache: bool = True) -> Loaded:
    """Validate (or read the snapshot of) a DSO folder and compute its metrics.

    Parameters
    ----------
    dso_dir : Path
    params : Params
    use_cache : bool

    Returns
    -------
    Loaded

    Raises
    ------
    ValidationFailed
        The DSO's input has problems.
    """
    from dso_analytics.metrics import compute_metrics
    from dso_analytics.validation import load_dso

    ds = load_dso(dso_dir, params=params, use_cache=use_cache)
    return Loaded(ds, attach_deadlines(compute_metrics(ds, params), ds.agreements, ds.locations))


def inside(path: Path, root: Path) -> Path:
    """Resolve ``path`` and check it stays under ``root`` (output names come from data)."""
    p = path.resolve()
    r = root.resolve()
    if p != r and r not in p.parents:
        raise UnsafePathError(f"{path}: would be written outside {root}")
    return p


def render_calendar(
    loaded: Sequence[Loaded],
    out: Path,
    *,
    remind: Sequence[int],
    name: str,
) -> tuple[Path, pd.DataFrame]:
    """Write the ``.ics`` of one or several DSOs.

    Parameters
    ----------
    loaded : sequence of Loaded
    out : Path
        The ``.ics`` file.
    remind : sequence of int
        Alarm offsets (days before).
    name : str
        Calendar name.

    Returns
    -------
    (Path, DataFrame)
        The file and the deadlines it holds.
    """
    from dso_analytics.actions.calendar import write_calendar

    frames = [deadlines_of(x.m) for x in loaded]
    dl = pd.concat(frames, ignore_index=True) if frames else compute_deadlines_empty()
    dl = dl.sort_values(["date", "dso", "agreement_id", "kind"], kind="stable")
    cur = {x.m.dso: x.m.currency for x in loaded}
    path = write_calendar(dl, out, remind=remind, name=name, currency=cur)
    return path, dl.reset_index(drop=True)


def compute_deadlines_empty() -> pd.DataFrame:
    """An empty deadlines frame with the documented columns."""
    from dso_analytics.actions.deadlines import DEADLINE_COLUMNS

    return pd.DataFrame(columns=list(DEADLINE_COLUMNS))


def calendar_summary(dl: pd.DataFrame) -> str:
    """One line counting the events of a calendar."""
    n_notice = int((dl["kind"] == NOTICE).sum())
    return (
        f"{plural(len(dl), 'event')}: {plural(n_notice, 'notice deadline')}, "
        f"{plural(len(dl) - n_notice, 'term end')}"
    )


def stale_as_of_note(loaded: Sequence[Loaded], today: pd.Timestamp | None = None) -> str | None:
    """A note when an as-of date is before today (events may then be in the past for the reader)."""
    today = (today or pd.Timestamp.today()).normalize()
    old = [x.m for x in loaded if pd.Timestamp(x.m.as_of) < today]
    if not old:
        return None
    dates = sorted({pd.Timestamp(m.as_of).date().isoformat() for m in old})
    return (
        f"note: figures are as of {', '.join(dates)} (the latest invoice); deadlines are "
        f"computed at that date. Pass --as-of {today.date().isoformat()} to compute them at today."
    )


def render_letters(x: Loaded, out_dir: Path, *, horizon_days: int) -> list[Path]:
    """Write the claim and notice letters of one DSO into ``out_dir``.

    Parameters
    ----------
    x : Loaded
    out_dir : Path
    horizon_days : int
        Notice letters for deadlines within this many days of as-of (or missed windows).

    Returns
    -------
    list of Path
        The ``.docx`` files written (claims first).
    """
    from dso_analytics.actions.letters import write_claim_letters, write_notice_letters

    out_dir.mkdir(parents=True, exist_ok=True)
    dl = deadlines_of(x.m)
    paths = write_claim_letters(x.m, out_dir)
    paths += write_notice_letters(x.m, dl, out_dir, horizon_days=horizon_days)
    for p in paths:
        inside(p, out_dir)
    return paths


def write_report_actions(
    m: DsoMetrics,
    out_dir: Path,
    *,
    calendar_file: str | None = None,
    letters_dir: str | None = None,
    remind: Sequence[int] | None = None,
    horizon_days: int = 120,
) -> dict[str, Any]:
    """Write the action outputs of one DSO beside its report (``report`` calls it).

    The calendar (``out_dir/<calendar_file>``, the file the report links) and
    the letters in ``out_dir/<letters_dir>/`` (stale letters of an earlier run
    removed), all from the deadlines computed when the DSO was prepared
    (:func:`~dso_analytics.actions.deadlines.deadlines_of`).

    Parameters
    ----------
    m : DsoMetrics
        Prepared metrics (with their deadlines).
    out_dir : Path
        The DSO's report folder (the pipeline passes its staging folder).
    calendar_file, letters_dir : str, optional
        Names inside ``out_dir``; default :data:`dso_analytics.stages.CALENDAR_FILE`
        and :data:`~dso_analytics.stages.LETTERS_DIR`.  The pipeline passes
        ``None`` explicitly through :func:`dso_analytics.stages.render` for an
        output its template does not write.
    remind : sequence of int, optional
        Alarm offsets (default 120, 90, 60, 30 days).
    horizon_days : int
        Notice-letter horizon.

    Returns
    -------
    dict
        ``ics`` (Path or None), ``events`` (int), ``deadlines`` (DataFrame),
        ``letters`` (list of Path).
    """
    from dso_analytics.actions import CALENDAR_FILE, LETTERS_DIR
    from dso_analytics.actions.calendar import DEFAULT_REMIND_DAYS, write_calendar
    from dso_analytics.actions.letters import write_claim_letters, write_notice_letters

    calendar_file = CALENDAR_FILE if calendar_file is None else calendar_file
    letters_dir = LETTERS_DIR if letters_dir is None else letters_dir
    dl = deadlines_of(m)
    ics = None
    if calendar_file:
        ics = write_calendar(
            dl,
            inside(out_dir / calendar_file, out_dir),
            remind=tuple(remind or DEFAULT_REMIND_DAYS),
            name=f"Renewal deadlines: {m.display_name}",
            currency=m.currency,
        )
    paths: list[Path] = []
    if letters_dir:
        folder = inside(out_dir / letters_dir, out_dir)
        if folder.is_dir():
            for old in folder.glob("*-letter-*.docx"):
                old.unlink()
        paths = write_claim_letters(m, folder)
        paths += write_notice_letters(m, dl, folder, horizon_days=horizon_days)
    return {"ics": ics, "events": len(dl), "deadlines": dl, "letters": paths}


def write_portfolio_calendar(
    results: Sequence[DsoMetrics], path: Path, *, remind: Sequence[int] | None = None
) -> Path:
    """Write one ``.ics`` with the deadlines of every DSO (the portfolio overview links it).

    Parameters
    ----------
    results : sequence of DsoMetrics
        Prepared metrics (with their deadlines).
    path : Path
        The ``.ics`` file.
    remind : sequence of int, optional
        Alarm offsets (default 120, 90, 60, 30 days).

    Returns
    -------
    Path
    """
    from dso_analytics.actions.calendar import DEFAULT_REMIND_DAYS, write_calendar

    frames = [deadlines_of(m) for m in results]
    dl = pd.concat(frames, ignore_index=True) if frames else compute_deadlines_empty()
    dl = dl.sort_values(["date", "dso", "agreement_id", "kind"], kind="stable")
    return write_calendar(
        dl, path, remind=tuple(remind or DEFAULT_REMIND_DAYS),
        name="Renewal deadlines: portfolio", currency={m.dso: m.currency for m in results},
    )  # fmt: skip
