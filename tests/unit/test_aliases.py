"""Location aliases: export site values -> location_id."""

from __future__ import annotations

import pandas as pd
import pytest

from dso_analytics.ingest.aliases import (
    alias_table,
    check_aliases,
    check_site_values,
    map_location_values,
    normalise_site,
    suggest_locations,
)


@pytest.fixture
def locations() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "location_id": ["LOC-001", "LOC-002", "LOC-003"],
            "location_name": ["Main St Dental", "Elm Dental", "Oak Family Dentistry"],
            "aliases": ["1001; Main Street", "1002;Elm  Street ; ELM", None],
            "source_file": ["locations.xlsx"] * 3,
            "source_sheet": ["locations"] * 3,
            "source_row": [2, 3, 4],
        }
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  Main\u00a0St   Dental ", "main st dental"),
        ("ELM\tStreet", "elm street"),
        (1001.0, "1001"),
        (1001, "1001"),
        (None, ""),
        (float("nan"), ""),
        (pd.NA, ""),
        ("   ", ""),
    ],
)
def test_normalise_site(value: object, expected: str) -> None:
    assert normalise_site(value) == expected


def test_map_location_values_is_case_and_whitespace_insensitive(locations: pd.DataFrame) -> None:
    values = pd.Series(
        [
            "1001",  # alias
            1002.0,  # site number read from Excel as a float
            " elm   STREET ",  # alias with other case and inner spaces
            "main\u00a0street",  # NBSP
            "loc-003",  # the location_id itself, other case
            "Oak Family Dentistry",  # location_name as a fallback
            "Pine Dental",  # unknown
            "",  # blank
            None,
        ],
        index=range(10, 19),
        name="site",
    )
    got = map_location_values(values, locations)
    assert list(got.index) == list(values.index)
    assert got.dtype == "str"
    assert got.iloc[:6].tolist() == [
        "LOC-001",
        "LOC-002",
        "LOC-002",
        "LOC-001",
        "LOC-003",
        "LOC-003",
    ]
    assert got.iloc[6:].isna().all()


def test_map_location_values_does_not_modify_input(locations: pd.DataFrame) -> None:
    values = pd.Series([" 1001 "])
    map_location_values(values, locations)
    assert values.tolist() == [" 1001 "]


def test_ambiguous_alias_maps_to_nothing_and_is_reported(locations: pd.DataFrame) -> None:
    locs = locations.copy()
    locs.loc[2, "aliases"] = "1001"  # LOC-003 also claims 1001 (LOC-001's)
    got = map_location_values(pd.Series(["1001", "main street"]), locs)
    assert pd.isna(got.iloc[0])
    assert got.iloc[1] == "LOC-001"
    problems = check_aliases(locs)
    assert len(problems) == 1
    p = problems[0]
    assert (p.file, p.sheet, p.row, p.column, p.value) == (
        "locations.xlsx",
        "locations",
        4,  # the later claiming row
        "aliases",
        "1001",
    )
    assert "LOC-001" in p.problem and "LOC-003" in p.problem


def test_alias_equal_to_another_location_id_is_reported_and_the_id_wins(
    locations: pd.DataFrame,
) -> None:
    locs = locations.copy()
    locs.loc[2, "aliases"] = "LOC-001"
    assert alias_table(locs)["loc-001"] == "LOC-001"
    problems = check_aliases(locs)
    assert [p.value for p in problems] == ["loc-001"]


def test_clean_aliases_report_nothing(locations: pd.DataFrame) -> None:
    assert check_aliases(locations) == []


def test_shared_location_name_is_not_an_alias_problem_but_does_not_map(
    locations: pd.DataFrame,
) -> None:
    locs = locations.copy()
    locs.loc[2, "location_name"] = "Elm Dental"
    assert check_aliases(locs) == []
    got = map_location_values(pd.Series(["Elm Dental", "ELM"]), locs)
    assert pd.isna(got.iloc[0])
    assert got.iloc[1] == "LOC-002"  # an explicit alias still maps


def test_locations_without_aliases_column_map_ids_and_names() -> None:
    locs = pd.DataFrame({"location_id": ["LOC-001"], "location_name": ["Main"]})
    got = map_location_values(pd.Series(["loc-001", "MAIN", "x"]), locs)
    assert got.iloc[:2].tolist() == ["LOC-001", "LOC-001"]
    assert pd.isna(got.iloc[2])


def test_suggest_locations(locations: pd.DataFrame) -> None:
    assert suggest_locations("Elm Stret", locations, n=1) == ["Elm Street (LOC-002)"]
    assert suggest_locations("LOC-00l", locations, n=3)[0] in {"LOC-001", "LOC-002", "LOC-003"}
    assert set(suggest_locations("1003", locations, n=2)) == {"1001 (LOC-001)", "1002 (LOC-002)"}
    assert suggest_locations("zzzzzzzzzzzzzzzz", locations) == []
    assert len(suggest_locations("Dental", locations, n=2)) <= 2


def test_check_site_values_names_value_rows_and_suggestions(locations: pd.DataFrame) -> None:
    billing = pd.DataFrame(
        {
            "location_id": ["LOC-001", "Elm Stret", None, "Elm Stret", "LOC-002"],
            "source_file": ["billing/cw.csv"] * 5,
            "source_sheet": [""] * 5,
            "source_row": [2, 3, 4, 7, 8],
        }
    )
    problems = check_site_values(billing, locations)
    assert len(problems) == 1
    p = problems[0]
    assert p.file == "billing/cw.csv"
    assert p.sheet is None
    assert p.row == 3
    assert p.rule == "unknown_location"
    assert "'Elm Stret'" in p.problem
    assert "rows 3, 7" in p.problem
    assert "closest: Elm Street (LOC-002)" in p.problem


def test_validation_reports_an_alias_two_locations_claim(tmp_path) -> None:
    from dso_analytics.validation import validate_dso
    from tests.support.builders import base_tables, make_dso

    t = base_tables()
    t["locations"][0]["aliases"] = "Site 7; Main St"
    t["locations"][1]["aliases"] = "site 7"  # LOC-002 claims LOC-001's alias (any case)
    d = make_dso(tmp_path, tables=t)
    report = validate_dso(d, use_cache=False)
    assert not report.ok
    lines = [str(p) for p in report.errors]
    # locations.csv: header row 1, LOC-001 row 2, LOC-002 row 3 (the later claim is named)
    assert lines == [
        "locations.csv, row 3, aliases: alias is claimed by several locations "
        "(LOC-001, LOC-002); site values carrying it cannot be mapped ('site 7')"
    ]
