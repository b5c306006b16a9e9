"""Parameters resolved once: standard file, then the DSO's own standard, then overrides."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dso_analytics.standards import (
    ParameterError,
    as_of_warning,
    check_overrides,
    default_as_of,
    notebook_parameters,
    resolve_params,
)

T = pd.Timestamp


@pytest.fixture
def dso_with_standard(tmp_path: Path) -> Path:
    d = tmp_path / "own-standard"
    d.mkdir()
    (d / "standard.yaml").write_text(
        "parameters:\n  target_onboarding_cap: 8000\n  alert_windows_days: [60, 120]\n"
    )
    return d


def test_built_in_values_and_their_source(tmp_path: Path) -> None:
    p = resolve_params(tmp_path)
    assert p.target_onboarding_cap == 5000.0 and p.benchmark_workstation_monthly == (100.0, 200.0)
    assert p.target_onboarding_sla_business_days == 10 and p.alert_windows_days == (30, 90)
    assert p.as_of is None
    assert {p.source_of(n) for n in ("as_of", "target_onboarding_cap")} == {"default"}


def test_dso_standard_replaces_only_what_it_sets(dso_with_standard: Path) -> None:
    p = resolve_params(dso_with_standard)
    assert p.target_onboarding_cap == 8000.0 and p.alert_windows_days == (60, 120)
    assert p.target_onboarding_sla_business_days == 10  # from the built-in file
    assert p.source_of("target_onboarding_cap") == "DSO standard"
    assert p.source_of("alert_windows_days") == "DSO standard"
    assert p.source_of("target_onboarding_sla_business_days") == "default"


def test_order_standard_file_then_dso_standard_then_overrides(
    dso_with_standard: Path, tmp_path: Path
) -> None:
    std = tmp_path / "house.yaml"
    std.write_text(
        "parameters:\n  target_onboarding_cap: 6000\n  target_onboarding_sla_business_days: 7\n"
    )
    p = resolve_params(dso_with_standard, standard=std)
    # the DSO's own 8000 wins over the house file's 6000; its SLA 7 stays
    assert (p.target_onboarding_cap, p.target_onboarding_sla_business_days) == (8000.0, 7)
    assert p.source_of("target_onboarding_sla_business_days") == "standard file"
    assert p.standard_file == str(std.resolve())
    q = resolve_params(
        dso_with_standard, standard=std, overrides={"target_onboarding_cap": "$4,500"}
    )
    assert q.target_onboarding_cap == 4500.0 and q.source_of("target_onboarding_cap") == "override"
    # the notebook gets only the override and the standard file; it resolves the rest itself
    assert notebook_parameters(q) == {
        "standard": str(std.resolve()),
        "target_onboarding_cap": 4500.0,
    }
    assert notebook_parameters(resolve_params(dso_with_standard)) == {"standard": None}


def test_overrides_accept_what_the_data_accepts() -> None:
    got = check_overrides(
        {
            "as_of": "2025-06-30",
            "target_onboarding_cap": "$5,000",
            "target_onboarding_sla_business_days": "15",
            "benchmark_workstation_monthly": ["USD 90", "160.50"],
            "alert_windows_days": None,
        }
    )
    assert got == {
        "as_of": T("2025-06-30"),
        "target_onboarding_cap": 5000.0,
        "target_onboarding_sla_business_days": 15,
        "benchmark_workstation_monthly": (90.0, 160.5),
    }


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"benchmark_workstation_monthly": ["200", "100"]},
         "--benchmark-band: LOW 200 is above HIGH 100; give LOW HIGH, e.g. 100 200"),
        ({"target_onboarding_cap": "-5"},
         "--target-onboarding-cap: '-5' is negative; give an amount >= 0"),
        ({"target_onboarding_cap": "five"},
         "--target-onboarding-cap: 'five' is not an amount (e.g. 5000 or $5,000)"),
        ({"target_onboarding_sla_business_days": "2.5"},
         "--target-onboarding-sla: '2.5' is not a whole number >= 0"),
        ({"as_of": "2025-13-01"}, "as-of date '2025-13-01' is not a date (use YYYY-MM-DD)"),
    ],
)  # fmt: skip
def test_bad_overrides_are_one_line_usage_errors(overrides: dict, message: str) -> None:
    with pytest.raises(ParameterError) as err:
        check_overrides(overrides)
    assert str(err.value) == message and err.value.exit_code == 2


def test_bad_value_in_a_dso_standard_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "standard.yaml").write_text(
        "parameters:\n  benchmark_workstation_monthly: [9, 1]\n"
    )
    with pytest.raises(Exception, match=r"standard.yaml: not a valid standard file"):
        resolve_params(tmp_path)


def test_one_as_of_default_capped_at_today() -> None:
    dates = pd.Series([T("2025-01-31"), T("2025-03-31"), pd.NaT])
    assert default_as_of(dates, today=T("2026-01-01")) == T("2025-03-31")
    assert default_as_of(dates, today=T("2025-02-15")) == T("2025-02-15")  # a future invoice
    assert default_as_of(None, today=T("2026-01-01")) == T("2026-01-01")


def test_as_of_outside_the_billed_period_is_a_warning() -> None:
    dates = pd.Series([T("2024-03-31"), T("2025-01-31")])
    assert as_of_warning(T("2025-01-31"), dates) is None
    assert as_of_warning(T("2025-02-28"), dates) is None  # within a month of the last bill
    assert as_of_warning(T("2010-01-01"), dates) == (
        "as-of date 2010-01-01 is before the first invoice (billed period 2024-03-31 to "
        "2025-01-31): spend and add-on figures are zero"
    )
    assert as_of_warning(T("2030-01-01"), dates).startswith(
        "as-of date 2030-01-01 is after the billed period (2024-03-31 to 2025-01-31)"
    )
