"""Validated snapshots: round trip, and a stale snapshot is never served."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dso_analytics import schema, snapshot
from dso_analytics.dataset import DsoDataset, SourceFile
from dso_analytics.errors import Problem
from tests.support.builders import make_dso


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DSO_ANALYTICS_CACHE", str(tmp_path / "cache"))


def _dataset(root: Path) -> DsoDataset:
    frames = {t: pd.DataFrame({c: pd.Series([], dtype="str") for c in schema.column_names(t)})
              for t in schema.TABLES}  # fmt: skip
    frames["billing"] = pd.DataFrame(
        {
            "invoice_number": pd.Series(["INV-1", "INV-2"], dtype="str"),
            "invoice_date": pd.to_datetime(["2025-01-31", "2025-02-28"]),
            "amount": [100.25, -20.0],
            "description": pd.Series(["Managed services", "Credit memo"], dtype="str"),
            "source_row": [2, 3],
        }
    )
    return DsoDataset(
        dso=root.name,
        root=root,
        display_name="Acme",
        currency="USD",
        sources=[SourceFile("billing/x.csv", "billing", (), 2, "ab" * 32)],
        read_problems=[Problem("billing/x.csv", "duplicate", row=3, severity="warning")],
        present_tables={"locations", "billing"},
        **frames,
    )


def test_round_trip_keeps_types_and_metadata(tmp_path):
    d = make_dso(tmp_path)
    ds = _dataset(d)
    key = snapshot.compute_fingerprint(d)
    snapshot.write_snapshot(ds, {"ok": True, "problems": []}, key)
    found = snapshot.find_snapshot(d, key)
    assert found is not None
    back, report = snapshot.read_snapshot_dir(found)
    assert report == {"ok": True, "problems": []}
    pd.testing.assert_frame_equal(back.billing, ds.billing)
    assert back.display_name == "Acme" and back.present_tables == {"locations", "billing"}
    assert back.read_problems[0].severity == "warning"
    assert back.sources[0].sheets == ()


@pytest.mark.parametrize("change", ["edit", "add", "remove", "rename", "params"])
def test_any_change_gives_a_new_key(tmp_path, change):
    d = make_dso(tmp_path)
    before = snapshot.compute_fingerprint(d, {"as_of": None})
    f = d / "billing" / "LOC-002.csv"
    params = {"as_of": None}
    if change == "edit":
        f.write_text(f.read_text().replace("7000", "7001"))
    elif change == "add":
        (d / "billing" / "extra.csv").write_text("invoice_number\n")
    elif change == "remove":
        f.unlink()
    elif change == "rename":
        f.rename(d / "billing" / "LOC-002b.csv")
    else:
        params = {"as_of": "2025-06-30"}
    after = snapshot.compute_fingerprint(d, params)
    assert after != before
    # the old key's snapshot is never found under the new key
    snapshot.write_snapshot(_dataset(d), {"ok": True}, before)
    assert snapshot.find_snapshot(d, after) is None


def test_same_content_same_key_and_hidden_files_ignored(tmp_path):
    d = make_dso(tmp_path)
    k1 = snapshot.compute_fingerprint(d)
    (d / ".DS_Store").write_text("x")
    (d / "billing" / "~$LOC-002.xlsx").write_text("lock")
    assert snapshot.compute_fingerprint(d) == k1


_NO_GX_SCRIPT = r"""
import sys
from dso_analytics.validation import validate_dso
r = validate_dso(sys.argv[1])
print(r.ok, len(r.dataset.billing), "great_expectations" in sys.modules)
"""


def _run(script: str, *args: str) -> str:
    import os
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        check=True,
    )
    return out.stdout.strip()


def test_second_validation_reads_the_snapshot_without_gx_and_edits_invalidate(tmp_path):
    d = make_dso(tmp_path)
    # first run: validates with GX and stores the snapshot (3 billing lines in the builder)
    assert _run(_NO_GX_SCRIPT, str(d)) == "True 3 True"
    # second run: same contents -> the snapshot, no Great Expectations import
    assert _run(_NO_GX_SCRIPT, str(d)) == "True 3 False"
    # an edit that breaks an amount: the stale snapshot must not be served
    f = d / "billing" / "LOC-002.csv"
    f.write_text(f.read_text().replace("7000", "70x0"))
    assert _run(_NO_GX_SCRIPT, str(d)) == "False 3 True"
    # a failing DSO is never cached: validating again still runs GX and fails
    assert _run(_NO_GX_SCRIPT, str(d)) == "False 3 True"
    # an added file (one more line) is seen at once
    f.write_text(f.read_text().replace("70x0", "7000"))
    (d / "billing" / "LOC-001.csv").write_text(
        "invoice_number,invoice_date,description,amount\nINV-9,2025-02-28,Helpdesk ticket,125.00\n"
    )
    assert _run(_NO_GX_SCRIPT, str(d)) == "True 4 True"
    assert _run(_NO_GX_SCRIPT, str(d)) == "True 4 False"


def test_use_cache_false_always_validates(tmp_path):
    from dso_analytics.validation import validate_dso

    d = make_dso(tmp_path)
    validate_dso(d)
    assert snapshot.find_snapshot(d, "0" * 64) is None
    r = validate_dso(d, use_cache=False)
    assert r.ok and len(r.dataset.billing) == 3
