"""The CLI: exit codes, output formats, no traceback, lean ``--help``.

``validate`` runs in-process through ``cli.main`` (one GX import for the
worker, shared with test_validation.py through the xdist group); the
"done when" case and the start-up checks run real subprocesses.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from dso_analytics.cli import build_parser, main
from tests.support.builders import base_tables, make_dso
from tests.support.paths import ROOT

pytestmark = pytest.mark.xdist_group("gx-validation")

HEAVY = ("great_expectations", "papermill", "plotly")


def _run(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, cwd=ROOT, timeout=600, **kw
    )


def _done_when_tables() -> dict:
    t = base_tables()
    t["billing"]["organization.csv"][0]["amount"] = "12O.00"  # bad amount, row 2
    t["billing"]["organization.csv"][1]["invoice_number"] = ""  # blank invoice number, row 3
    t["locations"].append({**t["locations"][0], "location_name": "Dup"})  # duplicate, row 4
    return t


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    return {
        "good": make_dso(root, "good-dental"),
        "bad": make_dso(root, "bad-dental", tables=_done_when_tables()),
    }


def test_validate_good_folder_exits_0_with_summary(folders, capsys):
    assert main(["validate", str(folders["good"])]) == 0
    out = capsys.readouterr().out
    # base_tables: 2 locations, 1 agreement, 3 lines in 2 files, 2,400 + 250 + 7,000 billed
    assert "good-dental: valid" in out
    assert "locations:      2" in out
    assert "agreements:     1" in out
    assert "billing lines:  3 in 2 files" in out
    assert "2024-03-31 to 2025-01-31" in out
    assert "9,650.00 USD" in out


def test_validate_bad_folder_exits_1(folders, capsys):
    assert main(["validate", str(folders["bad"])]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"3 problems in {folders['bad']}:")


def test_validate_json_parses(folders, capsys):
    assert main(["validate", str(folders["bad"]), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False
    assert [(p["file"], p["row"], p["column"]) for p in data["problems"]] == [
        ("billing/organization.csv", 2, "amount"),
        ("billing/organization.csv", 3, "invoice_number"),
        ("locations.csv", 4, "location_id"),
    ]
    assert main(["validate", str(folders["good"]), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["summary"]["billing_lines"] == 3


def test_done_when_validate_subprocess_three_lines(folders):
    r = _run("-m", "dso_analytics", "validate", str(folders["bad"]))
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[0] == f"3 problems in {folders['bad']}:"
    assert lines[1:] == [
        "billing/organization.csv, row 2, amount: could not be read as money ('12O.00')",
        "billing/organization.csv, row 3, invoice_number: is blank or an Excel error",
        "locations.csv, row 4, location_id: duplicate location_id: already in locations.csv, "
        "row 2 ('LOC-001')",
    ]


def test_missing_folder_exits_2_with_one_line(tmp_path):
    missing = tmp_path / "nope"
    r = _run("-m", "dso_analytics", "validate", str(missing))
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.strip().splitlines() == [f"error: {missing}: no such DSO folder"]


def test_missing_folder_in_process(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope")]) == 2
    assert "no such DSO folder" in capsys.readouterr().err


def test_python_m_help_works():
    r = _run("-m", "dso_analytics", "--help")
    assert r.returncode == 0
    assert r.stdout.startswith("usage: dso-analytics")
    assert "validate" in r.stdout


_HELP_SCRIPT = """
import sys, json
from dso_analytics.cli import main
heavy = {heavy!r}
out = {{}}
for argv in {argvs!r}:
    try:
        main(argv)
    except SystemExit:
        pass
    out[" ".join(argv)] = sorted(m for m in sys.modules if m.split(".")[0] in heavy)
sys.__stdout__.write("\\nRESULT " + json.dumps(out) + "\\n")
"""


def test_help_of_every_command_imports_no_heavy_library():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    commands = sorted(sub.choices)
    assert {"validate", "metrics", "report", "sample"} <= set(commands)
    argvs = [["--help"]] + [[c, "--help"] for c in commands]
    r = _run("-c", _HELP_SCRIPT.format(heavy=HEAVY, argvs=argvs))
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout.rsplit("RESULT ", 1)[1])
    assert result == {" ".join(a): [] for a in argvs}
    for c in commands:
        assert f"usage: dso-analytics {c}" in r.stdout


def test_import_dso_analytics_and_validation_module_stay_light():
    code = (
        "import sys, dso_analytics, dso_analytics.validation, dso_analytics.cli\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))"
    )
    r = _run("-c", code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
