"""The sample generator: deterministic, committed output up to date, sizes, scaling, no overwrite."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pytest
from conftest import SAMPLE

from dso_analytics import schema as S
from dso_analytics.errors import DsoError
from dso_analytics.sample import (
    CREDIT_TEMPLATES,
    DESCRIPTION_TEMPLATES,
    SAMPLE_DSOS,
    SCALED_LINES_PER_LOCATION_MONTH,
    SCALED_ORG_LINES_PER_MONTH,
    example_descriptions,
    write_sample_portfolio,
    write_scaled_dso,
)

MB = 1024 * 1024


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample") / "portfolio"
    write_sample_portfolio(out)
    return out


def test_generation_is_deterministic(fresh: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    write_sample_portfolio(again)
    a, b = _files(fresh), _files(again)
    assert sorted(a) == sorted(b)
    different = [name for name in a if a[name] != b[name]]
    assert different == []


def test_other_seed_gives_other_data(fresh: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    write_sample_portfolio(other, seed=8)
    a, b = _files(fresh), _files(other)
    assert a["bright-smiles/billing/LOC-001.xlsx"] != b["bright-smiles/billing/LOC-001.xlsx"]


def test_committed_sample_equals_fresh_generation(fresh: Path) -> None:
    """data/sample is generator output: regenerate with
    `dso-analytics sample data/sample --force`, never edit by hand."""
    committed, new = _files(SAMPLE), _files(fresh)
    assert sorted(committed) == sorted(new)
    stale = [name for name in new if committed[name] != new[name]]
    assert stale == [], "data/sample is stale: run `dso-analytics sample data/sample --force`"


def test_sample_layout_and_size(fresh: Path) -> None:
    total = sum(p.stat().st_size for p in fresh.rglob("*") if p.is_file())
    assert total < 5 * MB
    assert sorted(p.name for p in fresh.iterdir() if p.is_dir()) == sorted(SAMPLE_DSOS)
    for slug in SAMPLE_DSOS:
        d = fresh / slug
        assert S.is_slug(slug)
        for name in ("dso.yaml", "locations.xlsx", "agreements.xlsx", "billing/organization.csv"):
            assert (d / name).is_file(), f"{slug}/{name}"
        assert len(list((d / "billing").glob("LOC-*.xlsx"))) >= 3
    # at least one per-location CSV billing file, and files that omit location_id
    assert list(fresh.glob("*/billing/LOC-*.csv"))
    with (fresh / "bright-smiles" / "billing" / "LOC-011.csv").open(newline="") as fh:
        header = next(csv.reader(fh))
    assert "location_id" not in header and "amount" in header


def test_templates_cover_every_service_code() -> None:
    assert set(DESCRIPTION_TEMPLATES) == set(S.SERVICE_CODES)
    for code, templates in DESCRIPTION_TEMPLATES.items():
        assert templates, code
        # wording, not service codes such as "cross_location_incidents"
        assert not [t for t in templates for c in S.SERVICE_CODES if "_" in c and c in t]
    pairs = example_descriptions()
    assert len(pairs) == sum(len(v) for v in DESCRIPTION_TEMPLATES.values())
    assert all("{" not in text and "}" not in text for text, _ in pairs)
    assert all("{description}" in t or "{ticket}" in t for t in CREDIT_TEMPLATES)


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    out = tmp_path / "p"
    out.mkdir()
    (out / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(DsoError, match="not empty"):
        write_sample_portfolio(out)
    with pytest.raises(DsoError, match="not empty"):
        write_scaled_dso(out, locations=2, months=2)
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_force_replaces_only_what_it_wrote(tmp_path: Path) -> None:
    out = tmp_path / "p"
    write_scaled_dso(out, locations=2, months=2, file_format="csv")
    (out / "keep.txt").write_text("mine", encoding="utf-8")
    stray = out / "scaled-2x2" / "billing" / "stray.csv"
    stray.write_text("x", encoding="utf-8")
    write_scaled_dso(out, locations=2, months=2, file_format="csv", force=True)
    assert (out / "keep.txt").read_text(encoding="utf-8") == "mine"
    assert not stray.exists()  # the DSO folder it wrote was replaced as a whole


def test_not_a_folder(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x", encoding="utf-8")
    with pytest.raises(DsoError, match="not a folder"):
        write_sample_portfolio(f, force=True)


@pytest.mark.parametrize("kw", [{"locations": 0}, {"months": 0}, {"file_format": "xls"}])
def test_scaled_rejects_bad_arguments(tmp_path: Path, kw: dict) -> None:
    args = {"locations": 2, "months": 2, **kw}
    with pytest.raises(DsoError):
        write_scaled_dso(tmp_path / "x", **args)


def _csv_rows(path: Path) -> int:
    with path.open(newline="", encoding="utf-8") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


def test_scaled_line_count(tmp_path: Path) -> None:
    dso = write_scaled_dso(tmp_path / "big", locations=20, months=12, file_format="csv")
    assert dso == tmp_path / "big" / "scaled-20x12"
    files = sorted((dso / "billing").glob("*.csv"))
    assert len(files) == 21  # one per location + organization.csv
    lines = sum(_csv_rows(f) for f in files)
    # By hand: 20 locations, 10% = 2 acquired inside the 12-month window at month offsets
    # 0*12//2 = 0 and 1*12//2 = 6, so billed 12 and 6 months; the other 18 every month.
    # 14 lines per billed location-month, 2 onboarding lines per in-window acquisition,
    # 3 organization lines a month:
    # 18*12*14 + (12+6)*14 + 2*2 + 12*3 = 3024 + 252 + 4 + 36 = 3316
    assert SCALED_LINES_PER_LOCATION_MONTH == 14 and SCALED_ORG_LINES_PER_MONTH == 3
    assert lines == 3316
    # and roughly locations x months x lines-per-month (20*12*14 = 3360)
    assert abs(lines - 3360) / 3360 < 0.05


def test_scaled_xlsx_has_per_location_workbooks(tmp_path: Path) -> None:
    dso = write_scaled_dso(tmp_path / "x", locations=3, months=2)
    names = sorted(p.name for p in (dso / "billing").iterdir())
    assert names == ["LOC-0001.xlsx", "LOC-0002.xlsx", "LOC-0003.xlsx", "organization.xlsx"]
    assert (dso / "locations.xlsx").is_file() and (dso / "agreements.xlsx").is_file()


_HAVE_INGEST = importlib.util.find_spec("dso_analytics.ingest") is not None
_HAVE_VALIDATION = importlib.util.find_spec("dso_analytics.validation") is not None
