"""Validation: every rule caught at the right file/sheet/row/column, all at once.

Great Expectations costs seconds to import, so every folder here is validated
once (module-scoped fixtures) and the parametrised tests read the reports.
The tests share one xdist worker (``xdist_group``) so GX is imported once.
"""

from __future__ import annotations

import pytest

from dso_analytics import schema
from dso_analytics.dataset import DsoDataset
from dso_analytics.errors import Problem, ValidationFailed
from dso_analytics.standards import Params
from dso_analytics.validation import ValidationReport, load_dso, validate_dso
from tests.support.builders import base_tables, make_dso

pytestmark = pytest.mark.xdist_group("gx-validation")

AS_OF = "2025-06-30"  # dates after 2035-06-30 (10 years later) are implausible


def _bad_tables(billing_ext: str) -> dict:
    """base_tables plus one deliberate problem per rule (rows noted per table)."""
    t = base_tables()
    loc = t["locations"]
    ok_loc = dict(loc[0])
    loc += [
        # row 4: duplicate location_id of row 2
        {**ok_loc, "location_name": "Copy"},
        # row 5: unknown join_type; negative workstations
        {**ok_loc, "location_id": "LOC-005", "join_type": "merger", "workstations": -3},
        # row 6: blank location_name; go-live before join
        {**ok_loc, "location_id": "LOC-006", "location_name": "", "join_date": "2021-01-01",
         "go_live_date": "2020-12-01"},
        # row 7: join_date before 2000; workstations not a number
        {**ok_loc, "location_id": "LOC-007", "join_date": "1995-05-01",
         "go_live_date": "", "workstations": "many"},
    ]  # fmt: skip
    ag = t["agreements"]
    ok_ag = dict(ag[0])
    ag += [
        # row 3: unknown location in list; auto_renew without notice_days;
        # capped without cap; term_months 0; terms effective before the start
        {**ok_ag, "agreement_id": "AG-2", "scope": "location", "location_ids": "LOC-001; LOC-099",
         "notice_days": "", "onboarding_terms": "capped", "onboarding_cap": "",
         "term_months": 0, "terms_effective_date": "2022-12-31"},
        # row 4: location scope with no locations; unreadable money; start far in the future
        {**ok_ag, "agreement_id": "AG-3", "scope": "location", "location_ids": "",
         "monthly_rate": "abc", "start_date": "2099-01-01"},
    ]  # fmt: skip
    t["services"] += [
        {"agreement_id": "AG-9", "service": "helpdesk", "coverage": "included"},  # row 4
        {"agreement_id": "AG-1", "service": "helpdesk", "coverage": "excluded"},  # row 5 dup
        {"agreement_id": "AG-1", "service": "teleportation", "coverage": "included"},  # row 6
    ]
    t["documentation"] += [
        # row 3: duplicate key of row 2 and an unreadable bool
        {"agreement_id": "AG-1", "deliverable": "access_control_logs", "specified": "maybe"},
    ]
    org = t["billing"].pop("organization.csv")
    line = dict(org[0])
    org += [
        {**line, "invoice_number": "INV-201", "location_id": "LOC-01"},  # row 4
        {**line, "invoice_number": "INV-202", "agreement_id": "AG-7"},  # row 5
        {**line, "invoice_number": ""},  # row 6
        {**line, "invoice_number": "INV-203", "amount": "12,34x"},  # row 7
        {**line, "invoice_number": "INV-204", "invoice_date": "13/45/2024"},  # row 8
        {**line, "invoice_number": "INV-205", "service": "consulting", "hours": -2},  # row 9
    ]
    t["billing"]["organization" + billing_ext] = org
    loc2 = t["billing"].pop("LOC-002.csv")
    t["billing"]["LOC-002" + billing_ext] = loc2
    return t


# (table, row, column, rule, message fragment, value)
EXPECTED = [
    ("locations", 4, "location_id", "locations.location_id.duplicate",
     "duplicate location_id: already in {locations}, row 2", "LOC-001"),
    ("locations", 5, "join_type", "locations.join_type.code",
     "is not a known join_type code", "merger"),
    ("locations", 5, "workstations", "locations.workstations.min", "must be at least 0", "-3"),
    ("locations", 6, "location_name", "locations.location_name.blank",
     "is blank or an Excel error", None),
    ("locations", 6, "go_live_date", "locations.go_live_date.before_join",
     "is before join_date 2021-01-01", "2020-12-01"),
    ("locations", 7, "join_date", "locations.join_date.implausible",
     "is an implausible date (before 2000-01-01)", "1995-05-01"),
    ("locations", 7, "workstations", "locations.workstations.unreadable",
     "could not be read as a whole number", "many"),
    ("agreements", 3, "location_ids", "agreements.location_ids.unknown",
     "lists location_ids that are not in locations", "LOC-099"),
    ("agreements", 3, "notice_days", "agreements.notice_days.required_if",
     "is required when auto_renew is yes", None),
    ("agreements", 3, "onboarding_cap", "agreements.onboarding_cap.required_if",
     "is required when onboarding_terms is capped", None),
    ("agreements", 3, "term_months", "agreements.term_months.min", "must be greater than 0", "0"),
    ("agreements", 3, "terms_effective_date", "agreements.terms_effective_date.before_start",
     "is before start_date 2023-01-01", "2022-12-31"),
    ("agreements", 4, "location_ids", "agreements.location_ids.required_if",
     "must list at least one location_id when scope is location", None),
    ("agreements", 4, "monthly_rate", "agreements.monthly_rate.unreadable",
     "could not be read as money", "abc"),
    ("agreements", 4, "start_date", "agreements.start_date.implausible",
     "more than 10 years after the as-of date 2025-06-30", "2099-01-01"),
    ("services", 4, "agreement_id", "services.agreement_id.unknown",
     "is not in agreements", "AG-9"),
    ("services", 5, "service", "services.service.duplicate",
     "duplicate agreement_id + service: already in {services}, row 2", "AG-1 / helpdesk"),
    ("services", 6, "service", "services.service.code", "is not a known service code",
     "teleportation"),
    ("documentation", 3, "deliverable", "documentation.deliverable.duplicate",
     "duplicate agreement_id + deliverable: already in {documentation}, row 2",
     "AG-1 / access_control_logs"),
    ("documentation", 3, "specified", "documentation.specified.unreadable",
     "could not be read as yes/no", "maybe"),
    ("billing", 4, "location_id", "billing.location_id.unknown",
     "is not in locations (closest: LOC-001, ", "LOC-01"),
    ("billing", 5, "agreement_id", "billing.agreement_id.unknown",
     "is not in agreements", "AG-7"),
    ("billing", 6, "invoice_number", "billing.invoice_number.blank",
     "is blank or an Excel error", None),
    ("billing", 7, "amount", "billing.amount.unreadable", "could not be read as money", "12,34x"),
    ("billing", 8, "invoice_date", "billing.invoice_date.unreadable",
     "could not be read as a date", "13/45/2024"),
    ("billing", 9, "service", "billing.service.code", "is not a known service code",
     "consulting"),
    ("billing", 9, "hours", "billing.hours.min", "must be at least 0", "-2"),
]  # fmt: skip


def _where(fmt: str, table: str) -> tuple[str, str | None]:
    """File and sheet of ``table`` in a make_dso folder of format ``fmt``."""
    if table == "billing":
        return ("billing/organization." + fmt, "billing" if fmt == "xlsx" else None)
    if fmt == "csv":
        return (f"{table}.csv", None)
    if table == "locations":
        return ("locations.xlsx", "locations")
    return ("agreements.xlsx", table)


@pytest.fixture(scope="module", params=["csv", "xlsx"])
def bad(request, tmp_path_factory):
    fmt = request.param
    root = tmp_path_factory.mktemp(f"bad-{fmt}")
    d = make_dso(root, tables=_bad_tables("." + fmt), fmt=fmt)
    report = validate_dso(d, params=Params().with_overrides(as_of=AS_OF))
    return fmt, report


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    d = make_dso(tmp_path_factory.mktemp("good"))
    return d, validate_dso(d)


@pytest.mark.parametrize("case", EXPECTED, ids=[f"{e[3]}-row{e[1]}" for e in EXPECTED])
def test_each_rule_is_caught_at_its_cell(bad, case):
    fmt, report = bad
    table, row, column, rule, fragment, value = case
    file, sheet = _where(fmt, table)
    fragment = fragment.format(**{t: _where(fmt, t)[0] for t in schema.TABLES})
    hits = [p for p in report.problems if p.rule == rule and p.row == row and p.column == column]
    assert len(hits) == 1, [str(p) for p in report.problems]
    p = hits[0]
    assert (p.file, p.sheet, p.severity) == (file, sheet, "error")
    assert fragment in p.problem
    assert p.value == value
    line = str(p)
    assert line.startswith(f"{file}, " + (f"sheet {sheet}, " if sheet else "") + f"row {row}, ")


def test_all_problems_at_once_and_nothing_else(bad):
    _, report = bad
    assert not report.ok
    got = sorted((p.rule, p.row) for p in report.problems)
    assert got == sorted((e[3], e[1]) for e in EXPECTED)
    text = report.to_text().splitlines()
    assert text[0] == f"{len(EXPECTED)} problems in {report.dso_dir}:"
    assert len(text) == 1 + len(EXPECTED)


def test_json_dict_lists_every_problem(bad):
    _, report = bad
    d = report.to_dict()
    assert d["ok"] is False
    assert len(d["problems"]) == len(EXPECTED)
    assert d["problem_counts"]["billing.amount.unreadable"] == 1
    assert d["summary"]["errors"] == len(EXPECTED)


def test_good_folder_is_ok_with_hand_counted_summary(good):
    d, report = good
    assert report.ok, report.to_text()
    assert report.problems == []
    s = report.summary()
    # base_tables: 2 locations, 1 agreement, billing 2 lines in organization.csv + 1 in
    # LOC-002.csv; amounts 2,400.00 + 250.00 + 7,000 = 9,650.00; dates 03/31/2024..2025-01-31
    assert s["locations"] == 2
    assert s["agreements"] == 1
    assert s["billing_lines"] == 3
    assert s["billing_files"] == 2
    assert s["first_invoice_date"] == "2024-03-31"
    assert s["last_invoice_date"] == "2025-01-31"
    assert s["total_billed"] == 9650.00
    assert (s["errors"], s["warnings"]) == (0, 0)
    text = report.to_text()
    assert "valid" in text and "9,650.00" in text and "2024-03-31 to 2025-01-31" in text
    assert report.as_of.date().isoformat() == "2025-01-31"  # the latest invoice


def test_total_billed_is_exact_to_the_cent(tmp_path):
    t = base_tables()
    # 0.10 + 0.20 + ... (ten lines of 0.10 and one of 0.20): float sums drift, cents do not
    t["billing"] = {
        "organization.csv": [
            {**t["billing"]["organization.csv"][0], "invoice_number": f"INV-{i}",
             "amount": "0.10" if i < 10 else "0.20", "description": f"line {i}"}
            for i in range(11)
        ]
    }  # fmt: skip
    report = ValidationReport(dataset=_read(make_dso(tmp_path, tables=t)))
    # 10 x 0.10 + 0.20 = 1.20 exactly
    assert report.summary()["total_billed"] == 1.20


def _read(d):
    from dso_analytics.ingest import read_dso

    return read_dso(d)


def test_load_dso_raises_with_report_and_returns_dataset_when_ok(good, bad):
    d, _ = good
    ds = load_dso(d)
    assert isinstance(ds, DsoDataset) and len(ds.billing) == 3
    fmt, report = bad
    with pytest.raises(ValidationFailed) as exc:
        load_dso(report.dso_dir, params=Params().with_overrides(as_of=AS_OF))
    assert not exc.value.report.ok
    assert str(exc.value).startswith(f"{len(EXPECTED)} problems in ")


def test_many_bad_cells_are_all_found_and_capped_in_text(tmp_path):
    t = base_tables()
    line = t["billing"]["organization.csv"][0]
    # 23 unreadable amounts (rows 2-24) and 1 blank description (row 25)
    rows = [{**line, "invoice_number": f"INV-{i}", "amount": f"x{i}"} for i in range(23)]
    rows.append({**line, "invoice_number": "INV-99", "description": ""})
    t["billing"]["organization.csv"] = rows
    report = validate_dso(make_dso(tmp_path, tables=t))
    amounts = [p for p in report.problems if p.rule == "billing.amount.unreadable"]
    assert [p.row for p in amounts] == list(range(2, 25))
    lines = report.to_text().splitlines()
    assert lines[0] == f"24 problems in {report.dso_dir}:"
    # 20 amount lines + 1 description line + the count of the 3 amount lines left out
    assert len(lines) == 1 + 20 + 1 + 1
    assert lines[-1] == "... and 3 more billing.amount.unreadable problems"
    assert sum("row 25, description: is blank or an Excel error" in x for x in lines) == 1


def test_unknown_location_suggests_an_alias(tmp_path):
    t = base_tables()
    t["locations"][1]["aliases"] = "Elm Street; Site 22"
    t["billing"]["organization.csv"][1]["location_id"] = "Elm Stret"
    report = validate_dso(make_dso(tmp_path, tables=t))
    (p,) = report.problems
    assert (p.file, p.row, p.column) == ("billing/organization.csv", 3, "location_id")
    # one problem per value: its rows, the closest alias first, and the fix
    assert "'Elm Stret' is not in locations (closest: Elm Street (LOC-002)" in p.problem
    assert "row 3. Add it to the aliases of its location in locations" in p.problem


def test_done_when_case_three_lines(tmp_path):
    t = base_tables()
    t["billing"]["organization.csv"][0]["amount"] = "12O.00"  # letter O: bad amount, row 2
    t["billing"]["organization.csv"][1]["invoice_number"] = ""  # blank, row 3
    t["locations"].append({**t["locations"][0], "location_name": "Dup"})  # duplicate, row 4
    report = validate_dso(make_dso(tmp_path, tables=t))
    assert [str(p) for p in report.problems] == [
        "billing/organization.csv, row 2, amount: could not be read as money ('12O.00')",
        "billing/organization.csv, row 3, invoice_number: is blank or an Excel error",
        "locations.csv, row 4, location_id: duplicate location_id: already in locations.csv, "
        "row 2 ('LOC-001')",
    ]


# ---------------------------------------------------------------------------
# Report rendering (no GX)
# ---------------------------------------------------------------------------
def _empty_ds() -> DsoDataset:
    import pandas as pd

    frames = {t: pd.DataFrame({c: [] for c in schema.column_names(t)}) for t in schema.TABLES}
    return DsoDataset(dso="x", root=__import__("pathlib").Path("x"), **frames)


def test_warnings_do_not_fail_and_read_problems_come_first():
    warn = Problem(file="billing/a.csv", row=3, problem="duplicate line", rule="dup",
                   severity="warning")  # fmt: skip
    err = Problem(file="locations.csv", row=2, column="state", problem="bad", rule="r")
    report = ValidationReport(dataset=_empty_ds(), problems=[warn], dso_dir="x")
    assert report.ok
    assert report.to_text().splitlines()[-2:] == [
        "1 warning:",
        "warning: billing/a.csv, row 3: duplicate line",
    ]
    report = ValidationReport(dataset=_empty_ds(), problems=[warn, err], dso_dir="x")
    assert not report.ok
    assert report.to_text().splitlines() == [
        "2 problems in x:",
        "warning: billing/a.csv, row 3: duplicate line",
        "locations.csv, row 2, state: bad",
    ]


def test_cap_is_per_rule():
    probs = [Problem(file="f.csv", row=i, problem="p", rule="a") for i in range(2, 27)]
    probs += [Problem(file="f.csv", row=i, problem="q", rule="b") for i in range(2, 5)]
    report = ValidationReport(dataset=_empty_ds(), problems=probs, dso_dir="x")
    lines = report.to_text(max_per_rule=20).splitlines()
    # rule a: 25 problems -> 20 lines + "... and 5 more"; rule b: 3 lines
    assert len(lines) == 1 + 20 + 3 + 1
    assert lines[-1] == "... and 5 more a problems"


def test_cells_ingest_already_reported_are_not_reported_again(good):
    from dso_analytics.validation import validate_dataset

    d, _ = good
    ds = _read(d)
    first = (ds.billing["source_file"] == "billing/organization.csv") & (
        ds.billing["source_row"] == 2
    )
    ds.billing.loc[first, "invoice_number"] = None  # as ingest leaves an Excel error cell
    excel = Problem(file="billing/organization.csv", row=2, column="invoice_number",
                    problem="is an Excel error #REF!, not a value", value="#REF!",
                    rule="excel_error")  # fmt: skip
    ds.read_problems = [excel]
    report = validate_dataset(ds)
    assert report.problems == [excel]


def test_a_file_without_a_required_column_is_reported_once(tmp_path):
    t = base_tables()
    for row in t["locations"]:
        del row["location_name"]
    report = validate_dso(make_dso(tmp_path, tables=t))
    # ingest says the column is missing (rule missing_column); validation adds no
    # "blank" line for each of the file's two rows
    assert [(p.file, p.column, p.rule) for p in report.problems] == [
        ("locations.csv", "location_name", "missing_column")
    ]
