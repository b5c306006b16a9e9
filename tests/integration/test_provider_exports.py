"""Provider exports, round two: locations never lost silently, one problem per unknown
site value, numeric site ids, the closest profile of an unrecognised file, formula
injection in ``import`` output, header spellings, heading rows and API layouts."""

from __future__ import annotations

import csv
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dso_analytics.errors import DsoError
from dso_analytics.ingest import read_dso
from dso_analytics.ingest.profiles import (
    apply_profile,
    closest_profile,
    defuse_cell,
    find_profile,
    import_export,
    load_profiles,
    match_profile,
)
from dso_analytics.schema import header_key, normalise_header
from tests.support.builders import base_tables, make_dso

LOCS = pd.DataFrame(
    {
        "location_id": ["LOC-001", "LOC-002"],
        "location_name": ["Main St Dental", "Elm Dental"],
        "aliases": ["1001; Main Street", "1002; Elm Street"],
    }
)


def frame(rows: dict[str, list[object]], file: str = "billing/export.csv") -> pd.DataFrame:
    df = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in rows.items()})
    df.columns = [normalise_header(c) for c in df.columns]
    df["source_file"] = file
    df["source_sheet"] = ""
    df["source_row"] = list(range(2, len(df) + 2))
    return df


def by_name(name: str):
    return find_profile(name, load_profiles())


def _dso(root: Path, aliases: tuple[str, str] = ("1001; Main Street", "1002; Elm Street")) -> Path:
    t = base_tables()
    t["locations"][0]["aliases"], t["locations"][1]["aliases"] = aliases
    t["billing"] = {}
    d = make_dso(root, tables=t)
    (d / "billing").mkdir(exist_ok=True)
    return d


def _csv(path: Path, rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


# ---------------------------------------------------------------------------
# Header normalisation
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("Project / Phase", "project/phase"),
        ("Ticket #", "ticket#"),
        ("extPrice", "ext_price"),
        ("location.id", "location_id"),
        ("BillingItemType", "billing_item_type"),
        ("CompanyID", "company_id"),
        ("*InvoiceDate", "invoice_date"),
        ("Memo/Description", "memo/description"),
        ("  Invoice\u00a0Number ", "invoice_number"),
    ],
)
def test_normalise_header_spellings(text: str, normalised: str) -> None:
    assert normalise_header(text) == normalised


def test_project_phase_with_spaces_fires_the_onboarding_rule() -> None:
    raw = frame(
        {
            "Invoice": ["1", "2"],
            "Invoice Total": ["$7,920.00", "$100.00"],
            "Date": ["01/31/2025", "01/31/2025"],
            "Site": ["1002", "1001"],
            "Project / Phase": ["Elm Onboarding / Phase 1", ""],
        }
    )
    out = apply_profile(raw, by_name("connectwise-company-invoices"), LOCS)
    assert out["service"].tolist()[0] == "new_location_onboarding"
    assert pd.isna(out["service"].iloc[1])


def test_dotted_api_ids_are_never_passed_through() -> None:
    raw = frame(
        {
            "invoiceNumber": ["7001"],
            "type": ["Standard"],
            "date": ["2025-01-31T00:00:00Z"],
            "total": ["120.5"],
            "billingSite.name": ["Main Street"],
            "location.id": ["2"],
            "location.name": ["Columbus HQ"],
            "agreement.id": ["77.0"],
            "agreement.name": ["Acme MSA"],
        }
    )
    out = apply_profile(raw, by_name("connectwise-api-invoices"), LOCS)
    row = out.iloc[0]
    assert row["location_id"] == "LOC-001"  # from the billing site, not location.id/name
    assert pd.isna(row["agreement_id"])  # agreement.id 77.0 is the provider's id
    assert row["invoice_date"] == "2025-01-31"
    assert row["description"] == "Acme MSA - Standard"
    assert "Columbus HQ" not in row.astype(str).tolist()[:10]


# Header rows of every shipped profile, in the export's own spelling.
SPELLINGS = {
    "connectwise-agreement-additions": ["Effective", "Cancelled", "Product ID", "Description",
        "Quantity", "Price", "Ext Price", "Bill", "Agreement Name", "Site"],
    "connectwise-company-invoices": ["Invoice", "Ticket #", "Invoice Total", "Date",
        "Invoice Type", "Company Name", "Site", "Project / Phase", "Agreement Type"],
    "connectwise-api-additions": ["product.identifier", "description", "quantity",
        "unitPrice", "extPrice", "billCustomer", "effectiveDate", "cancelledDate",
        "agreement.name"],
    "connectwise-api-invoices": ["invoiceNumber", "type", "company.name", "billingSite.name",
        "date", "agreement.name", "total"],
    "autotask-billing-items": ["ItemDate", "ItemName", "Description", "Quantity", "Rate",
        "ExtendedPrice", "BillingItemType", "CompanyID", "InvoiceID"],
    "halopsa-invoice-lines": ["invoicenumber", "invoice_date", "sitenumber", "item_code",
        "item_shortdescription", "qty_order", "unit_price", "net_amount"],
    "syncro-invoice-line-items": ["number", "date", "location_id", "item", "name", "quantity",
        "price", "customer"],
    "xero-invoices": ["ContactName", "InvoiceNumber", "InvoiceDate", "Description", "Quantity",
        "UnitAmount", "LineAmount", "TrackingName1", "TrackingOption1", "Type"],
    "quickbooks-sales-by-customer-detail": ["Date", "Transaction Type", "Num",
        "Product/Service", "Memo/Description", "Qty", "Sales Price", "Amount", "Balance"],
}  # fmt: skip


def _words(header: str) -> list[str]:
    """Words of a header (punctuation such as / and # kept as its own word)."""
    return [w for w in normalise_header(header).replace("/", "_/_").replace("#", "_#").split("_")]


def _spell(words: list[str], style: str, pad: str) -> str:
    glue = {"/": f"{pad}/{pad}", "#": f"{pad}#"}

    def join(parts: list[str], sep: str) -> str:
        out = ""
        for i, p in enumerate(parts):
            if p in glue:
                out += glue[p]
            elif i and parts[i - 1] not in glue:
                out += sep + p
            else:
                out += p
        return out

    if style == "camel":
        return join([w if i == 0 else w.capitalize() for i, w in enumerate(words)], "")
    if style == "pascal":
        return join([w.capitalize() for w in words], "")
    if style == "upper":
        return join([w.upper() for w in words], " ")
    if style == "title":
        return join([w.capitalize() for w in words], " ")
    if style == "snake":
        return join(words, "_")
    if style == "dotted":
        return join(words, ".")
    return join(words, " ")  # lower


STYLES = st.sampled_from(["camel", "pascal", "upper", "title", "snake", "dotted", "lower"])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(SPELLINGS)),
    styles=st.lists(STYLES, min_size=10, max_size=10),
    pads=st.lists(st.sampled_from(["", " ", "  "]), min_size=10, max_size=10),
)
def test_any_header_spelling_maps_to_the_same_lines(
    name: str, styles: list[str], pads: list[str]
) -> None:
    headers = SPELLINGS[name]
    spelled = [_spell(_words(h), styles[i % 10], pads[i % 10]) for i, h in enumerate(headers)]
    assert [header_key(h) for h in spelled] == [header_key(h) for h in headers]
    profiles = load_profiles()
    assert match_profile(spelled, profiles).name == name
    values = {
        h: [f"{i + 1}" if "date" not in header_key(h) else "2025-01-31"]
        for i, h in enumerate(headers)
    }
    prof = by_name(name)
    want = apply_profile(frame(values), prof, LOCS, as_of=date(2025, 2, 1))
    got = apply_profile(
        frame({s: values[h] for s, h in zip(spelled, headers, strict=True)}),
        prof,
        LOCS,
        as_of=date(2025, 2, 1),
    )
    cols = ["invoice_number", "invoice_date", "location_id", "description", "service",
            "quantity", "unit_price", "amount"]  # fmt: skip
    pd.testing.assert_frame_equal(got[cols], want[cols])


# ---------------------------------------------------------------------------
# Locations never lost silently
# ---------------------------------------------------------------------------
AUTOTASK_HEADER = ["ItemDate", "ItemName", "Description", "Quantity", "Rate", "ExtendedPrice",
                   "BillingItemType", "CompanyID", "InvoiceID"]  # fmt: skip


def _autotask_rows(company: object, n: int = 3) -> list[list[object]]:
    return [
        ["01/31/2025", f"Managed services {i}", "", "1", "100", "100.00", "6", company, f"I-{i}"]
        for i in range(n)
    ]


def test_autotask_group_company_is_one_located_problem_not_silence(tmp_path: Path) -> None:
    d = _dso(tmp_path)
    _csv(d / "billing" / "autotask.csv", [AUTOTASK_HEADER, *_autotask_rows(500)])
    ds = read_dso(d)
    probs = [p for p in ds.read_problems if p.rule == "location_unresolved"]
    assert len(probs) == 1
    p = probs[0]
    assert (p.file, p.row, p.severity) == ("billing/autotask.csv", 2, "error")
    text = str(p)
    assert "found no location for 3 of 3 lines" in text
    assert (
        "columns tried: CompanyID (not in this file: location, site, account, account_name" in text
    )
    assert "values seen: '500' (3 lines)" in text
    assert "numeric ids: add each to the aliases of its location" in text
    assert "name it after the location_id (billing/LOC-001.csv)" in text
    assert "import it with --location (dso-analytics import autotask.csv --dso DSO_DIR " in text
    assert "--location LOC-001)" in text


def test_cli_import_location_puts_every_line_at_that_location(tmp_path: Path, capsys) -> None:
    from dso_analytics.cli import main

    d = _dso(tmp_path)  # company 500 is no alias: the export has no usable site column
    src = _csv(tmp_path / "autotask.csv", [AUTOTASK_HEADER, *_autotask_rows(500, n=4)])
    dest = d / "billing" / "autotask.csv"
    # without --location: refused, the message offers --location
    assert main(["import", str(src), "--dso", str(d)]) == 2
    err = capsys.readouterr().err
    assert "found no location for 4 of 4 lines" in err
    assert "--location LOC-001" in err
    assert not dest.exists()
    # an id the DSO does not know: one line, exit 2, nothing written
    assert main(["import", str(src), "--dso", str(d), "--location", "LOC-009"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "--location 'LOC-009': not a location_id of this DSO (known: LOC-001, LOC-002)" in err
    assert not list((d / "billing").iterdir())
    # a known id: every line is that location's, amounts as exported
    assert main(["import", str(src), "--dso", str(d), "--location", "LOC-002"]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {dest}"
    with dest.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["location_id"] for r in rows] == ["LOC-002"] * 4
    assert sum(float(r["amount"]) for r in rows) == 400.0
    ds = read_dso(d)
    assert [p for p in ds.read_problems if p.severity == "error"] == []
    assert set(ds.billing["location_id"]) == {"LOC-002"}
    assert len(ds.billing) == 4


def test_autotask_company_alias_or_file_name_resolves_the_location(tmp_path: Path) -> None:
    d = _dso(tmp_path / "a", aliases=("1001; Main Street; 500", "1002"))
    _csv(d / "billing" / "autotask.csv", [AUTOTASK_HEADER, *_autotask_rows(500)])
    ds = read_dso(d)
    assert [p for p in ds.read_problems if p.severity == "error"] == []
    assert set(ds.billing["location_id"]) == {"LOC-001"}
    # a file of one location's items named after it: no problem, the stem is the location
    d2 = _dso(tmp_path / "b")
    _csv(d2 / "billing" / "LOC-002.csv", [AUTOTASK_HEADER, *_autotask_rows(500)])
    ds2 = read_dso(d2)
    assert [p for p in ds2.read_problems if p.severity == "error"] == []
    assert set(ds2.billing["location_id"]) == {"LOC-002"}


def test_syncro_llc_group_customer_over_the_share_is_reported(tmp_path: Path) -> None:
    d = _dso(tmp_path)
    rows = [["number", "date", "customer", "item", "name", "quantity", "price"]]
    rows += [["S-1", "2025-01-31", "Acme Dental Group, LLC", "MS", "ws", "1", "10"]] * 3
    rows += [["S-2", "2025-01-31", "Main St Dental", "MS", "ws", "1", "10"]]
    _csv(d / "billing" / "syncro.csv", rows)
    probs = [p for p in read_dso(d).read_problems if p.rule == "location_unresolved"]
    assert len(probs) == 1
    assert "found no location for 3 of 4 lines (at most 50% may stay" in probs[0].problem
    assert "values seen: 'Acme Dental Group, LLC' (3 lines)" in probs[0].problem


def test_two_unknown_values_over_many_rows_are_two_problems_with_a_numeric_hint(
    tmp_path: Path,
) -> None:
    from dso_analytics.validation import validate_dso

    d = _dso(tmp_path, aliases=("Main Street", "Elm Street"))
    rows = [["invoicenumber", "invoice_date", "sitenumber", "item_shortdescription",
             "net_amount"]]  # fmt: skip
    rows += [
        [f"H-{i}", "2025-01-31", 107 if i % 2 else 108, "Helpdesk", "10.00"] for i in range(45)
    ]
    _csv(d / "billing" / "halo.csv", rows)
    report = validate_dso(d, use_cache=False)
    probs = sorted((p for p in report.errors if p.column == "location_id"), key=lambda p: p.value)
    assert [p.value for p in probs] == ["107", "108"]
    assert all(p.rule == "billing.location_id.unknown" for p in probs)
    # rows 3, 5, 7...: header in row 1, H-1 (107) in row 3
    assert probs[0].row == 3 and "rows 3, 5, 7, 9" in probs[0].problem
    assert "and 12 more" in probs[0].problem  # 22 rows carry 107 (odd i < 45)
    assert "'107' looks like the provider's numeric site id: add 107 to the aliases" in str(
        probs[0]
    )


def test_unrecognised_file_names_the_closest_profile_and_what_it_lacks(tmp_path: Path) -> None:
    d = _dso(tmp_path)
    _csv(d / "billing" / "xero.csv", [["ContactName", "InvoiceNumber", "Description",
                                       "LineAmount"], ["Acme", "1", "x", "5"]])  # fmt: skip
    (p,) = [p for p in read_dso(d).read_problems if p.file == "billing/xero.csv"]
    assert p.rule == "no_profile"
    assert "closest profile: 'xero-invoices' (Xero), lacking invoice_date" in p.problem
    assert closest_profile(["foo", "bar"], load_profiles()) == ""


# ---------------------------------------------------------------------------
# import: refusal with the located message, formula injection
# ---------------------------------------------------------------------------
def test_import_refuses_numeric_sites_that_map_nowhere(tmp_path: Path) -> None:
    d = _dso(tmp_path, aliases=("Main Street", "Elm Street"))
    src = _csv(
        tmp_path / "halo.csv",
        [["invoicenumber", "invoice_date", "sitenumber", "item_shortdescription", "net_amount"],
         ["H-1", "2025-01-31", 107, "Helpdesk", "10.00"]],
    )  # fmt: skip
    with pytest.raises(DsoError) as exc:
        import_export(src, d)
    assert "halo.csv, row 2, location_id: site value '107' is not in locations" in str(exc.value)
    assert "add 107 to the aliases" in str(exc.value)
    assert not list((d / "billing").iterdir())


INJECTIONS = [
    '=HYPERLINK("http://evil.example","x")',
    "+cmd|' /C calc'!A0",
    "@SUM(1)",
    "-2+3+cmd|' /C calc'!A0",
]


def test_import_defuses_formula_cells_and_keeps_amounts_numeric(tmp_path: Path) -> None:
    import openpyxl

    d = _dso(tmp_path)
    rows = [["invoicenumber", "invoice_date", "sitenumber", "item_shortdescription",
             "net_amount"]]  # fmt: skip
    rows += [["=1+1", "2025-01-31", "1001", text, "-50.00"] for text in INJECTIONS]
    src = _csv(tmp_path / "halo.csv", rows)
    dest = import_export(src, d)
    written = pd.read_csv(dest, dtype=str, keep_default_na=False)
    assert written["invoice_number"].tolist() == ["'=1+1"] * 4
    assert written["description"].tolist() == ["'" + t for t in INJECTIONS]
    assert written["amount"].tolist() == ["-50.00"] * 4  # a number, not defused
    assert defuse_cell("-50.00") == "-50.00" and defuse_cell(3) == 3
    assert defuse_cell("\tx") == "'\tx" and defuse_cell("\r=1") == "'\r=1"
    # what a spreadsheet sees: no cell starts with a formula character
    with dest.open(encoding="utf-8") as fh:
        cells = [c for row in csv.reader(fh) for c in row]
    assert not [c for c in cells if c and (c[0] in "=+@\t\r" or (c[0] == "-" and c != "-50.00"))]
    # what LibreOffice Calc makes of the file: text cells, numeric amounts, no formula
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice (soffice) is required: .ci/run installs libreoffice-calc"
    profile = tmp_path / "lo-profile"
    out_dir = tmp_path / "lo"
    subprocess.run(
        [soffice, "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}",
         "--convert-to", "xlsx", "--outdir", str(out_dir), str(dest)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    sheet = openpyxl.load_workbook(out_dir / f"{dest.stem}.xlsx").active
    header = [c.value for c in sheet[1]]
    rows = list(sheet.iter_rows(min_row=2))
    assert all(c.data_type != "f" for row in rows for c in row)
    desc, inv, amt = (header.index(c) for c in ("description", "invoice_number", "amount"))
    assert [r[desc].value for r in rows] == ["'" + t for t in INJECTIONS]
    assert [r[inv].value for r in rows] == ["'=1+1"] * 4
    assert [(r[amt].value, r[amt].data_type) for r in rows] == [(-50, "n")] * 4
    # and the contract file reads back with the amounts as numbers
    ds = read_dso(d)
    assert round(float(ds.billing.loc[ds.billing["source_file"] == f"billing/{dest.name}",
                                      "amount"].sum()), 2) == -200.00  # fmt: skip


# ---------------------------------------------------------------------------
# Layout quirks
# ---------------------------------------------------------------------------
def test_autotask_numeric_billing_item_type_is_mapped_through_the_profile() -> None:
    raw = frame(
        {
            "itemDate": ["2025-01-31T00:00:00", "2025-02-14T00:00:00"],
            "itemName": ["Managed services", "New location"],
            "extendedPrice": ["2400", "4000"],
            "billingItemType": [6, 7],
            "companyID": [1001, 1002],
            "invoiceID": [9, 10],
        }
    )
    out = apply_profile(raw, by_name("autotask-billing-items"), LOCS)
    assert out["location_id"].tolist() == ["LOC-001", "LOC-002"]
    assert pd.isna(out["service"].iloc[0])
    assert out["service"].iloc[1] == "new_location_onboarding"  # 7 = contract setup fee
    assert out["invoice_date"].tolist() == ["2025-01-31", "2025-02-14"]


def test_connectwise_api_addition_open_until_as_of_and_bill_flags() -> None:
    raw = frame(
        {
            "product.identifier": ["MS-WS", "AV", "FW"],
            "extPrice": ["150", "9", "20"],
            "billCustomer": ["Billable", "NoCharge", "DoNotBill"],
            "effectiveDate": ["2024-11-15T00:00:00Z"] * 3,
            "cancelledDate": ["", "", ""],
            "agreement.name": ["Main Street"] * 3,
        }
    )
    out = apply_profile(raw, by_name("connectwise-api-additions"), LOCS, as_of=date(2025, 2, 14))
    # Nov 15, Dec 15, Jan 15 (Feb 15 is after the as-of date)
    assert out["invoice_date"].tolist() == ["2024-11-15", "2024-12-15", "2025-01-15"]
    assert out["amount"].tolist() == [150.0, 150.0, 150.0]
    assert set(out["location_id"]) == {"LOC-001"}


# ---------------------------------------------------------------------------
# Generic invoice-lines fallback and profiles --save
# ---------------------------------------------------------------------------
PLAIN = [
    ["Inv Num", "Invoice Date", "Item", "Description", "Ext Price", "Office"],
    ["A-1", "01/31/2025", "MS", "Managed services", "$2,400.00", "Main Street"],
    ["A-2", "02/28/2025", "HW", "", "$99.99", "Elm Street"],
]


def test_generic_mapping_is_used_with_a_warning_naming_it(tmp_path: Path) -> None:
    d = _dso(tmp_path)
    _csv(d / "billing" / "plain.csv", PLAIN)
    ds = read_dso(d)
    (w,) = [p for p in ds.read_problems if p.file == "billing/plain.csv"]
    assert (w.rule, w.severity) == ("generic_mapping", "warning")
    assert (
        "invoice_number <- 'Inv Num', invoice_date <- 'Invoice Date', description <- "
        "'Description' then 'Item', amount <- 'Ext Price', location <- 'Office'"
    ) in w.problem
    assert "dso-analytics profiles --save NAME plain.csv --dso DSO_DIR" in w.problem
    lines = ds.billing[ds.billing["source_file"] == "billing/plain.csv"]
    assert lines["description"].tolist() == ["Managed services", "HW"]
    assert lines["location_id"].tolist() == ["LOC-001", "LOC-002"]
    assert round(float(lines["amount"].sum()), 2) == 2499.99
    assert {s.path: s.profile for s in ds.sources}["billing/plain.csv"] == "generic-invoice-lines"


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (["Invoice #", "Date", "Invoice Date", "Memo", "Amount"],
         "invoice_date could be 'Invoice Date' or 'Date'"),
        (["Invoice #", "Date", "Memo", "Amount", "Ext Price"],
         "amount could be 'Amount' or 'Ext Price'"),
        (["Invoice #", "Date", "Memo", "Amount", "Site", "Practice"],
         "the location could be 'Site' or 'Practice'"),
    ],
)  # fmt: skip
def test_ambiguous_generic_mapping_is_refused_with_the_reason(
    tmp_path: Path, header: list[str], reason: str
) -> None:
    d = _dso(tmp_path)
    row = {"Invoice #": "A-1", "Date": "01/31/2025", "Invoice Date": "01/31/2025",
           "Memo": "x", "Amount": "10", "Ext Price": "10", "Site": "1001", "Practice": "1001"}  # fmt: skip
    _csv(d / "billing" / "plain.csv", [header, [row[h] for h in header]])
    (p,) = [p for p in read_dso(d).read_problems if p.file == "billing/plain.csv"]
    assert p.rule == "no_profile" and p.severity == "error"
    assert f"the generic invoice-lines mapping does not apply ({reason})" in p.problem


def test_import_asks_to_confirm_a_generic_mapping(tmp_path: Path) -> None:
    d = _dso(tmp_path)
    src = _csv(tmp_path / "plain.csv", PLAIN)
    with pytest.raises(DsoError, match=r"generic invoice-lines mapping would read invoice_number"):
        import_export(src, d)


def test_cli_profiles_save_writes_a_profile_that_reads_the_file(tmp_path: Path, capsys) -> None:
    import yaml

    from dso_analytics.cli import main

    d = _dso(tmp_path)
    src = _csv(tmp_path / "plain.csv", PLAIN)
    assert main(["profiles", "--save", "acme-lines", str(src)]) == 0  # printed only
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["columns"]["description"] == ["Description", "Item"]
    assert not (d / "profiles").exists()
    assert main(["profiles", "--save", "acme-lines", str(src), "--dso", str(d)]) == 0
    dest = d / "profiles" / "acme-lines.yaml"
    assert capsys.readouterr().out.strip() == f"wrote {dest}"
    assert yaml.safe_load(dest.read_text(encoding="utf-8")) == printed
    assert main(["profiles", "--save", "acme-lines", str(src), "--dso", str(d)]) == 2
    assert "profiles/acme-lines.yaml already exists" in capsys.readouterr().err
    # the saved profile now names the file: no warning, same lines, import works
    (d / "billing" / "plain.csv").write_bytes(src.read_bytes())
    ds = read_dso(d)
    assert [p for p in ds.read_problems if p.file == "billing/plain.csv"] == []
    assert {s.path: s.profile for s in ds.sources}["billing/plain.csv"] == "acme-lines"
    assert round(float(ds.billing["amount"][ds.billing["source_file"] == "billing/plain.csv"]
                       .sum()), 2) == 2499.99  # fmt: skip
    (d / "billing" / "plain.csv").unlink()
    assert import_export(src, d).name == "plain.csv"


def test_open_additions_are_charged_monthly_up_to_the_validation_as_of(tmp_path: Path) -> None:
    from dso_analytics.standards import Params
    from dso_analytics.validation import validate_dso

    d = _dso(tmp_path)
    _csv(
        d / "billing" / "cw-additions.csv",
        [["Effective", "Cancelled", "Product ID", "Description", "Quantity", "Price",
          "Ext Price", "Bill", "Agreement Name", "Site", "Location"],
         ["01/15/2025", "", "MS-WS", "Managed workstation", "10", "$15.00", "$150.00",
          "Billable", "Acme MSA", "1001", "Columbus HQ"],
         ["02/01/2025", "", "AV", "Antivirus", "1", "$9.00", "$9.00", "No Charge",
          "Acme MSA", "1001", "Columbus HQ"]],
    )  # fmt: skip
    report = validate_dso(d, params=Params().with_overrides(as_of="2025-04-30"), use_cache=False)
    lines = report.dataset.billing
    cw = lines[lines["source_file"] == "billing/cw-additions.csv"]
    # Jan 15, Feb 15, Mar 15, Apr 15: four monthly charges of 150.00 = 600.00, all LOC-001
    assert cw["invoice_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2025-01-15", "2025-02-15", "2025-03-15", "2025-04-15"
    ]  # fmt: skip
    assert round(float(cw["amount"].sum()), 2) == 600.00
    assert set(cw["location_id"]) == {"LOC-001"}


def test_customer_names_with_a_legal_suffix_map_to_their_location() -> None:
    from dso_analytics.ingest.aliases import map_location_values

    values = pd.Series(["Elm Dental, LLC", "Main St Dental PLLC", "Elm Dental, Inc.",
                        "Acme Dental Group, LLC", "LLC"])  # fmt: skip
    got = map_location_values(values, LOCS).tolist()
    assert got[:3] == ["LOC-002", "LOC-001", "LOC-002"]
    assert pd.isna(got[3]) and pd.isna(got[4])  # the group is no location
