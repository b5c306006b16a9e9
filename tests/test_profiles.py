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
        "Bill", "Agreement Name", "Agreement Type", "Company Name", "Location",
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
    assert providers == {"ConnectWise Manage", "Autotask", "HaloPSA", "Syncro"}


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
    assert "invoicenumber" in text
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
    raw = frame(
        {
            "Effective": ["01/01/2025", "01/05/2025", "02/01/2025", "01/10/2025"],
            "Cancelled": ["", "01/20/2025", "", "03/31/2025"],
            "Product ID": ["MS-WS", "NET-SWITCH", "MS-WS", "ONBOARD-ELM"],
            "Description": ["Managed WS", "Switch install", "Managed WS", "Elm go-live"],
            "Quantity": ["10", "2", "10", "1"],
            "Price": ["$150.00", "$125.00", "150", "2,500.00"],
            "Ext Price": ["$1,500.00", "", "1,500.00", ""],
            "Bill": ["Billable", "Billable", "Do Not Bill", "Billable"],
            "Agreement Name": ["MSA"] * 4,
            "Agreement Type": ["Managed"] * 4,
            "Company Name": ["Acme Dental Group"] * 4,
            "Location": ["1001", " elm  STREET ", "1001", "Pine"],
        }
    )
    out = apply_profile(raw, by_name("connectwise-agreement-additions"), LOCS)
    # the "Do Not Bill" row (source row 4) is dropped
    assert out["source_row"].tolist() == [2, 3, 5]
    assert list(out.columns[: len(BILLING_COLS)]) == BILLING_COLS
    assert out["invoice_date"].tolist() == ["2025-01-01", "2025-01-05", "2025-01-10"]
    assert out["invoice_number"].tolist() == ["MSA 2025-01-01", "MSA 2025-01-05", "MSA 2025-01-10"]
    # Pine maps to nothing: kept as exported so validation names it
    assert out["location_id"].tolist() == ["LOC-001", "LOC-002", "Pine"]
    assert out["site_value"].tolist() == ["1001", "elm STREET", "Pine"]
    # blank Ext Price derived: 2 x 125.00 = 250.00; 1 x 2,500.00 = 2500.00
    assert out["amount"].tolist() == [1500.0, 250.0, 2500.0]
    # same-month effective/cancelled (Jan 5 / Jan 20) and ONBOARD-* are onboarding
    assert out["service"].tolist()[1:] == ["new_location_onboarding"] * 2
    assert pd.isna(out["service"].iloc[0])
    assert out["agreement_type"].tolist() == ["Managed"] * 3  # unknown extras kept


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
    with pytest.raises(DsoError, match=r"cannot fill invoice_date \(from invoice_date or "):
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
