"""The reviewable draft (``agreements.draft.xlsx``) and its merge into ``agreements.xlsx``.

:func:`write_draft` writes the three sheets of the data contract
(``agreements``, ``services``, ``documentation``) from one or more
extractions, plus a ``evidence`` sheet listing, per value, its page, evidence
sentence and confidence.  Each extracted cell carries the same citation as a
cell comment and a fill for review: green (confidence >= 0.9), yellow (lower:
check it), red (a required column the agreement did not state: type it).
The ``reviewed`` column of the agreements sheet is blank: the analyst sets it
to ``yes`` on each row once checked.  The draft never touches
``agreements.xlsx``.

:func:`accept_draft` merges the rows marked reviewed into the DSO's
``agreements.xlsx``:

1. the draft's three sheets are read and typed by the ordinary ingest (one
   located line per bad cell, nothing written);
2. the DSO is validated as it is (before);
3. a row whose ``agreement_id`` already exists with other values is a
   conflict: refused, each difference listed, unless ``force``;
4. ``agreements.xlsx`` is copied to ``agreements.xlsx.<timestamp>.bak`` and
   the rows are written in place (openpyxl: other sheets, columns and
   formatting kept; text always written as text, never as a formula);
5. the DSO is validated again (after): a problem the merge introduced puts
   the backup back and fails.

Text from the agreement is untrusted: cells are written with ``write_string``
(xlsxwriter, ``strings_to_formulas`` off) or as explicit string cells
(openpyxl), control characters removed.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dso_analytics import schema
from dso_analytics.atomic import replacing
from dso_analytics.errors import DsoError, Problem
from dso_analytics.reporting import cells
from dso_analytics.words import plural

if TYPE_CHECKING:  # pragma: no cover
    from dso_analytics.extract import Extraction

DRAFT_NAME = "agreements.draft.xlsx"
AGREEMENTS_NAME = f"{schema.AGREEMENTS_FILE_STEM}.xlsx"
REVIEWED = "reviewed"
EVIDENCE_SHEET = "evidence"
#: Confidence at or above which a value is shown green (below: yellow, check it).
CONFIDENT = 0.9

_ID_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")


def clean_text(value: object, limit: int = 32000) -> str:
    """Text safe for a cell: control characters removed, length capped
    (:func:`dso_analytics.reporting.cells.clean_text`)."""
    return cells.clean_text(value, limit)


def agreement_id_for(path: str | Path) -> str:
    """Default agreement id for an agreement file: its name without extension, made safe.

    >>> agreement_id_for("contracts/Keystone MSA 2024.pdf")
    'Keystone-MSA-2024'
    """
    stem = Path(path).stem
    return _ID_CHARS.sub("-", stem).strip("-.")[:64] or "AGREEMENT"


# ---------------------------------------------------------------------------
# The draft
# ---------------------------------------------------------------------------
def _cell_value(column: str, value: object) -> object:
    if value is None:
        return None
    kind = next(c.kind for c in schema.AGREEMENT_COLUMNS if c.name == column)
    if kind == "date":
        return dt.date.fromisoformat(str(value))
    return value


def _put(ws: Any, r: int, c: int, value: object, style: Any = None) -> None:
    """Write ``value`` with the writer of its type (text cleaned: never a formula)."""
    if value is None:
        ws.write_blank(r, c, None, style)
    elif isinstance(value, bool):
        ws.write_boolean(r, c, value, style)
    elif isinstance(value, int | float):
        ws.write_number(r, c, value, style)
    elif isinstance(value, dt.date):
        ws.write_datetime(r, c, dt.datetime(value.year, value.month, value.day), style)
    else:
        ws.write_string(r, c, clean_text(value), style)


def _note(t: Any) -> str:
    """The cell comment of an extracted value: where it was found, the evidence, the confidence."""
    where = f"{t.file}, p. {t.page}" if t.file else f"p. {t.page}"
    return clean_text(f"{where}: {t.evidence} (confidence {t.confidence:.2f})", 2000)


def _draft_formats(book: Any) -> dict[str, Any]:
    """Cell formats of the draft: header, confident (green), to check (yellow), missing (red)."""
    return {
        "head": book.add_format({"bold": True, "bg_color": "#DDE4EE", "border": 1}),
        "ok": book.add_format({"bg_color": "#D9EAD3"}),
        "check": book.add_format({"bg_color": "#FFF2CC"}),
        "missing": book.add_format({"bg_color": "#F4CCCC"}),
        "ok_date": book.add_format({"bg_color": "#D9EAD3", "num_format": "yyyy-mm-dd"}),
        "check_date": book.add_format({"bg_color": "#FFF2CC", "num_format": "yyyy-mm-dd"}),
        "wrap": book.add_format({"text_wrap": True, "valign": "top"}),
        "top": book.add_format({"valign": "top"}),
    }


def _agreements_sheet(
    book: Any, fmt: dict[str, Any], extractions: Sequence[Extraction], ids: Sequence[str]
) -> list[list[object]]:
    """The agreements sheet: one row per agreement, values colored by confidence, missing
    required values in red, evidence in comments.  Returns its evidence rows."""
    cols = [*schema.column_names(schema.AGREEMENTS), REVIEWED, schema.TERMS_SOURCE]
    required = set(schema.required_columns(schema.AGREEMENTS))
    ws = book.add_worksheet(schema.AGREEMENTS)
    for c, name in enumerate(cols):
        ws.write_string(0, c, name, fmt["head"])
        longest = [
            len(str(_width_value(ex, aid, name))) for ex, aid in zip(extractions, ids, strict=True)
        ]
        ws.set_column(c, c, min(45, max(12, len(name) + 2, *[n + 2 for n in longest])))
    evidence_rows: list[list[object]] = []
    for r, (ex, aid) in enumerate(zip(extractions, ids, strict=True), start=1):
        terms = ex.terms.agreement
        scope = terms.get("scope")
        for c, name in enumerate(cols):
            if name == "agreement_id":
                _put(ws, r, c, aid)
                continue
            if name == REVIEWED:
                _put(ws, r, c, None, fmt["check"])
                continue
            if name == schema.TERMS_SOURCE:
                _put(ws, r, c, f"extracted from {_file_names(ex.file)}")
                continue
            t = terms.get(name)
            value = None if t is None else _cell_value(name, t.value)
            needed = name in required or (
                name == "location_ids" and scope is not None and scope.value == "location"
            ) or (name == "notice_days" and (terms.get("auto_renew") or _NoValue).value is True)  # fmt: skip
            if value is None:
                _put(ws, r, c, None, fmt["missing"] if needed else None)
            else:
                confident = t.confidence >= CONFIDENT
                style = fmt[
                    ("ok" if confident else "check")
                    + ("_date" if isinstance(value, dt.date) else "")
                ]
                _put(ws, r, c, value, style)
            if t is not None:
                ws.write_comment(r, c, _note(t), {"x_scale": 3, "y_scale": 2})
        for name in schema.column_names(schema.AGREEMENTS):
            if name in ("agreement_id", "location_ids"):
                continue
            t = terms.get(name)
            evidence_rows.append([
                aid, schema.AGREEMENTS, name,
                None if t is None else _cell_value(name, t.value),
                None if t is None else t.page, None if t is None else t.evidence,
                None if t is None else t.confidence, ex.file if t is None else t.file or ex.file,
            ])  # fmt: skip
    ws.freeze_panes(1, 1)
    return evidence_rows


def _terms_sheet(
    book: Any, fmt: dict[str, Any], extractions: Sequence[Extraction], ids: Sequence[str],
    table: str, code_column: str, codes: Sequence[str], value_column: str, width: int,
) -> list[list[object]]:  # fmt: skip
    """The services or documentation sheet: one row per extracted code of each agreement
    (``code_column``, ``value_column`` colored by confidence, page, evidence, confidence).
    Returns its evidence rows."""
    ws = book.add_worksheet(table)
    cols = [*schema.column_names(table), "page", "evidence", "confidence"]
    for c, name in enumerate(cols):
        ws.write_string(0, c, name, fmt["head"])
        ws.set_column(c, c, {"agreement_id": 26, code_column: width, "evidence": 90}.get(name, 13))
    value_col = cols.index(value_column)
    evidence_rows: list[list[object]] = []
    r = 1
    for ex, aid in zip(extractions, ids, strict=True):
        found = ex.terms.services if table == schema.SERVICES else ex.terms.documentation
        for code in codes:
            t = found.get(code)
            if t is None:
                continue
            style = fmt["ok"] if t.confidence >= CONFIDENT else fmt["check"]
            extra = t.extra if table == schema.SERVICES else {}
            values = {"agreement_id": aid, code_column: code, value_column: t.value, **extra,
                      "page": t.page, "evidence": t.evidence, "confidence": t.confidence}  # fmt: skip
            for c, name in enumerate(cols):
                _put(ws, r, c, values.get(name), style if c == value_col else None)
            ws.write_comment(r, value_col, _note(t), {"x_scale": 3, "y_scale": 2})
            evidence_rows.append([aid, table, code, t.value, t.page, t.evidence,
                                  t.confidence, t.file or ex.file])  # fmt: skip
            r += 1
    ws.freeze_panes(1, 0)
    return evidence_rows


def _evidence_sheet(book: Any, fmt: dict[str, Any], evidence_rows: list[list[object]]) -> Any:
    """The evidence sheet: every value with its citation (blank value = not stated in the
    agreement).  Returns the worksheet."""
    ws = book.add_worksheet(EVIDENCE_SHEET)
    ecols = ["agreement_id", "sheet", "column", "value", "page", "evidence", "confidence", "file"]
    for c, name in enumerate(ecols):
        ws.write_string(0, c, name, fmt["head"])
    ws.set_column(0, 0, 18)
    ws.set_column(1, 2, 30)
    ws.set_column(3, 3, 22)
    ws.set_column(5, 5, 100, fmt["wrap"])
    for r, row in enumerate(evidence_rows, start=1):
        conf = row[6]
        style = None if conf is None else fmt["ok"] if conf >= CONFIDENT else fmt["check"]
        for c, v in enumerate(row):
            _put(ws, r, c, v, style if c == 3 else None)
        if row[5] is None and row[0] is not None:
            ws.write_string(r, 5, "(not stated in the agreement)")
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(1, len(evidence_rows)), len(ecols) - 1)
    return ws


def write_draft(
    extractions: Sequence[Extraction],
    path: str | Path,
    *,
    agreement_ids: Sequence[str] | None = None,
    force: bool = False,
) -> Path:
    """Write the reviewable draft workbook.

    Parameters
    ----------
    extractions : sequence of Extraction
        One per agreement file.
    path : str or Path
        The draft to write (``agreements.draft.xlsx`` in the DSO folder).
    agreement_ids : sequence of str, optional
        One id per extraction (default: from each file's name).
    force : bool
        Replace an existing draft (it may hold review work: refused otherwise).

    Returns
    -------
    Path
    """
    import xlsxwriter

    out = Path(path)
    if out.exists() and not force:
        raise DsoError(
            f"{out}: a draft already exists (it may hold review work); "
            "accept or delete it first, or pass --force to replace it"
        )
    ids = list(agreement_ids) if agreement_ids else [agreement_id_for(e.file) for e in extractions]
    if len(set(ids)) != len(ids):
        raise DsoError("two agreements would get the same agreement_id: give --agreement-id")
    with replacing(out) as tmp:  # a half-written draft is never left behind
        book = xlsxwriter.Workbook(
            tmp,
            {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
             "default_date_format": "yyyy-mm-dd"},
        )  # fmt: skip
        fmt = _draft_formats(book)
        evidence_rows = _agreements_sheet(book, fmt, extractions, ids)
        evidence_rows += _terms_sheet(
            book, fmt, extractions, ids, schema.SERVICES, "service", schema.SERVICE_CODES,
            "coverage", 26,
        )  # fmt: skip
        evidence_rows += _terms_sheet(
            book, fmt, extractions, ids, schema.DOCUMENTATION, "deliverable", schema.DELIVERABLES,
            "specified", 36,
        )  # fmt: skip
        ws = _evidence_sheet(book, fmt, evidence_rows)
        for sheet in book.worksheets():  # printable for review: landscape, header on every page
            sheet.set_landscape()
            sheet.repeat_rows(0)
        ws.fit_to_pages(1, 0)  # the evidence sheet: one page wide
        book.close()
    return out


def _file_names(file: str) -> str:
    return " + ".join(Path(f).name for f in file.split(" + "))


def _width_value(ex: Extraction, aid: str, name: str) -> object:
    if name == "agreement_id":
        return aid
    if name == schema.TERMS_SOURCE:
        return f"extracted from {_file_names(ex.file)}"
    t = ex.terms.agreement.get(name)
    return "" if t is None or t.value is None else t.value


class _NoValueType:
    value = None


_NoValue = _NoValueType()


# ---------------------------------------------------------------------------
# Accept
# ---------------------------------------------------------------------------
@dataclass
class AcceptResult:
    """What :func:`accept_draft` did.

    Attributes
    ----------
    added : list of str
        Agreement ids added.
    replaced : list of str
        Agreement ids replaced (``force``).
    unchanged : list of str
        Agreement ids already in ``agreements.xlsx`` with the same values.
    backup : Path or None
        The copy of the previous ``agreements.xlsx``.
    path : Path
        The ``agreements.xlsx`` written.
    problems_before : int
        Validation problems of the DSO before the merge.
    """

    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    backup: Path | None = None
    path: Path | None = None
    problems_before: int = 0


class AcceptRefused(DsoError):
    """The draft cannot be merged (bad cells, conflicts, or the merge would fail validation).

    ``problems`` lists every located line; the CLI prints them and exits 1.
    """

    exit_code = 1

    def __init__(self, headline: str, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join([headline, *self.problems]))


def _typed(path: Path, display: str, table: str) -> tuple[Any, list[Problem]]:
    from dso_analytics.ingest.dso import type_table
    from dso_analytics.ingest.workbook import contract_header_matcher, open_workbook

    wb = open_workbook(path, display)
    try:
        if wb.find_sheet(table) is None:
            return None, []
        raw = wb.read_table(table, contract_header_matcher(table))
    finally:
        wb.close()
    frame, problems = type_table(raw, table)
    return frame, problems


def _is_blank(v: object) -> bool:
    """The "no value" test of every output (:func:`dso_analytics.reporting._missing.is_missing`;
    imported here so that importing this module does not import pandas)."""
    from dso_analytics.reporting._missing import is_missing

    return is_missing(v)


def _plain(v: object) -> object:
    """A typed cell as a plain Python value (None for blank)."""
    if _is_blank(v):
        return None
    if hasattr(v, "to_pydatetime"):
        d = v.to_pydatetime()
        return d.date() if d.time() == dt.time(0) else d
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and v.is_integer() and not math.isinf(v):
        return v
    return v


def _draft_problems(frame: Any, table: str, display: str, sheet: str) -> list[str]:
    """Located problems of the draft's typed rows: unreadable cells, unknown codes, blanks."""
    out: list[str] = []
    for col in schema.TABLE_COLUMNS[table]:
        inv = f"{col.name}{schema.INVALID_SUFFIX}"
        for i in range(len(frame)):
            row = int(frame[schema.SOURCE_ROW].iloc[i])
            if inv in frame.columns and not _is_blank(frame[inv].iloc[i]):
                out.append(str(Problem(display, f"cannot be read as {col.kind}", sheet, row,
                                       col.name, str(frame[inv].iloc[i]))))  # fmt: skip
                continue
            v = frame[col.name].iloc[i]
            if col.codes and not _is_blank(v) and str(v) not in col.codes:
                out.append(str(Problem(display, f"is not one of {', '.join(col.codes)}", sheet, row,
                                       col.name, str(v))))  # fmt: skip
            if col.required and _is_blank(v):
                out.append(str(Problem(display, "is blank (required)", sheet, row, col.name)))
    return out


def _rows_by_id(frame: Any, table: str) -> dict[str, list[dict[str, object]]]:
    names = schema.column_names(table)
    out: dict[str, list[dict[str, object]]] = {}
    if frame is None:
        return out
    for i in range(len(frame)):
        rec = {n: _plain(frame[n].iloc[i]) for n in names}
        out.setdefault(str(rec["agreement_id"]), []).append(rec)
    return out


def _same(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), abs_tol=0.005)
    if isinstance(a, dt.datetime | dt.date) and isinstance(b, dt.datetime | dt.date):
        return str(a)[:10] == str(b)[:10]
    return str(a) == str(b)


def _show(v: object) -> str:
    if v is None:
        return "blank"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.date):
        return v.isoformat()[:10]
    return repr(v) if isinstance(v, str) else str(v)


def _differences(old: list[dict], new: list[dict], key: str | None) -> list[str]:
    if key is None:
        o, n = old[0], new[0]
        return [f"{c}: {_show(o.get(c))} in agreements.xlsx, {_show(n.get(c))} in the draft"
                for c in n if not _same(o.get(c), n.get(c))]  # fmt: skip
    om = {r[key]: r for r in old}
    nm = {r[key]: r for r in new}
    diffs = []
    for k in sorted(set(om) | set(nm), key=str):
        if k not in om or k not in nm:
            diffs.append(f"{key} {k}: only in {'the draft' if k in nm else 'agreements.xlsx'}")
            continue
        for c in nm[k]:
            if not _same(om[k].get(c), nm[k].get(c)):
                diffs.append(f"{key} {k}, {c}: {_show(om[k].get(c))} in agreements.xlsx, "
                             f"{_show(nm[k].get(c))} in the draft")  # fmt: skip
    return diffs


def _find_ws(wb: Any, name: str) -> Any:
    for ws in wb.worksheets:
        if schema.normalise_header(ws.title) == name:
            return ws
    return None


def _set(cell: Any, value: object) -> None:
    if isinstance(value, str):
        cell.value = clean_text(value)
        cell.data_type = "s"  # text stays text, even "=..."
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        cell.value = dt.datetime(value.year, value.month, value.day)
        cell.number_format = "yyyy-mm-dd"
    elif isinstance(value, dt.datetime):
        cell.value = value
        cell.number_format = "yyyy-mm-dd"
    else:
        cell.value = value


def _write_rows(wb: Any, table: str, header_row: int | None, rows: list[dict],
                drop_ids: set[str]) -> None:  # fmt: skip
    ws = _find_ws(wb, table)
    names = list(schema.column_names(table))
    if table == schema.AGREEMENTS:
        names.append(schema.TERMS_SOURCE)
    if ws is None:
        ws = wb.create_sheet(table)
        header_row = None
    if header_row is None or header_row < 1:
        header_row = 1
        for c, n in enumerate(names, start=1):
            _set(ws.cell(row=1, column=c), n)
    positions: dict[str, int] = {}
    last = 0
    for cell in ws[header_row]:
        if cell.value is not None and str(cell.value).strip():
            positions.setdefault(schema.normalise_header(cell.value), cell.column)
            last = max(last, cell.column)
    for n in names:
        if n not in positions:
            last += 1
            positions[n] = last
            _set(ws.cell(row=header_row, column=last), n)
    id_col = positions["agreement_id"]
    if drop_ids:
        for r in range(ws.max_row, header_row, -1):
            v = ws.cell(row=r, column=id_col).value
            if v is not None and str(v).strip() in drop_ids:
                ws.delete_rows(r, 1)
    r = ws.max_row
    while r > header_row and all(
        ws.cell(row=r, column=c).value in (None, "") for c in positions.values()
    ):
        r -= 1
    for rec in rows:
        r += 1
        for n in names:
            if rec.get(n) is not None:
                _set(ws.cell(row=r, column=positions[n]), rec[n])


def _reviewed_rows(draft_p: Path) -> tuple[dict[str, Any], set[str]]:
    """The typed sheets of a draft cut to its reviewed agreements, and their ids.

    Raises
    ------
    AcceptRefused
        No row marked reviewed, or problems in the reviewed rows.
    DsoError
        Not a draft (no agreements sheet, no reviewed column).
    """
    from dso_analytics.ingest.parse import parse_bool

    shown = draft_p.name
    frames: dict[str, Any] = {}
    problems: list[str] = []
    for table in (schema.AGREEMENTS, schema.SERVICES, schema.DOCUMENTATION):
        frame, probs = _typed(draft_p, shown, table)
        problems += [str(p) for p in probs]
        if frame is None:
            if table == schema.AGREEMENTS:
                raise DsoError(f"{shown}: has no sheet named 'agreements' (not a draft?)")
            continue
        frames[table] = frame
    ag = frames[schema.AGREEMENTS]
    if REVIEWED not in ag.columns:
        raise DsoError(f"{shown}, sheet agreements: has no '{REVIEWED}' column (not a draft?)")
    flags, _ = parse_bool(ag[REVIEWED].astype("object").where(ag[REVIEWED].notna(), ""))
    keep = [bool(f) if not _is_blank(f) else False for f in flags.tolist()]
    if not any(keep):
        raise AcceptRefused(
            f"{shown}: no agreement row is marked reviewed",
            [f"{shown}, sheet agreements: set column '{REVIEWED}' to yes on each row you checked"],
        )
    ag = ag[keep].reset_index(drop=True)
    ids = {str(x) for x in ag["agreement_id"].tolist() if not _is_blank(x)}
    problems += _draft_problems(ag, schema.AGREEMENTS, shown, "agreements")
    for table in (schema.SERVICES, schema.DOCUMENTATION):
        if table in frames:
            f = frames[table]
            f = f[f["agreement_id"].astype("object").isin(ids)].reset_index(drop=True)
            frames[table] = f
            problems += _draft_problems(f, table, shown, table)
    frames[schema.AGREEMENTS] = ag
    if problems:
        raise AcceptRefused(f"{shown}: the draft has problems; nothing was written", problems)
    return frames, ids


def _existing_agreements(
    target: Path,
) -> tuple[dict[str, Any], dict[str, int | None]]:
    """The typed sheets of the DSO's ``agreements.xlsx`` and each sheet's header row
    (none when the file does not exist yet)."""
    existing: dict[str, Any] = {}
    header_rows: dict[str, int | None] = {}
    if target.exists():
        for table in (schema.AGREEMENTS, schema.SERVICES, schema.DOCUMENTATION):
            frame, _ = _typed(target, AGREEMENTS_NAME, table)
            existing[table] = frame
        from dso_analytics.ingest.workbook import contract_header_matcher, open_workbook

        wb_ro = open_workbook(target, AGREEMENTS_NAME)
        try:
            for table in (schema.AGREEMENTS, schema.SERVICES, schema.DOCUMENTATION):
                s = wb_ro.find_sheet(table)
                header_rows[table] = (
                    wb_ro.read_table(s, contract_header_matcher(table)).header_row if s else None
                )
        finally:
            wb_ro.close()
    return existing, header_rows


def _conflicts(
    ids: set[str], new: dict[str, Any], old: dict[str, Any], result: AcceptResult
) -> list[str]:
    """Sort the reviewed agreements into added, unchanged and replaced (in ``result``);
    one line per value a replaced agreement changes."""
    conflicts: list[str] = []
    for aid in sorted(ids):
        if aid not in old.get(schema.AGREEMENTS, {}):
            result.added.append(aid)
            continue
        diffs = _differences(old[schema.AGREEMENTS][aid], new[schema.AGREEMENTS][aid], None)
        for table, key in ((schema.SERVICES, "service"), (schema.DOCUMENTATION, "deliverable")):
            diffs += _differences(
                old.get(table, {}).get(aid, []), new.get(table, {}).get(aid, []), key
            )
        if not diffs:
            result.unchanged.append(aid)
        else:
            result.replaced.append(aid)
            conflicts += [f"{AGREEMENTS_NAME}, agreement {aid}: {d}" for d in diffs]
    return conflicts


def _open_for_merge(target: Path, result: AcceptResult) -> Any:
    """The workbook to merge into: ``agreements.xlsx`` (backed up first, the backup in
    ``result``) or a new one with the three sheets."""
    import openpyxl

    if target.exists():
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        backup = target.with_name(f"{AGREEMENTS_NAME}.{stamp}.bak")
        shutil.copy2(target, backup)
        result.backup = backup
        wb = openpyxl.load_workbook(target)
    else:
        wb = openpyxl.Workbook()
        wb.active.title = schema.AGREEMENTS
        for t in (schema.SERVICES, schema.DOCUMENTATION):
            wb.create_sheet(t)
    return wb


def accept_draft(
    draft: str | Path,
    dso_dir: str | Path,
    *,
    force: bool = False,
    validate: Any = None,
) -> AcceptResult:
    """Merge the reviewed rows of a draft into the DSO's ``agreements.xlsx``.

    Parameters
    ----------
    draft : str or Path
        An ``agreements.draft.xlsx`` written by :func:`write_draft` and reviewed (rows
        with ``reviewed`` = yes are merged).
    dso_dir : str or Path
        The DSO folder.
    force : bool
        Replace agreements whose id already exists with other values.
    validate : callable, optional
        ``validate(dso_dir) -> list of str`` problem lines (default: the full
        validation, :func:`dso_analytics.validation.validate_dso`, without its cache).

    Returns
    -------
    AcceptResult

    Raises
    ------
    AcceptRefused
        Bad cells in the draft, no reviewed row, conflicts without ``force``, or
        new validation problems after the merge (the backup is put back).
    DsoError
        An unreadable draft or ``agreements.xlsx``, or an ``agreements.csv`` DSO.
    """
    draft_p = Path(draft)
    dso = Path(dso_dir)
    if not draft_p.is_file():
        raise DsoError(f"{draft}: no such draft")
    if (dso / f"{schema.AGREEMENTS_FILE_STEM}.csv").exists():
        raise DsoError(
            f"{dso / (schema.AGREEMENTS_FILE_STEM + '.csv')}: --accept merges into agreements.xlsx; "
            "this DSO keeps its agreements as CSV (convert it to agreements.xlsx first)"
        )
    frames, ids = _reviewed_rows(draft_p)
    ag = frames[schema.AGREEMENTS]
    validate = validate or _validate_lines
    target = dso / AGREEMENTS_NAME
    before = validate(dso)
    result = AcceptResult(path=target, problems_before=len(before))

    existing, header_rows = _existing_agreements(target)
    new = {t: _rows_by_id(frames.get(t), t) for t in frames}
    old = {t: _rows_by_id(existing.get(t), t) for t in existing}
    conflicts = _conflicts(ids, new, old, result)
    if conflicts and not force:
        raise AcceptRefused(
            f"{AGREEMENTS_NAME}: {plural(len(result.replaced), 'agreement')} of the draft already "
            f"{'exists' if len(result.replaced) == 1 else 'exist'} "
            "with other values; nothing was written (review them, or --force to replace)",
            conflicts,
        )
    if not result.added and not result.replaced:
        return result

    wb = _open_for_merge(target, result)
    write_ids = set(result.added) | set(result.replaced)
    today = dt.date.today().isoformat()
    sources = {}
    if schema.TERMS_SOURCE in ag.columns:
        for aid, src in zip(
            ag["agreement_id"].tolist(), ag[schema.TERMS_SOURCE].tolist(), strict=True
        ):
            sources[str(aid)] = "" if _is_blank(src) else str(src)
    for aid in write_ids:
        for rec in new[schema.AGREEMENTS][aid]:
            rec[schema.TERMS_SOURCE] = f"{sources.get(aid) or 'extracted'}, reviewed {today}"
    for table in (schema.AGREEMENTS, schema.SERVICES, schema.DOCUMENTATION):
        rows = [r for aid in sorted(write_ids) for r in new.get(table, {}).get(aid, [])]
        _write_rows(wb, table, header_rows.get(table), rows, set(result.replaced))
    with replacing(target) as tmp:
        wb.save(tmp)

    after = validate(dso)
    introduced = [p for p in after if p not in set(before)]
    if introduced:
        if result.backup is not None:
            shutil.copy2(result.backup, target)
        else:
            target.unlink()
        raise AcceptRefused(
            f"{AGREEMENTS_NAME}: the merged agreements fail validation; the previous file was "
            "put back",
            introduced,
        )
    return result


def _validate_lines(dso_dir: Path) -> list[str]:
    from dso_analytics.validation import validate_dso

    report = validate_dso(dso_dir, use_cache=False)
    return [str(p) for p in report.errors]
