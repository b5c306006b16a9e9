"""The negotiation log: ``negotiation.xlsx`` (sheet ``log``) in a DSO folder.

One row per ask or claim, keyed by the ask's stable ``ask_key`` (see
:func:`dso_analytics.actions.deadlines.ask_keys`), with its status and the
amounts asked, agreed and realised.  ``log init`` writes it pre-filled from the
current asks (never over an existing log); ``log sync`` appends the asks that
are new since; the analyst fills in the rest in Excel.  The contract (columns,
codes, checks) is in ``docs/data-contract.md``.

Checks (:func:`validate_log`), each a located :class:`~dso_analytics.errors.Problem`:

- errors: missing sheet or required column; blank or duplicate ``ask_key``;
  a status outside :data:`STATUSES`; money or dates that cannot be read; a
  negative amount; ``amount_realised`` > ``amount_agreed``; dates out of order
  (asked <= agreed <= realised); an ``ask_key`` that is not among the current
  asks while the row is still ``open`` or ``asked`` (a typo, or an ask that
  went away);
- warnings: an unknown ``ask_key`` on a closed row (``agreed``, ``rejected``,
  ``realised``: an ask that was settled drops out of the findings, e.g. a
  credit once issued), ``agreed`` / ``realised`` rows without their amount.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dso_analytics.actions.deadlines import ask_keys
from dso_analytics.atomic import replacing
from dso_analytics.errors import DsoError, InputFileError, Problem
from dso_analytics.metrics.result import DsoMetrics
from dso_analytics.schema import normalise_header

LOG_FILE = "negotiation.xlsx"
LOG_CSV = "negotiation.csv"
LOG_SHEET = "log"
STATUSES = ("open", "asked", "agreed", "rejected", "realised")
OPEN_STATUSES = ("open", "asked")
TYPES = ("ask", "claim", "term")
MONEY_COLUMNS = ("estimate", "amount_asked", "amount_agreed", "amount_realised")
DATE_COLUMNS = ("date_asked", "date_agreed", "date_realised")
TEXT_COLUMNS = (
    "ask_key",
    "type",
    "agreement_id",
    "ask",
    "estimate_window",
    "status",
    "owner",
    "note",
)
LOG_COLUMNS = (
    "ask_key", "type", "agreement_id", "ask", "estimate", "estimate_window", "status",
    "amount_asked", "amount_agreed", "amount_realised", "date_asked", "date_agreed",
    "date_realised", "owner", "note",
)  # fmt: skip
REQUIRED = ("ask_key", "status")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CLAIM_CLAUSE = "services: coverage=included"
DEADLINE_CLAUSES = ("notice", "expiry")


@dataclass
class NegotiationLog:
    """A negotiation log read from a DSO folder.

    Attributes
    ----------
    path : Path or None
        The file read (``None`` when the DSO has no log).
    frame : DataFrame
        :data:`LOG_COLUMNS` typed (money float64, dates datetime64, text str)
        plus ``source_row``; rows with unreadable cells keep NaN/NaT there.
    problems : list of Problem
        Read and cell problems (see :func:`validate_log` for the ask checks).
    """

    path: Path | None
    frame: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)


def log_path(dso_dir: str | Path) -> Path | None:
    """The DSO's log file (``negotiation.xlsx``, else ``negotiation.csv``), or ``None``."""
    root = Path(dso_dir)
    for name in (LOG_FILE, LOG_CSV):
        if (root / name).is_file():
            return root / name
    return None


# ---------------------------------------------------------------------------
def current_asks(m: DsoMetrics) -> pd.DataFrame:
    """The asks and claims a log tracks, from the metrics (counted once).

    Parameters
    ----------
    m : DsoMetrics

    Returns
    -------
    DataFrame
        ``ask_key``, ``type`` (``claim`` for a credit claim, ``ask`` for an
        ask with dollars, ``term`` for a clause or deadline without dollars of
        its own), ``agreement_id``, ``ask``, ``estimate`` and
        ``estimate_window``.  Asks whose dollars restate another ask
        (``in_total`` False) are left out, so no dollar is tracked twice.
    """
    a = m.asks
    keep = (
        a["in_total"].astype(bool).to_numpy() if "in_total" in a.columns else np.ones(len(a), bool)
    )
    a = a[keep]
    keys = ask_keys(a)
    if "recovery_all_time" in a.columns:
        rec = a["recovery_all_time"].astype(float).fillna(0.0).to_numpy()
        is_claim = rec > 0
    else:
        rec = a["impact_12m"].astype(float).to_numpy()
        is_claim = (a["clause"] == CLAIM_CLAUSE).to_numpy(bool)
    as_of = pd.Timestamp(m.as_of).date().isoformat()
    impact = a["impact_12m"].astype(float).to_numpy()
    out = pd.DataFrame(
        {
            "ask_key": keys.to_numpy(),
            "type": np.where(is_claim, "claim", np.where(impact > 0, "ask", "term")),
            "agreement_id": a["agreement_id"].astype("str").to_numpy(),
            "ask": a["ask"].astype("str").to_numpy(),
            "estimate": np.where(is_claim, rec, impact),
            "estimate_window": np.where(
                is_claim, f"all-time to {as_of}", f"next 12 months (from {as_of})"
            ),
        }
    )
    terms = getattr(m, "terms_to_fix", None)
    if isinstance(terms, pd.DataFrame) and len(terms) and "ask_key" in terms.columns:
        # deadlines are acted on, not asked for: they are in the calendar, not the log
        terms = terms[~terms["clause"].isin(DEADLINE_CLAUSES).to_numpy(bool)]
        t = pd.DataFrame(
            {
                "ask_key": terms["ask_key"].astype("str").to_numpy(),
                "type": "term",
                "agreement_id": terms["agreement_id"].astype("str").to_numpy(),
                "ask": terms["ask"].astype("str").to_numpy(),
                "estimate": np.nan,
                "estimate_window": "",
            }
        )
        out = pd.concat([out, t], ignore_index=True)
    out.loc[out["type"] == "term", "estimate_window"] = ""
    return out.drop_duplicates("ask_key").reset_index(drop=True)


# ---------------------------------------------------------------------------
def read_log(dso_dir: str | Path) -> NegotiationLog:
    """Read and type the DSO's negotiation log (cell-level checks only).

    Parameters
    ----------
    dso_dir : str or Path

    Returns
    -------
    NegotiationLog
        Empty frame and no problem when the DSO has no log.

    Raises
    ------
    InputFileError
        A file that cannot or must not be read (hostile, corrupt, too large).
    """
    from dso_analytics.ingest.parse import parse_column
    from dso_analytics.ingest.workbook import read_raw_table

    path = log_path(dso_dir)
    empty = pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in LOG_COLUMNS})
    empty["source_row"] = pd.Series(dtype="int64")
    if path is None:
        return NegotiationLog(None, empty)
    display = path.name
    is_csv = path.suffix.lower() == ".csv"
    try:
        raw = read_raw_table(path, None if is_csv else LOG_SHEET, _header_score, display=display)
    except InputFileError as exc:
        if "sheet" in exc.problem and not is_csv:
            return NegotiationLog(
                path,
                empty,
                [Problem(display, f"has no sheet named {LOG_SHEET!r}", rule="log_sheet")],
            )
        raise
    sheet = raw.sheet or None
    problems = [
        Problem(display, "required column is missing", sheet=sheet, column=c, rule="log_column")
        for c in REQUIRED
        if c not in raw.headers
    ]
    if problems:
        return NegotiationLog(path, empty, problems)
    f = raw.frame
    rows = f["source_row"].astype("int64").to_numpy()
    out: dict[str, Any] = {}
    for c in LOG_COLUMNS:
        if c not in f.columns:
            out[c] = pd.Series([np.nan if c in MONEY_COLUMNS else None] * len(f), dtype=_dtype(c))
            continue
        kind = "money" if c in MONEY_COLUMNS else "date" if c in DATE_COLUMNS else "text"
        values, invalid = parse_column(f[c].reset_index(drop=True), kind, raw.date1904)
        for i in np.flatnonzero(invalid.notna().to_numpy()):
            what = {"money": "could not be read as money", "date": "could not be read as a date",
                    "text": "is an Excel error"}[kind]  # fmt: skip
            problems.append(Problem(display, what, sheet=sheet, row=int(rows[i]), column=c,
                                    value=str(invalid.iat[i]), rule=f"log_{kind}"))  # fmt: skip
        out[c] = values.reset_index(drop=True).astype(_dtype(c))
    frame = pd.DataFrame(out)
    frame["status"] = frame["status"].str.strip().str.lower().astype("str")
    frame["source_row"] = rows
    return NegotiationLog(path, frame, problems)


def _dtype(c: str) -> str:
    return "float64" if c in MONEY_COLUMNS else "datetime64[ns]" if c in DATE_COLUMNS else "str"


def _header_score(cells: list[str]) -> float:
    return float(sum(c in LOG_COLUMNS for c in cells))


def validate_log(log: NegotiationLog, asks: pd.DataFrame | None) -> list[Problem]:
    """Check a log against the rules and the current asks.

    Parameters
    ----------
    log : NegotiationLog
        From :func:`read_log` (its read problems are included in the result).
    asks : DataFrame, optional
        :func:`current_asks` of the same DSO; ``None`` skips the unknown-key check.

    Returns
    -------
    list of Problem
        Errors and warnings, in row order, each naming file, sheet, row and column.
    """
    problems = list(log.problems)
    if log.path is None or log.frame.empty:
        return problems
    display = log.path.name
    sheet = None if log.path.suffix.lower() == ".csv" else LOG_SHEET
    f = log.frame
    known = set(asks["ask_key"]) if asks is not None else None
    first: dict[str, int] = {}

    def add(row: int, col: str, problem: str, value: object = None, sev: str = "error") -> None:
        problems.append(Problem(display, problem, sheet=sheet, row=row, column=col,
                                value=None if value is None else str(value),
                                rule=f"log_{col}", severity=sev))  # fmt: skip

    for r in f.itertuples(index=False):
        row = int(r.source_row)
        key = r.ask_key if isinstance(r.ask_key, str) else ""
        if not key.strip():
            add(row, "ask_key", "is blank")
        elif key in first:
            add(row, "ask_key", f"duplicate ask_key: already in row {first[key]}", key)
        else:
            first[key] = row
        status = r.status if isinstance(r.status, str) else ""
        if status not in STATUSES:
            add(row, "status", f"must be one of {', '.join(STATUSES)}", status or None)
        elif known is not None and key.strip() and key not in known:
            if status in OPEN_STATUSES:
                add(
                    row,
                    "ask_key",
                    "is not among the current asks (a typo, or an ask that went away)",
                    key,
                )
            else:
                add(row, "ask_key", f"is not among the current asks (kept as {status} history)", key,
                    "warning")  # fmt: skip
        for c in MONEY_COLUMNS:
            v = getattr(r, c)
            if pd.notna(v) and v < 0:
                add(row, c, "must not be negative", f"{v:.2f}")
        agreed, realised = r.amount_agreed, r.amount_realised
        if pd.notna(agreed) and pd.notna(realised) and realised > agreed + 1e-9:
            add(
                row,
                "amount_realised",
                f"is more than amount_agreed ({agreed:,.2f})",
                f"{realised:,.2f}",
            )
        dates = [(c, getattr(r, c)) for c in DATE_COLUMNS if pd.notna(getattr(r, c))]
        for (c1, d1), (c2, d2) in zip(dates, dates[1:], strict=False):
            if d2 < d1:
                add(row, c2, f"is before {c1} ({pd.Timestamp(d1).date()})", pd.Timestamp(d2).date())
        if status in ("agreed", "realised") and pd.isna(agreed):
            add(row, "amount_agreed", f"is blank on a {status} row", sev="warning")
        if status == "realised" and pd.isna(realised):
            add(row, "amount_realised", "is blank on a realised row", sev="warning")
    return problems


def check_log_of(dso_dir: str | Path, dataset: Any, params: Any, dataset_ok: bool) -> list[Problem]:
    """The negotiation-log problems ``validate`` adds to a DSO's report.

    Parameters
    ----------
    dso_dir : str or Path
    dataset : DsoDataset
        The validated dataset (for the current asks).
    params : Params
    dataset_ok : bool
        Whether the dataset validated; the unknown-key check needs its
        metrics and is skipped otherwise.

    Returns
    -------
    list of Problem
        Empty when the DSO has no log.
    """
    if log_path(dso_dir) is None:
        return []
    try:
        log = read_log(dso_dir)
    except InputFileError as exc:
        return [Problem(exc.file, exc.problem, rule="log_file")]
    asks = None
    if dataset_ok:
        from dso_analytics.metrics import compute_metrics

        asks = current_asks(compute_metrics(dataset, params))
    return validate_log(log, asks)


# ---------------------------------------------------------------------------
def _cell_text(v: object) -> str:
    return _CONTROL.sub("", str(v))[:32767]


def _write_rows(ws: Any, start_row: int, col_of: dict[str, int], rows: pd.DataFrame) -> None:
    for i, (_, r) in enumerate(rows.iterrows()):
        for c, j in col_of.items():
            v = r.get(c, None) if c in rows.columns else None
            if c == "status" and (v is None or (isinstance(v, float) and np.isnan(v))):
                v = "open"
            cell = ws.cell(row=start_row + i, column=j)
            if v is None or (isinstance(v, float) and np.isnan(v)) or v == "":
                continue
            if c in MONEY_COLUMNS:
                cell.value = round(float(v), 2)
                cell.number_format = "#,##0.00"
            else:
                cell.value = _cell_text(v)
                cell.data_type = "s"  # text, never a formula (an id may start with '=')


def write_new_log(dso_dir: str | Path, asks: pd.DataFrame) -> Path:
    """Write ``negotiation.xlsx`` pre-filled from the current asks; never overwrite.

    Parameters
    ----------
    dso_dir : str or Path
    asks : DataFrame
        :func:`current_asks`.

    Returns
    -------
    Path
        The log written.

    Raises
    ------
    DsoError
        A log already exists (exit code 2: ``log sync`` appends to it).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    existing = log_path(dso_dir)
    if existing is not None:
        err = DsoError(f"{existing}: a negotiation log already exists (never overwritten; "
                       "`dso-analytics log sync` appends the new asks)")  # fmt: skip
        err.exit_code = 2
        raise err
    wb = Workbook()
    ws = wb.active
    ws.title = LOG_SHEET
    col_of = {c: j + 1 for j, c in enumerate(LOG_COLUMNS)}
    for c, j in col_of.items():
        ws.cell(row=1, column=j, value=c).font = Font(bold=True)
    _write_rows(ws, 2, col_of, asks)
    n = len(asks)
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = f"A1:{_letter(len(LOG_COLUMNS))}{max(n + 1, 2)}"
    widths = {"ask_key": 38, "ask": 60, "agreement_id": 14, "estimate_window": 30, "note": 40}
    for c, j in col_of.items():
        ws.column_dimensions[_letter(j)].width = widths.get(c, 15)
    dv = DataValidation(type="list", formula1='"' + ",".join(STATUSES) + '"', allow_blank=False)
    dv.add(f"{_letter(col_of['status'])}2:{_letter(col_of['status'])}1001")
    ws.add_data_validation(dv)
    return _save(wb, Path(dso_dir) / LOG_FILE)


def _letter(j: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(j)


def _save(wb: Any, final: Path) -> Path:
    with replacing(final) as tmp:
        wb.save(tmp)
    return final


def sync_log(dso_dir: str | Path, asks: pd.DataFrame) -> tuple[Path, pd.DataFrame]:
    """Append the asks whose ``ask_key`` the log does not have yet.

    The analyst's rows, edits, formatting and other sheets are kept (the
    workbook is opened with openpyxl after the same hostile-file checks as
    every input, and saved atomically).

    Parameters
    ----------
    dso_dir : str or Path
    asks : DataFrame
        :func:`current_asks`.

    Returns
    -------
    (Path, DataFrame)
        The log and the rows appended (possibly none).

    Raises
    ------
    DsoError
        No log yet (``log init`` first), a CSV log, or a log whose sheet or
        ``ask_key`` column is missing (exit code 2).
    """
    from openpyxl import load_workbook

    path = log_path(dso_dir)
    if path is None:
        raise _usage(
            f"{Path(dso_dir) / LOG_FILE}: no negotiation log yet (`dso-analytics log init`)"
        )
    if path.suffix.lower() == ".csv":
        raise _usage(f"{path}: log sync writes {LOG_FILE} only (save the CSV as {LOG_FILE})")
    log = read_log(dso_dir)  # hostile-file checks + located problems
    blocking = [p for p in log.problems if p.rule in ("log_sheet", "log_column")]
    if blocking:
        raise _usage(str(blocking[0]))
    have = set(log.frame["ask_key"].dropna())
    new = asks[~asks["ask_key"].isin(have)].reset_index(drop=True)
    if new.empty:
        return path, new
    wb = load_workbook(path)
    ws = (
        wb[LOG_SHEET]
        if LOG_SHEET in wb.sheetnames
        else next(wb[s] for s in wb.sheetnames if normalise_header(s) == LOG_SHEET)
    )
    header_row, col_of = _find_header(ws)
    last = (
        max(header_row, *(int(r) for r in log.frame["source_row"]))
        if len(log.frame)
        else header_row
    )
    last = max(last, _last_filled_row(ws, col_of["ask_key"]))
    _write_rows(ws, last + 1, col_of, new)
    if ws.auto_filter.ref:
        ws.auto_filter.ref = f"A{header_row}:{_letter(ws.max_column)}{last + len(new)}"
    return _save(wb, path), new


def _usage(msg: str) -> DsoError:
    err = DsoError(msg)
    err.exit_code = 2
    return err


def _find_header(ws: Any) -> tuple[int, dict[str, int]]:
    best = (0, 1, {})
    for r in range(1, min(ws.max_row, 20) + 1):
        cols = {}
        for j in range(1, ws.max_column + 1):
            v = ws.cell(row=r, column=j).value
            if v is not None and normalise_header(v) in LOG_COLUMNS:
                cols.setdefault(normalise_header(v), j)
        if len(cols) > best[0]:
            best = (len(cols), r, cols)
    return best[1], best[2]


def _last_filled_row(ws: Any, col: int) -> int:
    for r in range(ws.max_row, 0, -1):
        if ws.cell(row=r, column=col).value not in (None, ""):
            return r
    return 1


# ---------------------------------------------------------------------------
STATUS_SUMMARY_COLUMNS = ("status", "items", "estimate", "asked", "agreed", "realised")


def compute_negotiation_status(
    log: pd.DataFrame, asks: pd.DataFrame, as_of: pd.Timestamp
) -> tuple[pd.DataFrame, dict[str, Any], pd.DataFrame]:
    """Asked vs agreed vs realised per ask and in total, and open credit claims.

    Parameters
    ----------
    log : DataFrame
        ``NegotiationLog.frame`` (validated).
    asks : DataFrame
        :func:`current_asks` (to show the current estimate of each key).
    as_of : Timestamp
        For the age of open claims.

    Returns
    -------
    per_ask : DataFrame
        One row per ``ask_key`` (first row wins on duplicates): the log's
        columns plus ``estimate`` from the current asks when the key is known.
    totals : dict
        ``estimate``, ``asked``, ``agreed``, ``realised`` (sums over the rows
        counted once; blank = 0 in a sum) and ``items``; ``by_status`` a frame
        of :data:`STATUS_SUMMARY_COLUMNS`.
    open_claims : DataFrame
        Claims still ``open`` or ``asked``: ``ask_key``, ``agreement_id``,
        ``status``, ``amount_asked``, ``date_asked``, ``age_days`` (as-of -
        date_asked; NaN when not asked yet).
    """
    per = log.drop_duplicates("ask_key").copy()
    cur = asks.set_index("ask_key")["estimate"] if len(asks) else pd.Series(dtype=float)
    known = per["ask_key"].isin(cur.index)
    per.loc[known, "estimate"] = per.loc[known, "ask_key"].map(cur)
    if len(asks) and "estimate_window" in asks.columns:  # each estimate with its window
        window = asks.set_index("ask_key")["estimate_window"]
        per.loc[known, "estimate_window"] = per.loc[known, "ask_key"].map(window)

    def total(s: pd.Series) -> float:
        return round(int(np.round(s.fillna(0).to_numpy(float) * 100).sum()) / 100, 2)

    by = []
    for st in STATUSES:
        g = per[per["status"] == st]
        by.append({"status": st, "items": len(g), "estimate": total(g["estimate"]),
                   "asked": total(g["amount_asked"]), "agreed": total(g["amount_agreed"]),
                   "realised": total(g["amount_realised"])})  # fmt: skip
    totals: dict[str, Any] = {
        "items": len(per),
        "estimate": total(per["estimate"]),
        "asked": total(per["amount_asked"]),
        "agreed": total(per["amount_agreed"]),
        "realised": total(per["amount_realised"]),
        "by_status": pd.DataFrame(by, columns=list(STATUS_SUMMARY_COLUMNS)),
    }
    oc = per[(per["type"] == "claim") & per["status"].isin(OPEN_STATUSES)].copy()
    oc["age_days"] = (pd.Timestamp(as_of) - oc["date_asked"]).dt.days.astype("float64")
    cols = ["ask_key", "agreement_id", "status", "amount_asked", "date_asked", "age_days"]
    return per.reset_index(drop=True), totals, oc[cols].reset_index(drop=True)


# ---------------------------------------------------------------------------
# The one reader of the log for the reports
# ---------------------------------------------------------------------------
#: :attr:`NegotiationStatus.state`: no log / a log that cannot be read / a log
#: with errors (no figures) / figures computed.
NEGOTIATION_STATES = ("none", "unreadable", "errors", "ok")


@dataclass(frozen=True)
class NegotiationTotals:
    """The totals of a log, each ``ask_key`` counted once (blank = 0 in a sum).

    Attributes
    ----------
    items : int
        Rows counted (one per ``ask_key``).
    estimate, asked, agreed, realised : float
        Sums to the cent.
    by_status : DataFrame
        :data:`STATUS_SUMMARY_COLUMNS`, one row per status of :data:`STATUSES`.
    """

    items: int
    estimate: float
    asked: float
    agreed: float
    realised: float
    by_status: pd.DataFrame


@dataclass(frozen=True, eq=False)
class NegotiationStatus:
    """A DSO's negotiation log read, checked and computed once (:func:`negotiation_status_of`).

    ``prepare`` computes it; the report kernel and the portfolio overview show it,
    so neither reads ``negotiation.xlsx``.

    Attributes
    ----------
    state : str
        One of :data:`NEGOTIATION_STATES`: ``none`` (no log), ``unreadable``
        (``reason`` says why), ``errors`` (``problems`` holds them; no figures)
        or ``ok``.
    reason : str
        Why an ``unreadable`` log could not be read (one line, not escaped).
    problems : tuple of Problem
        Every error and warning of the log (``errors`` and ``ok``).
    per_ask : DataFrame or None
        ``ok`` only: one row per ``ask_key`` (see :func:`compute_negotiation_status`).
    totals : NegotiationTotals or None
        ``ok`` only.
    open_claims : DataFrame or None
        ``ok`` only: claims still ``open`` or ``asked``, with ``age_days``.
    """

    state: str
    reason: str = ""
    problems: tuple[Problem, ...] = ()
    per_ask: pd.DataFrame | None = None
    totals: NegotiationTotals | None = None
    open_claims: pd.DataFrame | None = None

    @property
    def errors(self) -> tuple[Problem, ...]:
        """The problems of severity ``error``."""
        return tuple(p for p in self.problems if p.severity == "error")


def negotiation_status_of(dso_dir: str | Path | None, m: DsoMetrics) -> NegotiationStatus:
    """Read, check and compute a DSO's negotiation log, once; never raises for a bad log.

    Parameters
    ----------
    dso_dir : str or Path, optional
        The DSO folder (where ``negotiation.xlsx`` lives); ``None``: no log.
    m : DsoMetrics
        Its metrics (the current asks to check the log against, and the as-of
        date for the age of open claims).

    Returns
    -------
    NegotiationStatus
        ``unreadable`` for a hostile, corrupt or otherwise unreadable log (a bad
        log must not break a report); ``errors`` when :func:`validate_log` finds
        an error; else ``ok`` with the figures of :func:`compute_negotiation_status`.
    """
    if dso_dir is None or log_path(dso_dir) is None:
        return NegotiationStatus("none")
    try:
        log = read_log(dso_dir)
        asks = current_asks(m)
        problems = tuple(validate_log(log, asks))
        if any(p.severity == "error" for p in problems):
            return NegotiationStatus("errors", problems=problems)
        per, tot, claims = compute_negotiation_status(log.frame, asks, m.as_of)
    except Exception as exc:  # noqa: BLE001 - a hostile / unreadable log must not break a report
        return NegotiationStatus("unreadable", reason=str(exc))
    totals = NegotiationTotals(
        items=int(tot["items"]), estimate=tot["estimate"], asked=tot["asked"],
        agreed=tot["agreed"], realised=tot["realised"], by_status=tot["by_status"],
    )  # fmt: skip
    return NegotiationStatus(
        "ok", problems=problems, per_ask=per, totals=totals, open_claims=claims
    )
