"""Read and validate a DSO's negotiation scenarios (``scenarios.xlsx`` or ``scenarios.yaml``).

One row per scenario and agreement (docs/data-contract.md "scenarios").  Every
problem is one located :class:`~dso_analytics.errors.Problem` line; a row with
a problem becomes a :class:`~dso_analytics.metrics.scenarios.ScenarioSpec`
carrying the reason (listed, not evaluated), the other rows are still used.
A file that cannot be read at all (corrupt, hostile, not YAML) raises
:class:`~dso_analytics.errors.InputFileError` (exit 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from dso_analytics import schema
from dso_analytics.errors import DsoError, InputFileError, Problem
from dso_analytics.ingest.parse import cell_text, parse_code, parse_column
from dso_analytics.ingest.workbook import open_workbook
from dso_analytics.metrics.scenarios import (
    ASSUMPTION_FIELDS,
    BUILT_IN,
    TERM_FIELDS,
    ScenarioComparison,
    ScenarioSpec,
    compare_scenarios,
)
from dso_analytics.schema import Column

SCENARIOS_STEM = "scenarios"
SCENARIOS_SHEET = "scenarios"
MAX_YAML_BYTES = 1_000_000
#: longest term a scenario may model (as ``--term-months``): a row asking more is a problem
MAX_TERM_MONTHS = 120

SCENARIO_COLUMNS: tuple[Column, ...] = (
    Column("scenario", "text", required=True),
    Column("agreement_id", "text", required=True),
    Column("monthly_rate", "money", min_value=0),
    Column("pricing_basis", "code", codes=schema.PRICING_BASES),
    Column("annual_uplift_pct", "number"),
    Column("base_fee_increase_pct", "number"),
    Column("term_months", "integer", min_value=1),
    Column("notice_days", "integer", min_value=0),
    Column("onboarding_terms", "code", codes=schema.ONBOARDING_TERMS),
    Column("onboarding_cap", "money", min_value=0),
    Column("onboarding_sla_business_days", "integer", min_value=0),
    Column("reporting", "code", codes=schema.REPORTING_TERMS),
    Column("new_location_terms", "code", codes=schema.NEW_LOCATION_TERMS),
    Column("change_of_ownership_termination", "bool"),
    Column("baa", "code", codes=schema.BAA_TERMS),
    Column("included_services", "text"),
    Column("acquisitions_per_year", "number", min_value=0),
    Column("workstations_per_new_location", "number", min_value=0),
    Column("workstation_growth_pct", "number"),
    Column("term_start_date", "date"),
    Column("discount_rate_pct", "number", min_value=0),
    Column("onboarding_estimate", "money", min_value=0),
    Column("notes", "text"),
)
_BY_NAME = {c.name: c for c in SCENARIO_COLUMNS}
_KIND_TEXT = {
    "money": "an amount",
    "number": "a number",
    "integer": "a whole number",
    "date": "a date",
    "bool": "yes or no",
}


@dataclass
class ScenarioFile:
    """What :func:`read_scenarios` found.

    Attributes
    ----------
    path : str or None
        The file as shown to the user (``None``: the DSO has no scenarios file).
    specs : list of ScenarioSpec
        One per row (rows with a problem carry ``error``).
    problems : list of Problem
        One located line per problem.
    """

    path: str | None
    specs: list[ScenarioSpec] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No problem found."""
        return not self.problems


def find_scenarios_file(dso_dir: str | Path) -> Path | None:
    """The DSO folder's ``scenarios.xlsx`` (or ``.csv``) or ``scenarios.yaml`` (``.yml``), if any.

    Raises
    ------
    DsoError
        When the folder holds more than one of them.
    """
    root = Path(dso_dir)
    found = [root / f"{SCENARIOS_STEM}{ext}" for ext in (".xlsx", ".csv", ".yaml", ".yml")]
    found = [p for p in found if p.is_file()]
    if len(found) > 1:
        raise DsoError(f"{root}: {' and '.join(p.name for p in found)}: keep one scenarios file")
    return found[0] if found else None


def service_codes(text: Any) -> tuple[str, ...]:
    """The service codes of an ``included_services`` cell (``;``-separated).

    Normalised exactly as the ``service`` code of the agreements' services
    sheet and of billing (:func:`~dso_analytics.ingest.parse.parse_code`:
    trimmed, lower case, runs of spaces / hyphens -> ``_``), so a code in the
    scenarios file matches them: ``"HelpDesk"`` -> ``"helpdesk"`` (a header
    normaliser would split the camel case into ``help_desk``, a code that does
    not exist).

    >>> service_codes("HelpDesk; Security Tools;cross-location-incidents")
    ('helpdesk', 'security_tools', 'cross_location_incidents')
    """
    items = [x for x in str(text).split(";") if x.strip()]
    if not items:
        return ()
    values, _ = parse_code(pd.Series(items, dtype=object))
    return tuple(str(v) for v in values)


# ---------------------------------------------------------------------------
# Raw rows
# ---------------------------------------------------------------------------
def _xlsx_rows(path: Path, display: str) -> tuple[pd.DataFrame, list[Problem], int, str]:
    wb = open_workbook(path, display)
    try:
        sheet = "" if path.suffix.lower() == ".csv" else wb.find_sheet(SCENARIOS_SHEET)
        if sheet is None:
            have = ", ".join(wb.sheet_names)
            return pd.DataFrame(), [Problem(display, f"no sheet named {SCENARIOS_SHEET} "
                                                     f"(sheets: {have})", rule="missing_sheet")], 0, ""  # fmt: skip
        names = set(_BY_NAME)

        def matcher(cells: Any) -> float:
            return float(len(names.intersection(cells)))

        raw = wb.read_table(sheet, matcher)
    finally:
        wb.close()
    frame = raw.frame.drop(columns=[schema.SOURCE_FILE, schema.SOURCE_SHEET])
    frame = frame.rename(columns={schema.SOURCE_ROW: "_row"})
    return frame, [], raw.header_row, raw.sheet


def _yaml_rows(path: Path, display: str) -> tuple[pd.DataFrame, list[Problem]]:
    size = path.stat().st_size
    if size > MAX_YAML_BYTES:
        raise InputFileError(display, f"is larger than {MAX_YAML_BYTES:,} bytes")
    try:
        text = path.read_text("utf-8")
        # aliases can expand a small file into a huge document ("billion laughs"): refused
        if any(isinstance(ev, yaml.AliasEvent) for ev in yaml.parse(text, Loader=yaml.SafeLoader)):
            raise InputFileError(display, "uses YAML aliases (*name): write the values out")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except UnicodeDecodeError:
        raise InputFileError(display, "is not UTF-8 text") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise InputFileError(display, f"is not valid YAML{line}") from None
    items, nodes = data, node
    if isinstance(data, dict):
        items = data.get("scenarios")
        nodes = next((v for k, v in (node.value if node else []) if k.value == "scenarios"), None)
    if not isinstance(items, list):
        return pd.DataFrame(), [Problem(display, "expected a list of scenarios (a top-level "
                                                 "list, or under the key scenarios)",
                                        rule="yaml_shape")]  # fmt: skip
    problems: list[Problem] = []
    rows: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        line = nodes.value[i].start_mark.line + 1 if nodes is not None else i + 1
        if not isinstance(item, dict):
            problems.append(Problem(f"{display} line {line}", "a scenario must be a mapping of "
                                    "column: value", rule="yaml_shape"))  # fmt: skip
            continue
        row: dict[str, Any] = {}
        for k, v in item.items():
            key = schema.normalise_header(k)
            if isinstance(v, list):
                v = ";".join(str(x) for x in v)
            row[key] = "" if v is None else v
        row["_row"] = line
        rows.append(row)
    frame = pd.DataFrame(rows, dtype=object).fillna("") if rows else pd.DataFrame()
    return frame, problems


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Where:
    """How a problem of a scenarios file is located: a YAML line, or a sheet / CSV row."""

    display: str
    sheet: str
    is_yaml: bool

    def __call__(self, row: int | None, column: str | None, problem: str, value: Any = None,
                 rule: str = "scenario") -> Problem:  # fmt: skip
        """The located :class:`Problem` of ``row`` (a line or a row number) and ``column``."""
        val = None if value is None or value == "" else cell_text(value)
        if self.is_yaml:
            f = self.display if row is None else f"{self.display} line {row}"
            return Problem(f, problem, column=column, value=val, rule=rule)
        return Problem(self.display, problem, sheet=self.sheet or None, row=row, column=column,
                       value=val, rule=rule)  # fmt: skip

    def origin(self, row: Any) -> str:
        """Where a scenario row comes from, as its spec names it."""
        if self.is_yaml:
            return f"{self.display} line {row}"
        if self.sheet:
            return f"{self.display}, sheet {self.sheet}, row {row}"
        return f"{self.display}, row {row}"


@dataclass
class _Table:
    """A scenarios file's rows typed per column, and the problems found in them.

    ``rows`` holds each row's source line / row number; ``problems`` is the
    file's list (each row problem is appended to it); ``errors`` the problems
    of each row (by position), which make its spec not evaluated.
    """

    where: _Where
    rows: Any
    problems: list[Problem]
    typed: dict[str, pd.Series] = field(default_factory=dict)
    errors: dict[int, list[str]] = field(default_factory=dict)

    def bad(self, i: int, column: str | None, problem: str, value: Any = None) -> None:
        """Record a problem of row ``i`` (its column, what is wrong, the value given)."""
        self.problems.append(self.where(int(self.rows[i]), column, problem, value))
        self.errors.setdefault(i, []).append(f"{column}: {problem}" if column else problem)

    def val(self, c: str, i: int) -> Any:
        """The typed value of column ``c`` in row ``i`` (``None``: blank, invalid or absent)."""
        s = self.typed.get(c)
        if s is None:
            return None
        v = s.iloc[i]
        return None if pd.isna(v) else v


def read_scenarios(
    dso_dir: str | Path,
    agreements: pd.DataFrame,
    path: str | Path | None = None,
) -> ScenarioFile:
    """Read and validate the scenarios of a DSO.

    Parameters
    ----------
    dso_dir : str or Path
        The DSO folder (its ``scenarios.xlsx`` / ``scenarios.yaml`` is used
        when ``path`` is not given).
    agreements : DataFrame
        The DSO's typed agreements table (known ids and their own terms).
    path : str or Path, optional
        An explicit scenarios file (``--scenarios FILE``).

    Returns
    -------
    ScenarioFile

    Raises
    ------
    InputFileError
        For a file that cannot be read (exit 2).
    """
    found = _locate(Path(dso_dir), path)
    if found is None:
        return ScenarioFile(None)
    p, display = found
    frame, problems, header_row, sheet = _raw_rows(p, display)
    out = ScenarioFile(display, problems=problems)
    if frame.empty:
        if not problems:
            out.problems.append(Problem(display, "has no scenario rows", sheet=sheet or None,
                                        rule="empty"))  # fmt: skip
        return out
    where = _Where(display, sheet, p.suffix.lower() in (".yaml", ".yml"))
    cols = [c for c in frame.columns if c != "_row"]
    out.problems.extend(_column_problems(cols, where, header_row))
    if any(p.rule == "missing_column" for p in out.problems):
        return out
    table = _Table(where, frame["_row"].to_numpy(), out.problems)
    _type_columns(frame, cols, table)
    _check_rows(table, len(frame), agreements)
    out.specs.extend(_spec(table, i) for i in range(len(frame)))
    return out


def _locate(root: Path, path: str | Path | None) -> tuple[Path, str] | None:
    """The scenarios file to read and its name as shown (``None``: the DSO has none)."""
    if path is None:
        p = find_scenarios_file(root)
        if p is None:
            return None
    else:
        p = Path(path)
        if not p.is_file():
            raise DsoError(f"{path}: no such scenarios file")
    try:
        display = p.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        display = str(path) if path is not None else p.name
    return p, display


def _raw_rows(p: Path, display: str) -> tuple[pd.DataFrame, list[Problem], int, str]:
    """The file's raw rows by format: (frame, problems, header row, sheet)."""
    ext = p.suffix.lower()
    if ext in (".yaml", ".yml"):
        frame, problems = _yaml_rows(p, display)
        return frame, problems, 0, ""
    if ext in (".xlsx", ".csv"):
        return _xlsx_rows(p, display)
    raise InputFileError(display, "a scenarios file is .xlsx (sheet scenarios), .csv or .yaml")


def _column_problems(cols: list[str], where: _Where, header_row: int) -> list[Problem]:
    """Unknown columns, and required columns that are missing."""
    problems = []
    for c in cols:
        if c not in _BY_NAME:
            problems.append(where(header_row or None, c, "unknown column (see "
                                  "docs/data-contract.md, scenarios)", rule="unknown_column"))  # fmt: skip
    for c in ("scenario", "agreement_id"):
        if c not in cols:
            problems.append(where(header_row or None, c, f"required column {c} is missing",
                                  rule="missing_column"))  # fmt: skip
    return problems


def _type_columns(frame: pd.DataFrame, cols: list[str], t: _Table) -> None:
    """Type each known column (``t.typed``); a value of the wrong kind or below the
    column's minimum is a problem of its row."""
    for c in cols:
        col = _BY_NAME.get(c)
        if col is None:
            continue
        raw = frame[c].reset_index(drop=True).astype(object)
        values, invalid = parse_column(raw, col.kind)
        t.typed[c] = values.reset_index(drop=True)
        for i in range(len(raw)):
            inv = invalid.iloc[i]
            if pd.notna(inv):
                allowed = (
                    f"one of {', '.join(col.codes)}" if col.kind == "code"
                    else _KIND_TEXT.get(col.kind, col.kind)
                )  # fmt: skip
                t.bad(i, c, f"is not {allowed}", inv)
            elif (
                col.min_value is not None
                and pd.notna(values.iloc[i])
                and float(values.iloc[i]) < col.min_value
            ):
                t.bad(i, c, f"must be >= {col.min_value:g}", raw.iloc[i])


def _check_rows(t: _Table, n: int, agreements: pd.DataFrame) -> None:
    """The rules across columns and rows, row by row: who the row is, its terms against
    its agreement's, and one value per DSO for each planning assumption."""
    ag = agreements.reset_index(drop=True)
    ag_ids = ag["agreement_id"].astype("str").str.strip()
    by_id = {a: i for i, a in enumerate(ag_ids) if isinstance(a, str)}
    seen: dict[tuple[str, str], int] = {}
    first_assumption: dict[str, tuple[Any, int]] = {}
    for i in range(n):
        aid = _check_identity(t, i, by_id, seen)
        _check_terms(t, i, ag.iloc[by_id[aid]] if aid in by_id else None)
        _check_assumptions(t, i, first_assumption)


def _check_identity(t: _Table, i: int, by_id: dict[str, int],
                    seen: dict[tuple[str, str], int]) -> Any:  # fmt: skip
    """Row ``i`` names a scenario (not a built-in one) and a known agreement, once per
    scenario and agreement (``seen``: the first row of each); its agreement id."""
    name, aid = t.val("scenario", i), t.val("agreement_id", i)
    if name is None:
        t.bad(i, "scenario", "is blank")
    if aid is None:
        t.bad(i, "agreement_id", "is blank")
    elif aid not in by_id:
        known = ", ".join(sorted(by_id)) or "none"
        t.bad(i, "agreement_id", f"unknown agreement (agreements: {known})", aid)
    if name is not None and name.strip().lower() in {b.lower() for b in BUILT_IN}:
        t.bad(i, "scenario", "is the name of a built-in scenario: choose another", name)
    if name is not None and aid is not None:
        key = (name, aid)
        if key in seen:
            t.bad(i, "agreement_id", f"a second row for scenario {name!r} and this agreement "
                                     f"(first: row {seen[key]})", aid)  # fmt: skip
        else:
            seen[key] = int(t.rows[i])
    return aid


def _check_terms(t: _Table, i: int, row_ag: Any) -> None:
    """Row ``i``'s terms agree with each other and with its agreement's (``row_ag``)."""
    val = t.val
    if val("monthly_rate", i) is not None and val("base_fee_increase_pct", i) is not None:
        t.bad(i, "base_fee_increase_pct", "give monthly_rate or base_fee_increase_pct, not both")
    own = None if row_ag is None else row_ag.get("pricing_basis")
    basis = val("pricing_basis", i)
    if basis is not None and own is not None and basis != own and val("monthly_rate", i) is None:
        t.bad(i, "monthly_rate", f"pricing_basis changes to {basis}: give the monthly_rate for it")
    tm = val("term_months", i)
    if tm is not None and int(tm) > MAX_TERM_MONTHS:
        t.bad(i, "term_months", f"must be <= {MAX_TERM_MONTHS} (the longest term modelled)", tm)
    terms = val("onboarding_terms", i)
    if terms == "capped" and val("onboarding_cap", i) is None:
        t.bad(i, "onboarding_cap", "onboarding_terms is capped but no onboarding_cap amount")
    own_terms = None if row_ag is None else row_ag.get("onboarding_terms")
    if val("onboarding_cap", i) is not None and (terms or own_terms) not in ("capped", None):
        t.bad(i, "onboarding_cap", f"an onboarding_cap with onboarding_terms "
                                   f"{terms or own_terms} (give onboarding_terms capped)")  # fmt: skip
    svc = val("included_services", i)
    if svc is not None:
        valid = set(schema.SERVICE_CODES) - {schema.UNCLASSIFIED, schema.MANAGED_SERVICES}
        wrong = [x for x in service_codes(svc) if x not in valid]
        if wrong:
            t.bad(i, "included_services", f"unknown service code(s) {', '.join(wrong)}", svc)


def _check_assumptions(t: _Table, i: int, first: dict[str, tuple[Any, int]]) -> None:
    """A planning assumption given in row ``i`` equals the one given first (``first``:
    value and row of each): one value per DSO."""
    for a in ASSUMPTION_FIELDS:
        v = t.val(a, i)
        if v is None:
            continue
        if a in first and first[a][0] != v:
            t.bad(i, a, f"differs from row {first[a][1]} "
                        f"({cell_text(first[a][0])}): one value per DSO", v)  # fmt: skip
        else:
            first.setdefault(a, (v, int(t.rows[i])))


def _spec(t: _Table, i: int) -> ScenarioSpec:
    """Row ``i`` as a :class:`ScenarioSpec` (its problems, if any, as its ``error``)."""
    terms: dict[str, Any] = {}
    for name in TERM_FIELDS:
        v = t.val(name, i)
        if v is None:
            continue
        if name == "included_services":
            v = service_codes(v)
        elif isinstance(v, bool) or hasattr(v, "item"):
            v = v.item() if hasattr(v, "item") else v
        terms[name] = v
    assumptions = {a: t.val(a, i) for a in ASSUMPTION_FIELDS if t.val(a, i) is not None}
    if "term_start_date" in assumptions:
        assumptions["term_start_date"] = pd.Timestamp(assumptions["term_start_date"])
    origin = t.where.origin(t.rows[i])
    errs = t.errors.get(i)
    return ScenarioSpec(
        name=str(t.val("scenario", i) or f"(row {t.rows[i]})"),
        agreement_id=str(t.val("agreement_id", i) or ""),
        terms=terms,
        assumptions=assumptions,
        origin=origin,
        error=f"{origin}: {'; '.join(errs)}" if errs else None,
    )


def dso_scenarios(
    ds: Any,
    m: Any,
    path: str | Path | None = None,
    term_months: int | None = None,
    problems_in_notes: bool = True,
) -> tuple[ScenarioComparison, ScenarioFile]:
    """Read the DSO's scenarios file (if any) and compare every scenario (M8).

    With ``problems_in_notes`` (reports) the problems of the file are added to
    the comparison's notes, so every output that shows the comparison shows
    them, and a file that cannot be read is a note too (the built-in scenarios
    are still compared); without it (the CLI) that raises (exit 2).

    Parameters
    ----------
    ds : DsoDataset
    m : DsoMetrics
    path : str or Path, optional
        An explicit scenarios file.
    term_months : int, optional
    problems_in_notes : bool

    Returns
    -------
    (ScenarioComparison, ScenarioFile)
    """
    unreadable = None
    try:
        found = read_scenarios(ds.root, ds.agreements, path)
    except DsoError as exc:
        if not problems_in_notes:
            raise
        found, unreadable = ScenarioFile(None), str(exc)  # the built-in scenarios still shown
    cmp = compare_scenarios(ds, m, found.specs, term_months=term_months)
    if problems_in_notes:
        cmp.notes.extend(str(p) for p in found.problems)
        if unreadable:
            cmp.notes.append(f"{unreadable} (its scenarios are not shown)")
    return cmp, found
