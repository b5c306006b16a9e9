"""M8 scenarios: the scenarios file (xlsx / yaml) validation and the ``scenarios`` command.

The fixture is the hand-worked one of ``tests/unit/test_metrics_scenarios.py``.
"""

from __future__ import annotations

import json

import pytest

from dso_analytics.cli import main
from dso_analytics.ingest.scenarios import read_scenarios
from dso_analytics.metrics import compute_metrics
from dso_analytics.metrics.scenarios import CURRENT, TARGET, compare_scenarios
from tests.support.builders import make_dso
from tests.support.metrics_factory import params
from tests.support.scenario_factory import AS_OF
from tests.support.scenario_factory import scenario_ds as _ds


@pytest.fixture(scope="module")
def dm():
    ds = _ds()
    return ds, compute_metrics(ds, params(AS_OF))


def _row(cmp, name):
    return cmp.table.set_index("scenario").loc[name]


# ---------------------------------------------------------------------------
# The scenarios file
# ---------------------------------------------------------------------------
YAML_OK = """\
scenarios:
  - scenario: Counter
    agreement_id: AG-1
    base_fee_increase_pct: 5
    included_services: [cross_location_incidents]
    onboarding_terms: capped
    onboarding_cap: "$7,000"
    acquisitions_per_year: 1
"""


def test_read_yaml(tmp_path, dm):
    ds, _ = dm
    (tmp_path / "scenarios.yaml").write_text(YAML_OK)
    f = read_scenarios(tmp_path, ds.agreements)
    assert f.ok, f.problems
    (s,) = f.specs
    assert s.terms == {"base_fee_increase_pct": 5.0, "onboarding_terms": "capped",
                       "onboarding_cap": 7000.0,
                       "included_services": ("cross_location_incidents",)}  # fmt: skip
    assert s.assumptions == {"acquisitions_per_year": 1.0}


def test_validation_lines_xlsx(tmp_path, dm):
    import openpyxl

    ds, _ = dm
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "scenarios"
    ws.append(["Scenario", "Agreement ID", "monthly_rate", "onboarding_terms", "colour",
               "acquisitions_per_year"])  # fmt: skip
    ws.append(["Good", "AG-1", 90, None, None, 1])
    ws.append(["Neg", "AG-1", -5, None, None, None])
    ws.append(["Ghost", "AG-9", 90, None, None, None])
    ws.append(["Cap", "AG-1", None, "capped", None, None])
    ws.append(["Other", "AG-1", None, None, None, 2])
    ws.append(["current terms renewed", "AG-1", None, None, None, None])
    wb.save(tmp_path / "scenarios.xlsx")
    f = read_scenarios(tmp_path, ds.agreements)
    lines = [str(p) for p in f.problems]
    assert lines == [
        "scenarios.xlsx, sheet scenarios, row 1, colour: unknown column (see "
        "docs/data-contract.md, scenarios)",
        "scenarios.xlsx, sheet scenarios, row 3, monthly_rate: must be >= 0 ('-5')",
        "scenarios.xlsx, sheet scenarios, row 4, agreement_id: unknown agreement "
        "(agreements: AG-1) ('AG-9')",
        "scenarios.xlsx, sheet scenarios, row 5, onboarding_cap: onboarding_terms is capped "
        "but no onboarding_cap amount",
        "scenarios.xlsx, sheet scenarios, row 6, acquisitions_per_year: differs from row 2 "
        "(1): one value per DSO ('2')",
        "scenarios.xlsx, sheet scenarios, row 7, scenario: is the name of a built-in "
        "scenario: choose another ('current terms renewed')",
    ]
    good = [s for s in f.specs if s.error is None]
    assert [s.name for s in good] == ["Good"]
    ds_, m = dm
    cmp = compare_scenarios(ds_, m, f.specs)
    assert _row(cmp, "Good")["status"] == "ok"
    assert _row(cmp, "Neg")["status"] == "not evaluated"


def test_no_sheet_and_bad_yaml(tmp_path, dm):
    import openpyxl

    ds, _ = dm
    wb = openpyxl.Workbook()
    wb.active.title = "Sheet1"
    wb.save(tmp_path / "scenarios.xlsx")
    f = read_scenarios(tmp_path, ds.agreements)
    assert [str(p) for p in f.problems] == [
        "scenarios.xlsx: no sheet named scenarios (sheets: Sheet1)"
    ]
    y = tmp_path / "other.yaml"
    y.write_text("- scenario: X\n  agreement_id: AG-1\n  monthly_rate: [1\n")
    from dso_analytics.errors import InputFileError

    with pytest.raises(InputFileError, match="not valid YAML"):
        read_scenarios(tmp_path, ds.agreements, y)
    y.write_text("- scenario: X\n  agreement_id: AG-1\n  monthly_rate: lots\n")
    f = read_scenarios(tmp_path, ds.agreements, y)
    assert [str(p) for p in f.problems] == [
        "other.yaml line 1, monthly_rate: is not an amount ('lots')"
    ]


# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------
def _dso_dir(tmp_path):
    return make_dso(tmp_path)


def test_cli_table_json_and_exit_codes(tmp_path, capsys):
    d = _dso_dir(tmp_path)
    assert main(["scenarios", str(d), "--as-of", "2025-06-30"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["scenario", "months", "total"]
    assert CURRENT in out and TARGET in out
    (d / "scenarios.yaml").write_text(
        "- scenario: Counter\n  agreement_id: AG-1\n  monthly_rate: 140\n"
        "- scenario: Broken\n  agreement_id: AG-1\n  notice_days: -3\n"
    )
    code = main(["scenarios", str(d), "--as-of", "2025-06-30", "--format", "json",
                 "--term-months", "6"])  # fmt: skip
    cap = capsys.readouterr()
    assert code == 1
    assert cap.err.strip() == "scenarios.yaml line 4, notice_days: must be >= 0 ('-3')"
    data = json.loads(cap.out)
    assert data["term_months"] == 6
    by = {s["scenario"]: s for s in data["scenarios"]}
    assert by["Broken"]["status"] == "not evaluated"
    assert by["Counter"]["status"] == "ok"
    assert len([x for x in data["monthly"] if x["scenario"] == "Counter"]) == 6
    (d / "scenarios.yaml").write_text("a: [\n")
    assert main(["scenarios", str(d), "--as-of", "2025-06-30"]) == 2
    assert "not valid YAML" in capsys.readouterr().err


def test_csv_aliases_and_formula_text(tmp_path, dm):
    ds, m = dm
    (tmp_path / "scenarios.csv").write_text(
        'scenario,agreement_id,monthly_rate\n=HYPERLINK("http://x"),AG-1,abc\nOk,AG-1,90\n'
    )
    f = read_scenarios(tmp_path, ds.agreements)
    assert [str(p) for p in f.problems] == [
        "scenarios.csv, row 2, monthly_rate: is not an amount ('abc')"
    ]
    assert f.specs[1].terms == {"monthly_rate": 90.0}
    # the name is text everywhere: never a formula in the workbook
    import openpyxl

    from dso_analytics.reporting.excel import write_dso_workbook

    cmp = compare_scenarios(ds, m, f.specs)
    path = write_dso_workbook(m, tmp_path / "b.xlsx", scenarios=cmp)
    ws = openpyxl.load_workbook(path)["Scenarios"]
    cells = [c for row in ws.iter_rows() for c in row if c.value == '=HYPERLINK("http://x")']
    assert cells and all(c.data_type == "s" for c in cells)
    y = tmp_path / "bomb.yaml"
    y.write_text("a: &a [x, x]\nb: &b [*a, *a]\nscenarios: [*b]\n")
    from dso_analytics.errors import InputFileError

    with pytest.raises(InputFileError, match="aliases"):
        read_scenarios(tmp_path, ds.agreements, y)


def test_report_path_keeps_built_ins_when_the_file_is_unreadable(tmp_path, dm):
    from dataclasses import replace

    from dso_analytics.ingest.scenarios import dso_scenarios

    ds, m = dm
    (tmp_path / "scenarios.yaml").write_text("a: [\n")
    cmp, _ = dso_scenarios(replace(ds, root=tmp_path), m)
    assert [s.name for s in cmp.scenarios] == [CURRENT, TARGET]
    assert cmp.notes == [
        "scenarios.yaml: is not valid YAML at line 2 (its scenarios are not shown)"
    ]


def test_service_codes_match_the_agreement_codes(tmp_path, dm):
    """``HelpDesk`` is the agreements' ``helpdesk`` (not the header-style ``help_desk``);
    the code moved into base is the one the billing and services sheet use."""
    ds, m = dm
    (tmp_path / "scenarios.yaml").write_text(
        "- scenario: Counter\n"
        "  agreement_id: AG-1\n"
        "  included_services: [HelpDesk, Cross-Location Incidents]\n"
    )
    f = read_scenarios(tmp_path, ds.agreements)
    assert f.ok, [str(p) for p in f.problems]
    assert f.specs[0].terms["included_services"] == ("helpdesk", "cross_location_incidents")
    cmp = compare_scenarios(ds, m, f.specs)
    ag = cmp.by_agreement.set_index("scenario")
    assert "cross_location_incidents" in ag.loc[CURRENT, "outside_base"]
    assert "cross_location_incidents" not in ag.loc["Counter", "outside_base"]
    # a code that is not one stays a located problem
    (tmp_path / "scenarios.yaml").write_text(
        "- scenario: Counter\n  agreement_id: AG-1\n  included_services: Help Desk Pro\n"
    )
    (p,) = read_scenarios(tmp_path, ds.agreements).problems
    assert str(p).startswith("scenarios.yaml line 1")
    assert "unknown service code(s) help_desk_pro" in str(p)


def test_cli_notebook_path_is_checked_first(tmp_path, capsys):
    """--notebook names an .ipynb in an existing folder: else one line, exit 2, nothing run."""
    d = _dso_dir(tmp_path)
    for bad in (tmp_path / "out.html", tmp_path / "missing" / "out.ipynb"):
        assert main(["scenarios", str(d), "--notebook", str(bad)]) == 2
        err = capsys.readouterr().err.strip()
        assert err == f"error: {bad}: --notebook names an .ipynb file in an existing folder"
        assert not bad.exists()


def test_a_term_beyond_120_months_is_a_located_problem(tmp_path, dm):
    """A scenario models its own term_months: more than 120 (as --term-months) is refused
    on its row (a 100-year projection is a typo, and would not fit in memory)."""
    ds, m = dm
    (tmp_path / "scenarios.yaml").write_text(
        "- scenario: Long\n  agreement_id: AG-1\n  term_months: 600\n"
        "- scenario: Ok\n  agreement_id: AG-1\n  term_months: 120\n"
    )
    f = read_scenarios(tmp_path, ds.agreements)
    assert [str(p) for p in f.problems] == [
        "scenarios.yaml line 1, term_months: must be <= 120 (the longest term modelled) ('600')"
    ]
    t = compare_scenarios(ds, m, f.specs).table.set_index("scenario")
    assert t.loc["Long", "status"] == "not evaluated"
    assert (t.loc["Ok", "status"], t.loc["Ok", "term_months"]) == ("ok", 120)
