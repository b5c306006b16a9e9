"""CLI parameters: checked in one place (one line, exit 2), money as the data writes it,
an as-of date outside the billed period is a warning (not a flood of date errors)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dso_analytics.cli import main
from tests.support.builders import make_dso

pytestmark = pytest.mark.xdist_group("gx-validation")


@pytest.fixture(scope="module")
def dso(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # base_tables: LOC-002 onboarding billed 7,000 (hourly); invoices 2024-03-31 to 2025-01-31
    return make_dso(tmp_path_factory.mktemp("params"), "param-dental")


def _metrics(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[dict, str]:
    assert main(["metrics", *args, "--format", "json"]) == 0
    out, err = capsys.readouterr()
    return json.loads(out), err


BAD = [
    (["--benchmark-band", "200", "100"],
     "error: --benchmark-band: LOW 200 is above HIGH 100; give LOW HIGH, e.g. 100 200"),
    (["--target-onboarding-cap", "-5"],
     "error: --target-onboarding-cap: '-5' is negative; give an amount >= 0"),
    (["--target-onboarding-sla", "ten"],
     "error: --target-onboarding-sla: 'ten' is not a whole number >= 0"),
    (["--as-of", "30/06/2025"], "error: as-of date '30/06/2025' is not a date (use YYYY-MM-DD)"),
]  # fmt: skip
CASES = [(c, a, line) for c in ("metrics", "report") for a, line in BAD] + [("validate", *BAD[-1])]


@pytest.mark.parametrize(("command", "args", "line"), CASES)
def test_bad_parameter_is_one_line_and_exit_2(dso, tmp_path, capsys, command, args, line):
    extra = ["--out", str(tmp_path / "out")] if command == "report" else []
    assert main([command, str(dso), *args, *extra]) == 2
    out, err = capsys.readouterr()
    assert err.strip().splitlines() == [line] and out == ""
    assert not (tmp_path / "out").exists()  # nothing was started


def test_money_parameters_accept_the_forms_the_data_accepts(dso, capsys):
    # target overspend of LOC-002 = 7,000 billed - cap
    data, _ = _metrics(capsys, str(dso), "--target-onboarding-cap", "$5,000")
    assert data["params"]["target_onboarding_cap"] == 5000.0
    assert data["kpis"]["onboarding_target_overspend"] == 2000.0
    assert data["params"]["sources"]["target_onboarding_cap"] == "override"
    data, _ = _metrics(capsys, str(dso), "--target-onboarding-cap", "6,500.00",
                       "--benchmark-band", "$90", "USD 160")  # fmt: skip
    assert data["kpis"]["onboarding_target_overspend"] == 500.0
    assert data["params"]["benchmark_workstation_monthly"] == [90.0, 160.0]


def test_dso_standard_value_and_its_source(dso, tmp_path, capsys):
    own = make_dso(tmp_path, "own-standard-dental")
    (own / "standard.yaml").write_text("parameters:\n  target_onboarding_cap: 8000\n")
    data, _ = _metrics(capsys, str(own))
    assert data["params"]["target_onboarding_cap"] == 8000.0
    assert data["params"]["sources"]["target_onboarding_cap"] == "DSO standard"
    assert data["kpis"]["onboarding_target_overspend"] == 0.0  # 7,000 under the 8,000 cap


def test_as_of_after_the_billed_period_warns(dso, capsys):
    data, err = _metrics(capsys, str(dso), "--as-of", "2030-01-01")
    assert data["kpis"]["spend_t12m"] == 0.0
    assert data["as_of_warning"].startswith("as-of date 2030-01-01 is after the billed period")
    assert err.strip().splitlines() == [
        "warning: param-dental: as-of date 2030-01-01 is after the billed period "
        "(2024-03-31 to 2025-01-31): the trailing twelve months miss any later bills"
    ]


def test_as_of_before_the_billed_period_warns_without_date_errors(dso, capsys):
    assert main(["validate", str(dso), "--as-of", "2010-01-01", "--no-cache"]) == 0
    out, err = capsys.readouterr()
    assert "implausible" not in out and "param-dental: valid" in out
    assert err.strip().splitlines() == [
        "warning: param-dental: as-of date 2010-01-01 is before the first invoice (billed period "
        "2024-03-31 to 2025-01-31): spend and add-on figures are zero"
    ]
    data, err = _metrics(capsys, str(dso), "--as-of", "2010-01-01", "--no-cache")
    assert data["kpis"]["spend_all_time"] == 0.0 and "before the first invoice" in err
