"""Validation of a DSO folder with Great Expectations, reported in plain words.

The expectation suites are built in code from :mod:`dso_analytics.schema` (one
suite per table, one Great Expectations run per table).  Every failed
expectation is turned into :class:`~dso_analytics.errors.Problem` records, one
per offending cell: ``file, sheet S, row N, column: problem (value)``.

Great Expectations is imported lazily, only by the functions that validate,
with its analytics and progress bars off.  No Great Expectations object
appears in the public API.

Rules (rule ids are ``<table>.<column>.<check>``):

- required columns present, required values non-blank;
- unique keys (:data:`dso_analytics.schema.TABLE_KEYS`);
- codes from their vocabularies;
- money, dates, booleans, integers and numbers that parsed (the
  ``<column>__invalid`` columns written by ingest must be empty);
- smallest allowed values (``Column.min_value``);
- referential integrity: billing ``location_id`` / ``agreement_id``,
  services/documentation ``agreement_id``, location-scope agreements'
  ``location_ids`` (known, at least one);
- ``join_date <= go_live_date``; ``start_date <= terms_effective_date``; ``capped`` onboarding has ``onboarding_cap``;
  auto-renewing agreements have ``notice_days``;
- implausible dates: before ``params.earliest_plausible_date`` or more than
  ``params.implausible_years_after_as_of`` years after the as-of date.
"""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dso_analytics import schema
from dso_analytics.dataset import DsoDataset
from dso_analytics.errors import MoneyRangeError, Problem, ValidationFailed, printable
from dso_analytics.money import MAX_LINE_AMOUNT, sum_cents
from dso_analytics.standards import Params, default_as_of, resolve_params
from dso_analytics.words import plural

__all__ = ["ValidationReport", "load_dso", "validate_dataset", "validate_dso"]

#: Lines shown per rule by :meth:`ValidationReport.to_text`.
MAX_LINES_PER_RULE = 20


def _col(table: str, name: str) -> str:
    """Return ``name`` after checking it is a contract column of ``table``."""
    if name not in schema.column_names(table):  # pragma: no cover - schema drift guard
        raise RuntimeError(f"{name!r} is not a column of {table!r} in dso_analytics.schema")
    return name


def _code(vocabulary: tuple[str, ...], code: str) -> str:
    """Return ``code`` after checking it belongs to ``vocabulary``."""
    if code not in vocabulary:  # pragma: no cover - schema drift guard
        raise RuntimeError(f"{code!r} is not in {vocabulary!r}")
    return code


# Columns that the cross-column rules name (checked against the schema at import).
_LOC = schema.LOCATIONS
_AGR = schema.AGREEMENTS
_BIL = schema.BILLING
LOCATION_ID = _col(_LOC, "location_id")
ALIASES = _col(_LOC, "aliases")
JOIN_DATE = _col(_LOC, "join_date")
GO_LIVE_DATE = _col(_LOC, "go_live_date")
AGREEMENT_ID = _col(_AGR, "agreement_id")
START_DATE = _col(_AGR, "start_date")
TERMS_EFFECTIVE_DATE = _col(_AGR, "terms_effective_date")
SCOPE = _col(_AGR, "scope")
LOCATION_IDS = _col(_AGR, "location_ids")
AUTO_RENEW = _col(_AGR, "auto_renew")
NOTICE_DAYS = _col(_AGR, "notice_days")
ONBOARDING_TERMS = _col(_AGR, "onboarding_terms")
ONBOARDING_CAP = _col(_AGR, "onboarding_cap")
SCOPE_LOCATION = _code(schema.SCOPES, "location")
ONBOARDING_CAPPED = _code(schema.ONBOARDING_TERMS, "capped")
AMOUNT = _col(_BIL, "amount")
INVOICE_DATE = _col(_BIL, "invoice_date")
LIST_SEPARATOR = ";"

# Derived column holding the unknown tokens of agreements.location_ids.
_UNKNOWN_LOCATION_IDS = "location_ids__unknown"

_KIND_WORDS = {
    "money": "money",
    "date": "a date",
    "bool": "yes/no",
    "integer": "a whole number",
    "number": "a number",
}

# Check kinds whose finding is superseded by an "unreadable" finding on the same cell.
_MISSING_KINDS = ("blank", "required_if")


# ---------------------------------------------------------------------------
# Checks: a GX-free description of one expectation
# ---------------------------------------------------------------------------
@dataclass
class _Check:
    """One expectation of a table suite, described without GX objects."""

    table: str
    column: str  # the contract column reported
    kind: str  # blank, exists, unique, code, unreadable, min, ref, dates, order, required_if...
    expectation: str  # GX expectation class name
    kwargs: dict[str, Any]
    message: str
    value_column: str | None = None  # column whose value is shown (default: ``column``)
    severity: str = "error"
    when: tuple[str, object] | None = None  # (column, value): check only rows where equal

    @property
    def rule(self) -> str:
        return f"{self.table}.{self.column}.{self.kind}"


def _column_checks(
    table: str,
    c: schema.Column,
    frame: pd.DataFrame,
    present: set[str],
    work: dict[str, pd.Series],
    ctx: _Context,
) -> list[_Check]:
    """The checks of one column (required, readable, known code, bounds); the columns
    they read are added to ``work``."""
    checks: list[_Check] = []

    def need(name: str) -> None:
        if name not in work:
            work[name] = frame[name]

    if c.required:
        checks.append(
            _Check(table, c.name, "missing", "ExpectColumnToExist", {"column": c.name},
                   "required column is missing")
        )  # fmt: skip
    if c.name not in present:
        return checks
    if c.required:
        need(c.name)
        if c.kind in ("text", "code"):
            s = frame[c.name]
            if not isinstance(s.dtype, pd.CategoricalDtype):
                s = s.astype("str")
                work[c.name] = s.where(s.str.strip() != "")
        checks.append(
            _Check(table, c.name, "blank", "ExpectColumnValuesToNotBeNull",
                   {"column": c.name}, "is blank or an Excel error")
        )  # fmt: skip
    invalid = c.name + schema.INVALID_SUFFIX
    if c.kind in _KIND_WORDS and invalid in present:
        need(invalid)
        checks.append(
            _Check(table, c.name, "unreadable", "ExpectColumnValuesToBeNull",
                   {"column": invalid}, f"could not be read as {_KIND_WORDS[c.kind]}",
                   value_column=invalid)
        )  # fmt: skip
    if c.kind == "code" and c.codes:
        need(c.name)
        shown = ", ".join(c.codes) if len(c.codes) <= 6 else ", ".join(c.codes[:6]) + ", ..."
        checks.append(
            _Check(table, c.name, "code", "ExpectColumnValuesToBeInSet",
                   {"column": c.name, "value_set": list(c.codes)},
                   f"is not a known {c.name} code (expected one of: {shown})")
        )  # fmt: skip
    if c.min_value is not None and c.kind in ("money", "number", "integer"):
        need(c.name)
        word = (
            "greater than 0"
            if (c.kind == "integer" and c.min_value == 1)
            else (f"at least {c.min_value:g}")
        )
        checks.append(
            _Check(table, c.name, "min", "ExpectColumnValuesToBeBetween",
                   {"column": c.name, "min_value": c.min_value}, f"must be {word}")
        )  # fmt: skip
    if c.kind == "money":
        need(c.name)
        checks.append(
            _Check(table, c.name, "too_large", "ExpectColumnValuesToBeBetween",
                   {"column": c.name, "min_value": -ctx.max_amount,
                    "max_value": ctx.max_amount},
                   f"is beyond the per-line limit of {ctx.max_amount:,.0f} "
                   "(max_line_amount in the standard)")
        )  # fmt: skip
    if c.kind == "date":
        need(c.name)
        checks.append(
            _Check(table, c.name, "implausible", "ExpectColumnValuesToBeBetween",
                   {"column": c.name, "min_value": ctx.earliest, "max_value": ctx.latest},
                   "is an implausible date")
        )  # fmt: skip
    return checks


def _key_check(table: str, frame: pd.DataFrame, work: dict[str, pd.Series]) -> list[_Check]:
    """The unique-key check of a table (only when every key column is there)."""
    present = set(frame.columns)
    checks: list[_Check] = []

    def need(name: str) -> None:
        if name not in work:
            work[name] = frame[name]

    key = schema.TABLE_KEYS.get(table, ())
    if key and all(k in present for k in key):
        for k in key:
            need(k)
        if len(key) == 1:
            exp, kwargs = "ExpectColumnValuesToBeUnique", {"column": key[0]}
        else:
            exp = "ExpectCompoundColumnsToBeUnique"
            kwargs = {"column_list": list(key), "ignore_row_if": "any_value_is_missing"}
        checks.append(_Check(table, key[-1], "duplicate", exp, kwargs, "is a duplicate"))
    return checks


def _cross_checks(
    table: str, frame: pd.DataFrame, work: dict[str, pd.Series], ctx: _Context
) -> list[_Check]:
    """Checks across columns or tables: references to locations and agreements, date
    order, and columns required by another column's value."""
    present = set(frame.columns)
    checks: list[_Check] = []

    def need(name: str) -> None:
        if name not in work:
            work[name] = frame[name]

    def ref(column: str, known: list[str], target: str) -> None:
        if column in present:
            need(column)
            checks.append(
                _Check(table, column, "unknown", "ExpectColumnValuesToBeInSet",
                       {"column": column, "value_set": known}, f"is not in {target}")
            )  # fmt: skip

    if table == _BIL:
        ref(LOCATION_ID, ctx.location_ids, _LOC)
        ref(AGREEMENT_ID, ctx.agreement_ids, _AGR)
    elif table in (schema.SERVICES, schema.DOCUMENTATION):
        ref(AGREEMENT_ID, ctx.agreement_ids, _AGR)
    elif table == _LOC and {JOIN_DATE, GO_LIVE_DATE} <= present:
        need(JOIN_DATE)
        need(GO_LIVE_DATE)
        checks.append(
            _Check(table, GO_LIVE_DATE, "before_join", "ExpectColumnPairValuesAToBeGreaterThanB",
                   {"column_A": GO_LIVE_DATE, "column_B": JOIN_DATE, "or_equal": True,
                    "ignore_row_if": "either_value_is_missing"},
                   f"is before {JOIN_DATE}")
        )  # fmt: skip
    elif table == _AGR:
        if {START_DATE, TERMS_EFFECTIVE_DATE} <= present:
            need(START_DATE)
            need(TERMS_EFFECTIVE_DATE)
            checks.append(
                _Check(table, TERMS_EFFECTIVE_DATE, "before_start",
                       "ExpectColumnPairValuesAToBeGreaterThanB",
                       {"column_A": TERMS_EFFECTIVE_DATE, "column_B": START_DATE, "or_equal": True,
                        "ignore_row_if": "either_value_is_missing"},
                       f"is before {START_DATE}")
            )  # fmt: skip
        if {SCOPE, LOCATION_IDS} <= present:
            need(SCOPE)
            need(LOCATION_IDS)
            ids = frame[LOCATION_IDS].astype("str")
            work[LOCATION_IDS] = ids.where(ids.str.replace(LIST_SEPARATOR, "").str.strip() != "")
            work[_UNKNOWN_LOCATION_IDS] = _unknown_tokens(ids, ctx.location_ids)
            checks.append(
                _Check(table, LOCATION_IDS, "required_if", "ExpectColumnValuesToNotBeNull",
                       {"column": LOCATION_IDS},
                       f"must list at least one location_id when {SCOPE} is {SCOPE_LOCATION}",
                       when=(SCOPE, SCOPE_LOCATION))
            )  # fmt: skip
            checks.append(
                _Check(table, LOCATION_IDS, "unknown", "ExpectColumnValuesToBeNull",
                       {"column": _UNKNOWN_LOCATION_IDS},
                       f"lists location_ids that are not in {_LOC}",
                       value_column=_UNKNOWN_LOCATION_IDS)
            )  # fmt: skip
        for cond_col, cond_val, target in (
            (AUTO_RENEW, True, NOTICE_DAYS),
            (ONBOARDING_TERMS, ONBOARDING_CAPPED, ONBOARDING_CAP),
        ):
            if {cond_col, target} <= present:
                need(cond_col)
                need(target)
                shown = "yes" if cond_val is True else cond_val
                checks.append(
                    _Check(table, target, "required_if", "ExpectColumnValuesToNotBeNull",
                           {"column": target}, f"is required when {cond_col} is {shown}",
                           when=(cond_col, cond_val))
                )  # fmt: skip
    return checks


def _table_checks(
    table: str, frame: pd.DataFrame, ctx: _Context
) -> tuple[pd.DataFrame, list[_Check]]:
    """Build the checks of one table and the slim frame they run on."""
    cols = {c.name: c for c in schema.TABLE_COLUMNS[table]}
    present = set(frame.columns)
    checks: list[_Check] = []
    work: dict[str, pd.Series] = {}
    for c in cols.values():
        checks += _column_checks(table, c, frame, present, work, ctx)
    checks += _key_check(table, frame, work)
    checks += _cross_checks(table, frame, work, ctx)
    slim = pd.DataFrame(work, index=frame.index).reset_index(drop=True)
    if not work:
        slim = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    return slim, checks


def _unknown_tokens(ids: pd.Series, known: list[str]) -> pd.Series:
    """Return, per row, the ``;``-separated tokens not in ``known`` (missing when none)."""
    tokens = ids.str.split(LIST_SEPARATOR).explode().astype("str").str.strip()
    tokens = tokens[tokens.notna() & (tokens != "")]
    bad = tokens[~tokens.isin(known)]
    out = pd.Series(pd.NA, index=ids.index, dtype="str")
    if len(bad):
        joined = bad.groupby(level=0).agg(lambda s: "; ".join(s))
        out.loc[joined.index] = joined.to_numpy()
    return out


@dataclass
class _Context:
    location_ids: list[str]
    agreement_ids: list[str]
    earliest: pd.Timestamp
    latest: pd.Timestamp
    as_of: pd.Timestamp
    years: int
    max_amount: float = MAX_LINE_AMOUNT


def _ids(frame: pd.DataFrame, column: str) -> list[str]:
    if column not in frame.columns:
        return []
    return sorted({str(v).strip() for v in frame[column].dropna().unique()})


def _as_of(ds: DsoDataset, params: Params) -> pd.Timestamp:
    """The reference date of the date checks: the default as-of date
    (:func:`~dso_analytics.standards.default_as_of`: latest invoice, at most today), or
    an explicit later ``params.as_of``.  An explicit earlier as-of date (looking back)
    never makes the later invoices implausible; the CLI warns about it instead."""
    dates = ds.billing[INVOICE_DATE] if INVOICE_DATE in ds.billing.columns else None
    default = default_as_of(dates)
    if params.as_of is None:
        return default
    return max(pd.Timestamp(params.as_of).normalize(), default)


# ---------------------------------------------------------------------------
# Running GX
# ---------------------------------------------------------------------------
def _run_gx(
    jobs: list[tuple[str, pd.DataFrame, list[_Check]]],
) -> dict[tuple[str, int], tuple[bool, list[int] | None]]:
    """Run one GX suite per table; return {(table, check index): (success, positions)}.

    ``positions`` are the 0-based row positions of the unexpected rows in the
    frame given (``None`` for table-level expectations).
    """
    os.environ["GX_ANALYTICS_ENABLED"] = "False"  # before any context exists
    from dso_analytics.lazyimports import defer_iri_grammar, defer_scipy_stats

    defer_iri_grammar()  # GX imports altair, which imports jsonschema
    defer_scipy_stats()  # ... and scipy.stats, for expectations we never run
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.row_conditions import Column

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    source = context.data_sources.add_pandas("dso")
    out: dict[tuple[str, int], tuple[bool, list[int] | None]] = {}
    for table, frame, checks in jobs:
        if not checks:
            continue
        batch_def = source.add_dataframe_asset(table).add_batch_definition_whole_dataframe(table)
        suite = gx.ExpectationSuite(name=f"dso_{table}")
        for i, chk in enumerate(checks):
            cls = getattr(gxe, chk.expectation)
            kwargs = dict(chk.kwargs)
            if chk.when is not None:
                kwargs["row_condition"] = Column(chk.when[0]) == chk.when[1]
            suite.add_expectation(cls(**kwargs, meta={"check": i}))
        batch = batch_def.get_batch(batch_parameters={"dataframe": frame})
        # COMPLETE, indexed by the frame's RangeIndex: the row positions are mapped
        # back to source_file/sheet/row by us.  (unexpected_index_column_names does
        # the same one cell at a time: ~1 ms per failing row, measured.)
        result = batch.validate(suite, result_format={"result_format": "COMPLETE"})
        for r in result.results:
            i = int(r.expectation_config.meta["check"])
            info = r.exception_info or {}
            if info.get("raised_exception"):  # pragma: no cover - a bug, not a user mistake
                raise RuntimeError(
                    f"validation rule {checks[i].rule} failed to run: {info.get('exception_message')}"
                )
            positions = r.result.get("unexpected_index_list") if r.result else None
            out[(table, i)] = (bool(r.success), None if positions is None else list(positions))
    return out


# ---------------------------------------------------------------------------
# Turning results into problems
# ---------------------------------------------------------------------------
def _fmt_value(v: Any) -> str | None:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and np.isnan(v):
        return None
    if isinstance(v, pd.Timestamp | np.datetime64):
        ts = pd.Timestamp(v)
        return ts.date().isoformat() if ts == ts.normalize() else ts.isoformat()
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if isinstance(v, float | np.floating):
        f = float(v)
        if not np.isfinite(f) or abs(f) >= 1e15:
            return f"{f:.6g}"
        return f"{f:.2f}" if f != int(f) else str(int(f))
    return str(v)


def _total_text(total: float | None, currency: str) -> str:
    if total is None:
        return "not shown: the amounts are too large to be summed exactly"
    return f"{total:,.2f} {currency}"


def _sheet(v: Any) -> str | None:
    return (
        None
        if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) or v == ""
        else str(v)
    )


def _row(v: Any) -> int | None:
    try:
        return None if pd.isna(v) else int(v)
    except (TypeError, ValueError):
        return None


def _table_files(ds: DsoDataset, table: str, frame: pd.DataFrame) -> list[str]:
    files = [s.path for s in ds.sources if s.table == table]
    if not files and schema.SOURCE_FILE in frame.columns:
        files = sorted(frame[schema.SOURCE_FILE].dropna().astype(str).unique())
    return files or [table]


def _problems_for(
    ds: DsoDataset,
    table: str,
    frame: pd.DataFrame,
    slim: pd.DataFrame,
    chk: _Check,
    positions: list[int] | None,
    ctx: _Context,
) -> list[Problem]:
    if positions is None:  # table-level (column missing)
        return [
            Problem(file=f, problem=chk.message, column=chk.column, rule=chk.rule,
                    severity=chk.severity)
            for f in _table_files(ds, table, frame)
        ]  # fmt: skip
    if not positions:
        return []
    pos = np.asarray(positions, dtype=np.int64)
    prov = frame.iloc[pos]
    files = (
        prov[schema.SOURCE_FILE].astype(str).tolist()
        if schema.SOURCE_FILE in prov
        else [table] * len(pos)
    )
    sheets = (
        prov[schema.SOURCE_SHEET].tolist() if schema.SOURCE_SHEET in prov else [None] * len(pos)
    )
    rows = prov[schema.SOURCE_ROW].tolist() if schema.SOURCE_ROW in prov else [None] * len(pos)
    vcol = chk.value_column or chk.column
    values = slim[vcol].iloc[pos].tolist() if vcol in slim.columns else [None] * len(pos)
    messages = [chk.message] * len(pos)

    if chk.kind == "duplicate":
        key = list(chk.kwargs.get("column_list") or [chk.kwargs["column"]])
        keys = slim[key].iloc[pos].reset_index(drop=True)
        first = ~keys.duplicated(keep="first").to_numpy()
        tuples = list(zip(*(keys[c].tolist() for c in key), strict=True))
        first_at = {tuples[i]: f"{files[i]}, row {_row(rows[i])}" for i in np.flatnonzero(first)}
        what = " + ".join(key)
        out = []
        for i in np.flatnonzero(~first):
            k = tuples[i]
            shown = " / ".join(str(x) for x in k)
            out.append(
                Problem(file=files[i], problem=f"duplicate {what}: already in {first_at[k]}",
                        sheet=_sheet(sheets[i]), row=_row(rows[i]), column=chk.column,
                        value=shown, rule=chk.rule, severity=chk.severity)
            )  # fmt: skip
        return out
    if chk.kind == "implausible":
        messages = [
            (
                f"is an implausible date (before {ctx.earliest.date().isoformat()})"
                if pd.Timestamp(v) < ctx.earliest
                else f"is an implausible date (more than {ctx.years} years after the as-of "
                f"date {ctx.as_of.date().isoformat()})"
            )
            for v in values
        ]
    elif chk.kind in ("before_join", "before_start"):
        other = JOIN_DATE if chk.kind == "before_join" else START_DATE
        firsts = slim[other].iloc[pos].tolist()
        messages = [f"is before {other} {_fmt_value(j)}" for j in firsts]
    return [
        Problem(file=f, problem=m, sheet=_sheet(s), row=_row(r), column=chk.column,
                value=_fmt_value(v), rule=chk.rule, severity=chk.severity)
        for f, s, r, v, m in zip(files, sheets, rows, values, messages, strict=True)
    ]  # fmt: skip


def _sort_key(p: Problem) -> tuple[Any, ...]:
    return (p.file, p.sheet or "", -1 if p.row is None else p.row, p.column or "", p.rule)


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------
@dataclass
class ValidationReport:
    """The outcome of validating one DSO.

    Attributes
    ----------
    dataset : DsoDataset
        The data that was validated.
    problems : list of Problem
        Every problem: the dataset's ``read_problems`` first, then the
        validation findings (sorted by file, sheet, row).
    dso_dir : str
        The DSO folder as the user gave it (used in messages).
    as_of : pandas.Timestamp or None
        The as-of date used by the date checks.
    """

    dataset: DsoDataset
    problems: list[Problem] = field(default_factory=list)
    dso_dir: str = ""
    as_of: pd.Timestamp | None = None

    @property
    def ok(self) -> bool:
        """Whether there is no error-severity problem (warnings are allowed)."""
        return not any(p.severity == "error" for p in self.problems)

    @property
    def errors(self) -> list[Problem]:
        """The error-severity problems."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """The warning-severity problems."""
        return [p for p in self.problems if p.severity != "error"]

    def summary(self) -> dict[str, Any]:
        """Return the counts and totals of the dataset as a JSON-ready dict.

        Keys: ``dso``, ``locations``, ``agreements``, ``billing_lines``,
        ``billing_files``, ``first_invoice_date``, ``last_invoice_date`` (ISO or
        ``None``), ``total_billed`` (sum of ``amount``, summed in whole cents; ``None``
        when an amount is too large to be summed exactly),
        ``currency``, ``errors``, ``warnings``.
        """
        ds = self.dataset
        billing = ds.billing
        first = last = None
        if INVOICE_DATE in billing.columns:
            dates = billing[INVOICE_DATE].dropna()
            if not dates.empty:
                first = pd.Timestamp(dates.min()).date().isoformat()
                last = pd.Timestamp(dates.max()).date().isoformat()
        cents: int | None = 0
        if AMOUNT in billing.columns:
            try:
                cents = sum_cents(billing[AMOUNT])
            except MoneyRangeError:
                cents = None  # an amount over the bound: reported as an error, no total
        files = [s for s in ds.sources if s.table == _BIL]
        n_files = (
            len(files)
            if files
            else int(billing[schema.SOURCE_FILE].nunique())
            if schema.SOURCE_FILE in billing.columns
            else 0
        )
        return {
            "dso": ds.dso,
            "locations": len(ds.locations),
            "agreements": len(ds.agreements),
            "billing_lines": len(billing),
            "billing_files": n_files,
            "first_invoice_date": first,
            "last_invoice_date": last,
            "total_billed": None if cents is None else cents / 100,
            "currency": ds.currency,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
        }

    def _lines(self, problems: list[Problem], max_per_rule: int | None) -> list[str]:
        seen: Counter[str] = Counter()
        lines = []
        for p in problems:
            seen[p.rule] += 1
            if max_per_rule is None or seen[p.rule] <= max_per_rule:
                lines.append(("warning: " if p.severity != "error" else "") + str(p))
        if max_per_rule is not None:
            for rule, n in seen.items():
                if n > max_per_rule:
                    lines.append(f"... and {n - max_per_rule} more {rule or 'other'} problems")
        return lines

    def to_text(self, max_per_rule: int | None = MAX_LINES_PER_RULE) -> str:
        """Render the report for a person.

        When the DSO is valid: a short summary (and any warnings).  Otherwise
        ``"N problems in DSO_DIR:"`` and one line per problem, at most
        ``max_per_rule`` lines per rule followed by ``... and N more <rule>
        problems``.
        """
        where = self.dso_dir or str(self.dataset.root)
        if not self.ok:
            n = len(self.problems)
            head = f"{n} problem{'s' if n != 1 else ''} in {where}:"
            return "\n".join(
                printable(x) for x in [head, *self._lines(self.problems, max_per_rule)]
            )
        s = self.summary()
        dates = (
            f"{s['first_invoice_date']} to {s['last_invoice_date']}"
            if s["first_invoice_date"]
            else "none"
        )
        lines = [
            f"{s['dso']}: valid ({where})",
            f"  locations:      {s['locations']}",
            f"  agreements:     {s['agreements']}",
            f"  billing lines:  {s['billing_lines']} in {plural(s['billing_files'], 'file')}",
            f"  invoice dates:  {dates}",
            f"  total billed:   {_total_text(s['total_billed'], s['currency'])}",
        ]
        if self.warnings:
            n = len(self.warnings)
            lines.append(f"{n} warning{'s' if n != 1 else ''}:")
            lines.extend(self._lines(self.warnings, max_per_rule))
        return "\n".join(printable(x) for x in lines)  # file/cell text never forges a line

    def to_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-ready dict: ``dso``, ``dso_dir``, ``ok``,
        ``as_of``, ``summary``, ``problem_counts`` (per rule) and every problem."""
        return {
            "dso": self.dataset.dso,
            "dso_dir": self.dso_dir or str(self.dataset.root),
            "ok": self.ok,
            "as_of": None if self.as_of is None else self.as_of.date().isoformat(),
            "summary": self.summary(),
            "problem_counts": dict(Counter(p.rule for p in self.problems)),
            "problems": [p.to_dict() for p in self.problems],
        }

    def __str__(self) -> str:
        return self.to_text()


# ---------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------
def validate_dataset(ds: DsoDataset, params: Params | None = None) -> ValidationReport:
    """Validate a loaded DSO against the data contract with Great Expectations.

    Parameters
    ----------
    ds : DsoDataset
        Typed tables as produced by :func:`dso_analytics.ingest.read_dso`
        (``<column>__invalid`` columns hold unparsable cells).
    params : Params, optional
        Supplies the as-of date and the plausible-date window (default:
        :class:`Params` defaults).

    Returns
    -------
    ValidationReport
        ``ds.read_problems`` first, then one problem per offending cell.
    """
    params = params or Params()
    as_of = _as_of(ds, params)
    years = int(params.implausible_years_after_as_of)
    ctx = _Context(
        location_ids=_ids(ds.locations, LOCATION_ID),
        agreement_ids=_ids(ds.agreements, AGREEMENT_ID),
        earliest=pd.Timestamp(params.earliest_plausible_date),
        latest=as_of + pd.DateOffset(years=years),
        as_of=as_of,
        years=years,
        max_amount=float(params.max_line_amount),
    )
    jobs = []
    for table in schema.TABLES:
        frame = ds.table(table)
        absent = bool(ds.present_tables) and table not in ds.present_tables and frame.empty
        if absent:  # an optional table that was not given (services/documentation)
            continue
        slim, checks = _table_checks(table, frame, ctx)
        jobs.append((table, frame, slim, checks))
    results = _run_gx([(t, slim, checks) for t, _, slim, checks in jobs])

    found: list[Problem] = []
    for table, frame, slim, checks in jobs:
        for i, chk in enumerate(checks):
            success, positions = results.get((table, i), (True, []))
            if not success:
                found.extend(_problems_for(ds, table, frame, slim, chk, positions, ctx))
    unknown_rule = f"{_BIL}.{LOCATION_ID}.unknown"
    if any(p.rule == unknown_rule for p in found):
        # one problem per unknown site value, naming its rows, not one per row
        from dso_analytics.ingest.aliases import check_site_values

        found = [p for p in found if p.rule != unknown_rule]
        found.extend(check_site_values(ds.billing, ds.locations, rule=unknown_rule))
    if "aliases" in ds.locations.columns:
        from dso_analytics.ingest.aliases import check_aliases

        found.extend(check_aliases(ds.locations))  # an alias two locations claim
    found = _drop_superseded(found, ds.read_problems)
    found.sort(key=_sort_key)
    return ValidationReport(
        dataset=ds,
        problems=[*ds.read_problems, *found],
        dso_dir=str(ds.root),
        as_of=as_of,
    )


def _drop_superseded(found: list[Problem], read_problems: list[Problem]) -> list[Problem]:
    """Drop findings already said another way.

    - a cell ingest already reported (an Excel error cell, say);
    - row findings on a column that ingest reported missing from the whole
      file (every row of that file would otherwise be "blank");
    - a "blank"/"required" finding on a cell that is also "unreadable" (the
      value is there, it just could not be read).
    """
    unreadable = {
        (p.file, p.sheet, p.row, p.column) for p in found if p.rule.endswith(".unreadable")
    }
    cells = {(p.file, p.sheet, p.row, p.column) for p in read_problems if p.column}
    whole_file = {
        (p.file, p.column)
        for p in read_problems
        if p.column and (p.row is None or p.rule == "missing_column")
    }
    out = []
    for p in found:
        cell = (p.file, p.sheet, p.row, p.column)
        if cell in cells or (p.file, p.column) in whole_file:
            continue
        if p.rule.rsplit(".", 1)[-1] in _MISSING_KINDS and cell in unreadable:
            continue
        out.append(p)
    return out


def validate_dso(
    dso_dir: str | Path, params: Params | None = None, use_cache: bool = True
) -> ValidationReport:
    """Read a DSO folder and validate it.

    Parameters
    ----------
    dso_dir : str or Path
        The DSO folder.
    params : Params, optional
        Default: the standard read for that folder
        (:func:`dso_analytics.standards.resolve_params`).
    use_cache : bool
        Serve and store a validated snapshot (:mod:`dso_analytics.snapshot`):
        when every input file is unchanged since a clean validation, the
        snapshot is read instead (no spreadsheet parsing, no Great
        Expectations import).  Only clean reports are stored.

    Returns
    -------
    ValidationReport

    Raises
    ------
    DsoError
        When the folder cannot be read at all.
    """
    from dso_analytics import snapshot
    from dso_analytics.ingest import read_dso

    if params is None:
        params = resolve_params(dso_dir)
    key = None
    discarded: Problem | None = None
    if use_cache:
        key = snapshot.compute_fingerprint(dso_dir, _snapshot_params(params))
        try:
            cached = _read_cached(dso_dir, key)
        except snapshot.SnapshotCorrupt as e:
            cached = None
            discarded = Problem(
                file=str(snapshot.snapshot_dir(Path(dso_dir).resolve().name, key)),
                problem=(
                    f"cached snapshot failed its integrity check ({e}): discarded, "
                    "validated again from the source files"
                ),
                rule="snapshot_discarded",
                severity="warning",
            )
        if cached is not None:
            return cached
    ds = read_dso(dso_dir, as_of=None if params is None else params.as_of)
    report = validate_dataset(ds, params)
    report.dso_dir = str(dso_dir)
    # store only clean results, and only if no file changed while it was read
    unchanged = key is not None and report.ok
    if unchanged and snapshot.compute_fingerprint(dso_dir, _snapshot_params(params)) == key:
        # a cache that cannot be written only costs speed
        with contextlib.suppress(OSError):
            snapshot.write_snapshot(ds, report.to_dict(), key)
    if discarded is not None:  # said once, for this run; not stored in the new snapshot
        report.problems.append(discarded)
    return report


def _snapshot_params(params: Params) -> dict[str, Any]:
    """What a validation result depends on besides the input files."""
    d = params.to_dict()
    d["earliest_plausible_date"] = str(params.earliest_plausible_date.date())
    d["implausible_years_after_as_of"] = params.implausible_years_after_as_of
    # the default as-of date of the date checks is capped at today
    d["today"] = pd.Timestamp.today().date().isoformat()
    d.pop("sources", None)  # where a value came from does not change the checks
    return d


def _read_cached(dso_dir: str | Path, key: str) -> ValidationReport | None:
    from dataclasses import fields

    from dso_analytics import snapshot

    found = snapshot.find_snapshot(dso_dir, key)
    if found is None:
        return None
    try:
        ds, payload = snapshot.read_snapshot_dir(found)
        names = {f.name for f in fields(Problem)}
        problems = [
            Problem(**{k: v for k, v in p.items() if k in names})
            for p in payload.get("problems", [])
        ]
        as_of = payload.get("as_of")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        # digests matched but the content does not load: as bad as a changed byte
        snapshot.discard_snapshot(found)
        raise snapshot.SnapshotCorrupt(f"unreadable ({type(e).__name__})") from None
    except snapshot.SnapshotCorrupt:
        snapshot.discard_snapshot(found)
        raise
    ds.root = Path(dso_dir)
    return ValidationReport(
        dataset=ds,
        problems=problems,
        dso_dir=str(dso_dir),
        as_of=None if as_of is None else pd.Timestamp(as_of),
    )


def load_dso(
    dso_dir: str | Path, params: Params | None = None, use_cache: bool = True
) -> DsoDataset:
    """Read and validate a DSO folder; return its dataset when it has no error.

    Parameters
    ----------
    dso_dir : str or Path
        The DSO folder.
    params : Params, optional
        As for :func:`validate_dso`.
    use_cache : bool
        As for :func:`validate_dso`.

    Returns
    -------
    DsoDataset

    Raises
    ------
    ValidationFailed
        When any error-severity problem was found; ``exc.report`` holds the
        :class:`ValidationReport`.
    """
    report = validate_dso(dso_dir, params=params, use_cache=use_cache)
    if not report.ok:
        raise ValidationFailed(report)
    return report.dataset
