"""Cell parsers: every accepted format, invalid values kept as text, fuzzing."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dso_analytics.ingest.parse import (
    ExcelError,
    parse_bool,
    parse_code,
    parse_column,
    parse_date,
    parse_integer,
    parse_money,
    parse_number,
    parse_text,
)

NBSP = "\u00a0"


def _obj(values):
    return pd.Series(values, dtype=object)


# ---------------------------------------------------------------------------
# money
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("$1,234.56", 1234.56),
        ("1234.56", 1234.56),
        ("(1,234.56)", -1234.56),
        ("-1,234.56", -1234.56),
        ("1,234.56-", -1234.56),
        ("$-12.50", -12.5),
        ("-$12.50", -12.5),
        ("$ (1,234.56)", -1234.56),
        (f"{NBSP}1{NBSP}234.00 ", 1234.0),  # NBSP as thousands space: 1234
        ("USD 12", 12.0),
        ("12 usd", 12.0),
        ("+7", 7.0),
        (".5", 0.5),
        ("\u22123", -3.0),  # Unicode minus sign
        (1234.5, 1234.5),
        (12, 12.0),
    ],
)
def test_money_accepts(cell, expected):
    values, invalid = parse_money(_obj([cell]))
    assert values.dtype == "float64"
    assert values[0] == pytest.approx(expected)
    assert invalid.isna().all()


@pytest.mark.parametrize(
    "cell", ["1,23", "12,34", "abc", "€12", "1.234,56", "--5", "(5", "N/A", "1e5", "inf", "nan"]
)
def test_money_rejects_and_keeps_text(cell):
    values, invalid = parse_money(_obj([cell]))
    assert math.isnan(values[0])
    assert invalid[0] == cell


def test_money_blank_is_missing_not_invalid():
    values, invalid = parse_money(_obj(["", "   ", None, np.nan, NBSP]))
    assert values.isna().all()
    assert invalid.isna().all()


def test_money_on_str_dtype_column():
    values, invalid = parse_money(pd.Series(["$10", "(2.50)", "x", ""], dtype="str"))
    assert values.tolist()[:2] == [10.0, -2.5]
    assert invalid.tolist()[2] == "x"
    assert invalid.dtype == "str"


def test_money_excel_error_and_bool_and_date_are_invalid():
    values, invalid = parse_money(_obj([ExcelError("#REF!"), True, dt.date(2025, 1, 1)]))
    assert values.isna().all()
    assert invalid.tolist() == ["#REF!", "TRUE", "2025-01-01"]


@pytest.mark.parametrize("first", [1.0, 1, 0.0])
def test_a_boolean_cell_in_a_long_column_stays_invalid_after_equal_numbers(first):
    # long enough for parse-each-distinct-cell-once; True == 1.0 and False == 0.0 hash
    # alike, so the cell must not be typed as the number seen before it
    flag = first == 1
    cells = [first] * 150 + [flag] + [2.5] * 149
    values, invalid = parse_column(_obj(cells), "money")
    assert values[0] == float(first) and values[299] == 2.5
    assert pd.isna(values[150])
    assert invalid[150] == ("TRUE" if flag else "FALSE")
    assert invalid.notna().sum() == 1


# ---------------------------------------------------------------------------
# numbers and integers
# ---------------------------------------------------------------------------
def test_number_percent_and_commas():
    values, invalid = parse_number(_obj(["3%", "1,234.5", "(2)", "$5"]))
    assert values.tolist()[:3] == [3.0, 1234.5, -2.0]
    assert invalid.tolist()[3] == "$5"  # currency is not a plain number


def test_integer():
    values, invalid = parse_integer(_obj(["12", 12.0, "1,200", "2.5", 3.5, "x", ""]))
    assert str(values.dtype) == "Int64"
    assert values.tolist()[:3] == [12, 12, 1200]
    assert values[3:].isna().all()
    assert invalid.tolist()[3:6] == ["2.5", "3.5", "x"]
    assert pd.isna(invalid[6])


# ---------------------------------------------------------------------------
# booleans
# ---------------------------------------------------------------------------
def test_bool_variants():
    cells = ["yes", "No", "Y", "n", "TRUE", "false", "1", "0", 1.0, 0, True, False, " Yes "]
    values, invalid = parse_bool(_obj(cells))
    assert str(values.dtype) == "boolean"
    expected = [True, False, True, False, True, False, True, False, True, False, True, False, True]
    assert values.tolist() == expected
    assert invalid.isna().all()


def test_bool_invalid():
    values, invalid = parse_bool(_obj(["maybe", 2.0, ""]))
    assert values.isna().all()
    assert invalid.tolist()[:2] == ["maybe", "2"]
    assert pd.isna(invalid[2])


# ---------------------------------------------------------------------------
# dates
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "cell",
    [
        "2025-03-31",
        "03/31/2025",
        "3/31/2025",
        "3-31-2025",
        "2025-03-31 14:22:05",
        "2025-03-31T00:00:00",
        "03/31/2025 10:15 AM",
        "45747",  # Excel serial as text: 1899-12-30 + 45747 days
        45747.0,
        45747,
        45747.75,  # a time of day is dropped
        dt.date(2025, 3, 31),
        dt.datetime(2025, 3, 31, 9, 30),
        pd.Timestamp("2025-03-31"),
    ],
)
def test_date_accepts(cell):
    values, invalid = parse_date(_obj([cell]))
    assert values.dtype == "datetime64[ns]"
    assert values[0] == pd.Timestamp("2025-03-31")
    assert invalid.isna().all()


def test_excel_serial_arithmetic():
    # 1900 system: serial 1 is 1900-01-01 (origin 1899-12-30 absorbs the 1900 leap bug
    # for serials after 60); serial 45658 = 2025-01-01 (45658 days after 1899-12-30).
    values, _ = parse_date(_obj([45658]))
    assert values[0] == pd.Timestamp("2025-01-01")
    # 1904 system: day 0 is 1904-01-01, so 44196 = 1904-01-01 + 44196 days = 2025-01-01
    values, _ = parse_date(_obj([44196, "44196"]), date1904=True)
    assert values.tolist() == [pd.Timestamp("2025-01-01")] * 2


@pytest.mark.parametrize(
    "cell", ["31/03/2025", "3/31/25", "March 31", "2025-13-01", "2025-02-30", "9999-01-01",
             "yesterday", 0.0, -5.0, 3e9, True]
)  # fmt: skip
def test_date_rejects(cell):
    values, invalid = parse_date(_obj([cell]))
    assert pd.isna(values[0])
    assert isinstance(invalid[0], str) and invalid[0]


def test_date_custom_format_replaces_us():
    values, invalid = parse_date(
        _obj(["31/03/2025", "2025-03-31", "03/31/2025"]), formats=["%d/%m/%Y"]
    )
    assert values[0] == pd.Timestamp("2025-03-31")
    assert values[1] == pd.Timestamp("2025-03-31")
    assert pd.isna(values[2])  # not a valid day-first date: month 31
    assert invalid[2] == "03/31/2025"


# ---------------------------------------------------------------------------
# text and codes
# ---------------------------------------------------------------------------
def test_text():
    values, invalid = parse_text(
        _obj(["  INV-1 ", 1001.0, 12.5, dt.date(2025, 1, 2), True, "", None])
    )
    assert values.dtype == "str"
    assert values.tolist()[:5] == ["INV-1", "1001", "12.5", "2025-01-02", "TRUE"]
    assert values[5:].isna().all()
    assert invalid.isna().all()


def test_text_excel_error_is_invalid_not_text():
    values, invalid = parse_text(_obj([ExcelError("#N/A")]))
    assert pd.isna(values[0])
    assert invalid[0] == "#N/A"


def test_code_normalised():
    values, _ = parse_code(_obj([" Add-On ", "Per  Workstation", "DE_NOVO"]))
    assert values.tolist() == ["add_on", "per_workstation", "de_novo"]


def test_parse_column_unknown_kind():
    with pytest.raises(ValueError, match="unknown column kind"):
        parse_column(_obj(["x"]), "colour")


# ---------------------------------------------------------------------------
# fuzzing: a value or an invalid marker, never an exception
# ---------------------------------------------------------------------------
cells = st.one_of(
    st.none(),
    st.text(max_size=20),
    st.from_regex(r"[\s$(]{0,2}-?[0-9,]{0,8}(\.[0-9]{0,3})?[)\-]?( ?USD)?", fullmatch=True),
    st.from_regex(r"[0-9]{1,4}[/-][0-9]{1,2}[/-][0-9]{1,4}( [0-9]{1,2}:[0-9]{2})?", fullmatch=True),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.sampled_from([ExcelError("#REF!"), ExcelError("#DIV/0!")]),
)


@pytest.mark.parametrize("kind", ["text", "code", "money", "number", "integer", "date", "bool"])
@settings(max_examples=40, deadline=None)
@given(values=st.lists(cells, max_size=12), date1904=st.booleans())
def test_parsers_never_raise(kind, values, date1904):
    s = pd.Series(values, dtype=object)
    out, invalid = parse_column(s, kind, date1904=date1904)
    assert len(out) == len(s) and len(invalid) == len(s)
    assert invalid.dtype == "str"
    # every cell is exactly one of: a value, an invalid marker, or blank
    both = out.notna().to_numpy() & invalid.notna().to_numpy()
    assert not both.any()
    for v, o, bad in zip(values, out, invalid, strict=True):
        blank = (
            v is None
            or (isinstance(v, float) and math.isnan(v))
            or (isinstance(v, str) and not isinstance(v, ExcelError) and not v.strip())
        )
        if not blank:
            assert pd.notna(o) or pd.notna(bad), (kind, v)
        if isinstance(v, ExcelError):
            assert bad == str(v)


@settings(max_examples=50, deadline=None)
@given(st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False))
def test_money_round_trip_formats(d):
    x = float(d)
    plain = f"{abs(x):,.2f}"
    texts = [f"${x:,.2f}", f"({plain})" if x < 0 else plain, f"{plain}-" if x < 0 else plain]
    values, invalid = parse_money(pd.Series(texts, dtype="str"))
    assert invalid.isna().all()
    assert values.tolist() == pytest.approx([x] * 3)
