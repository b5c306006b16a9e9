"""Provider-export profiles: loading, recognising, mapping; import and read_dso integration."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dso_analytics.errors import DsoError
from dso_analytics.ingest.parse import ExcelError
from dso_analytics.ingest.profiles import (
    Profile,
    apply_profile,
    find_profile,
    format_profiles,
    load_profiles,
    match_profile,
    parse_profile,
    safe_stem,
)
from dso_analytics.schema import column_names, normalise_header

BILLING_COLS = list(column_names("billing"))


def frame(rows: dict[str, list[object]], file: str = "billing/export.csv") -> pd.DataFrame:
    """An export as the reader hands it over: normalised headers + provenance."""
    df = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in rows.items()})
    df.columns = [normalise_header(c) for c in df.columns]
    n = len(df)
    df["source_file"] = file
    df["source_sheet"] = ""
    df["source_row"] = list(range(2, n + 2))
    return df


LOCS = pd.DataFrame(
    {
        "location_id": ["LOC-001", "LOC-002"],
        "location_name": ["Main St Dental", "Elm Dental"],
        "aliases": ["1001; Main Street", "1002; Elm Street"],
    }
)

# Header rows of real exports (market notes), one per shipped profile.
EXPORT_HEADERS = {
    "connectwise-agreement-additions": [
        "Effective", "Cancelled", "Product ID", "Description", "Quantity", "Price", "Ext Price",
        "Bill", "Agreement Name", "Agreement Type", "Company Name", "Site",
    ],
    "connectwise-api-additions": [
        "id", "product.identifier", "description", "quantity", "unitPrice", "extPrice",
        "billCustomer", "effectiveDate", "cancelledDate", "agreementId", "agreement.name",
    ],
    "connectwise-api-invoices": [
        "id", "invoiceNumber", "type", "status.name", "company.name", "billingSite.name",
        "date", "dueDate", "location.name", "agreement.name", "project.name", "total",
    ],
    "xero-invoices": [
        "*ContactName", "EmailAddress", "*InvoiceNumber", "Reference", "*InvoiceDate",
        "*DueDate", "Total", "InventoryItemCode", "*Description", "*Quantity", "*UnitAmount",
        "Discount", "LineAmount", "*AccountCode", "*TaxType", "TaxAmount", "TrackingName1",
        "TrackingOption1", "Currency", "Type",
    ],
    "quickbooks-sales-by-customer-detail": [
        "", "Date", "Transaction Type", "Num", "Product/Service", "Memo/Description", "Qty",
        "Sales Price", "Amount", "Balance",
    ],
    "connectwise-company-invoices": [
        "Invoice", "Ticket #", "Invoice Total", "Date", "Due Date", "Status", "Invoice Type",
        "Bill To", "Company Name", "Site", "Project/Phase", "Agreement Type",
    ],
    "autotask-billing-items": [
        "ItemDate", "ItemName", "Description", "Quantity", "Rate", "ExtendedPrice",
        "TotalAmount", "BillingItemType", "ContractID", "InvoiceID", "TicketID", "ProjectID",
        "Setup Fee",
    ],
    "halopsa-invoice-lines": [
        "invoicenumber", "invoice_date", "sitenumber", "site", "item_code",
        "item_shortdescription", "qty_order", "unit_price", "net_amount",
    ],
    "syncro-invoice-line-items": [
        "number", "date", "location_id", "item", "name", "quantity", "price",
    ],
}  # fmt: skip


# ---------------------------------------------------------------------------
# Shipped profiles and recognition
# ---------------------------------------------------------------------------
def test_shipped_profiles_load() -> None:
    profiles = load_profiles()
    assert {p.name for p in profiles} == set(EXPORT_HEADERS)
    assert all(isinstance(p, Profile) and p.builtin for p in profiles)
    providers = {p.provider for p in profiles}
    assert providers == {
        "ConnectWise Manage", "ConnectWise Manage (API)", "Autotask", "HaloPSA", "Syncro", "Xero",
        "QuickBooks Online",
    }  # fmt: skip


@pytest.mark.parametrize("name", sorted(EXPORT_HEADERS))
def test_each_shipped_profile_recognises_its_export_header(name: str) -> None:
    assert match_profile(EXPORT_HEADERS[name], load_profiles()).name == name


def test_recognition_survives_case_spacing_and_missing_optional_headers() -> None:
    headers = ["  INVOICENUMBER", "Net Amount", "item shortdescription"]  # only required ones
    assert match_profile(headers, load_profiles()).name == "halopsa-invoice-lines"


def test_contract_headers_and_random_headers_match_no_profile() -> None:
    assert match_profile(BILLING_COLS, load_profiles()) is None
    assert match_profile(["a", "b", "c"], load_profiles()) is None
    assert match_profile([], load_profiles()) is None


def _profile(name: str, required: list[str], optional: list[str] | None = None) -> Profile:
    return parse_profile(
        {
            "name": name,
            "provider": "X",
            "layout": "y",
            "recognise": {"required": required, "optional": optional or []},
            "columns": {"amount": "amt"},
        },
        source=f"profiles/{name}.yaml",
    )


def test_best_score_wins_and_ties_are_a_clear_error() -> None:
    a = _profile("a", ["inv", "amt"], ["site"])
    b = _profile("b", ["inv", "amt"], ["location"])
    assert match_profile(["inv", "amt", "site"], [a, b]) is a  # 3 > 2
    with pytest.raises(DsoError, match=r"several profiles equally well: a .*, b "):
        match_profile(["inv", "amt"], [a, b])


def test_dso_profile_beats_shipped_one_on_a_tie() -> None:
    shipped = next(p for p in load_profiles() if p.name == "halopsa-invoice-lines")
    own = parse_profile(
        {
            "name": "my-halo",
            "provider": "HaloPSA",
            "layout": "our lines",
            "recognise": {
                "required": list(shipped.recognising_headers()[:2])
                + [["item_shortdescription", "item_description"]],
                "optional": list(shipped.optional),
            },
            "columns": {"invoice_number": "invoicenumber", "amount": "net_amount"},
        },
        source="profiles/my-halo.yaml",
    )
    assert match_profile(EXPORT_HEADERS["halopsa-invoice-lines"], [shipped, own]) is own


def test_find_profile_lists_available_names() -> None:
    with pytest.raises(DsoError, match=r"no profile named 'nope' \(available: autotask-"):
        find_profile("nope", load_profiles())


def test_format_profiles_is_a_readable_table() -> None:
    text = format_profiles(load_profiles())
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["name", "provider", "layout"]
    assert len(lines) == 2 + len(EXPORT_HEADERS)
    assert any("halopsa-invoice-lines" in ln and "HaloPSA" in ln for ln in lines)
    assert "net_amount" in text  # headers shown readably
    assert format_profiles([]) == "no provider-export profiles"


# ---------------------------------------------------------------------------
# Profile files: validation with clear errors
# ---------------------------------------------------------------------------
GOOD = """\
name: acme-psa
provider: Acme PSA
layout: invoice lines
recognise:
  required: [Inv No, Line Total]
  optional: [Clinic]
columns:
  invoice_number: Inv No
  invoice_date: Inv Date
  description: Memo
  amount: Line Total
location:
  columns: Clinic
date_format: "%d.%m.%Y"
"""


def write_profile(dso: Path, name: str, text: str) -> Path:
    (dso / "profiles").mkdir(parents=True, exist_ok=True)
    path = dso / "profiles" / name
    path.write_text(text, encoding="utf-8")
    return path


def test_dso_profile_is_loaded_and_listed(tmp_path: Path) -> None:
    write_profile(tmp_path, "acme.yaml", GOOD)
    profiles = load_profiles(tmp_path)
    own = [p for p in profiles if not p.builtin]
    assert [(p.name, p.source) for p in own] == [("acme-psa", "profiles/acme.yaml")]
    assert "profiles/acme.yaml" in format_profiles(profiles)


def test_dso_profile_with_a_shipped_name_replaces_it(tmp_path: Path) -> None:
    write_profile(tmp_path, "halo.yaml", GOOD.replace("acme-psa", "halopsa-invoice-lines"))
    halo = [p for p in load_profiles(tmp_path) if p.name == "halopsa-invoice-lines"]
    assert len(halo) == 1 and halo[0].source == "profiles/halo.yaml"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace("name: acme-psa", "name: Acme PSA!"), "key 'name': 'Acme PSA!' is not a slug"),
        (GOOD.replace("  invoice_number:", "  invoice_no:"), "key 'columns.invoice_no': not a billing column"),
        (GOOD.replace("recognise:", "recognize:"), "key 'recognize': unknown key"),
        (GOOD.replace("  required: [Inv No, Line Total]\n", ""), "key 'recognise.required': is required"),
        (GOOD.replace('"%d.%m.%Y"', "dd.mm.yyyy"), "key 'date_format': expected 'auto' or a strftime"),
        (GOOD.replace("  amount: Line Total\n", ""), "key 'columns.amount': map amount or set derive_amount"),
        (GOOD + "onboarding:\n  - {column: Code}\n", "key 'onboarding[0]': give either match"),
        (GOOD + "services:\n  - {column: Code, match: x, service: lunch}\n", "key 'services[0].service': expected a service code"),
        (GOOD + "credit_when: yes\n", "key 'credit_when': expected a list of rules"),
        (GOOD + "derive_amount: maybe\n", "key 'derive_amount': expected true or false"),
        (GOOD.replace("  amount: Line Total", "  amount: {sum: [a, b]}"), "key 'columns.amount.sum': unknown key"),
        ("- just\n- a list\n", "key '(top level)': expected a mapping"),
        ("name: [unclosed\n", "not valid YAML at line"),
    ],
)  # fmt: skip
def test_invalid_dso_profile_names_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    write_profile(tmp_path, "bad.yaml", text)
    with pytest.raises(DsoError) as exc:
        load_profiles(tmp_path)
    assert str(exc.value).startswith("profiles/bad.yaml: ")
    assert message in str(exc.value)


def test_two_dso_profiles_with_one_name_are_refused(tmp_path: Path) -> None:
    write_profile(tmp_path, "a.yaml", GOOD)
    write_profile(tmp_path, "b.yaml", GOOD)
    with pytest.raises(
        DsoError, match="profiles/b.yaml: key 'name': profile 'acme-psa' is already"
    ):
        load_profiles(tmp_path)


# ---------------------------------------------------------------------------
# apply_profile on plain frames
# ---------------------------------------------------------------------------
def by_name(name: str) -> Profile:
    return find_profile(name, load_profiles())


def test_connectwise_additions_mapping() -> None:
    from datetime import date

    raw = frame(
        {
            "Effective": ["01/01/2025", "01/05/2025", "02/01/2025", "01/10/2025", "03/15/2025"],
            "Cancelled": ["", "01/20/2025", "", "03/31/2025", ""],
            "Product ID": ["MS-WS", "NET-SWITCH", "MS-WS", "ONBOARD-ELM", "AV"],
            "Description": ["Managed WS", "Switch install", "Managed WS", "Elm go-live", "AV"],
            "Quantity": ["10", "2", "10", "1", "1"],
            "Price": ["$150.00", "$125.00", "150", "2,500.00", "9"],
            "Ext Price": ["$1,500.00", "", "1,500.00", "", "9"],
            "Bill": ["Billable", "Billable", "Do Not Bill", "Billable", "NoCharge"],
            "Agreement Name": ["MSA"] * 5,
            "Agreement Type": ["Managed"] * 5,
            "Company Name": ["Acme Dental Group"] * 5,
            "Site": ["1001", " elm  STREET ", "1001", "Pine", "1001"],
            "Location": ["Columbus HQ"] * 5,  # the provider's own office: never the site
        }
    )
    prof = by_name("connectwise-agreement-additions")
    out = apply_profile(raw, prof, LOCS, as_of=date(2025, 3, 20))
    # "Do Not Bill" (row 4) and "NoCharge" (row 6) are dropped; row 2 is charged monthly
    # from Jan 1 to the as-of date (3 months), row 5 from Jan 10 to its cancellation
    assert out["source_row"].tolist() == [2, 2, 2, 3, 5, 5, 5]
    assert list(out.columns[: len(BILLING_COLS)]) == BILLING_COLS
    assert out["invoice_date"].tolist() == [
        "2025-01-01", "2025-02-01", "2025-03-01", "2025-01-05",
        "2025-01-10", "2025-02-10", "2025-03-10",
    ]  # fmt: skip
    assert out["invoice_number"].tolist()[:3] == [
        "MSA 2025-01-01",
        "MSA 2025-02-01",
        "MSA 2025-03-01",
    ]
    # Pine maps to nothing: kept as exported so validation names it
    assert out["location_id"].tolist() == ["LOC-001"] * 3 + ["LOC-002"] + ["Pine"] * 3
    assert "Columbus HQ" not in set(out["location_id"]) | set(out["site_value"])
    # blank Ext Price derived: 2 x 125.00 = 250.00; 1 x 2,500.00 = 2500.00
    assert out["amount"].tolist() == [1500.0] * 3 + [250.0] + [2500.0] * 3
    # ONBOARD-* is onboarding; a one-month addition is not by itself
    assert out["service"].tolist()[4:] == ["new_location_onboarding"] * 3
    assert out["service"].iloc[:4].isna().all()
    assert out["agreement_type"].tolist() == ["Managed"] * 7  # unknown extras kept
    # as of Feb 15 the open addition has two charges and the one cancelled in March two
    early = apply_profile(raw, prof, LOCS, as_of=date(2025, 2, 15))
    assert early["invoice_date"].tolist() == [
        "2025-01-01",
        "2025-02-01",
        "2025-01-05",
        "2025-01-10",
        "2025-02-10",
    ]


def test_connectwise_invoices_credit_and_description() -> None:
    raw = frame(
        {
            "Invoice": ["1001", "1002"],
            "Ticket #": ["", "4411"],
            "Invoice Total": ["$2,400.00", "$250.00"],
            "Date": ["01/31/2025", "02/28/2025"],
            "Invoice Type": ["Agreement", "Credit Memo"],
            "Company Name": ["Elm Dental", "Elm Dental"],
            "Site": ["", ""],
            "Project/Phase": ["", ""],
            "Agreement Type": ["Managed Services", ""],
        }
    )
    out = apply_profile(raw, by_name("connectwise-company-invoices"), LOCS)
    assert out["amount"].tolist() == [2400.0, -250.0]
    assert out["description"].tolist() == ["Managed Services - Agreement", "Credit Memo - 4411"]
    # Site blank; Company Name names a location -> used
    assert out["location_id"].tolist() == ["LOC-002", "LOC-002"]


def test_company_name_that_maps_nothing_is_not_reported_as_a_site() -> None:
    raw = frame(
        {
            "Invoice": ["1001"],
            "Invoice Total": ["10"],
            "Date": ["01/31/2025"],
            "Company Name": ["Acme Dental Group"],
            "Site": [""],
        }
    )
    out = apply_profile(raw, by_name("connectwise-company-invoices"), LOCS)
    assert pd.isna(out["location_id"].iloc[0])  # organization-level line


def test_autotask_setup_fee_credit_and_rate() -> None:
    raw = frame(
        {
            "ItemDate": ["03/01/2025", "03/01/2025", "03/15/2025", "03/20/2025"],
            "ItemName": ["Managed Services", "New site", "Credit", "Switch"],
            "Description": ["March", "", "SLA credit", "24-port"],
            "Quantity": [16, 1, 1, 1],
            "Rate": [150, 0, 100, 400],
            "ExtendedPrice": [2400, None, 100, 400],
            "TotalAmount": [2400, None, 100, 432],
            "BillingItemType": [
                "Recurring Contract Service",
                "Contract Setup Fee",
                "Credit",
                "Product",
            ],
            "InvoiceID": [501, 501, 502, 502],
            "Setup Fee": [None, 3000, None, None],
        }
    )
    out = apply_profile(raw, by_name("autotask-billing-items"), LOCS)
    # ExtendedPrice first; the setup line has only Setup Fee 3000; the credit is negated
    assert out["amount"].tolist() == [2400.0, 3000.0, -100.0, 400.0]
    assert out["service"].tolist()[1] == "new_location_onboarding"
    assert out[["service"]].iloc[[0, 2, 3]].isna().all().all()
    assert out["description"].tolist() == [
        "Managed Services - March", "New site", "Credit - SLA credit", "Switch - 24-port",
    ]  # fmt: skip
    assert out["invoice_number"].tolist() == [501, 501, 502, 502]
    assert out["location_id"].isna().all()  # Autotask has no site column


def test_halopsa_mapping_sitenumber_then_site_and_setup_code() -> None:
    raw = frame(
        {
            "invoicenumber": ["H-1", "H-1", "H-2"],
            "invoice_date": ["2025-04-30", "2025-04-30", "2025-05-31"],
            "sitenumber": [1001.0, None, 77.0],
            "site": ["", "Elm Street", "Main St Dental"],
            "item_code": ["MS", "SETUP-NEWLOC", "HW"],
            "item_shortdescription": ["Managed services", "Onboarding", "Switch"],
            "qty_order": [10, 1, 1],
            "unit_price": [150, 4000, 400],
            "net_amount": ["1,500.00", "4,000.00", "(400.00)"],
        }
    )
    out = apply_profile(raw, by_name("halopsa-invoice-lines"), LOCS)
    # 77 maps to nothing but the site column names Main St Dental -> LOC-001
    assert out["location_id"].tolist() == ["LOC-001", "LOC-002", "LOC-001"]
    assert out["service"].tolist()[1] == "new_location_onboarding"
    # parentheses are a negative amount
    assert out["amount"].tolist() == [1500.0, 4000.0, -400.0]


def test_syncro_amount_is_quantity_times_price() -> None:
    raw = frame(
        {
            "number": ["S1", "S1"],
            "date": ["2025-06-30", "2025-06-30"],
            "location_id": ["1002", "1002"],
            "item": ["Managed WS", "Onboarding - Elm"],
            "name": ["per workstation", "one-time"],
            "quantity": ["6", ""],
            "price": ["$150.00", "$1,999.99"],
        }
    )
    out = apply_profile(raw, by_name("syncro-invoice-line-items"), LOCS)
    # 6 x 150.00 = 900.00; blank quantity counts as 1 -> 1,999.99
    assert out["amount"].tolist() == [900.0, 1999.99]
    assert out["location_id"].tolist() == ["LOC-002", "LOC-002"]
    assert out["description"].tolist() == [
        "Managed WS - per workstation",
        "Onboarding - Elm - one-time",
    ]
    assert out["service"].tolist()[1] == "new_location_onboarding"


def test_unreadable_values_are_passed_through_not_blanked() -> None:
    raw = frame(
        {
            "number": ["S1", "S1"],
            "date": ["2025-06-30", "yesterday"],
            "item": ["A", "B"],
            "quantity": ["1", "1"],
            "price": ["abc", ExcelError("#REF!")],
        }
    )
    out = apply_profile(raw, by_name("syncro-invoice-line-items"))
    assert out["amount"].tolist() == ["abc", "#REF!"]
    assert isinstance(out["amount"].iloc[1], ExcelError)
    assert out["invoice_date"].tolist() == ["2025-06-30", "yesterday"]


def test_excel_error_in_site_or_description_part_stays_an_error() -> None:
    raw = frame(
        {
            "Invoice": ["1"],
            "Invoice Total": ["10"],
            "Date": ["01/31/2025"],
            "Site": [ExcelError("#N/A")],
            "Agreement Type": [ExcelError("#REF!")],
        }
    )
    out = apply_profile(raw, by_name("connectwise-company-invoices"), LOCS)
    assert isinstance(out["location_id"].iloc[0], ExcelError)
    assert isinstance(out["description"].iloc[0], ExcelError)


def test_profile_date_format_day_first(tmp_path: Path) -> None:
    write_profile(tmp_path, "acme.yaml", GOOD)
    prof = find_profile("acme-psa", load_profiles(tmp_path))
    raw = frame(
        {
            "Inv No": ["A1", "A2"],
            "Inv Date": ["03.04.2025", "2025-04-30"],  # 3 April (day first); ISO stays
            "Memo": ["x", "y"],
            "Line Total": ["1", "2"],
            "Clinic": ["Elm Dental", ""],
        }
    )
    out = apply_profile(raw, prof, LOCS)
    assert out["invoice_date"].tolist() == ["2025-04-03", "2025-04-30"]
    assert out["location_id"].iloc[0] == "LOC-002"
    assert pd.isna(out["location_id"].iloc[1])


def test_missing_required_source_is_a_clear_error() -> None:
    raw = frame(
        {"invoicenumber": ["1"], "invoice_date": ["2025-01-01"], "item_shortdescription": ["x"]}
    )
    out = apply_profile(raw, by_name("halopsa-invoice-lines"))
    assert out["amount"].isna().all()  # derive_amount: no amount, no price -> blank
    with pytest.raises(DsoError, match=r"cannot fill invoice_date \(from invoice_date\)"):
        apply_profile(raw.drop(columns="invoice_date"), by_name("halopsa-invoice-lines"))
    cw = by_name("connectwise-company-invoices")
    with pytest.raises(DsoError, match=r"cannot fill invoice_number \(from invoice\)"):
        apply_profile(frame({"date": ["01/01/2025"], "invoice_total": ["1"]}), cw)


def test_apply_profile_does_not_modify_its_input() -> None:
    raw = frame({"number": ["S1"], "date": ["2025-06-30"], "item": ["A"], "price": ["$5"]})
    before = raw.copy()
    apply_profile(raw, by_name("syncro-invoice-line-items"))
    pd.testing.assert_frame_equal(raw, before)


@pytest.mark.parametrize(
    ("stem", "slug"),
    [
        ("CW Export (Jan 2025)", "cw-export-jan-2025"),
        ("halo_lines", "halo_lines"),
        ("LOC-001", "loc-001"),
    ],
)
def test_safe_stem(stem: str, slug: str) -> None:
    assert safe_stem(stem) == slug


@pytest.mark.parametrize("stem", ["..", "", "!!!", "../.."])
def test_safe_stem_refuses_names_with_nothing_safe(stem: str) -> None:
    with pytest.raises(DsoError):
        safe_stem(stem)


# ---------------------------------------------------------------------------
# Realistic exports, as files (CSV and xlsx)
# ---------------------------------------------------------------------------
# One realistic export per shipped profile: header row + two lines, the second
# the onboarding line.  Amount expected per line, worked out by hand.
EXPORTS: dict[str, tuple[list[str], list[list[object]], list[float]]] = {
    "connectwise-agreement-additions": (
        EXPORT_HEADERS["connectwise-agreement-additions"],
        [
            # a recurring charge over two months, then a one-time onboarding addition
            ["01/01/2025", "02/28/2025", "MS-WS", "Managed workstation", "10", "$150.00",
             "$1,500.00", "Billable", "Acme MSA", "Managed Services", "Acme Dental Group",
             "1001"],
            ["02/03/2025", "02/03/2025", "ONBOARD-ELM", "Elm go-live", "1", "$1,234.50",
             "$1,234.50", "Billable", "Acme MSA", "Project", "Acme Dental Group", "1002"],
        ],
        [1500.00, 1500.00, 1234.50],
    ),
    "connectwise-company-invoices": (
        EXPORT_HEADERS["connectwise-company-invoices"],
        [
            ["10001", "", "$2,400.00", "01/31/2025", "02/28/2025", "Sent", "Agreement",
             "Acme Dental Group", "Acme Dental Group", "1001", "", "Managed Services"],
            ["10002", "5521", "$3,000.00", "02/28/2025", "03/31/2025", "Sent", "Standard",
             "Acme Dental Group", "Acme Dental Group", "Elm Street", "Elm Onboarding - Phase 1",
             "Project"],
        ],
        [2400.00, 3000.00],
    ),
    "autotask-billing-items": (
        EXPORT_HEADERS["autotask-billing-items"],
        [
            ["01/31/2025", "Managed Services", "January", "16", "150.00", "2400.00", "2400.00",
             "Recurring Contract Service", "C-1", "I-9", "", "", ""],
            ["02/14/2025", "New location", "Elm", "1", "0", "", "", "Contract Setup Fee",
             "C-1", "I-10", "", "", "$4,000.00"],
        ],
        [2400.00, 4000.00],
    ),
    "halopsa-invoice-lines": (
        EXPORT_HEADERS["halopsa-invoice-lines"],
        [
            ["H-1", "2025-01-31", "1001", "", "MS", "Managed services", "16", "150", "2400.00"],
            ["H-2", "2025-02-28", "", "elm street", "SETUP", "Onboarding Elm", "1", "5000",
             "5000.00"],
        ],
        [2400.00, 5000.00],
    ),
    "syncro-invoice-line-items": (
        EXPORT_HEADERS["syncro-invoice-line-items"],
        [
            ["S-1", "2025-01-31", "1001", "Managed WS", "per workstation", "10", "$150.00"],
            ["S-2", "2025-02-28", "1002", "Onboarding", "Elm", "2", "$1,250.25"],
        ],
        # 10 x 150.00 = 1,500.00; 2 x 1,250.25 = 2,500.50
        [1500.00, 2500.50],
    ),
}  # fmt: skip


def write_export(path: Path, header: list[str], rows: list[list[object]], title: bool) -> Path:
    """Write an export as CSV or xlsx; with ``title`` two title rows and a blank row first."""
    import csv

    import openpyxl

    lead = [["Acme MSP export"], ["Generated 2025-03-01"], []] if title else []
    if path.suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            for r in [*lead, header, *rows]:
                w.writerow(r)
    else:
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "Export"
        for r in [*lead, header, *rows]:
            ws.append(r)
        wb.save(path)
    return path


@pytest.mark.parametrize("fmt", [".csv", ".xlsx"])
@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_each_shipped_profile_maps_a_realistic_export_file(
    tmp_path: Path, name: str, fmt: str
) -> None:
    from dso_analytics.ingest.parse import parse_date, parse_money
    from dso_analytics.ingest.profiles import header_matcher
    from dso_analytics.ingest.workbook import read_raw_table

    header, rows, amounts = EXPORTS[name]
    path = write_export(tmp_path / f"export{fmt}", header, rows, title=fmt == ".xlsx")
    profiles = load_profiles()
    raw = read_raw_table(path, header_matcher=header_matcher(profiles), display=path.name)
    prof = match_profile(raw.headers, profiles)
    assert prof is not None and prof.name == name
    out = apply_profile(raw.frame, prof, LOCS)
    money, bad = parse_money(out["amount"])
    assert bad.isna().all()
    assert money.tolist() == amounts
    dates, bad_dates = parse_date(out["invoice_date"])
    assert bad_dates.isna().all() and dates.notna().all()
    assert out["service"].iloc[-1] == "new_location_onboarding"
    assert pd.isna(out["service"].iloc[0])
    if name != "autotask-billing-items":  # Autotask exports carry no site
        assert out["location_id"].tolist() == ["LOC-001"] * (len(out) - 1) + ["LOC-002"]


# ---------------------------------------------------------------------------
# read_dso, the CLI and import
# ---------------------------------------------------------------------------
def _dso(root: Path, billing: dict[str, list[dict[str, object]]] | None = None) -> Path:
    from tests.support.builders import base_tables, make_dso

    t = base_tables()
    t["locations"][0]["aliases"] = "1001; Main Street"
    t["locations"][1]["aliases"] = "1002; Elm Street"
    if billing is not None:
        t["billing"] = billing
    d = make_dso(root, tables=t)
    (d / "billing").mkdir(exist_ok=True)
    return d


ACME_EXPORT = (
    'Inv No,Inv Date,Memo,Line Total,Clinic\nA-1,03.04.2025,Helpdesk,"$1,234.50",elm dental\n'
)


def test_user_profile_in_dso_folder_maps_an_export_without_code(tmp_path: Path) -> None:
    from dso_analytics.ingest import read_dso

    d = _dso(tmp_path, billing={})
    write_profile(d, "acme.yaml", GOOD)
    (d / "billing" / "acme-export.csv").write_text(ACME_EXPORT, encoding="utf-8")
    ds = read_dso(d)
    assert [p for p in ds.read_problems if p.severity == "error"] == []
    src = {s.path: s.profile for s in ds.sources}
    assert src["billing/acme-export.csv"] == "acme-psa"
    line = ds.billing.iloc[0]
    assert line["invoice_number"] == "A-1"
    assert line["invoice_date"] == pd.Timestamp("2025-04-03")  # day first, per the profile
    assert line["location_id"] == "LOC-002"  # through location_name
    assert line["amount"] == 1234.50
    assert line["source_row"] == 2


def test_file_no_profile_recognises_is_one_clear_problem(tmp_path: Path) -> None:
    from dso_analytics.ingest import read_dso

    d = _dso(tmp_path)
    (d / "billing" / "mystery.csv").write_text("foo,bar\n1,2\n", encoding="utf-8")
    ds = read_dso(d)
    probs = [p for p in ds.read_problems if p.file == "billing/mystery.csv"]
    assert "billing/mystery.csv" not in set(ds.billing["source_file"])  # no lines counted
    assert len(probs) == 1 and probs[0].severity == "error"
    assert probs[0].rule == "no_profile"
    assert "not a contract billing file and no provider profile matches its headers" in str(
        probs[0]
    )
    assert "missing invoice_number, invoice_date, description, amount" in str(probs[0])


def test_cli_profiles_lists_shipped_and_dso_profiles(tmp_path: Path, capsys) -> None:
    from dso_analytics.cli import main

    d = _dso(tmp_path)
    write_profile(d, "acme.yaml", GOOD)
    assert main(["profiles", "--dso", str(d)]) == 0
    out = capsys.readouterr().out
    for name in [*EXPORTS, "acme-psa"]:
        assert name in out
    assert "profiles/acme.yaml" in out
    assert main(["profiles"]) == 0
    assert "acme-psa" not in capsys.readouterr().out


def test_cli_profiles_reports_a_bad_dso_profile_without_traceback(tmp_path: Path, capsys) -> None:
    from dso_analytics.cli import main

    d = _dso(tmp_path)
    write_profile(d, "bad.yaml", "name: x\n")
    assert main(["profiles", "--dso", str(d)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: profiles/bad.yaml: key 'recognise': ")
    assert "Traceback" not in err


CW_CSV = (
    "ConnectWise Manage - Company Invoices\n"
    "\n"
    "Invoice,Ticket #,Invoice Total,Date,Invoice Type,Company Name,Site,Agreement Type\n"
    '1001,,"$2,400.00",01/31/2025,Agreement,Acme Dental Group,1001,Managed Services\n'
    "1002,4411,$250.00,01/31/2025,Standard,Acme Dental Group, elm  STREET ,\n"
    "1003,,$50.00,02/28/2025,Credit Memo,Acme Dental Group,1002,\n"
    'Total,,"$2,600.00",,,,,\n'
)


def test_cli_import_writes_a_contract_file_that_reads_back(tmp_path: Path, capsys) -> None:
    from dso_analytics.cli import main
    from dso_analytics.ingest import read_dso

    d = _dso(tmp_path, billing={})
    src = tmp_path / "CW Invoices (Jan).csv"
    src.write_text(CW_CSV, encoding="utf-8")
    assert main(["import", str(src), "--dso", str(d)]) == 0
    dest = d / "billing" / "cw-invoices-jan.csv"
    assert f"wrote {dest}" in capsys.readouterr().out
    written = pd.read_csv(dest, dtype=str, keep_default_na=False)
    assert list(written.columns[:10]) == BILLING_COLS
    assert written["location_id"].tolist() == ["LOC-001", "LOC-002", "LOC-002"]
    # the credit memo is negative: 2,400.00 + 250.00 - 50.00
    assert written["amount"].tolist() == ["2400.00", "250.00", "-50.00"]
    assert written["invoice_date"].tolist() == ["2025-01-31", "2025-01-31", "2025-02-28"]
    assert written["export_row"].tolist() == ["4", "5", "6"]
    assert not list((d / "billing").glob(".*"))  # no temporary file left behind
    ds = read_dso(d)
    assert [p for p in ds.read_problems if p.severity == "error"] == []
    assert {s.path: s.profile for s in ds.sources}["billing/cw-invoices-jan.csv"] is None
    assert round(float(ds.billing["amount"].sum()), 2) == 2600.00


def test_cli_import_never_overwrites_without_force(tmp_path: Path, capsys) -> None:
    from dso_analytics.cli import main

    d = _dso(tmp_path, billing={})
    src = tmp_path / "cw.csv"
    src.write_text(CW_CSV, encoding="utf-8")
    dest = d / "billing" / "cw.csv"
    assert main(["import", str(src), "--dso", str(d)]) == 0
    dest.write_text("hand-edited", encoding="utf-8")
    capsys.readouterr()
    assert main(["import", str(src), "--dso", str(d)]) == 2
    assert "billing/cw.csv already exists (use --force to overwrite)" in capsys.readouterr().err
    assert dest.read_text(encoding="utf-8") == "hand-edited"
    assert main(["import", str(src), "--dso", str(d), "--force"]) == 0
    assert dest.read_text(encoding="utf-8").startswith("invoice_number,")


@pytest.mark.parametrize(
    ("argv_extra", "message"),
    [
        (["--profile", "nope"], "no profile named 'nope' (available: autotask-billing-items"),
        (["--profile", "syncro-invoice-line-items"], "lacks the headers profile 'syncro-invoice"),
    ],
)
def test_cli_import_profile_errors(
    tmp_path: Path, capsys, argv_extra: list[str], message: str
) -> None:
    from dso_analytics.cli import main

    d = _dso(tmp_path, billing={})
    src = tmp_path / "cw.csv"
    src.write_text(CW_CSV, encoding="utf-8")
    assert main(["import", str(src), "--dso", str(d), *argv_extra]) == 2
    assert message in capsys.readouterr().err
    assert not (d / "billing" / "cw.csv").exists()


@pytest.mark.parametrize("name", ["...csv", "$$$.csv", "..csv"])
def test_cli_import_refuses_hostile_names(tmp_path: Path, capsys, name: str) -> None:
    from dso_analytics.cli import main

    d = _dso(tmp_path, billing={})
    src = tmp_path / name
    src.write_text(CW_CSV, encoding="utf-8")
    before = sorted(p.name for p in (d / "billing").iterdir())
    assert main(["import", str(src), "--dso", str(d)]) == 2
    err = capsys.readouterr().err
    assert "no safe output name" in err and "Traceback" not in err
    assert sorted(p.name for p in (d / "billing").iterdir()) == before


def test_cli_import_slugs_names_with_separators_and_dots(tmp_path: Path) -> None:
    from dso_analytics.cli import main

    d = _dso(tmp_path, billing={})
    src = tmp_path / "..%2F..%2Fetc passwd.csv"
    src.write_text(CW_CSV, encoding="utf-8")
    assert main(["import", str(src), "--dso", str(d)]) == 0
    assert (d / "billing" / "2f-2fetc-passwd.csv").is_file()


def test_import_refuses_a_file_already_in_billing(tmp_path: Path) -> None:
    from dso_analytics.ingest.profiles import import_export

    d = _dso(tmp_path, billing={})
    src = d / "billing" / "cw.csv"
    src.write_text(CW_CSV, encoding="utf-8")
    with pytest.raises(DsoError, match="already inside billing/"):
        import_export(src, d)


def test_import_of_unrecognised_file_lists_headers_and_profiles(tmp_path: Path) -> None:
    from dso_analytics.ingest.profiles import import_export

    d = _dso(tmp_path, billing={})
    src = tmp_path / "x.csv"
    src.write_text("foo,bar\n1,2\n", encoding="utf-8")
    with pytest.raises(
        DsoError, match=r"x.csv: no provider profile matches its headers \(foo, bar\)"
    ):
        import_export(src, d)


def test_unmappable_site_value_fails_validation_naming_value_rows_and_suggestion(
    tmp_path: Path,
) -> None:
    from dso_analytics.validation import validate_dso

    d = _dso(tmp_path, billing={})
    bad = CW_CSV.replace(" elm  STREET ", "Elm Stret").replace(",1002,", ",Elm Stret,")
    (d / "billing" / "cw.csv").write_text(bad, encoding="utf-8")
    report = validate_dso(d, use_cache=False)
    assert not report.ok
    probs = [p for p in report.problems if p.value == "Elm Stret"]
    # one problem for the value, at its first row, naming rows 5 and 6 of the export
    # (title row, blank row, header in row 3... data from row 4)
    assert len(probs) == 1
    p = probs[0]
    assert (p.file, p.row, p.column, p.severity) == ("billing/cw.csv", 5, "location_id", "error")
    assert "rows 5, 6" in str(p)
    assert "Elm Street" in str(p) and "LOC-002" in str(p)


def test_bad_dso_profile_is_a_read_problem_naming_the_profile_file(tmp_path: Path) -> None:
    from dso_analytics.ingest import read_dso

    d = _dso(tmp_path)
    write_profile(d, "bad.yaml", GOOD.replace("  amount: Line Total\n", ""))
    (d / "billing" / "acme-export.csv").write_text(ACME_EXPORT, encoding="utf-8")
    ds = read_dso(d)
    probs = [p for p in ds.read_problems if p.file == "billing/acme-export.csv"]
    assert [p.rule for p in probs] == ["bad_profile"]
    assert "profiles/bad.yaml: key 'columns.amount'" in probs[0].problem
    # contract files are read as usual
    assert set(ds.billing["source_file"]) == {"billing/organization.csv", "billing/LOC-002.csv"}
