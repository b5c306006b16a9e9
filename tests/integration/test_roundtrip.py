"""Round trip: the same invoice lines as a contract billing file, a ConnectWise-style
CSV (site numbers, currency text) and a HaloPSA-style workbook (title rows above the
header, a Total row) give the same typed billing lines and identical metrics."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from dso_analytics.ingest import read_dso
from tests.support.builders import base_tables, make_dso

# The invoice lines, in contract form.  Sites: LOC-001 = site number 1001,
# LOC-002 = 1002 (aliases in locations).  Amounts to the cent:
#   2,400.00 + 250.00 + 7,234.50 + 1,234.56 - 100.00 + 99.99 = 11,119.05
LINES: list[dict[str, Any]] = [
    {"invoice_number": "INV-1", "invoice_date": "2025-01-31", "location_id": "",
     "description": "Managed services - January", "service": "", "quantity": 16,
     "unit_price": "150.00", "amount": "2400.00"},
    {"invoice_number": "INV-1", "invoice_date": "2025-01-31", "location_id": "LOC-002",
     "description": "Multi-site outage ticket #4411", "service": "", "quantity": 1,
     "unit_price": "250.00", "amount": "250.00"},
    {"invoice_number": "INV-2", "invoice_date": "2025-02-28", "location_id": "LOC-002",
     "description": "Elm practice go-live", "service": "new_location_onboarding",
     "quantity": 1, "unit_price": "7234.50", "amount": "7234.50"},
    {"invoice_number": "INV-2", "invoice_date": "2025-02-28", "location_id": "LOC-001",
     "description": "After-hours emergency callout", "service": "", "quantity": 1,
     "unit_price": "1234.56", "amount": "1234.56"},
    {"invoice_number": "INV-3", "invoice_date": "2025-03-31", "location_id": "LOC-001",
     "description": "SLA credit March", "service": "", "quantity": 1,
     "unit_price": "-100.00", "amount": "-100.00"},
    {"invoice_number": "INV-3", "invoice_date": "2025-03-31", "location_id": "LOC-002",
     "description": "Microsoft 365 licences", "service": "", "quantity": 3,
     "unit_price": "33.33", "amount": "99.99"},
]  # fmt: skip
TOTAL = 11119.05
SITE_NUMBER = {"": "", "LOC-001": "1001", "LOC-002": "1002"}
# item codes a provider would use; SETUP/ONBOARD mark the onboarding line
ITEM_CODE = ["MS-WS", "INC", "ONBOARD-ELM", "AH", "CREDIT", "LIC-M365"]


def _us(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{m}/{d}/{y}"


def _money_text(amount: str) -> str:
    v = float(amount)
    text = f"${abs(v):,.2f}"
    return f"({text})" if v < 0 else text


def _tables() -> dict[str, Any]:
    t = base_tables()
    t["locations"][0]["aliases"] = "1001; Main Street; Acme MSA - Main Street"
    t["locations"][1]["aliases"] = "1002; Acme MSA - Elm"
    t["billing"] = {}
    return t


def contract_dso(root: Path) -> Path:
    t = _tables()
    t["billing"] = {"lines.csv": LINES}
    return make_dso(root, "contract", tables=t)


def connectwise_dso(root: Path) -> Path:
    """ConnectWise Manage agreement additions: US dates, $ text, site numbers."""
    d = make_dso(root, "connectwise", tables=_tables())
    path = d / "billing" / "ConnectWise Additions.csv"
    path.parent.mkdir(exist_ok=True)
    header = ["Effective", "Cancelled", "Product ID", "Description", "Quantity", "Price",
              "Ext Price", "Bill", "Agreement Name", "Agreement Type", "Company Name",
              "Site", "Location"]  # fmt: skip
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for line, code in zip(LINES, ITEM_CODE, strict=True):
            w.writerow(
                # one-time additions (cancelled on their effective date): one charge each;
                # Location is the provider's own office, never the practice
                [_us(line["invoice_date"]), _us(line["invoice_date"]), code,
                 line["description"], line["quantity"], _money_text(line["unit_price"]),
                 _money_text(line["amount"]), "Billable", "Acme MSA", "Managed Services",
                 "Acme Dental Group", SITE_NUMBER[line["location_id"]], "Columbus HQ"]
            )  # fmt: skip
    return d


def halopsa_dso(root: Path) -> Path:
    """HaloPSA invoice lines workbook: two title rows, a blank row, header, lines, Total."""
    d = make_dso(root, "halopsa", tables=_tables())
    (d / "billing").mkdir(exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Invoice Lines"
    ws.append(["Acme MSP - invoice lines export"])
    ws.append(["Client: Acme Dental Group", None, "Period: Jan-Mar 2025"])
    ws.append([])
    ws.append(["invoicenumber", "invoice_date", "sitenumber", "site", "item_code",
               "item_shortdescription", "qty_order", "unit_price", "net_amount"])  # fmt: skip
    for line, code in zip(LINES, ITEM_CODE, strict=True):
        site = SITE_NUMBER[line["location_id"]]
        ws.append(
            [line["invoice_number"], pd.Timestamp(line["invoice_date"]).to_pydatetime(),
             int(site) if site else None, None, code.replace("ONBOARD-ELM", "SETUP"),
             line["description"], line["quantity"], float(line["unit_price"]),
             float(line["amount"])]
        )  # fmt: skip
    ws.append(["Total", None, None, None, None, None, None, None, TOTAL])
    wb.save(d / "billing" / "halo-lines.xlsx")
    return d


# the same lines as other systems export them (field lists from the providers'
# documented exports and API models), each with its quirks
AGREEMENT = {"": "Acme MSA", "LOC-001": "Acme MSA - Main Street", "LOC-002": "Acme MSA - Elm"}
SITE_NAME = {"": "", "LOC-001": "Main Street", "LOC-002": "1002"}
CUSTOMER = {"": "Acme Dental Group, LLC", "LOC-001": "Main Street", "LOC-002": "Elm Dental"}


def _dmy(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{d}/{m}/{y}"


def _write_csv(path: Path, rows: list[list[Any]]) -> None:
    path.parent.mkdir(exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)


def xero_dso(root: Path) -> Path:
    """Xero invoice export: *-marked headers, dd/MM/yyyy, credit note with a positive
    amount, the site as tracking option, a group contact."""
    d = make_dso(root, "xero", tables=_tables())
    rows: list[list[Any]] = [[
        "*ContactName", "EmailAddress", "*InvoiceNumber", "Reference", "*InvoiceDate",
        "*DueDate", "Total", "InventoryItemCode", "*Description", "*Quantity", "*UnitAmount",
        "Discount", "LineAmount", "*AccountCode", "*TaxType", "TaxAmount", "TrackingName1",
        "TrackingOption1", "Currency", "Type",
    ]]  # fmt: skip
    for line, code in zip(LINES, ITEM_CODE, strict=True):
        credit = float(line["amount"]) < 0
        rows.append(
            ["Acme Dental Group", "ap@acme.example", line["invoice_number"], "",
             _dmy(line["invoice_date"]), _dmy(line["invoice_date"]), "", code,
             line["description"], line["quantity"], f"{abs(float(line['unit_price'])):.2f}",
             "", f"{abs(float(line['amount'])):.2f}", "200", "Tax Exempt", "0.00", "Location",
             SITE_NAME[line["location_id"]], "USD",
             "Sales credit note" if credit else "Sales invoice"]
        )  # fmt: skip
    _write_csv(d / "billing" / "Xero Invoices.csv", rows)
    return d


def quickbooks_dso(root: Path) -> Path:
    """QuickBooks 'Sales by Customer Detail': title rows, customer heading rows,
    'Total for ...' rows, a grand TOTAL, credit memo negative."""
    d = make_dso(root, "quickbooks", tables=_tables())
    (d / "billing").mkdir(exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sales by Customer Detail"
    ws.append(["Acme MSP LLC"])
    ws.append(["Sales by Customer Detail"])
    ws.append(["January - March, 2025"])
    ws.append([])
    ws.append([None, "Date", "Transaction Type", "Num", "Product/Service",
               "Memo/Description", "Qty", "Sales Price", "Amount", "Balance"])  # fmt: skip
    for loc in ("", "LOC-001", "LOC-002"):
        block = [
            (ln, c) for ln, c in zip(LINES, ITEM_CODE, strict=True) if ln["location_id"] == loc
        ]
        ws.append([CUSTOMER[loc]])
        balance = 0.0
        for line, code in block:
            amount = float(line["amount"])
            balance = round(balance + amount, 2)
            ws.append(
                [None, _us(line["invoice_date"]),
                 "Credit Memo" if amount < 0 else "Invoice", line["invoice_number"], code,
                 line["description"], line["quantity"], float(line["unit_price"]), amount,
                 balance]
            )  # fmt: skip
        ws.append([f"Total for {CUSTOMER[loc]}", None, None, None, None, None, None, None,
                   balance])  # fmt: skip
    ws.append(["TOTAL", None, None, None, None, None, None, None, TOTAL])
    wb.save(d / "billing" / "Sales by Customer Detail.xlsx")
    return d


def cw_api_additions_dso(root: Path) -> Path:
    """ConnectWise API additions flattened from JSON: camelCase and dotted names, ISO
    timestamps, one-time additions, a DoNotBill addition, its own location.id and
    agreement.id (never the DSO's ids), the location from the agreement name."""
    d = make_dso(root, "cw-api", tables=_tables())
    rows: list[list[Any]] = [[
        "id", "product.id", "product.identifier", "description", "quantity", "unitPrice",
        "extPrice", "billCustomer", "effectiveDate", "cancelledDate", "agreementId",
        "agreement.id", "agreement.name", "location.id",
    ]]  # fmt: skip
    for i, (line, code) in enumerate(zip(LINES, ITEM_CODE, strict=True)):
        ts = f"{line['invoice_date']}T00:00:00Z"
        rows.append(
            [100 + i, 9, code, line["description"], line["quantity"], line["unit_price"],
             line["amount"], "Billable", ts, ts, 77, 77.0, AGREEMENT[line["location_id"]], 2]
        )  # fmt: skip
    rows.append([200, 9, "MS-WS", "Courtesy licence", 1, "50", "50", "DoNotBill",
                 "2025-01-31T00:00:00Z", "", 77, 77.0, "Acme MSA", 2])  # fmt: skip
    _write_csv(d / "billing" / "cw-additions.csv", rows)
    return d


def autotask_dso(root: Path) -> Path:
    """Autotask REST BillingItems: numeric billingItemType, companyID as the location
    key (the group's company is organization level), ISO timestamps."""
    d = make_dso(root, "autotask", tables=_tables())
    company = {"": 500, "LOC-001": 1001, "LOC-002": 1002}
    rows: list[list[Any]] = [[
        "id", "itemDate", "itemName", "description", "quantity", "rate", "extendedPrice",
        "totalAmount", "billingItemType", "companyID", "contractID", "invoiceID",
        "nonBillable",
    ]]  # fmt: skip
    for i, (line, code) in enumerate(zip(LINES, ITEM_CODE, strict=True)):
        kind = 7 if code.startswith("ONBOARD") else 6
        rows.append(
            [300 + i, f"{line['invoice_date']}T00:00:00", line["description"], "",
             line["quantity"], line["unit_price"], line["amount"], line["amount"], kind,
             company[line["location_id"]], 12, line["invoice_number"], "false"]
        )  # fmt: skip
    _write_csv(d / "billing" / "autotask-billing-items.csv", rows)
    return d


def generic_dso(root: Path) -> Path:
    """Plain invoice lines no profile names: the generic mapping reads them (warning)."""
    d = make_dso(root, "generic", tables=_tables())
    rows: list[list[Any]] = [
        ["Invoice #", "Posted", "Memo", "Qty", "Unit Price", "Line Total", "Practice", "Service"]
    ]
    for line in LINES:
        rows.append(
            [line["invoice_number"], _us(line["invoice_date"]), line["description"],
             line["quantity"], line["unit_price"], _money_text(line["amount"]),
             SITE_NAME[line["location_id"]], line["service"]]
        )  # fmt: skip
    _write_csv(d / "billing" / "msp-lines.csv", rows)
    return d


LAYOUT_PROFILE = {
    "connectwise": "connectwise-agreement-additions",
    "halopsa": "halopsa-invoice-lines",
    "xero": "xero-invoices",
    "quickbooks": "quickbooks-sales-by-customer-detail",
    "cw-api": "connectwise-api-additions",
    "autotask": "autotask-billing-items",
    "generic": "generic-invoice-lines",
}
BUILDERS = {
    "connectwise": lambda r: connectwise_dso(r),
    "halopsa": lambda r: halopsa_dso(r),
    "xero": lambda r: xero_dso(r),
    "quickbooks": lambda r: quickbooks_dso(r),
    "cw-api": lambda r: cw_api_additions_dso(r),
    "autotask": lambda r: autotask_dso(r),
    "generic": lambda r: generic_dso(r),
}


CONTRACT_COLS = [
    "invoice_date", "location_id", "description", "service", "quantity", "amount",
]  # fmt: skip


def _billing(d: Path) -> tuple[pd.DataFrame, Any]:
    ds = read_dso(d)
    errors = [str(p) for p in ds.read_problems if p.severity == "error"]
    assert errors == []
    b = ds.billing[CONTRACT_COLS].sort_values(["invoice_date", "amount"]).reset_index(drop=True)
    return b, ds


@pytest.fixture(scope="module")
def dsos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("roundtrip")
    return {"contract": contract_dso(root), **{k: b(root) for k, b in BUILDERS.items()}}


@pytest.mark.parametrize("layout", sorted(LAYOUT_PROFILE))
def test_provider_export_gives_the_contract_lines_to_the_cent(
    dsos: dict[str, Path], layout: str
) -> None:
    want, _ = _billing(dsos["contract"])
    got, ds = _billing(dsos[layout])
    assert len(got) == len(LINES) == 6
    pd.testing.assert_frame_equal(got, want)
    # hand sum of LINES (module comment): 11,119.05
    assert round(float(got["amount"].sum()), 2) == TOTAL
    profiles = {s.profile for s in ds.sources if s.table == "billing"}
    assert profiles == {LAYOUT_PROFILE[layout]}


def test_halopsa_total_row_is_excluded_and_checked(dsos: dict[str, Path]) -> None:
    ds = read_dso(dsos["halopsa"])
    assert 4 not in set(ds.billing["source_row"])  # the header row
    assert ds.billing["source_row"].tolist() == [5, 6, 7, 8, 9, 10]  # Total (row 11) excluded
    assert not [p for p in ds.read_problems if p.rule == "total_mismatch"]


def test_halopsa_wrong_total_is_reported(tmp_path: Path) -> None:
    d = halopsa_dso(tmp_path)
    path = d / "billing" / "halo-lines.xlsx"
    wb = openpyxl.load_workbook(path)
    wb.active.cell(row=11, column=9, value=TOTAL + 1)
    wb.save(path)
    probs = [p for p in read_dso(d).read_problems if p.rule == "total_mismatch"]
    assert len(probs) == 1 and probs[0].row == 11


def _comparable(obj: Any) -> Any:
    """Metrics JSON without where-lines-came-from fields (file names differ by design)."""
    drop = {"source_file", "source_sheet", "source_row", "invoice_number", "sources"}
    if isinstance(obj, dict):
        return {k: _comparable(v) for k, v in obj.items() if k not in drop}
    if isinstance(obj, list):
        return [_comparable(v) for v in obj]
    if isinstance(obj, str):  # evidence text cites a file and row: "billing/x.csv row 3"
        return re.sub(r"billing/.*? row \d+", "<line>", obj)
    return obj


def test_identical_metrics_from_every_layout(dsos: dict[str, Path]) -> None:
    from dso_analytics.metrics import compute_metrics, metrics_to_dict

    results = {}
    for name, d in dsos.items():
        _, ds = _billing(d)
        results[name] = compute_metrics(ds)
    ref = results["contract"]
    # hand: 11,119.05 billed in total, all within 12 months of the last invoice
    assert round(float(ref.lines["amount"].sum()), 2) == TOTAL
    want = _comparable(metrics_to_dict(ref))
    for name in LAYOUT_PROFILE:
        m = results[name]
        for attr in ("spend_by_location", "spend_by_service", "spend_by_month", "onboarding"):
            pd.testing.assert_frame_equal(
                getattr(m, attr), getattr(ref, attr), obj=f"{name}.{attr}"
            )
        assert m.spend_total == ref.spend_total
        assert m.addon_summary == ref.addon_summary
        got = _comparable(metrics_to_dict(m))
        got.pop("dso", None), want.pop("dso", None)
        got.pop("display_name", None), want.pop("display_name", None)
        assert got == want, name


# GX validation of the other layouts adds nothing: their lines equal the contract's
# (test above) and reading them reported no error
@pytest.mark.parametrize("layout", ["contract", "connectwise", "halopsa"])
def test_every_layout_validates(dsos: dict[str, Path], layout: str) -> None:
    from dso_analytics.validation import validate_dataset

    report = validate_dataset(read_dso(dsos[layout]))
    assert report.ok, report.to_text()
