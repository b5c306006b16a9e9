"""read_dso / list_dso_dirs on small DSO folders built in the test (CSV and xlsx)."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import sys

import openpyxl
import pandas as pd
import pytest

from dso_analytics.errors import DsoError
from dso_analytics.ingest import list_dso_dirs, read_dso
from dso_analytics.ingest.dso import empty_table
from dso_analytics.schema import column_names
from tests.support.builders import base_tables, make_dso, write_table


@pytest.fixture(params=["csv", "xlsx"])
def fmt(request):
    return request.param


def test_typed_columns(tmp_path, fmt):
    ds = read_dso(make_dso(tmp_path, fmt=fmt, dso_yaml="display_name: Acme Dental\nnotes: hi\n"))
    assert ds.dso == "acme-dental"
    assert ds.display_name == "Acme Dental" and ds.currency == "USD" and ds.notes == "hi"
    assert ds.read_problems == []
    assert ds.present_tables == {"locations", "agreements", "services", "documentation", "billing"}
    loc = ds.locations
    assert loc["location_id"].tolist() == ["LOC-001", "LOC-002"]
    assert loc["location_id"].dtype == "str"
    assert loc["join_date"].dtype == "datetime64[ns]"
    assert loc["join_date"].tolist() == [pd.Timestamp("2020-01-01"), pd.Timestamp("2024-03-04")]
    assert str(loc["workstations"].dtype) == "Int64"
    assert loc["workstations"].tolist() == [10, 6]
    ag = ds.agreements.iloc[0]
    assert ag["auto_renew"] is True or ag["auto_renew"] == True  # noqa: E712 (nullable boolean)
    assert str(ds.agreements["auto_renew"].dtype) == "boolean"
    assert ag["monthly_rate"] == 150.0
    assert ag["onboarding_hourly_rate"] == 175.0
    assert pd.isna(ag["onboarding_cap"])
    assert ds.agreements["change_of_ownership_termination"].tolist() == [False]
    assert ds.services["coverage"].tolist() == ["included", "add_on"]
    assert ds.services["add_on_rate"].tolist()[1] == 250.0
    assert ds.documentation["specified"].tolist() == [True]
    b = ds.billing
    # files are read in path order: billing/LOC-002.csv, then billing/organization.csv
    assert b["source_file"].tolist() == [
        "billing/LOC-002.csv",
        "billing/organization.csv",
        "billing/organization.csv",
    ]
    assert b["source_row"].tolist() == [2, 2, 3]  # header is row 1
    assert b["amount"].tolist() == [7000.0, 2400.0, 250.0]  # "7000", "2,400.00", "$250.00"
    assert b["invoice_date"].tolist() == [
        pd.Timestamp("2024-03-31"),  # "03/31/2024"
        pd.Timestamp("2025-01-31"),
        pd.Timestamp("2025-01-31"),
    ]
    # LOC-002.csv has no location_id column: its stem gives it
    assert b["location_id"].tolist()[0] == "LOC-002"
    assert pd.isna(b["location_id"].tolist()[1])  # organization-level line stays blank
    assert b["service"].tolist()[0] == "new_location_onboarding"
    for name in column_names("billing"):
        assert name in b.columns
    assert not [c for c in b.columns if c.endswith("__invalid")]


def test_sources_have_sha256(tmp_path, fmt):
    d = make_dso(tmp_path, fmt=fmt)
    ds = read_dso(d)
    by_path = {s.path: s for s in ds.sources}
    loc_file = f"locations.{fmt}"
    assert by_path[loc_file].sha256 == hashlib.sha256((d / loc_file).read_bytes()).hexdigest()
    assert by_path[loc_file].rows == 2
    assert by_path["billing/organization.csv"].rows == 2
    if fmt == "xlsx":
        assert by_path["locations.xlsx"].sheets == ("locations",)
        assert by_path["agreements.xlsx"].sheets == ("agreements", "services", "documentation")
    else:
        assert {"services.csv", "documentation.csv"} <= set(by_path)


def test_source_sheet_and_rows_xlsx(tmp_path):
    ds = read_dso(make_dso(tmp_path, fmt="xlsx"))
    assert ds.locations["source_sheet"].tolist() == ["locations", "locations"]
    assert ds.locations["source_row"].tolist() == [2, 3]
    assert ds.services["source_sheet"].tolist() == ["services", "services"]
    # CSV billing files have no sheet
    assert set(ds.billing["source_sheet"]) == {""}


def test_real_xlsx_cells_typed(tmp_path):
    t = base_tables()
    t["locations"][0]["join_date"] = dt.datetime(2020, 1, 1)
    t["locations"][1]["join_date"] = 45355  # serial: 1899-12-30 + 45355 days = 2024-03-04
    t["billing"] = {
        "acme.xlsx": [
            {"invoice_number": 1001, "invoice_date": dt.datetime(2025, 1, 31),
             "location_id": "LOC-001", "description": "Helpdesk", "amount": 100.004,
             "quantity": 2, "hours": 1.5},
            {"invoice_number": "INV-2", "invoice_date": "2025-02-28", "location_id": "LOC-001",
             "description": "Credit", "amount": -50, "quantity": None},
        ]
    }  # fmt: skip
    ds = read_dso(make_dso(tmp_path, tables=t, fmt="xlsx"))
    assert ds.locations["join_date"].tolist() == [
        pd.Timestamp("2020-01-01"),
        pd.Timestamp("2024-03-04"),
    ]
    b = ds.billing
    assert b["invoice_number"].tolist() == ["1001", "INV-2"]  # a number cell read as text
    assert b["amount"].tolist() == [100.0, -50.0]  # rounded to the cent
    assert b["quantity"].tolist() == [2.0, 1.0]  # blank quantity defaults to 1
    assert b["hours"].tolist()[0] == 1.5
    assert b["source_sheet"].tolist() == ["billing", "billing"]


def test_invalid_cells_kept_as_text(tmp_path, fmt):
    t = base_tables()
    t["locations"][1]["workstations"] = "six"
    t["locations"][1]["join_date"] = "31/03/2024"  # day-first: not accepted
    t["billing"]["organization.csv"][0]["amount"] = "1,2345"
    ds = read_dso(make_dso(tmp_path, tables=t, fmt=fmt))
    loc = ds.locations
    assert loc["workstations"].isna().tolist() == [False, True]
    assert loc["workstations__invalid"].tolist()[1] == "six"
    assert pd.isna(loc["workstations__invalid"].tolist()[0])
    assert loc["join_date__invalid"].tolist()[1] == "31/03/2024"
    b = ds.billing
    row = b[b["source_file"] == "billing/organization.csv"].iloc[0]
    assert pd.isna(row["amount"]) and row["amount__invalid"] == "1,2345"
    assert b["amount__invalid"].dtype == "str"


def test_extra_columns_kept(tmp_path):
    t = base_tables()
    t["billing"]["organization.csv"][0]["Ticket Ref"] = "T-9"
    ds = read_dso(make_dso(tmp_path, tables=t))
    assert "ticket_ref" in ds.billing.columns
    assert ds.billing["ticket_ref"].dtype == "str"
    assert ds.billing.loc[
        ds.billing["source_row"].eq(2) & ds.billing["source_file"].str.contains("organization"),
        "ticket_ref",
    ].tolist() == ["T-9"]


def test_headers_matched_case_insensitively(tmp_path):
    t = base_tables()
    t["billing"] = {
        "x.csv": [{" Invoice Number ": "I-1", "INVOICE-DATE": "2025-01-01",
                   "Description": "d", "Amount": "5"}]
    }  # fmt: skip
    ds = read_dso(make_dso(tmp_path, tables=t))
    assert ds.billing[["invoice_number", "amount"]].values.tolist() == [["I-1", 5.0]]
    assert ds.read_problems == []


def test_location_default_from_stem_case_insensitive(tmp_path):
    t = base_tables()
    t["billing"] = {
        "loc-001.csv": [
            {"invoice_number": "I-1", "invoice_date": "2025-01-01", "description": "a",
             "amount": "1", "location_id": ""},
            {"invoice_number": "I-1", "invoice_date": "2025-01-01", "description": "b",
             "amount": "2", "location_id": "LOC-002"},
        ]
    }  # fmt: skip
    ds = read_dso(make_dso(tmp_path, tables=t))
    # blank takes the stem's location; an explicit value is kept
    assert ds.billing["location_id"].tolist() == ["LOC-001", "LOC-002"]


def test_alias_mapping(tmp_path):
    t = base_tables()
    t["locations"][0]["aliases"] = "Site 1001; Main Street"
    t["locations"][1]["aliases"] = ""
    t["billing"] = {
        "export.csv": [
            {"invoice_number": "I-1", "invoice_date": "2025-01-01", "description": "a",
             "amount": "1", "location_id": "  main   STREET "},
            {"invoice_number": "I-1", "invoice_date": "2025-01-01", "description": "b",
             "amount": "2", "location_id": "loc-002"},
            {"invoice_number": "I-1", "invoice_date": "2025-01-01", "description": "c",
             "amount": "3", "location_id": "Nowhere"},
        ]
    }  # fmt: skip
    ds = read_dso(make_dso(tmp_path, tables=t))
    # alias -> LOC-001; case-insensitive id -> LOC-002; unmatched kept as written
    assert ds.billing["location_id"].tolist() == ["LOC-001", "LOC-002", "Nowhere"]


def test_missing_files_are_problems(tmp_path):
    d = tmp_path / "empty-dso"
    d.mkdir()
    ds = read_dso(d)
    rules = sorted((p.rule, p.file) for p in ds.read_problems)
    assert rules == [
        ("missing_file", "agreements.xlsx"),
        ("missing_file", "billing/"),
        ("missing_file", "locations.xlsx"),
    ]
    assert ds.present_tables == set()
    for name in ("locations", "agreements", "services", "documentation", "billing"):
        frame = ds.table(name)
        assert frame.empty
        assert list(frame.columns) == list(empty_table(name).columns)


def test_missing_sheet_and_optional_tables(tmp_path):
    d = make_dso(tmp_path, fmt="xlsx")
    t = base_tables()
    write_table(d / "agreements.xlsx", {"Contracts": t["agreements"]})
    ds = read_dso(d)
    probs = [p for p in ds.read_problems if p.rule == "missing_sheet"]
    assert len(probs) == 1 and probs[0].file == "agreements.xlsx"
    assert "'agreements'" in probs[0].problem and "Contracts" in probs[0].problem
    assert "services" not in ds.present_tables and "documentation" not in ds.present_tables
    assert list(ds.services.columns) == list(empty_table("services").columns)


def test_services_documentation_absent_csv(tmp_path):
    d = make_dso(tmp_path)
    (d / "services.csv").unlink()
    (d / "documentation.csv").unlink()
    ds = read_dso(d)
    assert ds.read_problems == []
    assert ds.present_tables == {"locations", "agreements", "billing"}
    assert ds.services.empty and ds.documentation.empty


def test_missing_required_column_per_file(tmp_path):
    t = base_tables()
    for r in t["billing"]["LOC-002.csv"]:
        del r["amount"]
    del t["locations"][0]["workstations"]
    del t["locations"][1]["workstations"]
    ds = read_dso(make_dso(tmp_path, tables=t, fmt="xlsx"))
    (loc,) = [p for p in ds.read_problems if p.file == "locations.xlsx"]
    assert (loc.rule, loc.column, loc.row, loc.sheet) == ("missing_column", "workstations", 1,
                                                          "locations")  # fmt: skip
    # a billing file without a required column is handed to the provider-profile hook,
    # which reports it (no profile matches) instead of one problem per column
    (bill,) = [p for p in ds.read_problems if p.file == "billing/LOC-002.csv"]
    assert bill.rule in ("missing_column", "no_profile")
    assert ds.billing["amount"].dtype == "float64"  # the column exists, all missing there
    assert str(ds.locations["workstations"].dtype) == "Int64"


def test_defaults_filled_only_when_blank(tmp_path):
    t = base_tables()
    t["locations"][0]["servers"] = ""
    t["locations"][1]["servers"] = "many"
    t["agreements"][0]["renewal_term_months"] = ""
    ds = read_dso(make_dso(tmp_path, tables=t))
    assert ds.locations["servers"].tolist()[0] == 0
    assert pd.isna(ds.locations["servers"].tolist()[1])  # invalid is never filled
    assert ds.locations["servers__invalid"].tolist()[1] == "many"
    assert ds.agreements["renewal_term_months"].tolist() == [12]


def test_both_xlsx_and_csv_warns(tmp_path):
    d = make_dso(tmp_path, fmt="xlsx")
    write_table(d / "locations.csv", {"locations": base_tables()["locations"]})
    ds = read_dso(d)
    (p,) = ds.read_problems
    assert p.severity == "warning" and p.file == "locations.csv"
    assert set(ds.locations["source_file"]) == {"locations.xlsx"}


def test_billing_recursive_sorted_skips_hidden_and_lock(tmp_path):
    t = base_tables()
    rows = t["billing"]["LOC-002.csv"]
    t["billing"] = {"2025/b.csv": rows, "2024/a.csv": rows, ".hidden.csv": rows, "~$lock.xlsx": []}
    d = make_dso(tmp_path, tables=t)
    (d / "billing" / "~$lock.xlsx").write_bytes(b"lock")
    (d / "billing" / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    ds = read_dso(d)
    # the same line in 2024/a.csv and 2025/b.csv: read in path order, counted once
    assert ds.billing["source_file"].tolist() == ["billing/2024/a.csv"]
    (dup,) = [p for p in ds.read_problems if p.rule == "duplicate_line"]
    assert dup.file == "billing/2025/b.csv" and dup.row == 2 and dup.severity == "warning"
    assert "billing/2024/a.csv, row 2" in dup.problem
    assert {s.path for s in ds.sources if s.table == "billing"} == {
        "billing/2024/a.csv",
        "billing/2025/b.csv",
    }
    warn = [p for p in ds.read_problems if p.rule == "ignored_file"]
    assert [p.file for p in warn] == ["billing/old.xls"]


def test_dso_yaml_bad(tmp_path):
    d = make_dso(tmp_path, dso_yaml="display_name: [unclosed\n")
    with pytest.raises(DsoError, match=r"dso.yaml: is not valid YAML \(line \d+\)"):
        read_dso(d)
    (d / "dso.yaml").write_text("- a list\n", encoding="utf-8")
    with pytest.raises(DsoError, match="dso.yaml"):
        read_dso(d)


def test_not_a_slug_or_missing(tmp_path):
    with pytest.raises(DsoError, match="no such DSO folder"):
        read_dso(tmp_path / "nope")
    d = make_dso(tmp_path, name="Acme Dental")
    with pytest.raises(DsoError, match="not a valid DSO id"):
        read_dso(d)


def test_list_dso_dirs(tmp_path):
    make_dso(tmp_path, name="b-dso")
    make_dso(tmp_path, name="a-dso", fmt="xlsx")
    (tmp_path / "notes").mkdir()  # no locations file: not a DSO
    (tmp_path / ".git").mkdir()
    assert [p.name for p in list_dso_dirs(tmp_path)] == ["a-dso", "b-dso"]
    make_dso(tmp_path, name="Bad Name")
    with pytest.raises(DsoError, match="Bad Name"):
        list_dso_dirs(tmp_path)


def test_list_dso_dirs_empty(tmp_path):
    with pytest.raises(DsoError, match="no DSO folders"):
        list_dso_dirs(tmp_path)
    d = make_dso(tmp_path, name="x")
    with pytest.raises(DsoError, match="DSO folder itself"):
        list_dso_dirs(d)


def test_parallel_equals_serial(tmp_path, monkeypatch):
    t = base_tables()
    line = t["billing"]["LOC-002.csv"][0]
    t["billing"] = {
        f"f{i:02d}.csv": [dict(line, invoice_number=f"INV-{i}", amount=str(i))] for i in range(10)
    }
    d = make_dso(tmp_path, tables=t)
    monkeypatch.setenv("DSO_ANALYTICS_INGEST_WORKERS", "1")
    serial = read_dso(d)
    monkeypatch.setenv("DSO_ANALYTICS_INGEST_WORKERS", "2")
    parallel = read_dso(d)
    pd.testing.assert_frame_equal(serial.billing, parallel.billing)
    assert serial.sources == parallel.sources
    assert serial.billing["amount"].tolist() == [float(i) for i in range(10)]


def test_ingest_imports_no_heavy_libraries():
    code = (
        "import sys, dso_analytics.ingest\n"
        "heavy = [m for m in ('great_expectations', 'papermill', 'plotly') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_date1904_workbook_serials(tmp_path):
    t = base_tables()
    d = make_dso(tmp_path, tables=t, fmt="xlsx")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "billing"
    ws.append(["invoice_number", "invoice_date", "description", "amount"])
    ws.append(["I-1", 44196, "serial in the 1904 system", 10])  # 1904-01-01 + 44196 d
    ws.append(["I-2", dt.datetime(2025, 1, 31), "real date", 10])
    wb.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    wb.save(d / "billing" / "mac.xlsx")
    ds = read_dso(d)
    b = ds.billing[ds.billing["source_file"] == "billing/mac.xlsx"]
    assert b["invoice_date"].tolist() == [pd.Timestamp("2025-01-01"), pd.Timestamp("2025-01-31")]
