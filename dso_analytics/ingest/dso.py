"""Read a DSO folder into a typed :class:`~dso_analytics.dataset.DsoDataset`.

The folder layout is the data contract's (``docs/data-contract.md``)::

    <dso-slug>/
      dso.yaml            optional: display_name, currency (USD), notes
      locations.xlsx      sheet "locations" (or the first sheet)  | locations.csv
      agreements.xlsx     sheets "agreements", "services", "documentation"
      billing/**.xlsx|csv invoice lines

Decisions where the contract is silent
--------------------------------------
* ``agreements.csv`` holds one table only: with it, the services and
  documentation tables are read from ``services.csv`` and
  ``documentation.csv`` next to it.  With ``agreements.xlsx`` they come from
  its ``services``/``documentation`` sheets, falling back to those CSV files
  when a sheet is absent.  A missing services or documentation table is not a
  problem: its frame is empty (with the contract columns) and it is left out
  of ``present_tables`` (the clause checks that need it are ``unknown``).
* When both ``X.xlsx`` and ``X.csv`` exist, the ``.xlsx`` is read and a
  warning names the ignored file.
* Sheet names match exactly, else case/space-insensitively (``Agreements``).
* Billing files are every ``.xlsx``/``.csv`` under ``billing/`` (recursively,
  sorted by path), skipping hidden files/folders and Excel's ``~$`` lock
  files.  Old ``.xls``/``.xlsm``/``.xlsb``/``.ods`` files there get a
  warning and are not read.  A link leading outside the DSO folder is refused.
* In each billing file the sheet whose header matches the contract best is
  read.  ``Total``/``Subtotal``/``Grand total`` footer rows are excluded and
  their amount is checked against the lines above (since the previous footer,
  or all lines above): a mismatch is a ``total_mismatch`` problem.
* Blank cells of optional columns with a documented default (``servers`` 0,
  ``renewal_term_months`` 12, ``annual_uplift_pct`` 0, ``quantity`` 1) are
  filled with it; invalid cells are never filled.
* A billing file named after a location (``LOC-001.xlsx``; the stem matches a
  ``location_id`` case-insensitively) gives its blank ``location_id`` cells
  that id.  Billing ``location_id`` values are then mapped through
  :func:`dso_analytics.ingest.aliases.map_location_values`; unmatched values
  are kept as written so that validation can name them.
* The same invoice line (``invoice_number``, ``invoice_date``,
  ``location_id``, ``description``, ``amount``) in two files is kept in the
  first file (path order) and dropped from the others with a
  ``duplicate_line`` warning naming both places.  Identical lines within one
  file are kept (an invoice may bill the same item twice).
* Excel error cells in contract columns: the typed value is missing, the error
  text (``#REF!``) is in ``<column>__invalid`` and an ``excel_error``
  problem is recorded in ``read_problems``.
* ``<column>__invalid`` columns exist only when at least one cell of the
  column is invalid.  Unknown extra columns are kept as text (``str``).

Billing files are read in parallel (a process pool) when there are at least
:data:`PARALLEL_MIN_FILES` of them; the result does not depend on it.
``DSO_ANALYTICS_INGEST_WORKERS=1`` forces serial reading.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from dso_analytics.dataset import DsoDataset, SourceFile
from dso_analytics.errors import DsoError, InputFileError, Problem
from dso_analytics.folders import walk_files
from dso_analytics.ingest.parse import ExcelError, parse_column, parse_money
from dso_analytics.ingest.workbook import (
    RawTable,
    Workbook,
    contract_header_matcher,
    open_workbook,
)
from dso_analytics.money import round_to_cents
from dso_analytics.schema import (
    AGREEMENTS,
    AGREEMENTS_FILE_STEM,
    BILLING,
    BILLING_DIR,
    DOCUMENTATION,
    DSO_META_FILE,
    INVALID_SUFFIX,
    LOCATIONS,
    LOCATIONS_FILE_STEM,
    PROVENANCE,
    SERVICES,
    SOURCE_FILE,
    SOURCE_ROW,
    SOURCE_SHEET,
    TABLE_COLUMNS,
    TABLE_EXTENSIONS,
    TABLES,
    is_slug,
    required_columns,
)

__all__ = [
    "DTYPES",
    "PARALLEL_MIN_FILES",
    "empty_table",
    "list_dso_dirs",
    "read_dso",
    "type_table",
]

#: dtype of each column kind after ingest.
DTYPES: dict[str, str] = {
    "text": "str",
    "code": "str",
    "money": "float64",
    "number": "float64",
    "integer": "Int64",
    "date": "datetime64[ns]",
    "bool": "boolean",
}
#: Read billing files in a process pool from this many files on.
PARALLEL_MIN_FILES = 8
WORKERS_ENV = "DSO_ANALYTICS_INGEST_WORKERS"
#: Columns identifying "the same invoice line" across files.
DUPLICATE_KEYS: tuple[str, ...] = (
    "invoice_number",
    "invoice_date",
    "location_id",
    "description",
    "amount",
)
OTHER_SPREADSHEETS = (".xls", ".xlsm", ".xlsb", ".ods")
MAX_META_BYTES = 1024**2
AMOUNT = "amount"
LOCATION_ID = "location_id"


# ---------------------------------------------------------------------------
# Typing
# ---------------------------------------------------------------------------
def empty_table(table: str) -> pd.DataFrame:
    """Return an empty frame with the contract and provenance columns of ``table``, typed."""
    data = {c.name: pd.Series([], dtype=DTYPES[c.kind]) for c in TABLE_COLUMNS[table]}
    data[SOURCE_FILE] = pd.Series([], dtype="str")
    data[SOURCE_SHEET] = pd.Series([], dtype="str")
    data[SOURCE_ROW] = pd.Series([], dtype="int64")
    return pd.DataFrame(data)


def type_table(raw: RawTable, table: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Type a raw table as contract table ``table``.

    Parameters
    ----------
    raw : RawTable
        From :func:`dso_analytics.ingest.workbook.read_raw_table` (headers
        already normalised).
    table : str
        One of :data:`dso_analytics.schema.TABLES`.

    Returns
    -------
    frame : pandas.DataFrame
        Every contract column, typed (see :data:`DTYPES`; a missing column is
        all-missing), unknown extra columns as text, ``<column>__invalid``
        text columns where some cell did not parse, then the provenance columns.
    problems : list of Problem
        ``missing_column`` for each absent required column, ``excel_error``
        for each Excel error cell in a contract column.
    """
    return type_tables([raw], table)


def _missing_column_problems(raw: RawTable, table: str) -> list[Problem]:
    present = set(raw.data_columns)
    return [
        Problem(
            file=raw.file,
            sheet=raw.sheet or None,
            row=raw.header_row or None,
            column=col.name,
            problem=(
                f"required column {col.name} is missing"
                + (f" (header row {raw.header_row})" if raw.header_row else "")
            ),
            rule="missing_column",
        )
        for col in TABLE_COLUMNS[table]
        if col.required and col.name not in present
    ]


def _typed_missing(n: int, col) -> pd.Series:
    dtype = DTYPES[col.kind]
    if col.default is not None:
        return pd.Series([col.default] * n, dtype=object).astype(dtype)
    return pd.Series([None] * n, dtype=object).astype(dtype)


def _is_object(dtype: object) -> bool:
    return isinstance(dtype, np.dtype) and dtype.kind == "O"


def _stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Stack raw frames (rows in order, fresh RangeIndex).

    Raw frames of one layout (same columns, one ``object`` block each: the
    common case of many billing files) are stacked as one numpy concatenation
    instead of a per-column ``pd.concat``; so are frames of several such layouts.
    """
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    cols = frames[0].columns
    if not all(
        f.columns.is_unique and f.columns.dtype == cols.dtype and all(map(_is_object, f.dtypes))
        for f in frames
    ):
        return pd.concat(frames, ignore_index=True)
    if all(f.columns.equals(cols) for f in frames):
        block = np.concatenate([f.to_numpy(dtype=object) for f in frames])
        return pd.DataFrame(block, columns=cols, dtype=object, copy=False)  # our own block
    # layouts differ (a file with an extra column): the columns in order of first
    # appearance, a cell a file lacks is NaN, as pd.concat does, in one object block
    names = list(dict.fromkeys(c for f in frames for c in f.columns))
    pos = {c: j for j, c in enumerate(names)}
    block = np.full((sum(len(f) for f in frames), len(names)), np.nan, dtype=object)
    start = 0
    for f in frames:
        block[start : start + len(f), [pos[c] for c in f.columns]] = f.to_numpy(dtype=object)
        start += len(f)
    return pd.DataFrame(block, columns=pd.Index(names, dtype=cols.dtype), dtype=object, copy=False)


#: Tables shorter than this parse their contract columns of one kind together (their
#: columns are short enough that the fixed cost of a parser call dominates).
SHORT_ROWS = 256


def _parse_short_columns(
    df: pd.DataFrame,
    table: str,
    present: set[str],
    groups: dict[tuple[bool, tuple[str, ...]], list[str]],
) -> dict[str, tuple[pd.Series, pd.Series]]:
    """Parse the raw contract columns of a short table one kind at a time.

    Parsing a column costs a fixed few milliseconds of pandas calls whatever its
    length; a short table (locations, agreements, services) has many columns of
    few cells.  Cells parse independently of each other, so the cells of all the
    table's ``object`` columns of one kind are parsed as one column and the result
    is cut back into columns.  Returns ``{column: (values, invalid)}`` for the
    columns parsed so (a kind with one column, or a non-``object`` column, is left
    to the caller).
    """
    if len(groups) > 1:
        return {}
    (d1904, fmts), *_ = groups
    by_kind: dict[str, list[str]] = {}
    for col in TABLE_COLUMNS[table]:
        if col.name in present and _is_object(df[col.name].dtype):
            by_kind.setdefault(col.kind, []).append(col.name)
    n = len(df)
    out: dict[str, tuple[pd.Series, pd.Series]] = {}
    for kind, names in by_kind.items():
        if len(names) < 2:
            continue
        cells = pd.Series(np.concatenate([df[c].to_numpy() for c in names]), dtype=object)
        values, inv = parse_column(cells, kind, d1904, list(fmts) or None)
        for j, name in enumerate(names):
            part = slice(j * n, (j + 1) * n)
            out[name] = (
                values.iloc[part].set_axis(df.index),
                inv.iloc[part].set_axis(df.index),
            )
    return out


def type_tables(raws: Sequence[RawTable], table: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Type several raw tables of one contract table at once (rows in order).

    The raw frames are stacked first so that every column is parsed once over
    all rows: reading many small billing files costs a few vectorised passes,
    not a few per file.  Date columns are parsed per group of tables sharing a
    date system (1900/1904) and date formats.  Cells of a column that a table
    lacks are blank.  See :func:`type_table` for the result.
    """
    problems: list[Problem] = []
    for raw in raws:
        problems += _missing_column_problems(raw, table)
    frames = [r.frame for r in raws if len(r.frame)]
    if not frames:
        return empty_table(table), problems
    df = _stack(frames)
    n = len(df)
    present: set[str] = set()
    for r in raws:
        present.update(r.data_columns)
    # date systems / formats: one group in the common case
    groups: dict[tuple[bool, tuple[str, ...]], list[str]] = {}
    for r in raws:
        groups.setdefault((r.date1904, tuple(r.date_formats)), []).append(r.file)
    out: dict[str, pd.Series] = {}
    invalid: dict[str, pd.Series] = {}
    any_errors = any(r.excel_errors for r in raws)
    batched = _parse_short_columns(df, table, present, groups) if n < SHORT_ROWS else {}
    for col in TABLE_COLUMNS[table]:
        dtype = DTYPES[col.kind]
        if col.name not in present:
            out[col.name] = _typed_missing(n, col)
            continue
        cells = df[col.name]
        if col.name in batched:
            values, inv = batched[col.name]
        elif col.kind == "date" and len(groups) > 1:
            values = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
            inv = pd.Series(index=df.index, dtype="str")
            for (d1904, fmts), files in groups.items():
                m = df[SOURCE_FILE].isin(files).to_numpy()
                v, i = parse_column(cells[m], "date", d1904, list(fmts) or None)
                values[m] = v
                inv[m] = i
        else:
            (d1904, fmts), *_ = groups
            values, inv = parse_column(cells, col.kind, d1904, list(fmts) or None)
        if col.name == AMOUNT:
            values = round_to_cents(values)
        if col.default is not None:
            fill = (values.isna() & inv.isna()).to_numpy()
            if fill.any():
                values = values.where(~fill, col.default)
        out[col.name] = values.astype(dtype)
        if inv.notna().any():
            invalid[col.name + INVALID_SUFFIX] = inv
        if any_errors and cells.dtype == object:
            problems += _excel_error_problems(df, cells, col.name)
    extras: dict[str, pd.Series] = {}
    contract = {c.name for c in TABLE_COLUMNS[table]}
    for name in df.columns:
        if name in contract or name in PROVENANCE or name.endswith(INVALID_SUFFIX):
            continue
        values, bad = parse_column(df[name], "text")
        extras[name] = values.where(values.notna(), bad).astype("str")
    frame = pd.DataFrame({**out, **extras, **invalid})
    # provenance: converted to str once (the arrays, positionally: frame has df's rows)
    frame[SOURCE_FILE] = df[SOURCE_FILE].astype("str").array
    frame[SOURCE_SHEET] = df[SOURCE_SHEET].astype("str").array
    frame[SOURCE_ROW] = df[SOURCE_ROW].astype("int64").to_numpy()
    return frame, problems


def _excel_error_problems(df: pd.DataFrame, cells: pd.Series, column: str) -> list[Problem]:
    is_err = cells.map(type).isin([ExcelError]).to_numpy()
    if not is_err.any():
        return []
    sub = df.loc[is_err, [SOURCE_FILE, SOURCE_SHEET, SOURCE_ROW]]
    return [
        Problem(
            file=str(f),
            sheet=str(s) or None,
            row=int(r),
            column=column,
            problem=f"is an Excel error {v}, not a value",
            value=str(v),
            rule="excel_error",
        )
        for f, s, r, v in zip(
            sub[SOURCE_FILE], sub[SOURCE_SHEET], sub[SOURCE_ROW], cells[is_err], strict=True
        )
    ]


def _check_totals(raw: RawTable, typed: pd.DataFrame) -> list[Problem]:
    """Compare each footer row's amount with the lines above it."""
    foot = raw.footers
    if foot.empty or AMOUNT not in foot.columns or AMOUNT not in typed.columns:
        return []
    famounts, _ = parse_money(foot[AMOUNT].reset_index(drop=True))
    rows = typed[SOURCE_ROW].to_numpy()
    amounts = typed[AMOUNT].to_numpy(dtype="float64", na_value=np.nan)
    problems: list[Problem] = []
    prev = raw.header_row
    for fr, fa, text in zip(
        foot[SOURCE_ROW].to_numpy(), famounts.to_numpy(), foot[AMOUNT], strict=True
    ):
        if np.isfinite(fa):
            since = round(float(np.nansum(amounts[(rows > prev) & (rows < fr)])), 2)
            above = round(float(np.nansum(amounts[rows < fr])), 2)
            if min(abs(fa - since), abs(fa - above)) > 0.005:
                problems.append(
                    Problem(
                        file=raw.file,
                        sheet=raw.sheet or None,
                        row=int(fr),
                        column=AMOUNT,
                        problem=(
                            f"total row says {fa:,.2f} but the lines above it add up to "
                            f"{since:,.2f}"
                            + (f" ({above:,.2f} since the header)" if above != since else "")
                        ),
                        value=str(text),
                        rule="total_mismatch",
                    )
                )
        prev = int(fr)
    return problems


# ---------------------------------------------------------------------------
# Provider-export profile hook
# ---------------------------------------------------------------------------
def _map_billing_frame(
    raw: RawTable, path: Path, dso_dir: Path, as_of: str | None = None
) -> tuple[RawTable, list[Problem]]:
    """PROFILE HOOK: map a provider export to the billing contract.

    Called (in the worker reading the file) only when ``raw``'s headers lack
    some of the contract's required billing columns: see
    :func:`dso_analytics.ingest.profiles.map_billing_table` (returns the mapped
    table, or ``raw`` and a ``no_profile`` problem naming the file).
    """
    from dso_analytics.ingest.profiles import map_billing_table

    return map_billing_table(raw, path, dso_dir, as_of=date.fromisoformat(as_of) if as_of else None)


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------
def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _find_table_file(root: Path, stem: str, problems: list[Problem]) -> Path | None:
    found = [root / f"{stem}{ext}" for ext in TABLE_EXTENSIONS if (root / f"{stem}{ext}").is_file()]
    if len(found) > 1:
        problems.append(
            Problem(
                file=found[1].name,
                problem=f"ignored: {found[0].name} is read instead (both exist)",
                rule="ignored_file",
                severity="warning",
            )
        )
    return found[0] if found else None


def _check_inside(path: Path, root: Path, display: str) -> None:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        raise InputFileError(display, "links to a file outside the DSO folder: refused") from None


def _billing_files(root: Path, problems: list[Problem]) -> list[tuple[Path, str]]:
    files: list[tuple[Path, str]] = []
    for p in walk_files(root, BILLING_DIR):  # one rule with the snapshot key
        suffix = p.suffix.lower()
        rel = _rel(p, root)
        if suffix in TABLE_EXTENSIONS:
            files.append((p, rel))
        elif suffix in OTHER_SPREADSHEETS:
            problems.append(
                Problem(
                    file=rel,
                    problem=(
                        f"not read: {suffix} files are not supported; save it as .xlsx or .csv"
                    ),
                    rule="ignored_file",
                    severity="warning",
                )
            )
    files.sort(key=lambda t: t[1])
    for p, rel in files:
        if p.is_symlink():
            _check_inside(p, root, rel)
    return files


def _source(wb: Workbook, rel: str, table: str, sheets: Sequence[str], rows: int) -> SourceFile:
    return SourceFile(
        path=rel,
        table=table,
        sheets=tuple(s for s in sheets if s),
        rows=rows,
        sha256=wb.sha256,
    )


def _read_meta(root: Path) -> dict[str, str]:
    p = root / DSO_META_FILE
    if not p.is_file():
        return {}
    if p.stat().st_size > MAX_META_BYTES:
        raise InputFileError(DSO_META_FILE, "is over 1 MB: not a settings file")
    try:
        meta = yaml.safe_load(p.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise InputFileError(DSO_META_FILE, "is not UTF-8 text") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise InputFileError(DSO_META_FILE, f"is not valid YAML{where}") from None
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise InputFileError(
            DSO_META_FILE,
            "must hold settings as 'key: value' lines (display_name, currency, notes)",
        )
    out = {}
    for key in ("display_name", "currency", "notes"):
        v = meta.get(key)
        if v is not None:
            out[key] = str(v).strip()
    return out


def _read_one(
    wb: Workbook,
    rel: str,
    table: str,
    sheet: str | None,
    problems: list[Problem],
    sources: list[SourceFile],
) -> pd.DataFrame:
    raw = wb.read_table(sheet, contract_header_matcher(table))
    typed, probs = type_table(raw, table)
    problems.extend(probs)
    sources.append(_source(wb, rel, table, [raw.sheet], len(typed)))
    return typed


def _billing_job(args: tuple) -> tuple:
    """Read and type a chunk of billing files (runs in a worker process).

    Returns ``("ok", typed, problems, sources)`` or ``("error", file, problem)``
    for the first file that cannot be read: never raises a DsoError (its
    pickling would lose the file name).
    """
    items, root_s, *rest = args  # (items, root, [as_of ISO date or None])
    as_of = rest[0] if rest else None
    raws: list[RawTable] = []
    sources: list[SourceFile] = []
    hook_problems: dict[str, list[Problem]] = {}
    try:
        for path_s, rel in items:
            wb = open_workbook(Path(path_s), rel)
            try:
                raw = wb.read_table(None, contract_header_matcher(BILLING))
                if not set(required_columns(BILLING)) <= set(raw.data_columns):
                    raw, hook_probs = _map_billing_frame(raw, Path(path_s), Path(root_s), as_of)
                    if hook_probs:
                        hook_problems[rel] = hook_probs
            finally:
                wb.close()
            raws.append(raw)
            sources.append(
                SourceFile(
                    path=rel,
                    table=BILLING,
                    sheets=(raw.sheet,) if raw.sheet else (),
                    rows=len(raw.frame),
                    sha256=wb.sha256,
                    profile=raw.profile,
                )
            )
    except InputFileError as e:
        return ("error", e.file, e.problem)
    typed, probs = type_tables(raws, BILLING)
    # a file the profile hook reported gets one file-level problem, not one per column
    probs = [p for p in probs if not (p.rule == "missing_column" and p.file in hook_problems)]
    for rel in hook_problems:
        probs += hook_problems[rel]
    footers = [r for r in raws if len(r.footers)]
    if footers:
        files = typed[SOURCE_FILE]
        for raw in footers:
            probs += _check_totals(raw, typed[(files == raw.file).to_numpy()])
    return ("ok", typed, probs, sources)


def _workers(n_files: int) -> int:
    env = os.environ.get(WORKERS_ENV, "").strip()
    if env.isdigit() and int(env) > 0:
        return min(int(env), max(n_files, 1))
    if n_files < PARALLEL_MIN_FILES:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, n_files))


def _reader_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of billing readers that die with this process (no orphans when it is killed)."""
    from dso_analytics.runguard import die_with_parent

    return ProcessPoolExecutor(
        max_workers=workers, initializer=die_with_parent, initargs=(os.getpid(),)
    )


class _BillingRead:
    """Billing files read in worker processes, started early.

    The pool starts before the master files (locations, agreements) are read in
    this process, so that reading them overlaps the billing reads; results are
    collected in path order by :meth:`results`.  Without workers (one file
    chunk, or no child processes allowed) the files are read by :meth:`results`.
    """

    def __init__(self, files: list[tuple[Path, str]], root: Path, as_of: str | None = None) -> None:
        self.items = [(str(p), rel) for p, rel in files]
        self.root = str(root)
        self.as_of = as_of
        self.pool: ProcessPoolExecutor | None = None
        self.futures: list = []
        workers = _workers(len(self.items))
        if workers <= 1:
            return
        k = min(len(self.items), workers * 2)  # contiguous chunks keep the path order
        bounds = np.linspace(0, len(self.items), k + 1).astype(int)
        jobs = [
            (self.items[a:b], self.root, self.as_of)
            for a, b in zip(bounds[:-1], bounds[1:], strict=True)
        ]
        try:
            self.pool = _reader_pool(workers)
            self.futures = [self.pool.submit(_billing_job, job) for job in jobs]
        except (BrokenProcessPool, OSError, AssertionError):
            self.close()  # e.g. inside a daemonic worker: read serially

    def results(self) -> list[tuple]:
        """The chunks' results (``_billing_job`` tuples) in path order."""
        if self.pool is not None:
            crashed = False
            try:
                return [f.result() for f in self.futures]
            except BrokenProcessPool:
                crashed = True  # a reader process died (or could not start)
            except (OSError, AssertionError):
                pass  # read serially
            finally:
                self.close()
            if crashed:
                return self._isolated()
        return [_billing_job((self.items, self.root, self.as_of))] if self.items else []

    def _isolated(self) -> list[tuple]:
        """Read each file in a process of its own, to name the file that kills its reader
        (never in this process: the same file would take the whole run down)."""
        out = []
        for item in self.items:
            try:
                with _reader_pool(1) as pool:
                    out.append(pool.submit(_billing_job, ([item], self.root, self.as_of)).result())
            except BrokenProcessPool:
                return [("error", item[1], "crashed the process reading it (a damaged or "
                         "hostile file): refused")]  # fmt: skip
        return out

    def close(self) -> None:
        """Stop the workers (pending chunks are cancelled)."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
            self.futures = []


def _concat(frames: list[pd.DataFrame], table: str) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_table(table)
    if len(frames) == 1:
        return frames[0]
    df = pd.concat(frames, ignore_index=True)
    contract = {c.name: DTYPES[c.kind] for c in TABLE_COLUMNS[table]}
    for c in df.columns:
        if c in contract:
            if df[c].dtype != contract[c]:
                df[c] = df[c].astype(contract[c])
        elif c == SOURCE_ROW:
            df[c] = df[c].astype("int64")
        elif df[c].dtype != "str":
            df[c] = df[c].astype("str")
    cols = [c for c in df.columns if c not in PROVENANCE] + list(PROVENANCE)
    return df[cols]


def _apply_locations(billing: pd.DataFrame, locations: pd.DataFrame) -> pd.DataFrame:
    """Default location_id from the file stem, then map aliases to location_ids."""
    if billing.empty or LOCATION_ID not in locations.columns:
        return billing
    ids = locations[LOCATION_ID].dropna().astype("str")
    by_key = {i.strip().casefold(): i.strip() for i in ids}
    files = billing[SOURCE_FILE].drop_duplicates()
    defaults = {f: by_key.get(Path(f).stem.strip().casefold()) for f in files}
    defaults = {f: d for f, d in defaults.items() if d}
    loc = billing[LOCATION_ID].copy()
    if defaults:
        loc = loc.fillna(billing[SOURCE_FILE].map(defaults)).astype("str")
    present = loc.notna()
    if present.any() and len(ids):
        from dso_analytics.ingest.aliases import map_location_values

        mapped = map_location_values(loc[present], locations)
        loc[present] = mapped.fillna(loc[present]).astype("str")
    billing = billing.copy()
    billing[LOCATION_ID] = loc.astype("str")
    return billing


def _drop_duplicates(billing: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem]]:
    """Drop invoice lines already present in an earlier file (warning per dropped line).

    A line repeated inside one file is kept (the file lists it twice: two equal
    charges can be real) and reported as a warning naming both rows.
    """
    if billing.empty:
        return billing, []
    keys = list(DUPLICATE_KEYS)
    usable = billing["invoice_number"].notna() & billing[AMOUNT].notna()
    cand = billing[
        usable
        & billing[usable].duplicated(keys, keep=False).reindex(billing.index, fill_value=False)
    ]
    if cand.empty:
        return billing, []
    grp = cand.groupby(keys, dropna=False, sort=False)
    first_file = grp[SOURCE_FILE].transform("first")
    first_sheet = grp[SOURCE_SHEET].transform("first")
    first_row = grp[SOURCE_ROW].transform("first")
    drop = cand[SOURCE_FILE] != first_file
    same_file = ~drop & ((cand[SOURCE_ROW] != first_row) | (cand[SOURCE_SHEET] != first_sheet))
    problems: list[Problem] = []
    for i in cand.index[same_file.to_numpy()]:
        r = cand.loc[i]
        where = f"sheet {first_sheet[i]}, " if first_sheet[i] != r[SOURCE_SHEET] else ""
        problems.append(
            Problem(
                file=str(r[SOURCE_FILE]),
                sheet=str(r[SOURCE_SHEET]) or None,
                row=int(r[SOURCE_ROW]),
                problem=(
                    f"same invoice line as {where}row {int(first_row[i])} of this file "
                    f"(invoice {r['invoice_number']}, amount {r[AMOUNT]:,.2f}): both are "
                    "counted; delete one if it is a copy"
                ),
                value=str(r["description"]) if pd.notna(r["description"]) else None,
                rule="duplicate_in_file",
                severity="warning",
            )
        )
    for i in cand.index[drop.to_numpy()]:
        r = cand.loc[i]
        where = first_file[i] + (f", sheet {first_sheet[i]}" if first_sheet[i] else "")
        problems.append(
            Problem(
                file=str(r[SOURCE_FILE]),
                sheet=str(r[SOURCE_SHEET]) or None,
                row=int(r[SOURCE_ROW]),
                problem=(
                    f"duplicate of the invoice line in {where}, row {int(first_row[i])} "
                    f"(invoice {r['invoice_number']}, amount {r[AMOUNT]:,.2f}): counted once"
                ),
                value=str(r["description"]) if pd.notna(r["description"]) else None,
                rule="duplicate_line",
                severity="warning",
            )
        )
    kept = billing.drop(index=cand.index[drop.to_numpy()]).reset_index(drop=True)
    return kept, problems


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------
def read_dso(dso_dir: str | Path, as_of: date | None = None) -> DsoDataset:
    """Read a DSO folder (no validation) into typed tables with provenance.

    Parameters
    ----------
    dso_dir : str or Path
        The DSO folder; its name (a slug) is the DSO id.
    as_of : datetime.date, optional
        Last day recurring provider charges still open (ConnectWise agreement
        additions) are expanded to (default: today).

    Returns
    -------
    DsoDataset
        ``locations``, ``agreements``, ``services``, ``documentation`` and
        ``billing`` frames typed as :mod:`dso_analytics.schema` says, every row
        with ``source_file``/``source_sheet``/``source_row``; ``sources`` (one
        :class:`~dso_analytics.dataset.SourceFile` per file, with its sha256);
        ``read_problems`` (missing files, sheets and required columns, Excel
        error cells, footer totals that do not match, duplicate lines);
        ``present_tables``.

    Raises
    ------
    DsoError
        The folder does not exist or its name is not a slug.
    InputFileError
        A file that cannot or must not be read (hostile, corrupt, empty...).

    Examples
    --------
    >>> ds = read_dso("data/sample/acme-dental")  # doctest: +SKIP
    >>> ds.billing[["invoice_number", "amount", "source_file", "source_row"]].head(2)  # doctest: +SKIP
    """
    root = Path(dso_dir)
    if not root.exists():
        raise DsoError(f"{dso_dir}: no such DSO folder")
    if not root.is_dir():
        raise DsoError(f"{dso_dir}: not a folder (a DSO folder is a folder)")
    slug = root.resolve().name
    if not is_slug(slug):
        raise DsoError(
            f"{dso_dir}: the DSO folder name {slug!r} is not a valid DSO id (use lower-case "
            "letters, digits, '-' and '_', starting with a letter or digit, at most 64)"
        )
    meta = _read_meta(root)
    problems: list[Problem] = []
    sources: list[SourceFile] = []
    present: set[str] = set()
    tables: dict[str, pd.DataFrame] = {t: empty_table(t) for t in TABLES}

    # billing files are listed first and their reading starts in worker processes
    # while the master files are read here; problems and errors keep their order
    billing_problems: list[Problem] = []
    billing_error: InputFileError | None = None
    try:
        files = _billing_files(root, billing_problems)
    except InputFileError as e:
        files, billing_error = [], e
    as_of_iso = None if as_of is None else pd.Timestamp(as_of).date().isoformat()
    billing_read = _BillingRead(files, root, as_of_iso)
    try:
        return _read_dso_tables(
            root, slug, meta, problems, sources, present, tables,
            files, billing_problems, billing_error, billing_read,
        )  # fmt: skip
    finally:
        billing_read.close()


def _missing_file(stem: str) -> Problem:
    """The problem of a required master file (``locations``, ``agreements``) not found."""
    return Problem(
        file=f"{stem}.xlsx",
        problem=f"is missing ({stem}.xlsx or {stem}.csv is required)",
        rule="missing_file",
    )


def _read_locations(
    root: Path, problems: list[Problem], sources: list[SourceFile], present: set[str],
    tables: dict[str, pd.DataFrame],
) -> None:  # fmt: skip
    """Read ``locations.xlsx`` / ``.csv`` into ``tables`` (a problem when it is missing)."""
    path = _find_table_file(root, LOCATIONS_FILE_STEM, problems)
    if path is None:
        problems.append(_missing_file(LOCATIONS_FILE_STEM))
    else:
        _check_inside(path, root, path.name)
        wb = open_workbook(path, path.name)
        try:
            sheet = None if wb.is_csv else (wb.find_sheet(LOCATIONS) or wb.sheet_names[0])
            tables[LOCATIONS] = _read_one(wb, path.name, LOCATIONS, sheet, problems, sources)
            present.add(LOCATIONS)
        finally:
            wb.close()


def _read_agreements(
    root: Path, problems: list[Problem], sources: list[SourceFile], present: set[str],
    tables: dict[str, pd.DataFrame],
) -> None:  # fmt: skip
    """Read the agreements workbook (sheets agreements, services, documentation; one
    source entry for the file) or ``agreements.csv``, plus ``services.csv`` /
    ``documentation.csv`` for the tables the workbook does not hold."""
    path = _find_table_file(root, AGREEMENTS_FILE_STEM, problems)
    optional_csv = [SERVICES, DOCUMENTATION]
    if path is None:
        problems.append(_missing_file(AGREEMENTS_FILE_STEM))
    else:
        _check_inside(path, root, path.name)
        wb = open_workbook(path, path.name)
        try:
            if wb.is_csv:
                tables[AGREEMENTS] = _read_one(wb, path.name, AGREEMENTS, None, problems, sources)
                present.add(AGREEMENTS)
            else:
                for table in (AGREEMENTS, SERVICES, DOCUMENTATION):
                    sheet = wb.find_sheet(table)
                    if sheet is None:
                        if table == AGREEMENTS:
                            problems.append(
                                Problem(
                                    file=path.name,
                                    problem=(
                                        f"has no sheet named {table!r} "
                                        f"(sheets: {', '.join(wb.sheet_names)})"
                                    ),
                                    rule="missing_sheet",
                                )
                            )
                        continue
                    tables[table] = _read_one(wb, path.name, table, sheet, problems, sources)
                    present.add(table)
                    optional_csv = [t for t in optional_csv if t != table]
                # one SourceFile per file: merge the per-sheet entries
                mine = [s for s in sources if s.path == path.name]
                if len(mine) > 1:
                    sources[:] = [s for s in sources if s.path != path.name]
                    sources.append(
                        SourceFile(
                            path=path.name,
                            table=AGREEMENTS,
                            sheets=tuple(sh for s in mine for sh in s.sheets),
                            rows=sum(s.rows for s in mine),
                            sha256=mine[0].sha256,
                        )
                    )
        finally:
            wb.close()
    for table in optional_csv:
        p = root / f"{table}.csv"
        if p.is_file():
            _check_inside(p, root, p.name)
            wb = open_workbook(p, p.name)
            try:
                tables[table] = _read_one(wb, p.name, table, None, problems, sources)
                present.add(table)
            finally:
                wb.close()


def _read_billing(
    locations: pd.DataFrame, problems: list[Problem], sources: list[SourceFile],
    present: set[str], files: list[tuple[Path, str]], billing_problems: list[Problem],
    billing_error: InputFileError | None, billing_read: _BillingRead,
) -> pd.DataFrame:  # fmt: skip
    """Collect the billing files read by the workers: one frame with each line's
    location, duplicates dropped (each reported)."""
    if billing_error is not None:
        raise billing_error
    problems.extend(billing_problems)
    if not files:
        problems.append(
            Problem(
                file=f"{BILLING_DIR}/",
                problem="holds no .xlsx or .csv invoice files (the billing folder is required)",
                rule="missing_file",
            )
        )
    frames: list[pd.DataFrame] = []
    for res in billing_read.results():
        if res[0] == "error":
            raise InputFileError(res[1], res[2])
        _, typed, probs, srcs = res
        frames.append(typed)
        problems.extend(probs)
        sources.extend(srcs)
    if files:
        present.add(BILLING)
    billing = _concat(frames, BILLING)
    billing = _apply_locations(billing, locations)
    billing, dups = _drop_duplicates(billing)
    problems.extend(dups)
    return billing


def _read_dso_tables(
    root: Path,
    slug: str,
    meta: dict,
    problems: list[Problem],
    sources: list[SourceFile],
    present: set[str],
    tables: dict[str, pd.DataFrame],
    files: list[tuple[Path, str]],
    billing_problems: list[Problem],
    billing_error: InputFileError | None,
    billing_read: _BillingRead,
) -> DsoDataset:
    _read_locations(root, problems, sources, present, tables)
    _read_agreements(root, problems, sources, present, tables)
    tables[BILLING] = _read_billing(
        tables[LOCATIONS], problems, sources, present, files, billing_problems, billing_error,
        billing_read,
    )  # fmt: skip

    return DsoDataset(
        dso=slug,
        root=root,
        locations=tables[LOCATIONS],
        agreements=tables[AGREEMENTS],
        services=tables[SERVICES],
        documentation=tables[DOCUMENTATION],
        billing=tables[BILLING],
        display_name=meta.get("display_name") or slug,
        currency=meta.get("currency") or "USD",
        notes=meta.get("notes", ""),
        sources=sources,
        read_problems=problems,
        present_tables=present,
    )


def list_dso_dirs(portfolio: str | Path) -> list[Path]:
    """Return the DSO folders of a portfolio, sorted by name.

    Parameters
    ----------
    portfolio : str or Path
        A folder with one sub-folder per DSO.

    Returns
    -------
    list of Path
        Sub-folders holding ``locations.xlsx`` or ``locations.csv`` (hidden
        folders are skipped).

    Raises
    ------
    DsoError
        A DSO sub-folder whose name is not a slug, or no DSO at all.
    """
    root = Path(portfolio)
    if not root.is_dir():
        raise DsoError(f"{portfolio}: no such portfolio folder")
    out: list[Path] = []
    for d in sorted(root.iterdir(), key=lambda p: p.name):
        if d.name.startswith(".") or not d.is_dir():
            continue
        if not any((d / f"{LOCATIONS_FILE_STEM}{ext}").is_file() for ext in TABLE_EXTENSIONS):
            continue
        if not is_slug(d.name):
            raise DsoError(
                f"{d}: the DSO folder name {d.name!r} is not a valid DSO id (use lower-case "
                "letters, digits, '-' and '_', starting with a letter or digit)"
            )
        out.append(d)
    if not out:
        hint = ""
        if any((root / f"{LOCATIONS_FILE_STEM}{ext}").is_file() for ext in TABLE_EXTENSIONS):
            hint = " (it looks like a DSO folder itself: pass it as DSO_DIR)"
        raise DsoError(
            f"{portfolio}: no DSO folders found (sub-folders holding locations.xlsx or "
            f"locations.csv){hint}"
        )
    return out
