"""The negotiation log: init never overwrites, sync appends, located checks, status totals."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from dso_analytics.actions.deadlines import ask_keys
from dso_analytics.actions.negotiation import (
    LOG_COLUMNS,
    compute_negotiation_status,
    current_asks,
    read_log,
    sync_log,
    validate_log,
    write_new_log,
)
from dso_analytics.cli import main
from dso_analytics.errors import DsoError
from dso_analytics.metrics import compute_metrics
from tests.support.metrics_factory import agreement, line, location, make_ds, params
from tests.support.paths import SAMPLE

AS_OF = "2025-06-30"
EVIL_ID = "=cmd|' /C calc'!A0"


def _metrics():
    ags = [agreement(EVIL_ID, "2024-09-01", term_months=36, notice_days=60)]
    services = [
        {"agreement_id": EVIL_ID, "service": "helpdesk", "coverage": "included"},
        {"agreement_id": EVIL_ID, "service": "cross_location_incidents", "coverage": "add_on"},
    ]
    billing = [
        line("2025-01-10", 120.0, "Helpdesk", service="helpdesk", location_id="LOC-1"),
        line("2025-02-10", 80.5, "Helpdesk", service="helpdesk", location_id="LOC-1"),
        line("2025-03-10", -20.0, "Credit", service="helpdesk", location_id="LOC-1"),
        line("2025-04-10", 300.0, "Multi-site outage", service="cross_location_incidents"),
    ]
    ds = make_ds(locations=[location("LOC-1")], agreements=ags, services=services, billing=billing)
    return compute_metrics(ds, params(AS_OF))


def test_current_asks_counted_once() -> None:
    m = _metrics()
    asks = current_asks(m)
    by_type = asks.groupby("type")["estimate"].sum().to_dict()
    # claim: 120 + 80.50 - 20 = 180.50 (all-time); move cross-location incidents into base: 300 T12M
    claim = asks[asks["type"] == "claim"]
    assert claim["estimate"].tolist() == [180.5]
    assert claim["estimate_window"].tolist() == ["all-time to 2025-06-30"]
    assert 300.0 in asks.loc[asks["type"] == "ask", "estimate"].tolist()
    assert by_type["claim"] == 180.5
    assert asks["ask_key"].is_unique
    counted = m.asks[m.asks["in_total"].astype(bool)]
    assert set(asks["ask_key"]) >= set(ask_keys(counted))
    assert (asks["agreement_id"] == EVIL_ID).all()


def test_init_never_overwrites_and_writes_text(tmp_path: Path) -> None:
    asks = current_asks(_metrics())
    path = write_new_log(tmp_path, asks)
    wb = openpyxl.load_workbook(path)
    ws = wb["log"]
    assert [c.value for c in ws[1]] == list(LOG_COLUMNS)
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(asks)
    col = {c: i for i, c in enumerate(LOG_COLUMNS)}
    assert {r[col["status"]] for r in rows} == {"open"}
    assert all(r[col["agreement_id"]] == EVIL_ID for r in rows)  # text, not a formula
    assert all(ws.cell(row=i, column=col["agreement_id"] + 1).data_type == "s" for i in (2, 3))
    before = path.read_bytes()
    with pytest.raises(DsoError, match="already exists") as err:
        write_new_log(tmp_path, asks)
    assert err.value.exit_code == 2
    assert path.read_bytes() == before
    log = read_log(tmp_path)
    assert log.problems == [] and validate_log(log, asks) == []
    # a term to fix has no estimate (NaN on both sides)
    assert log.frame["estimate"].round(2).fillna(-1).tolist() == (
        asks["estimate"].round(2).fillna(-1).tolist()
    )


def _edit(
    path: Path, edits: dict[tuple[int, str], object], extra: list[dict] | None = None
) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb["log"]
    col = {c.value: c.column for c in ws[1]}
    for (row, c), v in edits.items():
        ws.cell(row=row, column=col[c], value=v)
    for r in extra or []:
        for c, v in r.items():
            cell = ws.cell(row=ws.max_row + 1 if c == "ask_key" else ws.max_row, column=col[c])
            cell.value = v
            if isinstance(v, str):
                cell.data_type = "s"  # typed as text (a key may start with '=')
    wb.create_sheet("my notes")["A1"] = "kept"
    wb.save(path)


def test_validation_located_errors(tmp_path: Path) -> None:
    asks = current_asks(_metrics())
    path = write_new_log(tmp_path, asks)
    key2 = asks["ask_key"].iat[0]
    _edit(
        path,
        {
            (2, "status"): "Realised",  # case-insensitive
            (2, "amount_agreed"): 100,
            (2, "amount_realised"): 150,  # > agreed
            (2, "date_asked"): datetime(2025, 5, 1),
            (2, "date_agreed"): datetime(2025, 4, 1),  # before asked
            (3, "status"): "maybe",
            (3, "amount_asked"): "12x",
        },
        extra=[
            {"ask_key": "nope", "status": "asked"},
            {
                "ask_key": "settled-long-ago",
                "status": "realised",
                "amount_agreed": 5,
                "amount_realised": 5,
            },  # fmt: skip
            {"ask_key": key2, "status": "open", "amount_asked": -3},
        ],
    )
    n = len(asks)
    got = [str(p) for p in validate_log(read_log(tmp_path), asks)]
    sev = [p.severity for p in validate_log(read_log(tmp_path), asks)]
    assert got == [
        "negotiation.xlsx, sheet log, row 3, amount_asked: could not be read as money ('12x')",
        "negotiation.xlsx, sheet log, row 2, amount_realised: is more than amount_agreed "
        "(100.00) ('150.00')",
        "negotiation.xlsx, sheet log, row 2, date_agreed: is before date_asked (2025-05-01) "
        "('2025-04-01')",
        "negotiation.xlsx, sheet log, row 3, status: must be one of open, asked, agreed, "
        "rejected, realised ('maybe')",
        f"negotiation.xlsx, sheet log, row {n + 2}, ask_key: is not among the current asks "
        "(a typo, or an ask that went away) ('nope')",
        f"negotiation.xlsx, sheet log, row {n + 3}, ask_key: is not among the current asks "
        "(kept as realised history) ('settled-long-ago')",
        f"negotiation.xlsx, sheet log, row {n + 4}, ask_key: duplicate ask_key: already in row 2 "
        f"({key2!r})",
        f"negotiation.xlsx, sheet log, row {n + 4}, amount_asked: must not be negative ('-3.00')",
    ]
    assert sev == ["error"] * 5 + ["warning", "error", "error"]


def test_missing_sheet_and_column(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "Sheet1"
    wb.save(tmp_path / "negotiation.xlsx")
    assert [str(p) for p in read_log(tmp_path).problems] == [
        "negotiation.xlsx: has no sheet named 'log'"
    ]
    wb = openpyxl.Workbook()
    wb.active.title = "log"
    wb.active.append(["ask_key", "owner"])
    wb.active.append(["k", "me"])
    wb.save(tmp_path / "negotiation.xlsx")
    assert [str(p) for p in read_log(tmp_path).problems] == [
        "negotiation.xlsx, sheet log, status: required column is missing"
    ]


def test_sync_appends_only_new_asks_and_keeps_edits(tmp_path: Path) -> None:
    asks = current_asks(_metrics())
    path = write_new_log(tmp_path, asks.iloc[:1])
    _edit(path, {(2, "status"): "asked", (2, "owner"): "Dana", (2, "amount_asked"): 150})
    p, new = sync_log(tmp_path, asks)
    assert new["ask_key"].tolist() == asks["ask_key"].iloc[1:].tolist()
    wb = openpyxl.load_workbook(p)
    assert wb.sheetnames == ["log", "my notes"] and wb["my notes"]["A1"].value == "kept"
    rows = list(wb["log"].iter_rows(min_row=2, values_only=True))
    col = {c: i for i, c in enumerate(LOG_COLUMNS)}
    assert [r[col["ask_key"]] for r in rows] == asks["ask_key"].tolist()
    assert rows[0][col["owner"]] == "Dana" and rows[0][col["amount_asked"]] == 150
    assert [r[col["status"]] for r in rows[1:]] == ["open"] * (len(asks) - 1)
    _, again = sync_log(tmp_path, asks)
    assert again.empty


def test_negotiation_status_totals() -> None:
    log = pd.DataFrame(
        {
            "ask_key": ["a", "b", "c", "c"],
            "type": ["claim", "ask", "claim", "claim"],
            "agreement_id": ["X"] * 4,
            "status": ["asked", "realised", "open", "open"],
            "estimate": [10.0, 20.0, 30.0, 30.0],
            "amount_asked": [100.0, 50.0, None, None],
            "amount_agreed": [None, 40.0, None, None],
            "amount_realised": [None, 25.5, None, None],
            "date_asked": pd.to_datetime(["2025-05-31", "2025-01-01", None, None]),
        }
    )
    asks = pd.DataFrame({"ask_key": ["a", "c"], "estimate": [111.0, 33.0]})
    per, tot, claims = compute_negotiation_status(log, asks, pd.Timestamp("2025-06-30"))
    assert len(per) == 3  # "c" counted once
    # estimates: a 111 (current), b 20 (not a current ask: the log's), c 33 -> 164
    assert tot["estimate"] == 164.0
    assert (tot["asked"], tot["agreed"], tot["realised"]) == (150.0, 40.0, 25.5)
    by = tot["by_status"].set_index("status")
    assert by.loc["realised", "items"] == 1 and by.loc["open", "estimate"] == 33.0
    assert claims["ask_key"].tolist() == ["a", "c"]
    assert claims["age_days"].iloc[0] == 30 and pd.isna(claims["age_days"].iloc[1])


def test_cli_log_init_check_sync(tmp_path: Path, capsys) -> None:
    dso = tmp_path / "coastal-family-dental"
    shutil.copytree(SAMPLE / "coastal-family-dental", dso)
    assert main(["log", "init", str(dso)]) == 0
    assert "status open" in capsys.readouterr().out
    assert main(["log", "init", str(dso)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["log", "check", str(dso)]) == 0
    # claims: included services on AG-CFD-01 and AG-CFD-LEG, onboarding billed above the
    # contract on AG-CFD-01; asks: two add-ons into base and volume pricing -> 6 rows
    assert capsys.readouterr().out.endswith("negotiation.xlsx: 6 rows, no problem\n")
    _edit(dso / "negotiation.xlsx", {(2, "amount_agreed"): 10, (2, "amount_realised"): 20})
    assert main(["log", "sync", str(dso)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("negotiation.xlsx: no new ask")
    assert out[1].startswith("1 error, 0 warnings in ")
    assert out[2] == (
        "negotiation.xlsx, sheet log, row 2, amount_realised: is more than amount_agreed "
        "(10.00) ('20.00')"
    )
    # validate reports the log like every other input (exit 1, the same located line)
    assert main(["validate", str(dso)]) == 1
    assert out[2] in capsys.readouterr().out.splitlines()
